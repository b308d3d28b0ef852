"""A decision as a value: who (or wait until when), by which route, and every reason as data."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from core.availability import Skip
from core.model import ManagerKey
from core.state import PoolState


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


class StepCode(enum.Enum):
    """One step of the reasoning, rendered into words at the edge."""

    CONTINUITY_OWNER = "continuity_owner"
    CONTINUITY_EXPIRED = "continuity_expired"
    CONTINUITY_UNKNOWN = "continuity_unknown"
    CONTINUITY_UNAVAILABLE = "continuity_unavailable"
    RULE_MATCHED = "rule_matched"
    NO_RULE = "no_rule"
    NOBODY_AVAILABLE = "nobody_available"
    WAIT_FOR_SHIFT = "wait_for_shift"
    FALLBACK = "fallback"


@dataclass(frozen=True, slots=True)
class Step:
    """A reasoning step: a code and its parameters."""

    code: StepCode
    params: Mapping[str, str] = field(default_factory=dict)


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
