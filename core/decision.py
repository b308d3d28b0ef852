"""A decision as a value: who (or wait until when), by which route, and every reason as data."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from core.availability import Skip
from core.model import ManagerKey
from core.state import PoolState
from core.values import quick_init


class Outcome(enum.Enum):
    """Assign now, or hold the lead until someone comes on shift."""

    ASSIGN = "assign"
    WAIT = "wait"


class Route(enum.Enum):
    """How the assignee was found."""

    CONTINUITY = "continuity"
    SUBSTITUTE = "substitute"
    POOL = "pool"
    FALLBACK = "fallback"
    RETURN = "return"


class StepCode(enum.Enum):
    """One step of the reasoning, rendered into words at the edge."""

    CONTINUITY_OWNER = "continuity_owner"
    CONTINUITY_EXPIRED = "continuity_expired"
    CONTINUITY_UNKNOWN = "continuity_unknown"
    CONTINUITY_UNAVAILABLE = "continuity_unavailable"
    CONTINUITY_UNLESS = "continuity_unless"
    RULE_MATCHED = "rule_matched"
    NO_RULE = "no_rule"
    NOBODY_AVAILABLE = "nobody_available"
    WAIT_FOR_SHIFT = "wait_for_shift"
    WAIT_FOR_OWNER = "wait_for_owner"
    FALLBACK = "fallback"
    HANDOFF = "handoff"
    HANDOFF_BLOCKED = "handoff_blocked"
    HANDOFF_CANCELLED = "handoff_cancelled"
    SLA_EXPIRED = "sla_expired"
    RETURN = "return"
    RETURN_SKIPPED = "return_skipped"
    OWNER_REFUSED = "owner_refused"


@quick_init
@dataclass(frozen=True, slots=True)
class Step:
    """A reasoning step: a code and its parameters."""

    code: StepCode
    params: Mapping[str, str] = field(default_factory=dict)


@quick_init
@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of routing one lead; `pool_state` is the pool's state to store with it."""

    lead_id: str
    outcome: Outcome
    decided_at: datetime
    assignee: ManagerKey | None = None
    wait_until: datetime | None = None
    route: Route | None = None
    rule: str | None = None
    pool: str | None = None
    strategy: str | None = None
    skipped: tuple[Skip, ...] = ()
    steps: tuple[Step, ...] = ()
    suggested: tuple[ManagerKey, ...] = ()
    notify: tuple[ManagerKey, ...] = ()
    detail: Mapping[str, str] = field(default_factory=dict)
    pool_state: PoolState | None = None
    config_version: str = ""


def decision_to_dict(decision: Decision) -> dict[str, object]:
    """The decision as JSON-ready data (for the audit log and `simulate --format json`)."""

    def moment(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "lead_id": decision.lead_id,
        "outcome": decision.outcome.value,
        "decided_at": moment(decision.decided_at),
        "assignee": decision.assignee,
        "wait_until": moment(decision.wait_until),
        "route": decision.route.value if decision.route else None,
        "rule": decision.rule,
        "pool": decision.pool,
        "strategy": decision.strategy,
        "skipped": [
            {
                "manager": s.manager,
                "reason": s.reason.value,
                "until": moment(s.until),
                "substitute": s.substitute,
                "count": s.count,
                "limit": s.limit,
            }
            for s in decision.skipped
        ],
        "steps": [{"code": step.code.value, **step.params} for step in decision.steps],
        "suggested": list(decision.suggested),
        "notify": list(decision.notify),
        "detail": dict(decision.detail),
        "config_version": decision.config_version,
    }
