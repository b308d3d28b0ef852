"""What-if's comparison: its values, and as JSON (what the API returns and `--format json` prints)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.fairness import PoolFairness
from core.policy import Policy
from core.reasons import Renderer


@dataclass(frozen=True, slots=True)
class Change:
    """A lead whose owner would be someone else (`would` None: it would still be waiting). Owners
    are the newest assignments, handoffs included; `*_owners` tell each one's assignments in order."""

    crm: str
    lead_id: str
    decided_at: datetime
    actual: str
    would: str | None
    actual_rule: str
    would_rule: str
    reason: str
    actual_owners: tuple[str, ...] = ()
    would_owners: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleHits:
    """How many leads a rule routed (or a handoff handed over), really and in the replay."""

    rule: str
    actual: int
    would: int


@dataclass
class WhatIf:
    """The comparison: how many leads change owner, fairness both ways, rule and handoff hits."""

    since: datetime
    until: datetime
    actual_version: str
    new_version: str
    leads: int = 0
    changed: int = 0
    waiting: int = 0  # leads the new config would never have assigned within the replay
    purged: int = 0  # leads replayed with personal data already blanked by retention
    changes: list[Change] = field(default_factory=list)
    actual_fairness: list[PoolFairness] = field(default_factory=list)
    would_fairness: list[PoolFairness] = field(default_factory=list)
    rules: list[RuleHits] = field(default_factory=list)
    handoffs: list[RuleHits] = field(default_factory=list)  # handoffs, SLA, returns, people's changes


def fairness_json(pools: list[PoolFairness], policy: Policy) -> list[dict[str, Any]]:
    """Fairness per pool and member as JSON values."""
    names = Renderer(policy)
    return [
        {
            "pool": pool.pool,
            "strategy": pool.strategy,
            "leads": pool.leads,
            "max_deviation": _rounded(pool.max_deviation),
            "members": [
                {
                    "manager": m.manager,
                    "name": names.name(m.manager),
                    "weight": m.weight,
                    "received": m.received,
                    "target": _rounded(m.target),
                    "deviation": _rounded(m.deviation),
                }
                for m in pool.members
            ],
        }
        for pool in pools
    ]


def whatif_json(result: WhatIf, policy: Policy, actual_policy: Policy) -> dict[str, Any]:
    """The comparison as the API returns it and the CLI prints it with `--format json`."""
    actual_names, names = Renderer(actual_policy), Renderer(policy)
    return {
        "since": result.since.isoformat(),
        "until": result.until.isoformat(),
        "actual_version": result.actual_version,
        "new_version": result.new_version,
        "leads": result.leads,
        "changed": result.changed,
        "waiting": result.waiting,
        "purged": result.purged,
        "changes": [
            {
                "crm": c.crm,
                "lead_id": c.lead_id,
                "decided_at": c.decided_at.isoformat(),
                "actual": c.actual,
                "actual_name": actual_names.name(c.actual),
                "would": c.would,
                "would_name": names.name(c.would) if c.would else None,
                "actual_rule": c.actual_rule,
                "would_rule": c.would_rule,
                "reason": c.reason,
                "actual_owners": list(c.actual_owners),
                "would_owners": list(c.would_owners),
            }
            for c in result.changes
        ],
        "rules": [{"rule": r.rule, "actual": r.actual, "would": r.would} for r in result.rules],
        "handoffs": [{"handoff": h.rule, "actual": h.actual, "would": h.would} for h in result.handoffs],
        "actual_fairness": fairness_json(result.actual_fairness, actual_policy),
        "would_fairness": fairness_json(result.would_fairness, policy),
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
