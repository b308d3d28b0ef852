"""`leadrouter audit`: read the audit log by lead, manager and time."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from adapters.storage.audit import read_audit
from webhook_app.cli import help_for
from webhook_app.cli.common import open_database, parse_since, print_rows

COLUMNS = ("at", "kind", "crm", "lead_id", "manager", "config_version", "message")


def register(sub: Any) -> None:
    """Add `audit`."""
    parser = sub.add_parser("audit", help=help_for("audit"))
    parser.add_argument(
        "--config", help="accepted for symmetry; the database comes from LEADROUTER_DATABASE_URL"
    )
    parser.add_argument("--lead", help="only this lead id")
    parser.add_argument("--manager", help="only this manager (the key in the YAML)")
    parser.add_argument("--since", help="24h, 7d, or an ISO date-time")
    parser.add_argument("--kind", action="append", default=[], help="only this kind (repeatable)")
    parser.add_argument("--limit", type=int, help="at most this many rows (the newest)")
    parser.add_argument("--format", choices=("table", "json", "csv"), default="table")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print matching audit rows, oldest first."""
    try:
        since = parse_since(args.since, args.clock()) if args.since else None
    except ValueError as exc:
        print(f"leadrouter audit: {exc}", file=sys.stderr)
        return 2
    engine = open_database()
    entries = read_audit(engine, lead_id=args.lead, manager=args.manager, since=since, kinds=tuple(args.kind))
    if args.limit:
        entries = entries[-args.limit :]
    rows = [
        {**{c: getattr(e, c) for c in COLUMNS}, "at": e.at.isoformat(timespec="seconds"), "detail": e.detail}
        for e in entries
    ]
    columns = (*COLUMNS, "detail") if args.format != "table" else COLUMNS
    print_rows(rows, columns, args.format)
    return 0
