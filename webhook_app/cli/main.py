"""The `leadrouter` console command: subcommands from modules under `webhook_app.cli`, loaded on use."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from webhook_app.cli import COMMANDS, help_for
from webhook_app.cli.help import help_language, parser_class
from webhook_app.clock import Clock, utc_now


def build_parser(command: str | None = None, language: str | None = None) -> argparse.ArgumentParser:
    """The argument parser: every subcommand listed, only `command`'s module imported and registered;
    its help and usage errors in `language` (Russian when None)."""
    speaking = parser_class(language)
    words = speaking.words
    parser = speaking(prog="leadrouter", description=words["description"])
    # `leadrouter --config FILE COMMAND …` as well as `leadrouter COMMAND … --config FILE`.
    parser.add_argument(
        "--config", dest="global_config", metavar=words["meta_file"], help=words["config_top"]
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar=words["meta_command"])
    chosen = COMMANDS.get(command or "")
    registered = False
    for name, module in COMMANDS.items():
        if module != chosen:
            # Listed in --help; never parsed, as it is not the command.
            sub.add_parser(name, help=help_for(name, words))
        elif not registered:  # the module adds all its commands, at the place of its first one
            importlib.import_module(f"webhook_app.cli.{module}").register(sub, words)
            registered = True
    return parser


def command_of(argv: Sequence[str]) -> str | None:
    """The command a command line runs: its first word that is neither an option nor the value of
    the top level's `--config`."""
    words = iter(argv)
    for word in words:
        if word == "--config":
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def main(argv: Sequence[str] | None = None, *, clock: Clock = utc_now) -> int:
    """Run one subcommand and return its exit code; every command reads the time from `clock`."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(command_of(argv), help_language(argv))
    args = parser.parse_args(argv)
    if getattr(args, "global_config", None) and not getattr(args, "config", None):
        args.config = args.global_config
    args.clock = clock
    try:
        code: int = args.handler(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `leadrouter … | head`: the reader left; that is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())
