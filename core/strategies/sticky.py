"""`sticky`: a stable partition of clients by a key, so a client always maps to the same manager.

The key is the company name (alphabet ranges, as in "А–К to Ivanova"), the region (value lists, for
territories), the INN, or any lead field. A territory's owner who is only off shift or on a holiday
is waited for (within the pool's `nobody_available.max_wait`). Otherwise, when the owner cannot take
the lead, their substitute does if they are away, else rendezvous hashing picks the next member,
stable for that key.
"""

from __future__ import annotations

import hashlib
import math
import re
from datetime import datetime
from typing import ClassVar

from core.availability import SkipReason, absence_on
from core.conditions import Getter, field_getter, normalize_text
from core.model import Lead, ManagerKey, Pool, StickyOptions
from core.strategies.base import Choice, PoolView, register
from core.strategies.ledger import advance, effective_counts, quota_pick

_LEGAL_FORMS = re.compile(
    r"^(ооо|оао|зао|пао|ао|ип|нко|фгуп|гуп|муп|llc|ltd|inc|gmbh)\b\.?\s*", re.IGNORECASE
)
_QUOTES = "\"'«»„“”`"


def sticky_key(options: StickyOptions, raw: object) -> str:
    """The normalised partition key: company names lose legal forms and quotes, INNs keep digits."""
    if raw is None or raw == "":
        return ""
    if isinstance(raw, list | tuple):
        raw = raw[0] if raw else ""
    text = normalize_text(raw)
    if options.key == "inn":
        return "".join(ch for ch in text if ch.isdigit())
    if options.key == "company":
        text = text.strip(_QUOTES + " ")
        text = _LEGAL_FORMS.sub("", text).strip(_QUOTES + " ")
    return text


def owner_by_partition(options: StickyOptions, key: str) -> ManagerKey | None:
    """The member a key belongs to by the configured values or letter ranges, if any."""
    owner = options.by_value.get(key)
    if owner is not None or not key:
        return owner
    letter = key[0].upper()
    for first, last, member in options.ranges:
        if first <= letter <= last:
            return member
    return None


def rendezvous(key: str, members: list[ManagerKey], weights: dict[ManagerKey, int]) -> ManagerKey:
    """Weighted rendezvous hashing: stable per key, moves few keys when members change."""
    return max(members, key=lambda member: _score(key, member, weights.get(member, 1)))


def _score(key: str, member: ManagerKey, weight: int) -> float:
    digest = hashlib.blake2b(f"{key}\x00{member}".encode(), digest_size=8).digest()
    unit = (int.from_bytes(digest, "big") + 1) / 2.0**64
    return -weight / math.log(unit)


_RANKINGS: dict[tuple[str, str], tuple[Pool, tuple[ManagerKey, ...]]] = {}
_RANKINGS_SIZE = 50_000  # keys repeat (regions, companies, INNs): hashing every member per lead is the cost


def ranking(pool: Pool, key: str) -> tuple[ManagerKey, ...]:
    """The pool's members best first by rendezvous score for `key`, ties in pool order (memoised).

    The first of them in any subset is what `rendezvous` picks from that subset in pool order.
    """
    entry = _RANKINGS.get((pool.name, key))
    if entry is not None and entry[0] is pool:
        return entry[1]
    members, weights = pool.members, pool.weights
    scores = [-_score(key, member, weights.get(member, 1)) for member in members]
    order = tuple(members[i] for i in sorted(range(len(members)), key=lambda i: (scores[i], i)))
    if len(_RANKINGS) >= _RANKINGS_SIZE:
        _RANKINGS.clear()
    _RANKINGS[(pool.name, key)] = (pool, order)
    return order


@register
class Sticky:
    """The client's partition owner, else their substitute, else a stable hash among the rest."""

    name: ClassVar[str] = "sticky"
    needs_members: ClassVar[bool] = True

    def choose(self, view: PoolView) -> Choice:
        """Pick the owner of the lead's key among the available members, or wait for them."""
        options = view.pool.sticky or _DEFAULT
        raw = _getter(options.key)(view.lead)
        key = sticky_key(options, raw)
        territory = owner_by_partition(options, key) if key else None
        until = _back_soon(view, territory)
        if territory is not None and until is not None:
            detail = _why(options, raw, key, territory, "owner", territory)
            return Choice(territory, view.state, detail=detail, wait_until=until, passed_over=(territory,))
        effective = effective_counts(view)
        if not key:
            chosen = quota_pick(view, effective)
            detail = {"key": "", "key_field": options.key, "by": "no_key"}
            return Choice(chosen, advance(view, effective, chosen), detail=detail)
        owner = territory or ranking(view.pool, key)[0]
        chosen, how, passed = self._owner(view, key, owner)
        detail = _why(options, raw, key, owner, how, territory)
        return Choice(chosen, advance(view, effective, chosen), detail=detail, passed_over=passed)

    def _owner(
        self, view: PoolView, key: str, owner: ManagerKey
    ) -> tuple[ManagerKey, str, tuple[ManagerKey, ...]]:
        """Who takes the key, how (`owner`, `substitute`, `next`), and whom that passed over."""
        eligible = set(view.keys)
        if owner in eligible:
            return owner, "owner", ()
        substitute = self._substitute(view, owner)
        if substitute in eligible:
            return substitute, "substitute", (owner,)
        order = ranking(view.pool, key)
        chosen = next(member for member in order if member in eligible)
        return chosen, "next", (owner, *order[: order.index(chosen)])

    @staticmethod
    def _substitute(view: PoolView, owner: ManagerKey) -> ManagerKey | None:
        manager = view.policy.managers.get(owner)
        if manager is None:
            return None
        absence = absence_on(manager, view.now.astimezone(manager.tz).date())
        return absence.substitute if absence else None


_DEFAULT = StickyOptions()


def _why(
    options: StickyOptions, raw: object, key: str, owner: ManagerKey, how: str, territory: ManagerKey | None
) -> dict[str, str]:
    """The reason as data: the key (as written on the lead) and its field, how its owner was found,
    who took it and why.

    `by` is `value` or `range` when the config gives the key to `owner`, `hash` when nobody owns it
    (spread evenly by hashing, the same key to the same member); `how` says whether the owner took
    the lead, their substitute did, or the next member by the hash order.
    """
    by = "hash" if territory is None else "value" if options.by_value.get(key) == territory else "range"
    value = raw[0] if isinstance(raw, list | tuple) and raw else raw
    written = " ".join(str(value).split())
    return {"key": key, "value": written, "key_field": options.key, "by": by, "owner": owner, "how": how}


# An owner skipped only for these comes back by the calendar alone: their leads may wait for them.
_BACK_BY_CALENDAR = (SkipReason.OFF_HOURS, SkipReason.HOLIDAY)


def _back_soon(view: PoolView, owner: ManagerKey | None) -> datetime | None:
    """The next shift of a territory's owner only off shift or on a holiday, if the pool waits that long.

    A client then waits for the manager of their territory (the pool's, else the global
    `nobody_available` says how long at most) rather than going to a colleague in another time zone.
    """
    if owner is None or not view.skipped:
        return None
    skip = next((s for s in view.skipped if s.manager == owner), None)
    if skip is None or skip.reason not in _BACK_BY_CALENDAR or skip.until is None:
        return None
    rule = view.pool.nobody_available or view.policy.nobody_available
    if not rule.wait_for_shift or (rule.max_wait is not None and skip.until - view.now > rule.max_wait):
        return None
    return skip.until


_GETTERS: dict[str, Getter] = {}


def _getter(path: str) -> Getter:
    getter = _GETTERS.get(path)
    if getter is None:
        getter = _GETTERS[path] = field_getter(path)
    return getter


def key_owner(pool: Pool, lead: Lead) -> ManagerKey | None:
    """Whose the lead's key is in a sticky pool (its territory, letters or hash owner), or None."""
    options = pool.sticky or _DEFAULT
    key = sticky_key(options, _getter(options.key)(lead))
    if not key:
        return None
    return owner_by_partition(options, key) or ranking(pool, key)[0]
