"""Leads, contacts, companies, pipelines and custom fields of the emulated API (§2.2–2.3, §2.7–2.9)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, request

from sandbox.amocrm.changes import (
    apply_lead_changes,
    apply_party_changes,
    check_lead_patch,
    check_party_patch,
    misplaced_reasons,
)
from sandbox.amocrm.hooks import HookSender
from sandbox.amocrm.render import (
    asked_with,
    hal,
    invalid,
    lead_json,
    page,
    party_json,
    problem,
    reason_json,
)
from sandbox.amocrm.state import Account, Lead, Party

MAX_BATCH = 250


def _ids(name: str = "filter[id]") -> set[int] | None:
    raw = request.args.getlist(f"{name}[]") + request.args.getlist(name)
    raw += [v for k, vs in request.args.lists() if k.startswith(f"{name}[") and k != f"{name}[]" for v in vs]
    return {int(v) for v in raw if v.isdigit()} if raw else None


def _range(name: str) -> tuple[int, int]:
    low = request.args.get(f"filter[{name}][from]", "")
    high = request.args.get(f"filter[{name}][to]", "")
    return int(low) if low.isdigit() else 0, int(high) if high.isdigit() else 2**62


def _matches(text: str, fields: dict[int, list[dict[str, Any]]], query: str) -> bool:
    """amoCRM's `query`: a substring over the name and every field; digits also match phones loosely."""
    values = [text] + [str(v.get("value", "")) for vs in fields.values() for v in vs]
    if any(query.casefold() in v.casefold() for v in values):
        return True
    return query.isdigit() and any(query in "".join(ch for ch in v if ch.isdigit()) for v in values)


def leads_blueprint(account: Account, hooks: HookSender) -> Blueprint:
    """Leads, contacts, companies, pipelines and custom fields of the emulated account."""
    bp = Blueprint("amo_leads", __name__)

    @bp.get("/api/v4/leads/<int:lead_id>")
    def one_lead(lead_id: int) -> Response:
        with account.lock:
            lead = account.leads.get(lead_id)
            if lead is None:
                return Response(status=204)  # §2.1: an unknown id is "no content", not 404
            return hal(lead_json(account, lead, asked=asked_with()))

    @bp.get("/api/v4/leads")
    def list_leads() -> Response:
        ids, created, updated = _ids(), _range("created_at"), _range("updated_at")
        owners = _ids("filter[responsible_user_id]")
        query = request.args.get("query", "")
        with account.lock:
            leads = [
                lead
                for lead in account.leads.values()
                if (ids is None or lead.id in ids)
                and (owners is None or lead.responsible_user_id in owners)
                and created[0] <= lead.created_at <= created[1]
                and updated[0] <= lead.updated_at <= updated[1]
                and (not query or _matches(lead.name, lead.fields, query))
            ]
            order = next(
                ((k[6:-1], v) for k, v in request.args.items() if k.startswith("order[")), ("id", "asc")
            )
            leads.sort(
                key=lambda lead: (getattr(lead, order[0], lead.id), lead.id), reverse=order[1] == "desc"
            )
            asked = asked_with()
            return page([lead_json(account, lead, asked=asked) for lead in leads], "leads")

    @bp.patch("/api/v4/leads")
    def patch_leads() -> Response:
        items = request.get_json(silent=True)
        if not isinstance(items, list) or not items:
            return problem(400, "Request data cannot be blank")
        if len(items) > MAX_BATCH:
            return problem(422, f"limit of {MAX_BATCH} per request exceeded")
        return _patch(items)

    @bp.patch("/api/v4/leads/<int:lead_id>")
    def patch_lead(lead_id: int) -> Response:
        item = request.get_json(silent=True)
        if not isinstance(item, dict):
            return problem(405 if isinstance(item, list) else 400, "Expected one object")
        return _patch([item | {"id": lead_id}], single=True)

    def _patch(items: list[Any], single: bool = False) -> Response:
        with account.lock:
            changes: list[tuple[Lead, dict[str, Any]]] = []
            errors = []
            for index, item in enumerate(items):
                lead_id = item.get("id") if isinstance(item, dict) else None
                lead = account.leads.get(lead_id) if isinstance(lead_id, int) else None
                problems = check_lead_patch(account, item, lead)
                rid = str(item.get("request_id", index)) if isinstance(item, dict) else str(index)
                errors += [(rid, *p) for p in problems]
                if not problems and lead is not None:
                    changes.append((lead, item))
            if errors:
                return invalid(errors)  # the whole batch is refused, nothing applied
            misplaced = misplaced_reasons(changes)
            if misplaced:  # its own shape, not validation-errors (§4 [S])
                return problem(400, "Invalid request body", errors=misplaced)
            apply_lead_changes(account, hooks, changes, g.user_id)
            done = [
                {"id": lead.id, "updated_at": lead.updated_at, "request_id": str(item.get("request_id", i))}
                for i, (lead, item) in enumerate(changes)
            ]
        return hal(done[0] if single else {"_embedded": {"leads": done}})

    @bp.get("/api/v4/<any(contacts, companies):kind>")
    def list_parties(kind: str) -> Response:
        ids, query = _ids(), request.args.get("query", "")
        with_leads = "leads" in request.args.get("with", "")
        with account.lock:
            found = [
                party_json(account, p, with_leads=with_leads)
                for p in account.parties.values()
                if p.kind == kind
                and (ids is None or p.id in ids)
                and (not query or _matches(p.name, p.fields, query))
            ]
        return page(found, kind)

    @bp.patch("/api/v4/<any(contacts, companies):kind>")
    def patch_parties(kind: str) -> Response:
        """Contacts or companies in a batch (§2.3): validated as a whole, only the sent fields change."""
        items = request.get_json(silent=True)
        if not isinstance(items, list) or not items:
            return problem(400, "Request data cannot be blank")
        if len(items) > MAX_BATCH:
            return problem(422, f"limit of {MAX_BATCH} per request exceeded")
        return _patch_parties(kind, items)

    @bp.patch("/api/v4/<any(contacts, companies):kind>/<int:party_id>")
    def patch_party(kind: str, party_id: int) -> Response:
        item = request.get_json(silent=True)
        if not isinstance(item, dict):  # an array sent to /contacts/{id} gets 405 (§2.3 [S])
            return problem(405 if isinstance(item, list) else 400, "Expected one object")
        return _patch_parties(kind, [item | {"id": party_id}], single=True)

    def _patch_parties(kind: str, items: list[Any], single: bool = False) -> Response:
        with account.lock:
            changes: list[tuple[Party, dict[str, Any]]] = []
            errors = []
            for index, item in enumerate(items):
                rid = str(item.get("request_id", index)) if isinstance(item, dict) else str(index)
                problems = check_party_patch(account, kind, item)
                errors += [(rid, *p) for p in problems]
                if not problems:
                    changes.append((account.parties[item["id"]], item))
            if errors:
                return invalid(errors)  # the whole batch is refused, nothing applied
            apply_party_changes(account, changes)
            done = [
                {"id": party.id, "updated_at": party.updated_at, "request_id": str(item.get("request_id", i))}
                for i, (party, item) in enumerate(changes)
            ]
        return hal(done[0] if single else {"_embedded": {kind: done}})

    @bp.get("/api/v4/<any(contacts, companies):kind>/<int:party_id>")
    def one_party(kind: str, party_id: int) -> Response:
        with account.lock:
            party: Party | None = account.parties.get(party_id)
            if party is None or party.kind != kind:
                return Response(status=204)
            return hal(party_json(account, party, with_leads="leads" in request.args.get("with", "")))

    @bp.get("/api/v4/leads/pipelines")
    def pipelines() -> Response:
        with account.lock:
            items = [
                {
                    "id": pid,
                    "name": name,
                    "sort": 1,
                    "is_main": i == 0,
                    "account_id": account.id,
                    "_embedded": {
                        "statuses": [
                            {
                                "id": sid,
                                "name": sname,
                                "pipeline_id": pid,
                                "type": kind,
                                "is_editable": kind == 0,
                            }
                            for sid, (sname, kind) in stages.items()
                        ]
                    },
                }
                for i, (pid, (name, stages)) in enumerate(account.pipelines.items())
            ]
        return hal({"_total_items": len(items), "_embedded": {"pipelines": items}})

    @bp.get("/api/v4/leads/loss_reasons")
    def loss_reasons() -> Response:
        """The account's loss reasons, in their order (§2.2 `with=loss_reason`)."""
        with account.lock:
            items = [reason_json(r) for r in sorted(account.loss_reasons.values(), key=lambda r: r.sort)]
        return page(items, "loss_reasons", extra={})

    @bp.get("/api/v4/leads/loss_reasons/<int:reason_id>")
    def loss_reason(reason_id: int) -> Response:
        with account.lock:
            reason = account.loss_reasons.get(reason_id)
            if reason is None:
                return Response(status=204)
            return hal(reason_json(reason))

    @bp.get("/api/v4/<any(leads, contacts, companies):entity>/custom_fields")
    def custom_fields(entity: str) -> Response:
        with account.lock:
            items = [
                {
                    "id": f.id,
                    "name": f.name,
                    "type": f.type,
                    "code": f.code,
                    "sort": 500,
                    "is_api_only": False,
                }
                | {"enums": [{"id": k, "value": v, "sort": 500} for k, v in f.enums.items()] or None}
                for f in account.fields.get(entity, {}).values()
            ]
        return page(items, "custom_fields", extra={})

    return bp
