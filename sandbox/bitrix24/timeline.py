"""Emulated writes beside the record: to-dos, timeline comments, tasks (bitrix24.md §2.6, §9.16)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sandbox.bitrix24.portal import ENTITY_TYPE, ApiError, Portal, not_found


def fields_param(params: dict[str, Any]) -> dict[str, Any]:
    """`fields`, which must be a map (§2.3: "Parameter 'fields' must be array")."""
    fields = params.get("fields")
    if not isinstance(fields, dict):
        raise ApiError(400, "", "Parameter 'fields' must be array.")
    return fields


def _owner(portal: Portal, type_id: Any, owner: Any) -> dict[str, Any] | None:
    entity = ENTITY_TYPE.get(int(type_id)) if str(type_id).isdigit() else None
    return portal.records[entity].get(int(owner)) if entity and str(owner).isdigit() else None


def todo(portal: Portal, params: dict[str, Any]) -> dict[str, int]:
    if not all(params.get(k) for k in ("ownerTypeId", "ownerId", "deadline")):
        raise ApiError(400, "100", "Required parameters missing: ownerTypeId, ownerId, deadline")
    record = _owner(portal, params["ownerTypeId"], params["ownerId"])
    if record is None:
        raise ApiError(400, "OWNER_NOT_FOUND", "Owner not found")
    try:
        datetime.fromisoformat(str(params["deadline"]))
    except ValueError as exc:
        raise ApiError(400, "WRONG_DATETIME_FORMAT", "Wrong datetime format") from exc
    activity: dict[str, Any] = {"id": portal.next_id("activity"), **{k: params.get(k) for k in params}}
    activity.setdefault("responsibleId", record.get("ASSIGNED_BY_ID"))
    portal.activities.append(activity)
    return {"id": activity["id"]}


def comment(portal: Portal, params: dict[str, Any]) -> int:
    fields = fields_param(params)
    if not all(fields.get(k) for k in ("ENTITY_ID", "ENTITY_TYPE", "COMMENT")):
        raise ApiError(400, "", "Required fields: ENTITY_ID, ENTITY_TYPE, COMMENT")
    entity = str(fields["ENTITY_TYPE"]).lower()
    if entity not in portal.records or not str(fields["ENTITY_ID"]).isdigit():
        raise ApiError(400, "", "Not found")
    if int(fields["ENTITY_ID"]) not in portal.records[entity]:
        raise not_found()
    comment = {"id": portal.next_id("comment"), **fields}
    portal.comments.append(comment)
    return int(comment["id"])


def task(portal: Portal, params: dict[str, Any]) -> dict[str, Any]:
    fields = params.get("fields") if isinstance(params.get("fields"), dict) else None
    if fields is None:
        raise ApiError(400, "100", "Parameter 'fields' is required")
    if not fields.get("TITLE"):
        raise ApiError(400, "ERROR_CORE", "Task title is not specified")
    if not fields.get("RESPONSIBLE_ID"):
        raise ApiError(400, "ERROR_CORE", "Responsible person not specified")
    task = {"id": str(portal.next_id("task")), **fields, "responsibleId": str(fields["RESPONSIBLE_ID"])}
    portal.tasks.append(task)
    return {"task": {"id": task["id"], "title": fields["TITLE"], "responsibleId": task["responsibleId"]}}
