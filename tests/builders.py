"""Small builders for core objects, so tests state only what matters to them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from core.conditions import Always, Condition
from core.model import (
    ALWAYS,
    Absence,
    Lead,
    Manager,
    NobodyAvailable,
    Pool,
    ReturnPolicy,
    StickyOptions,
    WeeklySchedule,
)
from core.policy import Continuity, Policy, Rule

MSK = ZoneInfo("Europe/Moscow")
# A Wednesday, 12:00 in Moscow: everyone on a 09-18 weekday schedule is at work.
NOON = datetime(2026, 12, 2, 12, 0, tzinfo=MSK)


def weekdays(start: str = "09:00", end: str = "18:00") -> WeeklySchedule:
    """Mon–Fri working hours, weekends off."""
    a = int(start[:2]) * 60 + int(start[3:])
    b = int(end[:2]) * 60 + int(end[3:])
    return WeeklySchedule(days=tuple(((a, b),) if d < 5 else () for d in range(7)))


def manager(key: str, uid: int | None = None, **kw: object) -> Manager:
    """A manager always available unless told otherwise."""
    kw.setdefault("tz", MSK)
    kw.setdefault("schedule", ALWAYS)
    return Manager(key=key, crm_user_id=uid or abs(hash(key)) % 10**6 + 1, **kw)  # type: ignore[arg-type]


def pool(
    name: str,
    members: Iterable[str],
    strategy: str = "round_robin",
    weights: dict[str, int] | None = None,
    **kw: object,
) -> Pool:
    """A pool with integer weights (default 1 each)."""
    members = tuple(members)
    return Pool(
        name=name,
        members=members,
        strategy=strategy,
        weights=weights or {m: 1 for m in members},
        **kw,  # type: ignore[arg-type]
    )


def policy(
    managers: Iterable[Manager],
    pools: Iterable[Pool],
    rules: Iterable[Rule] | None = None,
    **kw: object,
) -> Policy:
    """A policy; without rules, everything goes to the first pool."""
    ms = {m.key: m for m in managers}
    ps = {p.name: p for p in pools}
    first = next(iter(ps))
    rs = tuple(rules) if rules is not None else (Rule("default", Always(), first),)
    kw.setdefault("tz", MSK)
    return Policy(
        managers=ms,
        pools=ps,
        rules=rs,
        by_user_id={m.crm_user_id: m.key for m in ms.values()},
        **kw,  # type: ignore[arg-type]
    )


def lead(id: str = "1", at: datetime = NOON, **kw: object) -> Lead:
    """A lead created at `at` (noon on a Wednesday by default)."""
    return Lead(id=id, created_at=at, **kw)  # type: ignore[arg-type]


def utc(*args: int) -> datetime:
    """A UTC moment."""
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


__all__ = [
    "MSK",
    "NOON",
    "Absence",
    "Condition",
    "Continuity",
    "NobodyAvailable",
    "ReturnPolicy",
    "StickyOptions",
    "date",
    "lead",
    "manager",
    "policy",
    "pool",
    "utc",
    "weekdays",
]


def run(policy_: Policy, count: int, at: datetime = NOON, state=None, step_minutes: int = 1):
    """Decide `count` leads one minute apart, applying each; returns (decisions, final state)."""
    from datetime import timedelta

    from core.decide import apply_decision, decide
    from core.state import RoutingState

    state = state or RoutingState()
    decisions = []
    for i in range(count):
        now = at + timedelta(minutes=i * step_minutes)
        d = decide(lead(str(i), now), policy_, state, now)
        state = apply_decision(state, d, policy_)
        decisions.append(d)
    return decisions, state
