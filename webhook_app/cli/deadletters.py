"""`leadrouter deadletters list|replay`: CRM writes refused for good, visible and replayable."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from adapters.storage.outbox import list_dead
from webhook_app.cli import help_for
from webhook_app.cli.common import cli_user, open_database, print_rows
from webhook_app.pipeline.operator_actions import replay_dead_letters

COLUMNS = ("id", "crm", "lead_id", "kind", "attempts", "created_at", "last_error")


def register(sub: Any) -> None:
    """Add `deadletters list` and `deadletters replay`."""
    parser = sub.add_parser("deadletters", help=help_for("deadletters"))
    parser.add_argument(
        "--config", help="accepted for symmetry; the database comes from LEADROUTER_DATABASE_URL"
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="show dead letters with their last error")
    listing.add_argument("--format", choices=("table", "json", "csv"), default="table")
    again = actions.add_parser("replay", help="queue dead letters again (the worker sends them)")
    again.add_argument("ids", nargs="*", type=int, help="dead-letter ids")
    again.add_argument("--all", action="store_true", help="replay every dead letter")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """List or replay."""
    engine = open_database()
    if args.action == "list":
        table = [{c: getattr(r, c) for c in COLUMNS} for r in list_dead(engine)]
        print_rows(table, COLUMNS, args.format)
        return 0
    if not args.ids and not args.all:
        print("leadrouter deadletters replay: give ids or --all", file=sys.stderr)
        return 2
    done = replay_dead_letters(engine, None if args.all else args.ids, by=cli_user(), now=args.clock())
    print(f"replayed {len(done.ids)}" + (f"; not dead letters: {done.missing}" if done.missing else ""))
    return 1 if done.missing else 0
