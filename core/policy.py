"""The compiled policy: rules, handoffs and the whole routing configuration, with its caches."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Literal, TypeAlias

from core.availability import ShiftCalendar
from core.conditions import Condition
from core.matcher import RuleMatcher, _Unmatched
from core.model import (
    CrmLoad,
    Manager,
    ManagerKey,
    NobodyAvailable,
    OnAssign,
    Pool,
    StageRef,
    Target,
    UserId,
)


@dataclass(frozen=True, slots=True)
class Continuity:
    """Repeat clients go back to whoever holds the client now, while that manager can take them."""

    enabled: bool = False
    within_days: int | None = None
    unless: Condition | None = None  # repeat leads matching this go by the rules (a client now VIP)
    sync_client_owner: bool = True  # also write the contact's and company's responsible in the CRM


@dataclass(frozen=True, slots=True)
class Rule:
    """A named condition routing matching leads to a pool."""

    name: str
    condition: Condition
    pool: str


@dataclass(frozen=True, slots=True)
class Handoff:
    """A configured handover of a deal between roles (on stage, after days, or SLA)."""

    name: str
    to: str
    on_stage: StageRef | None = None
    after_days: int | None = None
    in_stage: StageRef | None = None
    unworked_minutes: int | None = None
    max_hops: int | None = None
    then: Target | None = None
    keep_hunter_in_field: str | None = None
    unless: Condition | None = None
    never_move: frozenset[ManagerKey] = frozenset()
    from_members: frozenset[ManagerKey] | None = None  # `from:`: only deals these people hold
    reassign_always: bool = False  # `reassign: always`: move it even from a member of the `to` pool


@dataclass(frozen=True, slots=True)
class Policy:
    """The whole routing configuration in core terms."""

    tz: tzinfo
    managers: Mapping[ManagerKey, Manager]
    pools: Mapping[str, Pool]
    rules: tuple[Rule, ...]
    continuity: Continuity = Continuity()
    nobody_available: NobodyAvailable = NobodyAvailable()
    head_of_sales: ManagerKey | None = None
    handoffs: tuple[Handoff, ...] = ()
    on_assign: OnAssign = OnAssign()
    language: str = "ru"
    version: str = ""
    count_overrides: bool = False  # a person's responsible change moves the lead's share too
    by_user_id: Mapping[UserId, ManagerKey] = field(default_factory=dict)
    newcomer: Manager | None = None  # the defaults a person found in a CRM team gets (key and id unset)
    crm_load: CrmLoad | None = None  # `load: crm`: open leads as the CRM counts them (the shell reads them)
    calendar: ShiftCalendar = field(default_factory=ShiftCalendar, compare=False, repr=False)
    matcher: RuleMatcher[Rule] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        # Compiled once per config: every lead asks the rules, and must not re-read its fields per rule.
        object.__setattr__(self, "matcher", RuleMatcher(self.rules))

    def manager_for_user(self, user_id: UserId | None) -> Manager | None:
        """The manager behind a CRM user id, if we know them."""
        if user_id is None:
            return None
        key = self.by_user_id.get(user_id)
        return self.managers[key] if key is not None else None


Matched: TypeAlias = "Rule | Literal[_Unmatched.TOKEN] | None"  # the first matching rule, if known
