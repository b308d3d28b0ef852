"""The lifecycle's values: a lead's life between events, the events, and the effects (plain data)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from core.decision import Decision, Step
from core.kinds import AuditKind, JobKind
from core.model import Lead, ManagerKey, UserId
from core.ports import CrmWrite


@dataclass(frozen=True, slots=True)
class LeadLife:
    """What the lifecycle knows of one lead between events."""

    lead_id: str
    owner: ManagerKey | None = None  # who holds it: our last assignment, or a person's change
    owner_user: UserId | None = None  # the holder's CRM user (also for people not in the config)
    pool: str | None = None  # the pool of its first decision: the SLA's next member comes from it
    pipeline: str | None = None  # where we last saw it (names, as the config compares them)
    stage: str | None = None
    place: str | None = None  # where it is as one text (core.handoff.place_of): a move changes it
    done: frozenset[str] = frozenset()  # purposes recorded: "new", handoff names, "sla:N", "return"
    sla_turns: tuple[ManagerKey, ...] = ()  # who held it in SLA turns, in order (a hop per turn)
    hunter: ManagerKey | None = None  # the owner before the on-stage handoff (commission, advisory)
    touched: bool = False  # someone moved its stage since it was decided
    closed: str | None = None  # "won" / "lost" / "deleted" (gone from the CRM)
    written_at: datetime | None = None  # when we last wrote its responsible
    client_key: str | None = None


@dataclass(frozen=True, slots=True)
class Arrived:
    """A new lead to route (again after a wait for a shift), as read from the CRM."""

    lead: Lead


@dataclass(frozen=True, slots=True)
class Updated:
    """The CRM says the lead changed: `lead` as it is now (stage, responsible, closed, amount).

    `at` is the CRM's time of the change when it says it; `write_pending` tells that our own write of
    its responsible has not reached the CRM yet (so the responsible it shows is from before it)."""

    lead: Lead
    at: datetime | None = None
    write_pending: bool = False


@dataclass(frozen=True, slots=True)
class TimerRang:
    """A timer set earlier came due; `lead` as read now (None: gone from the CRM)."""

    kind: JobKind
    data: Mapping[str, str]
    lead: Lead | None


@dataclass(frozen=True, slots=True)
class Deleted:
    """The CRM says the lead no longer exists: its deletion webhook ("webhook"), a read that found
    nothing ("read"), or a write it refused for that reason ("write")."""

    source: str = "webhook"


Event = Arrived | Updated | TimerRang | Deleted


@dataclass(frozen=True, slots=True)
class Assign:
    """Record this decision (unique per lead and purpose) and write it to the CRM."""

    decision: Decision
    purpose: str
    kind: AuditKind
    extra: tuple[CrmWrite, ...] = ()


@dataclass(frozen=True, slots=True)
class Wait:
    """A new lead waits for a shift: route it again at `decision.wait_until`."""

    decision: Decision


@dataclass(frozen=True, slots=True)
class SetTimer:
    """Ring `kind` at `due` with `data` (what the ring checks is still true)."""

    kind: JobKind
    due: datetime
    data: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Note:
    """An audit line about the lead."""

    kind: AuditKind
    message: str
    detail: Mapping[str, object] = field(default_factory=dict)
    manager: ManagerKey | None = None
    step: Step | None = None  # why, as data the edge words in the config's language


@dataclass(frozen=True, slots=True)
class ClientFollows:
    """The client of this lead is held by `manager` (`user` in the CRM) from now on."""

    client_key: str
    manager: ManagerKey | None
    user: UserId


@dataclass(frozen=True, slots=True)
class Override:
    """A person moved the lead in the CRM from one holder to another."""

    previous: ManagerKey | None
    previous_user: UserId | None
    manager: ManagerKey | None
    user: UserId


@dataclass(frozen=True, slots=True)
class Cancel:
    """The lead is gone: drop its pending work (timers, a wait for the shift, CRM writes not sent
    yet). `first` says the deletion is news (the driver audits it); a repeat is only a note."""

    source: str
    first: bool = True


Effect = Assign | Wait | SetTimer | Note | ClientFollows | Override | Cancel
