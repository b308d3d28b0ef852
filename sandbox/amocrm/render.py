"""JSON the emulator answers with: HAL entities and pages, problem+json errors (amocrm.md §2.1, §4)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from flask import Response, request

from sandbox.amocrm.state import Account, Lead, LossReason, Party

TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "ErrInternalServer",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


def hal(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status, content_type="application/hal+json")


def problem(status: int, detail: str, **extra: Any) -> Response:
    body = {"title": TITLES.get(status, "Error"), "type": f"https://httpstatus.es/{status}", "status": status}
    body |= {"detail": detail, **extra}
    return Response(json.dumps(body, ensure_ascii=False), status, content_type="application/problem+json")


def invalid(errors: list[tuple[str, str, str, str]], status: int = 400) -> Response:
    """400 with `validation-errors`: (request_id, code, path, detail) per problem (§4)."""
    grouped: dict[str, list[dict[str, str]]] = {}
    for request_id, code, path, detail in errors:
        grouped.setdefault(request_id, []).append({"code": code, "path": path, "detail": detail})
    items = [{"request_id": k, "errors": v} for k, v in grouped.items()]
    return problem(status, "Request validation failed", **{"validation-errors": items})


def link(path: str, **query: Any) -> dict[str, str]:
    base = request.host_url.rstrip("/")
    return {"href": f"{base}{path}" + (f"?{urlencode(query, doseq=True)}" if query else "")}


def page(items: list[dict[str, Any]], key: str, *, extra: dict[str, Any] | None = None) -> Response:
    """One page of a list (`page`, `limit` ≤ 250), `_links.next` while more; 204 when empty (§2.1)."""
    try:
        number = max(1, int(request.args.get("page", 1)))
        limit = int(request.args.get("limit", 50))
    except ValueError:
        return problem(400, "page and limit must be numbers")
    if limit > 250 or limit < 1:
        return problem(400, "limit must be between 1 and 250")
    chunk = items[(number - 1) * limit : number * limit]
    if not chunk:
        return Response(status=204)
    query = request.args.to_dict(flat=False)
    links = {"self": link(request.path, **(query | {"page": [str(number)]}))}
    if number * limit < len(items):
        links["next"] = link(request.path, **(query | {"page": [str(number + 1)]}))
    body = {"_page": number, "_links": links, "_embedded": {key: chunk}}
    if extra is not None:
        body |= extra | {"_total_items": len(items), "_page_count": -(-len(items) // limit)}
    return hal(body)


def values_json(account: Account, entity: str, fields: dict[int, list[dict[str, Any]]]) -> Any:
    if not fields:
        return None
    defs = account.fields.get(entity, {})
    return [
        {
            "field_id": fid,
            "field_name": defs[fid].name if fid in defs else "",
            "field_code": defs[fid].code if fid in defs else None,
            "field_type": defs[fid].type if fid in defs else "text",
            "values": values,
        }
        for fid, values in fields.items()
    ]


def asked_with() -> set[str]:
    """The request's `with` values: comma-separated, in one or several `with` parameters (§2.2)."""
    return {part.strip() for value in request.args.getlist("with") for part in value.split(",")}


def reason_json(reason: LossReason) -> dict[str, Any]:
    """A loss reason as `GET /api/v4/leads/loss_reasons` lists it (and `with=loss_reason` embeds it)."""
    links = {"self": link(f"/api/v4/leads/loss_reasons/{reason.id}")}
    stamps = {"created_at": reason.created_at, "updated_at": reason.created_at}
    return {"id": reason.id, "name": reason.name, "sort": reason.sort, **stamps, "_links": links}


def lead_json(account: Account, lead: Lead, *, asked: set[str]) -> dict[str, Any]:
    """A lead as `GET /api/v4/leads` shows it, with what `with` asked for embedded (§2.2)."""
    embedded: dict[str, Any] = {
        "tags": [{"id": abs(hash(t)) % 10**6, "name": t, "color": None} for t in lead.tags],
        "companies": [{"id": lead.company_id}] if lead.company_id else [],
    }
    if "contacts" in asked:
        embedded["contacts"] = [{"id": c, "is_main": i == 0} for i, c in enumerate(lead.contacts)]
    reason = account.loss_reasons.get(lead.loss_reason_id or 0)
    if "loss_reason" in asked and reason is not None:
        embedded["loss_reason"] = [reason_json(reason)]
    return {
        "id": lead.id,
        "name": lead.name,
        "price": lead.price,
        "responsible_user_id": lead.responsible_user_id,
        "group_id": 0,
        "status_id": lead.status_id,
        "pipeline_id": lead.pipeline_id,
        "loss_reason_id": lead.loss_reason_id,
        "created_by": lead.created_by,
        "updated_by": lead.updated_by,
        "created_at": lead.created_at,
        "updated_at": lead.updated_at,
        "closed_at": lead.closed_at,
        "is_deleted": False,
        "custom_fields_values": values_json(account, "leads", lead.fields),
        "account_id": account.id,
        "_links": {"self": link(f"/api/v4/leads/{lead.id}")},
        "_embedded": embedded,
    }


def party_json(account: Account, party: Party, *, with_leads: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": party.id,
        "name": party.name,
        "responsible_user_id": party.responsible_user_id,
        "created_at": party.created_at,
        "updated_at": party.updated_at or party.created_at,
        "custom_fields_values": values_json(account, party.kind, party.fields),
        "account_id": account.id,
        "_links": {"self": link(f"/api/v4/{party.kind}/{party.id}")},
        "_embedded": {"companies": [{"id": party.company_id}] if party.company_id else []},
    }
    if with_leads:
        body["_embedded"]["leads"] = [{"id": i} for i in account.party_leads(party.id)]
    return body


def hook_lead(account: Account, lead: Lead, **old: int) -> dict[str, Any]:
    """A lead in the old v2 shape account webhooks use, values as strings (§1.3)."""
    defs = account.fields.get("leads", {})
    custom = []
    for fid, values in lead.fields.items():
        entry: dict[str, Any] = {"id": fid, "name": defs[fid].name if fid in defs else ""}
        entry["values"] = [{"value": v.get("value"), "enum": v.get("enum_id")} for v in values]
        if fid in defs and defs[fid].code:
            entry["code"] = defs[fid].code
        custom.append(entry)
    body: dict[str, Any] = {"id": lead.id, "name": lead.name, "status_id": lead.status_id}
    body |= {f"old_{k}": v for k, v in old.items() if k == "status_id"}
    body |= {"price": lead.price, "responsible_user_id": lead.responsible_user_id}
    body |= {f"old_{k}": v for k, v in old.items() if k != "status_id"}
    body |= {
        "last_modified": lead.updated_at,
        "modified_user_id": lead.updated_by,
        "created_user_id": lead.created_by,
        "date_create": lead.created_at,
        "pipeline_id": lead.pipeline_id,
        "loss_reason_id": lead.loss_reason_id,
        "tags": [{"id": abs(hash(t)) % 10**6, "name": t} for t in lead.tags] or None,
        "account_id": account.id,
        "custom_fields": custom or None,
        "created_at": lead.created_at,
        "updated_at": lead.updated_at,
    }
    return body
