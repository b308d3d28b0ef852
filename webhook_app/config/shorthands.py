"""Shorthands the config accepts, expanded before validation into the one canonical form."""

from __future__ import annotations


def schedule(value: object) -> object:
    """`always` → every day, all day; YAML's `off` (false) → "off"."""
    if value == "always":
        return {"mon-sun": "00:00-24:00"}
    if not isinstance(value, dict):
        raise ValueError('expected "always" or a mapping of days to hours, like {mon-fri: "09:00-18:00"}')
    # YAML 1.1 reads a bare `off` as false; a bare number stays visible in the error later.
    return {k: "off" if v is False else v if isinstance(v, str) else str(v) for k, v in value.items()}


def text_list(value: object) -> object:
    """One value or a list, numbers (INNs) as text."""
    items = value if isinstance(value, list) else [value]
    return [str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v for v in items]


def stage(value: object) -> object:
    """`"Won"` → {stage: "Won"}."""
    return {"stage": value} if isinstance(value, str) else value


def on_return(value: object) -> object:
    """resume → 0, catch_up → None (unlimited), {catch_up_max: N} → N."""
    if value == "resume":
        return 0
    if value == "catch_up":
        return None
    if isinstance(value, dict) and set(value) == {"catch_up_max"}:
        limit = value["catch_up_max"]
        if isinstance(limit, int) and not isinstance(limit, bool) and limit >= 1:
            return limit
        raise ValueError("catch_up_max must be a whole number >= 1")
    raise ValueError("expected resume, catch_up or {catch_up_max: N}")


def return_after_absence(value: object) -> object:
    """`true` / `false` → {enabled: …}; a mapping → enabled, with its options."""
    if isinstance(value, bool):
        return {"enabled": value}
    if isinstance(value, dict):
        return {"enabled": True, **value}
    raise ValueError("expected true, false or {only_untouched: true}")


def split_members(data: object) -> object:
    """A pool's `members` with a CRM team in it (`{crm_group: X}` alone or among the keys): the team
    moves to `crm_team`, remembering where it was written (errors point there), the keys stay."""
    if not isinstance(data, dict) or "crm_team" in data:
        return data
    members = data.get("members")
    if isinstance(members, dict):
        return {**data, "members": [], "crm_team": {**members, "at": None}}
    if not isinstance(members, list):
        return data
    teams = [i for i, item in enumerate(members) if isinstance(item, dict)]
    if not teams:
        return data
    if len(teams) > 1:
        raise ValueError(f"members[{teams[1]}]: a pool follows one CRM team; name the others' people")
    at = teams[0]
    named = [item for item in members if not isinstance(item, dict)]
    return {**data, "members": named, "crm_team": {**members[at], "at": at}}


def load(value: object) -> object:
    """`load: crm` / `load: received` → {from: …}."""
    return {"from": value} if isinstance(value, str) else value


def members_list(value: object) -> object:
    """`from: calls` → [calls]."""
    return [value] if isinstance(value, str) else value


def task(value: object) -> object:
    """`task: false` → no task."""
    if value is False:
        return None
    if value is True:
        raise ValueError('expected false or {text: "...", due_minutes: N}')
    return value


def lead_value(value: object) -> object:
    """`value: price` → the budget ({}); a mapping stays as it is."""
    if value == "price":
        return {}
    if isinstance(value, dict):
        return value
    raise ValueError("expected price, {field: NAME} or {tiers: [{when: ..., points: N}, ...], default: N}")
