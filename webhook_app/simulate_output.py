"""What `simulate` prints: decisions and fairness as an aligned table, JSON lines, or CSV."""

from __future__ import annotations

import csv
import json
from typing import IO, Any, Protocol

from core.fairness import PoolFairness
from core.reasons import Renderer
from webhook_app.simulate import Simulated

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
)


class Writer(Protocol):
    """Receives each final decision, then the fairness report once."""

    def decision(self, item: Simulated) -> None:
        """Print one lead's decision."""

    def fairness(self, pools: list[PoolFairness]) -> None:
        """Print the fairness figures."""


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

    def fairness(self, pools: list[PoolFairness]) -> None:
        """`fairness` lines, then one `pool` line per pool."""
        for row in fairness_rows(pools, self.render):
            member = {k: v for k, v in row.items() if not k.startswith(("pool_", "jain", "strategy"))}
            self.out.write(json.dumps({"type": "fairness", **member}, ensure_ascii=False) + "\n")
        for pool in pools:
            record = {
                "type": "pool",
                "pool": pool.pool,
                "strategy": pool.strategy,
                "leads": pool.leads,
                "max_deviation": _round(pool.max_deviation),
                "jain": _round(pool.jain),
            }
            self.out.write(json.dumps(record, ensure_ascii=False) + "\n")


class CsvWriter:
    """Decisions as CSV with a header, an empty line, then the fairness table with its header."""

    def __init__(self, out: IO[str], render: Renderer, *, with_decisions: bool = True) -> None:
        self.out, self.render = out, render
        self.csv = csv.writer(out, lineterminator="\n")
        self.started = False
        if with_decisions:
            self.csv.writerow(DECISION_COLUMNS)
            self.started = True

    def decision(self, item: Simulated) -> None:
        """One CSV row; skipped candidates as `manager:reason` separated by `;`."""
        record = decision_record(item, self.render)
        record["skipped"] = ";".join(f"{s['manager']}:{s['reason']}" for s in record["skipped"])
        self.csv.writerow([record[c] if record[c] is not None else "" for c in DECISION_COLUMNS])

    def fairness(self, pools: list[PoolFairness]) -> None:
        """The fairness table, after an empty line when decisions came first."""
        if self.started:
            self.out.write("\n")
        self.csv.writerow(FAIRNESS_COLUMNS)
        for row in fairness_rows(pools, self.render):
            self.csv.writerow(["" if row[c] is None else row[c] for c in FAIRNESS_COLUMNS])
