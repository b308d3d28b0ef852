"""Shorthands the config accepts, expanded before validation into the one canonical form."""

from __future__ import annotations

from typing import Any

from pydantic_core import PydanticCustomError

# Our own refusals of a value's shape: each is a key of the texts' `config` catalog, worded there in
# the file's language (webhook_app/config/errors.py looks them up).
SHAPES = frozenset(
    (
        "schedule_shape",
        "catch_up_max",
        "on_return_shape",
        "return_shape",
        "one_team",
        "task_shape",
        "value_shape",
        "not_http_url",
        "team_source",
    )
)


def refuse(kind: str, **context: Any) -> PydanticCustomError:
    """A validation error worded by the catalog's `kind` (one of SHAPES), its `{placeholders}` in "
    "`context`."""
    assert kind in SHAPES, kind
    return PydanticCustomError(kind, kind, context or None)


def schedule(value: object) -> object:
    """`always` → every day, all day; YAML's `off` (false) → "off"."""
    if value == "always":
        return {"mon-sun": "00:00-24:00"}
    if not isinstance(value, dict):
        raise refuse("schedule_shape")
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
        raise refuse("catch_up_max")
    raise refuse("on_return_shape")


def return_after_absence(value: object) -> object:
    """`true` / `false` → {enabled: …}; a mapping → enabled, with its options."""
    if isinstance(value, bool):
        return {"enabled": value}
    if isinstance(value, dict):
        return {"enabled": True, **value}
    raise refuse("return_shape")


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
        raise refuse("one_team", index=teams[1])
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
        raise refuse("task_shape")
    return value


def lead_value(value: object) -> object:
    """`value: price` → the budget ({}); a mapping stays as it is."""
    if value == "price":
        return {}
    if isinstance(value, dict):
        return value
    raise refuse("value_shape")
