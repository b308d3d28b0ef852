"""The CRM-neutral model as plain data: leads, managers, schedules, absences, pools and their options."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Protocol

from core.values import quick_init

ManagerKey = str
UserId = int

_EMPTY: Mapping[str, object] = {}


@quick_init
@dataclass(frozen=True, slots=True)
class Lead:
    """A new lead (or deal) as the core sees it, whatever CRM it came from."""

    id: str
    created_at: datetime
    name: str = ""
    price: float | None = None
    pipeline: str | None = None
    stage: str | None = None
    pipeline_id: str | None = None
    stage_id: str | None = None
    source: str | None = None
    utm: Mapping[str, str] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    city: str | None = None
    region: str | None = None
    phone: str | None = None
    email: str | None = None
    company: str | None = None
    inn: str | None = None
    fields: Mapping[str, object] = field(default_factory=dict)
    field_ids: Mapping[str, object] = field(default_factory=dict)
    responsible_user_id: UserId | None = None
    client_key: str | None = None
    client_owner: UserId | None = None
    client_last_seen: datetime | None = None
    closed: str | None = None  # "won" / "lost" once the deal is closed (amoCRM 142/143, Bitrix24 S/F)
    loss_reason: str | None = None  # the loss reason's name, when the CRM gives one for a lost deal


@dataclass(frozen=True, slots=True)
class Absence:
    """A vacation or sick leave, inclusive dates in the manager's time zone."""

    start: date
    end: date
    substitute: ManagerKey | None = None
    reason: str = "vacation"

    def covers(self, day: date) -> bool:
        """True when the manager is away on this local date."""
        return self.start <= day <= self.end


@dataclass(frozen=True, slots=True)
class WeeklySchedule:
    """Working intervals per weekday (0 = Monday) as minutes since local midnight."""

    days: tuple[tuple[tuple[int, int], ...], ...]

    def intervals(self, weekday: int) -> tuple[tuple[int, int], ...]:
        """The working intervals of one weekday."""
        return self.days[weekday]


ALWAYS = WeeklySchedule(days=tuple(((0, 24 * 60),) for _ in range(7)))


@dataclass(frozen=True, slots=True)
class Manager:
    """A person leads can be given to, named once in the config."""

    key: ManagerKey
    crm_user_id: UserId
    tz: tzinfo
    name: str = ""
    weight: float = 1.0
    schedule: WeeklySchedule = ALWAYS
    holidays: frozenset[date] = frozenset()
    absences: tuple[Absence, ...] = ()
    max_per_day: int | None = None
    max_open: int | None = None
    role: str | None = None
    active: bool = True

    @property
    def label(self) -> str:
        """The name people read: the display name, else the config key."""
        return self.name or self.key


@dataclass(frozen=True, slots=True)
class ReturnPolicy:
    """How far a member who was skipped may catch up: 0 = resume, None = unlimited catch-up."""

    max_catch_up: int | None = 0

    @property
    def label(self) -> str:
        """The config spelling of this policy."""
        if self.max_catch_up == 0:
            return "resume"
        if self.max_catch_up is None:
            return "catch_up"
        return f"catch_up_max: {self.max_catch_up}"


class TargetKind(enum.Enum):
    """What a fallback points at."""

    POOL = "pool"
    MANAGER = "manager"


@dataclass(frozen=True, slots=True)
class Target:
    """A pool or a manager to fall back to."""

    kind: TargetKind
    name: str


@dataclass(frozen=True, slots=True)
class NobodyAvailable:
    """What to do when nobody in a pool can take a lead: wait for a shift, then fall back."""

    wait_for_shift: bool = True
    max_wait: timedelta | None = None
    then: Target | None = None


@dataclass(frozen=True, slots=True)
class StickyOptions:
    """How a sticky pool partitions clients: a key, then letter ranges or value lists per member.

    `by_value` maps normalised key values to members; `ranges` holds (first, last, member) on the
    first letter of the key. Keys covered by neither are spread by rendezvous hashing.
    """

    key: str = "company"
    by_value: Mapping[str, ManagerKey] = field(default_factory=dict)
    ranges: tuple[tuple[str, str, ManagerKey], ...] = ()


class Matches(Protocol):
    """Whatever tells whether a lead matches: a compiled condition (`core.conditions.Condition`)."""

    def matches(self, lead: Lead) -> bool:
        """True when the lead matches."""
        ...


@dataclass(frozen=True, slots=True)
class Points:
    """`value: {tiers: …}`: leads matching `condition` are worth `points`."""

    condition: Matches
    points: float


@dataclass(frozen=True, slots=True)
class LeadValue:
    """What a lead is worth to a pool: its budget (`price`), a number field, or points by condition."""

    source: str = "price"  # "price" | "field" | "points"
    field: str | None = None
    points: tuple[Points, ...] = ()
    default: float = 0.0

    @property
    def label(self) -> str:
        """The config spelling of this measure."""
        if self.source == "field":
            return f"field: {self.field}"
        return "points" if self.source == "points" else "price"


@dataclass(frozen=True, slots=True)
class Tier:
    """`balance: tiers`: one tier of leads with its own rotation; the last may match everything."""

    name: str
    condition: Matches | None = None


@dataclass(frozen=True, slots=True)
class JunkCredit:
    """`junk:` a lead its manager marks as junk (a stage, or lost with a reason) within `within` of
    getting it stops counting toward their share, at most `max_per_week` times a week per manager."""

    stage: StageRef | None = None
    loss_reason: str | None = None
    within: timedelta = timedelta(hours=24)
    max_per_week: int = 3


@dataclass(frozen=True, slots=True)
class Pool:
    """A group of managers sharing leads by one strategy."""

    name: str
    members: tuple[ManagerKey, ...]
    strategy: str
    weights: Mapping[ManagerKey, int] = field(default_factory=dict)
    on_return: ReturnPolicy = ReturnPolicy()
    nobody_available: NobodyAvailable | None = None
    sticky: StickyOptions | None = None
    head: ManagerKey | None = None
    claim_user: ManagerKey | None = None
    suggest: int = 3
    return_after_absence: bool = False
    return_only_untouched: bool = False  # `return_after_absence: {only_untouched: true}`
    balance: str = "count"  # "count" | "value" | "tiers" (weighted and round_robin pools)
    value: LeadValue = LeadValue()  # what a lead is worth, for `balance: value` and every view of value
    tiers: tuple[Tier, ...] = ()  # `balance: tiers`
    junk: JunkCredit | None = None
    crm_team: str | None = None  # `members: {crm_group|department: NAME}`: members also come from the CRM


@dataclass(frozen=True, slots=True)
class CrmLoad:
    """`load: crm`: open leads are the CRM's open deals per user, plus overdue tasks at a weight."""

    overdue_tasks: float = 0.0
    refresh_minutes: int = 5

    def open_of(self, deals: int, overdue: int) -> int:
        """The open load a user's open deals and overdue tasks make (rounded to a whole lead)."""
        return deals + round(self.overdue_tasks * overdue)


@dataclass(frozen=True, slots=True)
class TaskTemplate:
    """The CRM task created for the new responsible."""

    text: str
    due_minutes: int


@dataclass(frozen=True, slots=True)
class OnAssign:
    """What we write into the CRM besides the responsible user."""

    task: TaskTemplate | None = None
    note: bool = True


@dataclass(frozen=True, slots=True)
class StageRef:
    """A stage named in the config, optionally within a pipeline."""

    stage: str
    pipeline: str | None = None
