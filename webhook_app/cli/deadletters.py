"""`leadrouter deadletters list|replay`: CRM writes refused for good, visible and replayable."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import Any

from adapters.storage.outbox import list_dead
from webhook_app.cli import help_for
from webhook_app.cli.common import cli_user, open_database, print_rows
from webhook_app.cli.words import CliWords, words_for
from webhook_app.pipeline.operator_actions import replay_dead_letters

COLUMNS = ("id", "crm", "lead_id", "kind", "attempts", "created_at", "last_error")
# The table a person reads: the write's kind and the time in words.
TABLE = ("id", "lead", "write", "attempts", "created", "error")


def register(sub: Any, words: Mapping[str, str]) -> None:
    """Add `deadletters list` and `deadletters replay`, their help in `words` (a `help` catalog);
    `--config` is taken before or after the action."""
    parser = sub.add_parser("deadletters", help=help_for("deadletters", words))
    parser.add_argument("--config", metavar=words["meta_config"], help=words["config_language"])
    actions = parser.add_subparsers(dest="action", required=True, metavar=words["meta_action"])
    listing = actions.add_parser("list", help=words["deadletters_list"])
    listing.add_argument("--format", choices=("table", "json", "csv"), default="table")
    again = actions.add_parser("replay", help=words["deadletters_replay"])
    again.add_argument("ids", nargs="*", type=int, metavar=words["meta_ids"], help=words["deadletters_ids"])
    again.add_argument("--all", action="store_true", help=words["deadletters_all"])
    for action in (listing, again):  # `deadletters list --config FILE`, as people write it
        action.add_argument(
            "--config", default=argparse.SUPPRESS, metavar=words["meta_config"], help=words["config_language"]
        )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """List or replay."""
    words = words_for(args)
    engine = open_database()
    if args.action == "list":
        dead = list_dead(engine)
        if args.format != "table":
            print_rows([{c: getattr(r, c) for c in COLUMNS} for r in dead], COLUMNS, args.format)
            return 0
        if not dead:
            print(words["no_dead"])
            return 0
        table = [_in_words(r, words) for r in dead]
        print_rows(table, TABLE, "table", headings=words.columns(TABLE))
        return 0
    if not args.ids and not args.all:
        print(f"leadrouter deadletters replay: {words['replay_usage']}", file=sys.stderr)
        return 2
    done = replay_dead_letters(engine, None if args.all else args.ids, by=cli_user(), now=args.clock())
    missing = words["not_dead"].format(ids=", ".join(map(str, done.missing))) if done.missing else ""
    print(words["replayed"].format(count=len(done.ids)) + missing)
    return 1 if done.missing else 0


def _in_words(row: Any, words: CliWords) -> dict[str, str]:
    return {
        "id": str(row.id),
        "lead": row.lead_id or "",
        "write": words.audit.write(row.kind),
        "attempts": str(row.attempts),
        "created": words.render.moment(row.created_at),
        "error": row.last_error or "",
    }
