"""Reports over what happened: leads per manager against target shares, handoffs, won / lost,
conversion by source, and the hunter-to-farmer advisory of seed 004; per pool, count and value
against the shares with the worst deviation at any prefix of the period, and junk credits per
manager and week. Pure aggregation over rows."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from core.fairness import FairnessTracker, PoolFairness
from core.policy import Policy


@dataclass(frozen=True, slots=True)
class Received:
    """A lead (or a handed-over deal) given to a manager."""

    manager: str
    pool: str | None
    purpose: str  # "new", a handoff name, "sla:N", "return"
    day: date
    source: str | None = None
    previous: str | None = None  # for handoffs: who had it
    at: datetime | None = None  # when (orders the pools' prefixes)
    route: str = "pool"
    value: float = 0.0  # the lead's worth by its pool's `value:`


@dataclass(frozen=True, slots=True)
class Credited:
    """A junk credit granted: the lead left the manager's share of the pool."""

    manager: str
    pool: str
    at: datetime
    week: str  # ISO week, "2026-W49"
    value: float = 0.0
    why: str = ""


@dataclass(frozen=True, slots=True)
class Closed:
    """A deal won or lost, with its owner at the time and, when it was handed over on a stage, the
    hunter who had it before (the audit's `hunter`)."""

    manager: str
    outcome: str  # "won" | "lost"
    day: date
    amount: float = 0.0
    source: str | None = None
    hunter: str | None = None

    @property
    def credited(self) -> str:
        """Whom the advisory credits with a won deal: the hunter, or the owner if nobody handed it."""
        return self.hunter or self.manager


@dataclass
class ManagerLine:
    """One manager's figures for the period."""

    manager: str
    received: int = 0
    target: float = 0.0
    handed_in: int = 0
    handed_out: int = 0
    won: int = 0
    lost: int = 0
    won_amount: float = 0.0

    @property
    def conversion(self) -> float | None:
        """Won / (won + lost), or None without closed deals."""
        closed = self.won + self.lost
        return self.won / closed if closed else None


@dataclass
class Report:
    """The whole report."""

    managers: list[ManagerLine] = field(default_factory=list)
    sources: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # source → received, won, lost
    advisory: list[tuple[str, list[float]]] = field(default_factory=list)  # hunter, monthly won amounts
    pools: list[PoolFairness] = field(
        default_factory=list
    )  # count and value per pool, from the period's start
    credits: dict[tuple[str, str], int] = field(default_factory=dict)  # (manager, week) → junk credits


def pool_fairness(
    policy: Policy, received: Iterable[Received], credits: Iterable[Credited] = ()
) -> list[PoolFairness]:
    """Every pool's count and value against the shares over the period's new leads, in time order,
    junk credits taken back out when they were granted (as `simulate` shows a run)."""
    tracker = FairnessTracker(policy)
    events: list[tuple[datetime, int, Received | Credited]] = []
    for item in received:
        if item.purpose == "new" and item.pool and item.route == "pool" and item.at is not None:
            events.append((item.at, 0, item))
    events += [(c.at, 1, c) for c in credits]
    for _, _, event in sorted(events, key=lambda e: (e[0], e[1])):
        if isinstance(event, Credited):
            tracker.credit(event.pool, event.manager, event.value)
        else:
            tracker.count(event.pool or "", event.manager, event.value)
    return tracker.report()


def credits_per_week(credits: Iterable[Credited]) -> dict[tuple[str, str], int]:
    """Junk credits per manager and week, so a manager who disowns too much is visible."""
    counted = Counter((c.manager, c.week) for c in credits)
    return dict(sorted(counted.items()))


def build_report(
    policy: Policy,
    received: Iterable[Received],
    closed: Iterable[Closed],
    *,
    advisory_threshold: float | None = None,
    months: list[tuple[int, int]] | None = None,
) -> Report:
    """Aggregate the rows of one period (and, for the advisory, the last six months)."""
    lines: dict[str, ManagerLine] = defaultdict(lambda: ManagerLine(""))
    pool_leads: Counter[str] = Counter()
    sources: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for item in received:
        line = _line(lines, item.manager)
        if item.purpose == "new":
            line.received += 1
            sources[item.source or "—"][0] += 1
            if item.pool:
                pool_leads[item.pool] += 1
        else:
            line.handed_in += 1
            if item.previous:
                _line(lines, item.previous).handed_out += 1
    monthly: dict[str, dict[tuple[int, int], float]] = defaultdict(lambda: defaultdict(float))
    for deal in closed:
        line = _line(lines, deal.manager)
        if deal.outcome == "won":
            line.won += 1
            line.won_amount += deal.amount
            monthly[deal.credited][(deal.day.year, deal.day.month)] += deal.amount
            sources[deal.source or "—"][1] += 1
        else:
            line.lost += 1
            sources[deal.source or "—"][2] += 1
    _targets(policy, lines, pool_leads)
    report = Report(
        managers=sorted(lines.values(), key=lambda m: m.manager),
        sources={k: (v[0], v[1], v[2]) for k, v in sorted(sources.items())},
    )
    if advisory_threshold is not None and months:
        report.advisory = _advisory(monthly, months, advisory_threshold)
    return report


def _line(lines: dict[str, ManagerLine], key: str) -> ManagerLine:
    line = lines[key]
    line.manager = key
    return line


def _targets(policy: Policy, lines: Mapping[str, ManagerLine], pool_leads: Counter[str]) -> None:
    """Each member's exact share of every counting pool's leads, by the pool's weights."""
    for name, count in pool_leads.items():
        pool = policy.pools.get(name)
        if pool is None or pool.strategy in ("manual", "claim"):
            continue
        total = sum(pool.weights.get(k, 1) for k in pool.members)
        for key in pool.members:
            if key in lines:
                lines[key].target += count * pool.weights.get(key, 1) / total


def _advisory(
    monthly: Mapping[str, Mapping[tuple[int, int], float]], months: list[tuple[int, int]], threshold: float
) -> list[tuple[str, list[float]]]:
    """Hunters whose won amount reached the threshold (≥) in every one of the months (seed 004: a
    hunter who keeps closing big for six months is ready to farm their own clients). A deal handed
    over on a stage counts for the hunter who had it before, not for the farmer who closed it."""
    result = []
    for hunter, amounts in sorted(monthly.items()):
        series = [float(amounts.get(m, 0.0)) for m in months]
        if all(value >= threshold for value in series):
            result.append((hunter, series))
    return result
