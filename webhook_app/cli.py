"""The `leadrouter` console command: one subcommand per module under `webhook_app.commands`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from webhook_app.commands import audit, check_config, crm, deadletters, report, serve, simulate

COMMANDS = (serve, check_config, simulate, audit, report, deadletters, crm)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="leadrouter", description="Lead distribution and handoff for amoCRM and Bitrix24."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
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
