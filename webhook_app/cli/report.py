"""`leadrouter report`: per manager and period — received vs target share, handoffs, won / lost,
conversion by source, and the hunter-to-farmer advisory."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime
from typing import Any

from adapters.storage.engine import reading
from adapters.storage.reports import closed_between, decisions_between
from core.report import Closed, Received, Report, build_report
from core.texts import texts
from webhook_app.cli import help_for
from webhook_app.cli.common import open_database, parse_since, print_rows
from webhook_app.cli.words import CliWords
from webhook_app.config import ConfigError, load_config
from webhook_app.settings import resolve_config_path

COLUMNS = (
    "manager",
    "name",
    "received",
    "target",
    "deviation",
    "handed_in",
    "handed_out",
    "won",
    "lost",
    "won_amount",
    "conversion",
)


def register(sub: Any) -> None:
    """Add `report`."""
    parser = sub.add_parser("report", help=help_for("report"))
    parser.add_argument("--config", help="YAML config (default: LEADROUTER_CONFIG)")
    parser.add_argument("--since", default="30d", help="start: 30d, 2w, or an ISO date (default 30d)")
    parser.add_argument("--until", help="end: an ISO date-time (default now)")
    parser.add_argument(
        "--advisory-threshold", type=float, help="monthly won amount for the hunter→farmer advisory"
    )
    parser.add_argument("--format", choices=("table", "json", "csv"), default="table")
    parser.set_defaults(handler=run)


def _months_before(end: date, count: int = 6) -> list[tuple[int, int]]:
    year, month = end.year, end.month
    months = []
    for _ in range(count):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        months.append((year, month))
    return sorted(months)


def run(args: argparse.Namespace) -> int:
    """Load the rows, aggregate, print."""
    try:
        loaded = load_config(resolve_config_path(args.config))
        now = args.clock()
        language = loaded.policy.language
        since = parse_since(args.since, now, language)
        until = parse_since(args.until, now, language) if args.until else now
    except ConfigError as exc:
        print("\n".join(str(p) for p in exc.problems), file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"leadrouter report: {exc}", file=sys.stderr)
        return 2
    policy = loaded.policy
    months = _months_before(until.astimezone(policy.tz).date())
    history_start = datetime(months[0][0], months[0][1], 1, tzinfo=policy.tz)
    received, closed, history = _rows(open_database(), since, until, history_start, policy.tz)
    report = build_report(policy, received, closed)
    advisory = build_report(policy, [], history, advisory_threshold=args.advisory_threshold, months=months)
    report.advisory = advisory.advisory
    _print(report, policy, args.format, months)
    return 0


# The table a person reads: names and headings in the config's language (csv and json keep COLUMNS).
TABLE = (
    "manager",
    "leads",
    "target",
    "deviation",
    "handoffs_in",
    "handoffs_out",
    "won",
    "lost",
    "amount",
    "conversion",
)
TABLE_FROM = dict(
    zip(
        TABLE,
        ("name", "received", "target", "deviation", "handed_in", "handed_out", "won", "lost", "won_amount"),
        strict=False,
    )
)
SOURCES = ("source", "received", "won", "lost", "conversion")


def _print_table(
    rows: list[dict[str, Any]], sources: list[dict[str, Any]], advisory: list[Any], policy: Any
) -> None:
    """The report for people: managers by name, headings in words, numbers with the decimal comma."""
    words = CliWords(policy)
    comma = texts(policy.language, "simulate")["decimal_point"]

    def cell(value: object) -> str:
        return str(value).replace(".", comma) if isinstance(value, float) else str(value)

    table = [
        {key: cell(row[TABLE_FROM.get(key, key)]) for key in TABLE}
        | {"manager": row["name"] or row["manager"]}
        for row in rows
    ]
    print_rows(table, TABLE, "table", headings=words.columns(TABLE))
    print()
    print(words["sources"])
    heads = words.columns(("source", "leads", "won", "lost", "conversion"))
    print_rows(sources, SOURCES, "table", headings=heads)
    if advisory:
        print()
        print(words["advisory"])
        months = [key for key in advisory[0] if key != "manager"]
        named = [{**a, "manager": words.render.name(a["manager"])} for a in advisory]
        print_rows(named, ("manager", *months), "table", headings=[words.columns(("manager",))[0], *months])


def _rows(
    engine: Any, since: datetime, until: datetime, history_start: datetime, tz: Any
) -> tuple[list[Received], list[Closed], list[Closed]]:
    with reading(engine) as connection:
        rows = decisions_between(connection, since, until)
        deals = closed_between(connection, min(since, history_start), until)
    received = [
        Received(
            r.manager,
            r.pool,
            r.purpose,
            r.decided_at.astimezone(tz).date(),
            (r.decision.get("lead") or {}).get("source"),
            _previous(r.decision),
        )
        for r in rows
    ]
    closed_all = [
        Closed(
            d.manager or "—",
            d.kind,
            d.at.astimezone(tz).date(),
            float(d.detail.get("amount") or 0),
            d.detail.get("source"),
            d.detail.get("hunter") or None,
        )
        for d in deals
    ]
    in_period = [c for c, d in zip(closed_all, deals, strict=True) if d.at >= since]
    return received, in_period, closed_all


def _previous(decision: dict[str, Any]) -> str | None:
    for step in decision.get("steps", []):
        if step.get("code") == "handoff" and step.get("previous"):
            return str(step["previous"])
    return None


def _print(report: Report, policy: Any, fmt: str, months: list[tuple[int, int]]) -> None:
    rows = []
    for line in report.managers:
        manager = policy.managers.get(line.manager)
        rows.append(
            {
                "manager": line.manager,
                "name": manager.label if manager else "",
                "received": line.received,
                "target": round(line.target, 1),
                "deviation": round(line.received - line.target, 1),
                "handed_in": line.handed_in,
                "handed_out": line.handed_out,
                "won": line.won,
                "lost": line.lost,
                "won_amount": round(line.won_amount),
                "conversion": _pct(line.conversion),
            }
        )
    sources = [
        {
            "source": s,
            "received": r,
            "won": w,
            "lost": lo,
            "conversion": _pct(w / (w + lo) if w + lo else None),
        }
        for s, (r, w, lo) in report.sources.items()
    ]
    advisory = [
        {"manager": m, **{f"{y}-{mo:02d}": round(a) for (y, mo), a in zip(months, amounts, strict=True)}}
        for m, amounts in report.advisory
    ]
    if fmt == "json":
        print(json.dumps({"managers": rows, "sources": sources, "advisory": advisory}, ensure_ascii=False))
        return
    if fmt == "table":
        _print_table(rows, sources, advisory, policy)
        return
    print_rows(rows, COLUMNS, fmt)
    print()
    print_rows(sources, ("source", "received", "won", "lost", "conversion"), fmt)
    if advisory:
        print()
        print_rows(advisory, ("manager", *[f"{y}-{m:02d}" for y, m in months]), fmt)


def _pct(value: float | None) -> str:
    return f"{value * 100:.0f}%" if value is not None else ""
