"""What `simulate` prints: decisions, handoffs and fairness as an aligned table, JSON lines, or CSV."""

from __future__ import annotations

import csv
import json
import tempfile
from typing import IO, Any, Protocol

from core.fairness import PoolFairness
from core.reasons import Renderer
from webhook_app.offline.simulate import Simulated
from webhook_app.offline.tally import OUTCOMES, OWNER, Handed, HandoffTally

DECISION_COLUMNS = (
    "created_at",
    "decided_at",
    "lead",
    "outcome",
    "assignee",
    "assignee_name",
    "crm_user_id",
    "route",
    "rule",
    "pool",
    "strategy",
    "reason",
    "skipped",
)
FAIRNESS_COLUMNS = (
    "pool",
    "strategy",
    "manager",
    "name",
    "weight",
    "received",
    "target",
    "deviation",
    "max_deviation",
    "pool_leads",
    "pool_max_deviation",
    "jain",
    "value",
    "value_target",
    "value_deviation",
    "max_value_deviation",
    "credits",
    "pool_balance",
    "pool_value",
    "pool_largest",
    "pool_max_value_deviation",
    "value_jain",
)
HANDOFF_COLUMNS = (
    "at",
    "lead",
    "kind",
    "handoff",
    "outcome",
    "from",
    "to",
    "crm_user_id",
    "pool",
    "strategy",
    "reason",
)


class Writer(Protocol):
    """Receives each final decision and handoff, then the fairness report and handoff summary once."""

    def decision(self, item: Simulated) -> None:
        """Print one lead's decision."""

    def handoff(self, item: Handed) -> None:
        """Print one handoff that came due."""

    def fairness(self, pools: list[PoolFairness]) -> None:
        """Print the fairness figures."""

    def handoffs(self, tally: HandoffTally) -> None:
        """Print the handoff summary (only runs over a file with stage rows)."""


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def decision_record(item: Simulated, render: Renderer) -> dict[str, Any]:
    """The fields of one decision, times in the config's time zone (shared by JSON and CSV)."""
    d, tz = item.decision, render.policy.tz
    manager = render.policy.managers.get(d.assignee or "")
    return {
        "lead": item.lead.id,
        "created_at": item.lead.created_at.astimezone(tz).isoformat(),
        "decided_at": d.decided_at.astimezone(tz).isoformat(),
        "outcome": d.outcome.value,
        "assignee": d.assignee,
        "assignee_name": manager.label if manager else None,
        "crm_user_id": manager.crm_user_id if manager else None,
        "route": d.route.value if d.route else None,
        "rule": d.rule,
        "pool": d.pool,
        "strategy": d.strategy,
        "reason": render.reason(d),
        "skipped": [
            {
                "manager": s.manager,
                "reason": s.reason.value,
                "until": s.until.isoformat() if s.until else None,
            }
            for s in d.skipped
        ],
    }


def handoff_record(item: Handed, render: Renderer) -> dict[str, Any]:
    """The fields of one handoff, its time in the config's time zone (shared by JSON and CSV)."""
    d = item.decision
    took = d is not None or item.kind == OWNER  # a new owner: a decision, or a person's change
    manager = render.policy.managers.get(item.owner or "") if took else None
    return {
        "at": item.at.astimezone(render.policy.tz).isoformat(),
        "lead": item.lead.id,
        "kind": item.kind,
        "handoff": item.handoff,
        "outcome": item.outcome,
        "from": item.previous,
        "to": manager.key if manager else None,
        "crm_user_id": manager.crm_user_id if manager else None,
        "pool": d.pool if d else None,
        "strategy": d.strategy if d else None,
        "reason": render.reason(d) if d else render.step(item.step) if item.step else "",
    }


def handoff_summary_rows(tally: HandoffTally) -> list[dict[str, Any]]:
    """One row per configured handoff: its kind and a count per outcome."""
    return [{"handoff": row.handoff, "kind": row.kind, **row.counts} for row in tally.report()]


def fairness_rows(pools: list[PoolFairness], render: Renderer) -> list[dict[str, Any]]:
    """One flat row per pool member, with the pool's figures repeated (for JSON and CSV)."""
    return [
        {
            "pool": pool.pool,
            "strategy": pool.strategy,
            "manager": m.manager,
            "name": render.name(m.manager),
            "weight": m.weight,
            "received": m.received,
            "target": _round(m.target),
            "deviation": _round(m.deviation),
            "max_deviation": _round(m.max_deviation),
            "pool_leads": pool.leads,
            "pool_max_deviation": _round(pool.max_deviation),
            "jain": _round(pool.jain),
            "value": _round(m.value),
            "value_target": _round(m.value_target),
            "value_deviation": _round(m.value_deviation),  # in largest leads
            "max_value_deviation": _round(m.max_value_deviation),
            "credits": m.credits,
            "pool_balance": pool.balance,
            "pool_value": _round(pool.value),
            "pool_largest": _round(pool.largest),
            "pool_max_value_deviation": _round(pool.max_value_deviation),
            "value_jain": _round(pool.value_jain),
        }
        for pool in pools
        for m in pool.members
    ]


class JsonWriter:
    """JSON lines: a `decision` object per lead, then `fairness` per member and `pool` per pool."""

    def __init__(self, out: IO[str], render: Renderer) -> None:
        self.out, self.render = out, render

    def decision(self, item: Simulated) -> None:
        """One `decision` line."""
        record = {"type": "decision", **decision_record(item, self.render)}
        del record["assignee_name"]
        self.out.write(json.dumps(record, ensure_ascii=False) + "\n")

    def handoff(self, item: Handed) -> None:
        """One `handoff` line."""
        record = {"type": "handoff", **handoff_record(item, self.render)}
        self.out.write(json.dumps(record, ensure_ascii=False) + "\n")

    def handoffs(self, tally: HandoffTally) -> None:
        """`handoff_summary` per handoff (outcomes with `_` for `-`), then `handoff_pair` lines."""
        for row in handoff_summary_rows(tally):
            record = {"type": "handoff_summary", **{k.replace("-", "_"): v for k, v in row.items()}}
            self.out.write(json.dumps(record, ensure_ascii=False) + "\n")
        for previous, owner, count in tally.top_pairs():
            record = {"type": "handoff_pair", "from": previous, "to": owner, "handovers": count}
            self.out.write(json.dumps(record, ensure_ascii=False) + "\n")

    def fairness(self, pools: list[PoolFairness]) -> None:
        """`fairness` lines, then one `pool` line per pool."""
        for row in fairness_rows(pools, self.render):
            member = {
                k: v for k, v in row.items() if not k.startswith(("pool_", "jain", "value_jain", "strategy"))
            }
            self.out.write(json.dumps({"type": "fairness", **member}, ensure_ascii=False) + "\n")
        for pool in pools:
            record = {
                "type": "pool",
                "pool": pool.pool,
                "strategy": pool.strategy,
                "leads": pool.leads,
                "max_deviation": _round(pool.max_deviation),
                "jain": _round(pool.jain),
                "balance": pool.balance,
                "value": _round(pool.value),
                "largest": _round(pool.largest),
                "max_value_deviation": _round(pool.max_value_deviation),  # in largest leads
                "value_jain": _round(pool.value_jain),
                "credits": pool.credits,
            }
            self.out.write(json.dumps(record, ensure_ascii=False) + "\n")


class CsvWriter:
    """Sections separated by an empty line, each with its header: decisions, handoffs (if any),
    the fairness table, then (with stage rows) the handoff summary and who handed to whom."""

    def __init__(self, out: IO[str], render: Renderer, *, with_decisions: bool = True) -> None:
        self.out, self.render = out, render
        self.csv = csv.writer(out, lineterminator="\n")
        self.started = False
        # Handoff rows come between decisions; their section follows the decisions' (kept on disk
        # past a few MiB, so a big file's handoffs do not have to fit in memory).
        self.spool: tempfile.SpooledTemporaryFile[str] | None = None
        if with_decisions:
            self.csv.writerow(DECISION_COLUMNS)
            self.started = True

    def decision(self, item: Simulated) -> None:
        """One CSV row; skipped candidates as `manager:reason` separated by `;`."""
        record = decision_record(item, self.render)
        record["skipped"] = ";".join(f"{s['manager']}:{s['reason']}" for s in record["skipped"])
        self.csv.writerow([record[c] if record[c] is not None else "" for c in DECISION_COLUMNS])

    def handoff(self, item: Handed) -> None:
        """One row of the handoffs section."""
        if self.spool is None:
            # Open across calls, closed by fairness() once its rows are copied out.
            self.spool = tempfile.SpooledTemporaryFile(max_size=8 * 2**20, mode="w+", encoding="utf-8")  # noqa: SIM115
            self.spooled = csv.writer(self.spool, lineterminator="\n")
            self.spooled.writerow(HANDOFF_COLUMNS)
        record = handoff_record(item, self.render)
        self.spooled.writerow(["" if record[c] is None else record[c] for c in HANDOFF_COLUMNS])

    def fairness(self, pools: list[PoolFairness]) -> None:
        """The handoffs section if there were handoffs, then the fairness table."""
        if self.spool is not None:
            self.out.write("\n")
            self.spool.seek(0)
            for text in self.spool:
                self.out.write(text)
            self.spool.close()
            self.spool = None
        if self.started:
            self.out.write("\n")
        self.csv.writerow(FAIRNESS_COLUMNS)
        for row in fairness_rows(pools, self.render):
            self.csv.writerow(["" if row[c] is None else row[c] for c in FAIRNESS_COLUMNS])

    def handoffs(self, tally: HandoffTally) -> None:
        """The handoff summary, then (from, to, handovers), each after an empty line."""
        self.out.write("\n")
        self.csv.writerow(("handoff", "kind", *OUTCOMES))
        for row in handoff_summary_rows(tally):
            self.csv.writerow(row.values())
        self.out.write("\n")
        self.csv.writerow(("from", "to", "handovers"))
        for previous, owner, count in tally.top_pairs():
            self.csv.writerow((previous or "", owner, count))
