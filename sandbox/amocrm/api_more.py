"""Users, tasks, notes, webhooks, the account and OAuth of the emulated API (§1.7, §2.4–2.6, §3)."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, g, request

from sandbox.amocrm.guard import Tokens
from sandbox.amocrm.render import hal, invalid, link, page, problem
from sandbox.amocrm.state import Account, Webhook

MAX_BATCH = 250
MAX_HOOKS = 100


def more_blueprint(account: Account, tokens: Tokens) -> Blueprint:
    bp = Blueprint("amo_more", __name__)

    def admin_only() -> Response | None:
        user = account.users.get(g.user_id)
        return None if user is not None and user.is_admin else problem(403, "Access denied")

    @bp.get("/api/v4/account")
    def account_info() -> Response:
        return hal(
            {"id": account.id, "name": "Пример", "subdomain": account.subdomain, "current_user_id": g.user_id}
        )

    @bp.get("/api/v4/users")
    def users() -> Response:
        if (refused := admin_only()) is not None:
            return refused
        with_group = "group" in request.args.get("with", "")
        items = []
        for user in account.users.values():
            rights: dict[str, Any] = {"is_active": user.is_active, "is_free": user.is_free}
            rights |= {"is_admin": user.is_admin}
            rights |= {"group_id": user.group_id, "role_id": None, "leads": {"view": "A", "edit": "A"}}
            item: dict[str, Any] = {
                "id": user.id,
                "name": user.name,
                "email": user.email,
                "lang": "ru",
                "rights": rights,
            }
            if with_group and user.group_id is not None:
                item["_embedded"] = {"groups": [{"id": user.group_id, "name": account.groups[user.group_id]}]}
            items.append(item)
        return page(items, "users", extra={})

    @bp.post("/api/v4/tasks")
    def tasks() -> Response:
        items = request.get_json(silent=True)
        if not isinstance(items, list) or not items:
            return problem(400, "Request data cannot be blank")
        if len(items) > MAX_BATCH:
            return problem(422, f"limit of {MAX_BATCH} per request exceeded")
        errors = []
        for index, item in enumerate(items):
            rid = str(item.get("request_id", index)) if isinstance(item, dict) else str(index)
            for key in ("text", "complete_till"):  # both required (§2.5)
                if not isinstance(item, dict) or not item.get(key):
                    errors.append((rid, "NotBlank", key, "This value should not be blank."))
            if (
                isinstance(item, dict)
                and item.get("entity_type") == "leads"
                and item.get("entity_id") not in account.leads
            ):
                errors.append((rid, "NotSupportedChoice", "entity_id", "Entity not found"))
        if errors:
            return invalid(errors)
        done = []
        with account.lock:
            for index, item in enumerate(items):
                task = {"id": account.new_id("task"), "responsible_user_id": g.user_id, "is_completed": False}
                task |= item | {"created_by": g.user_id, "created_at": account.now()}
                account.tasks.append(task)
                done.append({"id": task["id"], "request_id": str(item.get("request_id", index))})
        return hal({"_links": {"self": link("/api/v4/tasks")}, "_embedded": {"tasks": done}})

    @bp.get("/api/v4/tasks")
    def list_tasks() -> Response:
        """§2.5: `filter[entity_type]`, `filter[entity_id][]`, `filter[responsible_user_id]`,
        `filter[is_completed]`; paged by 250 at most, 204 when nothing matches."""
        args = request.args
        wanted_type = args.get("filter[entity_type]")
        ids = {
            int(v)
            for v in args.getlist("filter[entity_id][]") + args.getlist("filter[entity_id]")
            if v.isdigit()
        }
        user = args.get("filter[responsible_user_id]")
        done = args.get("filter[is_completed]")
        items = []
        with account.lock:
            for task in account.tasks:
                if wanted_type is not None and task.get("entity_type") != wanted_type:
                    continue
                if ids and task.get("entity_id") not in ids:
                    continue
                if user is not None and str(task.get("responsible_user_id")) != user:
                    continue
                if done is not None and bool(task.get("is_completed")) != (done in ("1", "true")):
                    continue
                shown = {k: v for k, v in task.items() if k != "request_id"}  # not stored by amoCRM
                items.append(shown | {"_links": {"self": link(f"/api/v4/tasks/{task['id']}")}})
        return page(items, "tasks")

    @bp.post("/api/v4/leads/notes")
    @bp.post("/api/v4/leads/<int:lead_id>/notes")
    def notes(lead_id: int | None = None) -> Response:
        items = request.get_json(silent=True)
        if not isinstance(items, list) or not items:
            return problem(400, "Request data cannot be blank")
        if len(items) > MAX_BATCH:
            return problem(422, f"limit of {MAX_BATCH} per request exceeded")
        errors = []
        for index, item in enumerate(items):
            rid = str(item.get("request_id", index)) if isinstance(item, dict) else str(index)
            entity = lead_id or (item.get("entity_id") if isinstance(item, dict) else None)
            if entity not in account.leads:
                errors.append((rid, "NotSupportedChoice", "entity_id", "Entity not found"))
            elif item.get("note_type") == "common" and not (item.get("params") or {}).get("text"):
                errors.append((rid, "NotBlank", "params.text", "This value should not be blank."))
        if errors:
            return invalid(errors)
        done = []
        with account.lock:
            for index, item in enumerate(items):
                note = item | {"id": account.new_id("note"), "entity_id": lead_id or item["entity_id"]}
                note |= {"created_by": g.user_id, "created_at": account.now()}
                account.notes.append(note)
                done.append(
                    {
                        "id": note["id"],
                        "entity_id": note["entity_id"],
                        "request_id": str(item.get("request_id", index)),
                    }
                )
        return hal({"_embedded": {"notes": done}})

    @bp.get("/api/v4/webhooks")
    def webhooks() -> Response:
        if (refused := admin_only()) is not None:
            return refused
        wanted = request.args.get("filter[destination]")
        with account.lock:
            items = [_hook(h) for h in account.webhooks.values() if wanted in (None, h.destination)]
        return page(items, "webhooks", extra={}) if items else Response(status=204)

    @bp.post("/api/v4/webhooks")
    def subscribe() -> Response:
        if (refused := admin_only()) is not None:
            return refused
        body = request.get_json(silent=True) or {}
        if not body.get("destination") or not body.get("settings"):
            return invalid(
                [
                    ("0", "NotBlank", k, "This value should not be blank.")
                    for k in ("destination", "settings")
                    if not body.get(k)
                ]
            )
        with account.lock:
            hook = account.webhooks.get(body["destination"])
            if hook is None:  # upsert by destination (§1.7)
                if len(account.webhooks) >= MAX_HOOKS:
                    return problem(422, f"limit of {MAX_HOOKS} webhooks reached")
                hook = Webhook(account.new_id("hook"), body["destination"], [], 0, account.now(), g.user_id)
                account.webhooks[hook.destination] = hook
            hook.settings, hook.sort, hook.disabled = list(body["settings"]), int(body.get("sort", 0)), False
            return hal(_hook(hook), 201)

    @bp.delete("/api/v4/webhooks")
    def unsubscribe() -> Response:
        if (refused := admin_only()) is not None:
            return refused
        destination = (request.get_json(silent=True) or {}).get("destination")
        with account.lock:
            if account.webhooks.pop(str(destination), None) is None:
                return problem(404, "Webhook not found")
        return Response(status=204)

    @bp.post("/oauth2/access_token")
    def access_token() -> Response:
        body = request.get_json(silent=True) or request.form.to_dict()
        status, answer = tokens.grant({k: str(v) for k, v in body.items()})
        kind = "application/json" if status == 200 else "application/problem+json"
        return Response(json.dumps(answer, ensure_ascii=False), status, content_type=kind)

    return bp


def _hook(hook: Webhook) -> dict[str, Any]:
    return {
        "id": hook.id,
        "destination": hook.destination,
        "created_at": hook.created_at,
        "updated_at": hook.created_at,
        "account_id": 0,
        "created_by": hook.created_by,
        "sort": hook.sort,
        "disabled": hook.disabled,
        "settings": hook.settings,
    }
