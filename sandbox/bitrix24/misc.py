"""Emulated non-record methods: stages and funnels, users, departments, absences, scopes, event
subscriptions (bitrix24.md §1.1, §2.3, §2.5, §9.15)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.bitrix24.crm import Ctx, Listed, matches
from sandbox.bitrix24.portal import PAGE, ApiError, Handler, Portal, as_list

KNOWN_EVENTS = {
    f"ONCRM{entity}{action}"
    for entity in ("LEAD", "DEAL", "CONTACT", "COMPANY")
    for action in ("ADD", "UPDATE", "DELETE")
} | {"ONCRMDEALMOVETOCATEGORY", "ONAPPINSTALL", "ONAPPUNINSTALL"}


def _page(rows: list[Any], params: dict[str, Any]) -> Listed:
    start = int(params.get("start") or params.get("START") or 0)
    more = len(rows) > start + PAGE
    return Listed(rows[start : start + PAGE], len(rows), start + PAGE if more else None)


def _truthy(value: Any) -> bool:
    return value in (True, "Y", "true", "1", 1)


def misc_methods(portal: Portal) -> dict[str, Callable[[dict[str, Any], Ctx], Any]]:
    """The methods by name."""
    return {
        "crm.status.list": lambda p, c: [s for s in portal.statuses if matches(s, p.get("filter") or {})],
        "crm.category.list": lambda p, c: _categories(portal, p),
        "user.get": lambda p, c: _users(portal, p),
        "department.get": lambda p, c: _page(list(portal.departments.values()), p),
        "im.user.list.get": lambda p, c: _im_users(portal, p),
        "scope": lambda p, c: c.scopes,
        "server.time": lambda p, c: portal.clock.iso(),
        "event.bind": lambda p, c: _bind(portal, p, c),
        "event.unbind": lambda p, c: _unbind(portal, p, c),
        "event.get": lambda p, c: _events(portal, c),
    }


def _categories(portal: Portal, params: dict[str, Any]) -> dict[str, Any]:
    if str(params.get("entityTypeId")) != "2":
        raise ApiError(400, "NOT_FOUND", "Smart process not found")
    return {"categories": portal.categories}


def _users(portal: Portal, params: dict[str, Any]) -> Listed:
    """user.get: ACTIVE is a real boolean here (§2.5); FILTER ACTIVE=true hides dismissed users."""
    wanted = params.get("FILTER") or params.get("filter") or {}
    rows = []
    for user in portal.users.values():
        if "ACTIVE" in wanted and _truthy(wanted["ACTIVE"]) != user["ACTIVE"]:
            continue
        if "USER_TYPE" in wanted and user.get("USER_TYPE", "employee") != wanted["USER_TYPE"]:
            continue
        rows.append(user)
    return _page(rows, params)


def _im_users(portal: Portal, params: dict[str, Any]) -> dict[str, Any]:
    """im.user.list.get: `absent` is the date the absence ends, or false (§2.5)."""
    result: dict[str, Any] = {}
    for raw in as_list(params.get("ID")):
        user = portal.users.get(int(raw)) if str(raw).isdigit() else None
        if user is None:
            result[str(raw)] = None
            continue
        name = f"{user.get('NAME', '')} {user.get('LAST_NAME', '')}".strip()
        result[str(raw)] = {"id": int(raw), "name": name, "absent": user.get("_absent", False)}
        result[str(raw)] |= {"departments": user.get("UF_DEPARTMENT", []), "bot": False}
    return result


def _app_only(ctx: Ctx) -> None:
    # §1.1: event.bind works only in an application's context, never with an incoming webhook.
    if ctx.auth != "app":
        raise ApiError(401, "WRONG_AUTH_TYPE", "Current authorization type is denied for this method")


def _bind(portal: Portal, params: dict[str, Any], ctx: Ctx) -> bool:
    _app_only(ctx)
    event, handler = str(params.get("event") or "").upper(), str(params.get("handler") or "")
    if event not in KNOWN_EVENTS:
        raise ApiError(400, "ERROR_EVENT_NOT_FOUND", "Event not found")
    if not handler.startswith(("http://", "https://")):
        raise ApiError(400, "ERROR_WRONG_HANDLER_URL", "Wrong handler URL")
    if any(h.event == event and h.url == handler and h.kind == "app" for h in portal.handlers):
        raise ApiError(400, "ERROR_HANDLER_ALREADY_EXIST", "Handler already exists")
    portal.handlers.append(Handler(portal.next_id("handler"), event, handler, "app", portal.app_token))
    return True


def _unbind(portal: Portal, params: dict[str, Any], ctx: Ctx) -> dict[str, int]:
    _app_only(ctx)
    event, handler = str(params.get("event") or "").upper(), str(params.get("handler") or "")
    keep = [h for h in portal.handlers if not (h.kind == "app" and h.event == event and h.url == handler)]
    count = len(portal.handlers) - len(keep)
    portal.handlers[:] = keep
    return {"count": count}


def _events(portal: Portal, ctx: Ctx) -> list[dict[str, Any]]:
    _app_only(ctx)
    return [
        {"event": h.event, "handler": h.url, "auth_type": "0", "offline": 0}
        for h in portal.handlers
        if h.kind == "app"
    ]
