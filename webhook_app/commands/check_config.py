"""`leadrouter check-config [FILE]`: validate a config and print a summary, or every problem found."""

from __future__ import annotations

import argparse
import sys

from webhook_app.commands import help_for
from webhook_app.config import ConfigError, load_config
from webhook_app.config.summary import render_summary
from webhook_app.settings import resolve_config_path


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `check-config` subcommand."""
    parser = subparsers.add_parser(
        "check-config",
        help=help_for("check-config"),
        description="Validate a config file. Exit 0 and print a summary if it is valid; "
        "exit 1 and print every problem as FILE:LINE: path: message if not.",
    )
    parser.add_argument(
        "file", nargs="?", metavar="FILE", help="the YAML config (default: LEADROUTER_CONFIG)"
    )
    parser.add_argument("--config", metavar="FILE", help="the YAML config (same as FILE)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Check the config; 0 when valid, 1 when not (problems on stderr, one per line)."""
    path = resolve_config_path(args.file or args.config)
    try:
        loaded = load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    print("\n".join(render_summary(loaded)))
    return 0
