"""The `leadrouter` console command: subcommands from modules under `webhook_app.cli`, loaded on use."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from webhook_app.cli import COMMANDS
from webhook_app.clock import Clock, utc_now


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser: every subcommand listed, only `command`'s module imported and registered."""
    parser = argparse.ArgumentParser(
        prog="leadrouter", description="Lead distribution and handoff for amoCRM and Bitrix24."
    )
    # `leadrouter --config FILE COMMAND …` as well as `leadrouter COMMAND … --config FILE`.
    parser.add_argument("--config", dest="global_config", metavar="FILE", help="the YAML config")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = COMMANDS[command][0] if command in COMMANDS else None
    registered = False
    for name, (module, text) in COMMANDS.items():
        if module != chosen:
            sub.add_parser(name, help=text)  # listed in --help; never parsed, as it is not the command
        elif not registered:  # the module adds all its commands, at the place of its first one
            importlib.import_module(f"webhook_app.cli.{module}").register(sub)
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
    parser = build_parser(command_of(argv))
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
