"""Emulated CRM methods: get/list/add/update/fields of leads, deals, contacts, companies; duplicates
(bitrix24.md §2.2–2.4, §2.7, §9.7–9.8); to-dos, comments and tasks are in bitrix24_timeline."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sandbox.bitrix24.portal import ENTITY_TYPE, MULTI, PAGE, ApiError, Portal, as_list, not_found
from sandbox.bitrix24.timeline import comment, fields_param, task, todo

Emit = Callable[[str, str], None]  # (event, entity id)
_OPS = (">=", "<=", "!@", "!=", ">", "<", "@", "=", "!", "%")


@dataclass
class Listed:
    """A list answer: one page, with `total` (unless start=-1) and `next` (if more remain) (§2.4)."""

    items: list[Any]
    total: int | None
    next: int | None


@dataclass
class Ctx:
    """Who is calling and how to announce changes."""

    auth: str  # "webhook" | "app"
    user: int
    emit: Emit
    scopes: list[str]


def _record_id(params: dict[str, Any]) -> int:
    raw = str(params.get("id") or params.get("ID") or "")
    if not raw.isdigit() or int(raw) <= 0:
        raise ApiError(400, "", "ID is not defined or invalid.")
    return int(raw)


def _comparable(field: str, value: Any) -> Any:
    if field == "ID" or (field.endswith("_ID") and str(value).isdigit()):
        return int(value) if str(value).lstrip("-").isdigit() else value
    if field.startswith("DATE_") and isinstance(value, str) and value:
        return datetime.fromisoformat(value)
    return "" if value is None else str(value)


def matches(record: dict[str, Any], filter_: dict[str, Any]) -> bool:
    """The documented filter operators (§2.4) on one record."""
    for key, want in filter_.items():
        op = next((o for o in _OPS if key.startswith(o)), "")
        field = key[len(op) :]
        have = _comparable(field, record.get(field))
        if op in ("@", "!@"):
            inside = have in [_comparable(field, w) for w in as_list(want)]
            if inside != (op == "@"):
                return False
        elif not _compare(op, have, _comparable(field, want)):
            return False
    return True


def _compare(op: str, have: Any, one: Any) -> bool:
    if op in ("", "="):
        return bool(have == one)
    if op in ("!", "!="):
        return bool(have != one)
    if op == "%":
        return str(one).casefold() in str(have).casefold()
    try:
        return bool({">=": have >= one, "<=": have <= one, ">": have > one, "<": have < one}[op])
    except TypeError:  # an empty value against a date or a number: no match
        return False


def _select(record: dict[str, Any], select: list[str]) -> dict[str, Any]:
    if not select:
        select = ["*"]
    out = {k: v for k, v in record.items() if "*" in select and not k.startswith("UF_") and k not in MULTI}
    out |= {k: v for k, v in record.items() if "UF_*" in select and k.startswith("UF_")}
    out |= {k: record[k] for k in select if k in record}
    return out | {"ID": record["ID"]}


def list_records(portal: Portal, entity: str, params: dict[str, Any]) -> Listed:
    """crm.<entity>.list: filter, order, select, start (50 a page; start=-1 → no total)."""
    filter_ = params.get("filter") or {}
    rows = [r for r in portal.records[entity].values() if matches(r, filter_)]
    for field, direction in reversed(list((params.get("order") or {"ID": "ASC"}).items())):
        rows.sort(key=partial(_sort_key, field), reverse=str(direction).upper() == "DESC")
    start = int(params.get("start") or 0)
    page = rows[max(start, 0) : max(start, 0) + PAGE]
    select = [str(s) for s in as_list(params.get("select"))]
    more = start >= 0 and len(rows) > start + PAGE
    return Listed(
        [_select(r, select) for r in page], None if start < 0 else len(rows), start + PAGE if more else None
    )


def list_activities(portal: Portal, params: dict[str, Any]) -> Listed:
    """crm.activity.list: the timeline's activities (our to-dos) in the legacy upper-case shape,
    filtered (e.g. `OWNER_TYPE_ID`, `OWNER_ID`), 50 a page, by ID (`order` ASC or DESC)."""
    rows = [_activity(a) for a in portal.activities]
    rows = [r for r in rows if matches(r, params.get("filter") or {})]
    if str((params.get("order") or {}).get("ID", "ASC")).upper() == "DESC":
        rows.reverse()
    start = int(params.get("start") or 0)
    page = rows[max(start, 0) : max(start, 0) + PAGE]
    select = [str(s) for s in as_list(params.get("select"))]
    more = start >= 0 and len(rows) > start + PAGE
    return Listed(
        [_select(r, select) for r in page], None if start < 0 else len(rows), start + PAGE if more else None
    )


def _activity(todo: dict[str, Any]) -> dict[str, Any]:
    """A to-do added by `crm.activity.todo.add`, as `crm.activity.list` shows it (ids as strings)."""
    return {
        "ID": str(todo["id"]),
        "OWNER_TYPE_ID": str(todo.get("ownerTypeId") or ""),
        "OWNER_ID": str(todo.get("ownerId") or ""),
        "PROVIDER_ID": "CRM_TODO",
        "SUBJECT": todo.get("title") or "",
        "DESCRIPTION": todo.get("description") or "",
        "RESPONSIBLE_ID": str(todo.get("responsibleId") or ""),
        "DEADLINE": str(todo.get("deadline") or ""),
        "COMPLETED": "N",
    }


def _sort_key(field: str, record: dict[str, Any]) -> Any:
    return _comparable(field, record.get(field))


def crm_methods(portal: Portal) -> dict[str, Callable[[dict[str, Any], Ctx], Any]]:
    """Every crm.* method of the emulator, by name."""
    methods: dict[str, Callable[[dict[str, Any], Ctx], Any]] = {}
    for entity in ("lead", "deal", "contact", "company"):
        methods |= _entity_methods(portal, entity)
    methods["crm.duplicate.findbycomm"] = lambda p, c: _duplicates(portal, p)
    methods["crm.activity.todo.add"] = lambda p, c: todo(portal, p)
    methods["crm.activity.list"] = lambda p, c: list_activities(portal, p)
    methods["crm.timeline.comment.add"] = lambda p, c: comment(portal, p)
    methods["tasks.task.add"] = lambda p, c: task(portal, p)
    return methods


def _entity_methods(portal: Portal, entity: str) -> dict[str, Callable[[dict[str, Any], Ctx], Any]]:
    """crm.<entity>.get/list/add/update/fields (and contact.items.get for leads and deals)."""

    def get(params: dict[str, Any], ctx: Ctx) -> Any:
        return _get(portal, entity, params)

    def list_(params: dict[str, Any], ctx: Ctx) -> Any:
        return list_records(portal, entity, params)

    def add(params: dict[str, Any], ctx: Ctx) -> Any:
        return _add(portal, entity, params, ctx)

    def update(params: dict[str, Any], ctx: Ctx) -> Any:
        return _update(portal, entity, params, ctx)

    def fields(params: dict[str, Any], ctx: Ctx) -> Any:
        return _fields(portal, entity)

    def contacts(params: dict[str, Any], ctx: Ctx) -> Any:
        return _contact_items(portal, entity, params)

    prefix = f"crm.{entity}"
    methods: dict[str, Callable[[dict[str, Any], Ctx], Any]] = {
        f"{prefix}.get": get,
        f"{prefix}.list": list_,
        f"{prefix}.add": add,
    }

    def delete(params: dict[str, Any], ctx: Ctx) -> Any:
        return _delete(portal, entity, params, ctx)

    methods |= {f"{prefix}.update": update, f"{prefix}.fields": fields, f"{prefix}.delete": delete}
    if entity in ("lead", "deal"):
        methods[f"{prefix}.contact.items.get"] = contacts
    return methods


def _get(portal: Portal, entity: str, params: dict[str, Any]) -> dict[str, Any]:
    record = portal.records[entity].get(_record_id(params))
    if record is None:
        raise not_found()
    return dict(record)


def _contact_items(portal: Portal, entity: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """crm.<entity>.contact.items.get: every contact bound to the lead or deal, the primary first."""
    number = _record_id(params)
    record = portal.records[entity].get(number)
    if record is None:
        raise not_found()
    return [
        {"CONTACT_ID": contact, "SORT": (n + 1) * 10, "ROLE_ID": 0, "IS_PRIMARY": "Y" if n == 0 else "N"}
        for n, contact in enumerate(portal.bindings.get((entity, number), []))
    ]


def _add(portal: Portal, entity: str, params: dict[str, Any], ctx: Ctx) -> int:
    record = portal.create(entity, fields_param(params))
    ctx.emit(f"ONCRM{entity.upper()}ADD", record["ID"])  # to whoever subscribed to it
    return int(record["ID"])


def _update(portal: Portal, entity: str, params: dict[str, Any], ctx: Ctx) -> bool:
    number = _record_id(params)
    fields = fields_param(params)
    record = portal.records[entity].get(number)
    if record is None:
        raise not_found()
    portal.apply(entity, record, fields)
    # §1.2: no "not my own change" filter — a subscriber gets the echo of its own update
    ctx.emit(f"ONCRM{entity.upper()}UPDATE", record["ID"])
    return True


def _delete(portal: Portal, entity: str, params: dict[str, Any], ctx: Ctx) -> bool:
    """crm.<entity>.delete: the record is gone (get/update then answer "Not found", §2.2); its to-dos
    go with it, and ONCRM<ENTITY>DELETE follows with the ID."""
    number = _record_id(params)
    record = portal.records[entity].pop(number, None)
    if record is None:
        raise not_found()
    portal.bindings.pop((entity, number), None)
    owner = str(next(type_id for type_id, name in ENTITY_TYPE.items() if name == entity))
    portal.activities[:] = [
        a
        for a in portal.activities
        if not (str(a.get("ownerTypeId")) == owner and str(a.get("ownerId")) == str(number))
    ]
    ctx.emit(f"ONCRM{entity.upper()}DELETE", record["ID"])
    return True


def _fields(portal: Portal, entity: str) -> dict[str, Any]:
    base = {
        "ID": {"type": "integer", "isReadOnly": True, "title": "ID"},
        "TITLE": {"type": "string", "title": "Title"},
    }
    base["ASSIGNED_BY_ID"] = {"type": "user", "title": "Responsible"}
    return base | portal.fields.get(entity, {})


def normal(kind: str, value: str) -> str:
    """Phones compare by their last 10 digits (extension ignored), e-mails case-insensitively."""
    return "".join(c for c in value if c.isdigit())[-10:] if kind == "PHONE" else value.strip().casefold()


def _duplicates(portal: Portal, params: dict[str, Any]) -> Any:
    kind = str(params.get("type") or "").upper()
    if kind not in ("PHONE", "EMAIL"):
        raise ApiError(400, "Communication type is not defined", "Parameter 'type' is required.")
    values = {normal(kind, str(v)) for v in as_list(params.get("values"))}
    if not values or len(values) > 20:
        raise ApiError(400, "", "Parameter 'values' must contain 1 to 20 values.")
    types = (
        [str(params["entity_type"]).upper()] if params.get("entity_type") else ["LEAD", "CONTACT", "COMPANY"]
    )
    found: dict[str, list[int]] = {}
    for upper in types:
        for number, record in sorted(portal.records[upper.lower()].items()):
            if any(normal(kind, str(m.get("VALUE"))) in values for m in record.get(kind) or []):
                found.setdefault(upper, []).append(number)
    return found or []
