"""`leadrouter deadletters list|replay`: CRM writes refused for good, visible and replayable."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from adapters.storage.audit import write_audit
from adapters.storage.outbox import list_dead, replay
from webhook_app.commands import help_for
from webhook_app.commands.common import open_database, print_rows

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
    now = datetime.now(UTC)
    with engine.begin() as connection:
        rows = replay(connection, None if args.all else args.ids, now)
        for row in rows:
            write_audit(
                connection,
                "replay",
                f"dead letter {row.id} ({row.kind}) queued again by the CLI",
                at=now,
                crm=row.crm,
                lead_id=row.lead_id,
                detail={"outbox": row.id},
            )
    missing = sorted(set(args.ids) - {r.id for r in rows}) if not args.all else []
    print(f"replayed {len(rows)}" + (f"; not dead letters: {missing}" if missing else ""))
    return 1 if missing else 0
