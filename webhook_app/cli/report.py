"""`leadrouter report`: per manager and period — received vs target share, handoffs, won / lost,
conversion by source, the hunter-to-farmer advisory; per pool, count and value against the shares
with the worst deviation at any prefix of the period; junk credits per manager and week."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from adapters.storage.engine import reading
from adapters.storage.reports import closed_between, credits_between, decisions_between
from core.report import Closed, Credited, Received, Report, build_report, credits_per_week, pool_fairness
from core.texts import texts
from webhook_app.cli import help_for
from webhook_app.cli.common import open_database, parse_since, print_rows
from webhook_app.cli.words import CliWords
from webhook_app.config import ConfigError, load_config
from webhook_app.config.team import with_stored_team
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
POOL_COLUMNS = (
    "pool",
    "balance",
    "manager",
    "name",
    "received",
    "target",
    "max_deviation",
    "value",
    "value_target",
    "max_value_deviation",
    "credits",
)
CREDIT_COLUMNS = ("manager", "name", "week", "credits", "max_per_week")


def register(sub: Any, words: Mapping[str, str]) -> None:
    """Add `report`, its help in `words` (a `help` catalog)."""
    parser = sub.add_parser("report", help=help_for("report", words))
    parser.add_argument("--config", metavar=words["meta_config"], help=words["config_default"])
    parser.add_argument("--since", default="30d", metavar=words["meta_since"], help=words["report_since"])
    parser.add_argument("--until", metavar=words["meta_until"], help=words["report_until"])
    parser.add_argument(
        "--advisory-threshold",
        type=float,
        metavar=words["meta_advisory_threshold"],
        help=words["report_threshold"],
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
    engine = open_database()
    policy = with_stored_team(engine, loaded.policy, str(loaded.crm.type))  # CRM-team members' names, shares
    months = _months_before(until.astimezone(policy.tz).date())
    history_start = datetime(months[0][0], months[0][1], 1, tzinfo=policy.tz)
    received, closed, history = _rows(engine, since, until, history_start, policy.tz)
    credits = _credits(engine, since, until)
    report = build_report(policy, received, closed)
    advisory = build_report(policy, [], history, advisory_threshold=args.advisory_threshold, months=months)
    report.advisory = advisory.advisory
    report.pools = pool_fairness(policy, received, credits)
    report.credits = credits_per_week(credits)
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
            r.decided_at,
            r.route,
            _value(r.decision.get("lead") or {}),
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


def _value(lead: dict[str, Any]) -> float:
    """The lead's worth as recorded with its decision (its budget, for rows from before values)."""
    value = lead.get("value", lead.get("price"))
    return float(value) if isinstance(value, int | float) and value > 0 else 0.0


def _credits(engine: Any, since: datetime, until: datetime) -> list[Credited]:
    with reading(engine) as connection:
        rows = credits_between(connection, since, until)
    return [
        Credited(
            r.manager or "—",
            str(r.detail.get("pool", "")),
            r.at,
            str(r.detail.get("week", "")),
            float(r.detail.get("value") or 0),
            str(r.detail.get("why", "")),
        )
        for r in rows
    ]


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
    pools = _pool_rows(report, policy)
    credits = [
        {
            "manager": manager,
            "name": policy.managers[manager].label if manager in policy.managers else "",
            "week": week,
            "credits": count,
            "max_per_week": _max_per_week(policy, manager),
        }
        for (manager, week), count in report.credits.items()
    ]
    if fmt == "json":
        data = {
            "managers": rows,
            "sources": sources,
            "advisory": advisory,
            "pools": pools,
            "credits": credits,
        }
        print(json.dumps(data, ensure_ascii=False))
        return
    if fmt == "table":
        _print_table(rows, sources, advisory, policy)
        return
    print_rows(rows, COLUMNS, fmt)
    print()
    print_rows(pools, POOL_COLUMNS, fmt)
    if credits:
        print()
        print_rows(credits, CREDIT_COLUMNS, fmt)
    print()
    print_rows(sources, ("source", "received", "won", "lost", "conversion"), fmt)
    if advisory:
        print()
        print_rows(advisory, ("manager", *[f"{y}-{m:02d}" for y, m in months]), fmt)


def _pct(value: float | None) -> str:
    return f"{value * 100:.0f}%" if value is not None else ""


def _pool_rows(report: Report, policy: Any) -> list[dict[str, Any]]:
    """One row per pool member: count and value against the share, the worst deviation at any
    prefix of the period (value in units of the period's largest lead), and junk credits."""
    rows = []
    for pool in report.pools:
        if not pool.leads:
            continue
        for m in pool.members:
            manager = policy.managers.get(m.manager)
            rows.append(
                {
                    "pool": pool.pool,
                    "balance": pool.balance,
                    "manager": m.manager,
                    "name": manager.label if manager else "",
                    "received": m.received,
                    "target": _round(m.target, 1),
                    "max_deviation": _round(m.max_deviation, 2),
                    "value": round(m.value),
                    "value_target": _round(m.value_target, 0),
                    "max_value_deviation": _round(m.max_value_deviation, 2),
                    "credits": m.credits,
                }
            )
    return rows


def _max_per_week(policy: Any, manager: str) -> int | None:
    """The smallest weekly cap of the junk credits of the manager's pools."""
    caps = [p.junk.max_per_week for p in policy.pools.values() if p.junk is not None and manager in p.members]
    return min(caps) if caps else None


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)
