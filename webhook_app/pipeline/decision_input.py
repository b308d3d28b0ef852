"""A decision's input as stored JSON: the lead as the CRM gave it and the state that mattered.

A what-if replays stored leads through the real `decide`; to be faithful it needs what the decision
could not get from the config: who was paused, the pool's counters and its members' loads.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from adapters.storage.ledger import ledger_to_json, pool_state_from
from core.decision import Decision
from core.model import Lead
from core.policy import Policy
from core.state import ManagerLoad, Pause, PoolState, RoutingState

_LEAD_FIELDS = tuple(f.name for f in dataclasses.fields(Lead))
_MOMENTS = frozenset({"created_at", "client_last_seen"})
# What retention blanks: people's names, phones, e-mails, and the company and INN that name a sole
# trader. Custom fields stay: rules read them, and they hold classifications, not contacts.
PERSONAL_FIELDS = ("name", "phone", "email", "company", "inn")


def lead_to_json(lead: Lead) -> dict[str, Any]:
    """Every field of the lead as JSON values (moments as ISO strings)."""
    out: dict[str, Any] = {}
    for name in _LEAD_FIELDS:
        value = getattr(lead, name)
        if name in _MOMENTS:
            value = value.isoformat() if value is not None else None
        elif isinstance(value, Mapping):
            value = {str(k): _plain(v) for k, v in value.items()}
        elif isinstance(value, tuple):
            value = list(value)
        out[name] = value
    return out


def lead_from_json(data: Mapping[str, Any]) -> Lead:
    """The lead back from `lead_to_json` (unknown keys from a later version are ignored)."""
    values: dict[str, Any] = {}
    for name in _LEAD_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if name in _MOMENTS and value is not None:
            value = datetime.fromisoformat(value)
        elif name == "tags":
            value = tuple(value or ())
        elif name in ("utm", "fields", "field_ids"):
            value = dict(value or {})
        values[name] = value
    return Lead(**values)


def without_personal(data: Mapping[str, Any]) -> dict[str, Any]:
    """A stored lead with names, phones and e-mails blanked."""
    return {**data, **{name: ("" if name == "name" else None) for name in PERSONAL_FIELDS}}


def state_to_json(state: RoutingState, decision: Decision, policy: Policy) -> dict[str, Any]:
    """The part of the state a replay needs: pauses, the decided pool's counters, its members' loads."""
    pools: dict[str, Any] = {}
    members: set[str] = {decision.assignee} if decision.assignee else set()
    if decision.pool is not None and decision.pool in policy.pools:
        pool = state.pool(decision.pool)
        pools[decision.pool] = {
            "counts": dict(pool.counts),
            "last": pool.last,
            "present": sorted(pool.present),
            "ledger": ledger_to_json(pool),
        }
        members |= set(policy.pools[decision.pool].members)
    loads = {}
    for key in sorted(members):
        load = state.loads.get(key)
        if load is not None:
            loads[key] = [load.day.isoformat() if load.day else None, load.today, load.open]
    paused = {
        key: [p.until.isoformat() if p.until else None, p.reason] for key, p in sorted(state.paused.items())
    }
    return {"paused": paused, "pools": pools, "loads": loads}


@dataclasses.dataclass(frozen=True, slots=True)
class StoredState:
    """`state_to_json` read back."""

    paused: Mapping[str, Pause]
    pools: Mapping[str, PoolState]
    loads: Mapping[str, ManagerLoad]


def state_from_json(data: Mapping[str, Any]) -> StoredState:
    """The stored state as core values."""
    paused = {
        key: Pause(datetime.fromisoformat(until) if until else None, reason)
        for key, (until, reason) in (data.get("paused") or {}).items()
    }
    pools = {
        name: pool_state_from(p["counts"], p["last"], p["present"], p.get("ledger"))
        for name, p in (data.get("pools") or {}).items()
    }
    loads = {
        key: ManagerLoad(date.fromisoformat(day) if day else None, today, open_)
        for key, (day, today, open_) in (data.get("loads") or {}).items()
    }
    return StoredState(paused, pools, loads)


def _plain(value: object) -> object:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
