"""`leadrouter audit`: read the audit log by lead, manager and time."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import Any

from adapters.storage.audit import AuditEntry, read_audit
from webhook_app.cli import help_for
from webhook_app.cli.common import open_database, parse_since, print_rows
from webhook_app.cli.words import CliWords, words_for

COLUMNS = ("at", "kind", "crm", "lead_id", "manager", "config_version", "message")
# The table a person reads: the same rows, headings and cells in words.
TABLE = ("at", "kind", "lead", "manager", "message")


def register(sub: Any, words: Mapping[str, str]) -> None:
    """Add `audit`, its help in `words` (a `help` catalog)."""
    parser = sub.add_parser("audit", help=help_for("audit", words))
    parser.add_argument("--config", metavar=words["meta_config"], help=words["config_names"])
    parser.add_argument("--lead", metavar=words["meta_lead"], help=words["audit_lead"])
    parser.add_argument("--manager", metavar=words["meta_manager"], help=words["audit_manager"])
    parser.add_argument("--since", metavar=words["meta_since"], help=words["audit_since"])
    parser.add_argument(
        "--kind", action="append", default=[], metavar=words["meta_kind"], help=words["audit_kind"]
    )
    parser.add_argument("--limit", type=int, metavar=words["meta_limit"], help=words["audit_limit"])
    parser.add_argument("--format", choices=("table", "json", "csv"), default="table")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print matching audit rows, oldest first."""
    words = words_for(args)
    try:
        since = parse_since(args.since, args.clock(), words.language) if args.since else None
    except ValueError as exc:
        print(f"leadrouter audit: {exc}", file=sys.stderr)
        return 2
    engine = open_database()
    entries = read_audit(engine, lead_id=args.lead, manager=args.manager, since=since, kinds=tuple(args.kind))
    if args.limit:
        entries = entries[-args.limit :]
    if args.format == "table":
        if not entries:
            print(words["no_audit"])
            return 0
        table = [row_in_words(e, words) for e in entries]
        print_rows(table, TABLE, "table", headings=words.columns(TABLE))
        return 0
    rows = [
        {
            **{c: getattr(e, c) for c in COLUMNS},
            "at": e.at.isoformat(timespec="seconds"),
            "message": words.audit.message(e.kind, e.message, e.detail, e.manager),
            "manager_name": words.audit.manager(e.manager),
            "detail": e.detail,
        }
        for e in entries
    ]
    print_rows(rows, (*COLUMNS, "manager_name", "detail"), args.format)
    return 0


def row_in_words(entry: AuditEntry, words: CliWords) -> dict[str, str]:
    """One audit row as a person reads it: local time, kind and message in words, the manager's name."""
    audit = words.audit
    return {
        "at": words.render.moment(entry.at),
        "kind": audit.kind(entry.kind),
        "lead": entry.lead_id or "",
        "manager": audit.manager(entry.manager),
        "message": audit.message(entry.kind, entry.message, entry.detail, entry.manager),
    }
