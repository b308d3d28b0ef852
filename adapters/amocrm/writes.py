"""Our writes as amoCRM batch calls, with one result per write (§2.3, §2.5, §2.6).

A client write (`WriteKind.CLIENT`: the lead's contacts and company get the new holder as their
responsible, §2.3: a lead's responsible does not change theirs) first reads the leads' links —
one `GET /api/v4/leads?filter[id][]=…&with=contacts` per 125 leads (§2.2; companies come without
asking) — then sends one `PATCH /api/v4/contacts` and one `PATCH /api/v4/companies` per 250, with
only `id` + `responsible_user_id` (§6), refused items handled as below.

amoCRM validates a batch as a whole: one bad item (an inactive responsible, §6) gets the whole
request a 400 whose `validation-errors` name the items by index (§4), and — as far as the docs
and reports go [U] — nothing of it is applied. So the refused items are marked PERMANENT with
amoCRM's path and detail (they go to dead letters: a second try gets the same answer), and the
rest is sent again at once, without them, in the same call: no delay, no attempt spent, no good
write left waiting behind a bad neighbour. A 422 naming no item is the size cap (§2.3): the batch
is halved, and the smaller cap kept. Transient trouble (429, 5xx, timeouts, a ban, a token being
fixed) returns TRANSIENT for what is left, with amoCRM's retry_after, so the outbox retries it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from adapters.amocrm.catalog import Catalog
from adapters.amocrm.schemas import LeadOut, TaskOut, embedded
from adapters.amocrm.transport import AmoHttp
from adapters.errors import AuthError, Blocked, CrmError, RateLimited, TransientCrmError, ValidationFailed
from core.ports import CrmWrite, WriteKind, WriteResult, WriteStatus

MAX_BATCH = 250  # amoCRM answers 422 above 250 entities per request (§2.3)
READ_BATCH = 125  # lead ids per list call: the URL stays near 4 KB
PARTIES = ("contacts", "companies")
ROUTES = {
    WriteKind.RESPONSIBLE: ("PATCH", "/api/v4/leads"),
    WriteKind.FIELD: ("PATCH", "/api/v4/leads"),
    WriteKind.TASK: ("POST", "/api/v4/tasks"),
    WriteKind.NOTE: ("POST", "/api/v4/leads/notes"),
}
SELECTS = {"select", "multiselect", "radiobutton"}
AUTH_RETRY = 300.0  # a refused token needs a person: come back in minutes, not seconds
Item = tuple[int, dict[str, Any]]


def _refused(reason: str, **detail: str) -> WriteResult:
    return WriteResult(WriteStatus.PERMANENT, reason, detail=detail)


@dataclass
class Writer:
    """Sends writes of one kind in batches of at most `cap`."""

    http: AmoHttp
    catalog: Catalog
    cap: int = MAX_BATCH
    clock: Callable[[], float] = time.time
    default_due: float = 15 * 60.0

    def write(self, writes: Sequence[CrmWrite]) -> list[WriteResult]:
        """One result per write, in order."""
        if writes and writes[0].kind is WriteKind.CLIENT:
            return self._clients(writes)
        results: dict[int, WriteResult] = {}
        items: list[Item] = []
        for index, write in enumerate(writes):
            body = self._body(write)
            if isinstance(body, WriteResult):
                results[index] = body
            else:
                items.append((index, body))
        method, path = ROUTES[writes[0].kind] if writes else ("", "")
        while items:
            chunk, items = items[: self.cap], items[self.cap :]
            results |= self._send(method, path, chunk)
        return [results[i] for i in range(len(writes))]

    def landed(self, writes: Sequence[CrmWrite]) -> list[bool]:
        """Whether amoCRM already holds each task write: a task of the lead with the same responsible,
        text and deadline (open or done), read with `GET /api/v4/tasks` per 125 leads (§2.5)."""
        leads = sorted({int(w.lead_id) for w in writes if w.lead_id.isascii() and w.lead_id.isdigit()})
        held: set[tuple[int | None, int | None, str, int | None]] = set()
        for start in range(0, len(leads), READ_BATCH):
            params: list[tuple[str, str | int]] = [("filter[entity_type]", "leads"), ("limit", 250)]
            params += [("filter[entity_id][]", lead) for lead in leads[start : start + READ_BATCH]]
            for body in self.http.pages("/api/v4/tasks", params):
                for task in embedded(body, "tasks", TaskOut):
                    held.add((task.entity_id, task.responsible_user_id, task.text or "", task.complete_till))
        return [_task_key(write) in held for write in writes]

    def _body(self, write: CrmWrite) -> dict[str, Any] | WriteResult:
        """The JSON item for one write: only the fields we change (§6: never echo a whole lead)."""
        if not (write.lead_id.isascii() and write.lead_id.isdigit()):
            return _refused("the lead id is not an amoCRM id")
        lead = int(write.lead_id)
        if write.kind is WriteKind.RESPONSIBLE:
            if write.user_id is None:
                return _refused("no responsible user given")
            return {"id": lead, "responsible_user_id": write.user_id}
        if write.kind is WriteKind.TASK:
            due = write.due.timestamp() if write.due else self.clock() + self.default_due
            task = {"task_type_id": 1, "text": write.text, "complete_till": int(due)}
            task |= {"entity_id": lead, "entity_type": "leads"}
            return task | ({"responsible_user_id": write.user_id} if write.user_id is not None else {})
        if write.kind is WriteKind.NOTE:
            return {"entity_id": lead, "note_type": "common", "params": {"text": write.text}}
        return self._field(lead, write)

    def _field(self, lead: int, write: CrmWrite) -> dict[str, Any] | WriteResult:
        field = self.catalog.field_by_name(write.field_name or "")
        if field is None:
            return _refused("no lead custom field with this name", field=write.field_name or "")
        value: dict[str, Any] = {"value": write.field_value or ""}
        if field.type in SELECTS:
            wanted = (write.field_value or "").casefold().strip()
            enum = next((e for e in field.enums or () if e.value.casefold().strip() == wanted), None)
            if enum is None:
                return _refused("the value is not one of the field's choices", field=field.name)
            value = {"enum_id": enum.id}
        return {"id": lead, "custom_fields_values": [{"field_id": field.id, "values": [value]}]}

    def _clients(self, writes: Sequence[CrmWrite]) -> list[WriteResult]:
        """Each lead's contacts and company get the write's user as responsible; when two writes
        name one contact, the later one's user is written (it holds the client now)."""
        results: dict[int, WriteResult] = {}
        leads: dict[int, int] = {}  # write index → lead id
        for index, write in enumerate(writes):
            if not (write.lead_id.isascii() and write.lead_id.isdigit()):
                results[index] = _refused("the lead id is not an amoCRM id")
            elif write.user_id is None:
                results[index] = _refused("no responsible user given")
            else:
                leads[index] = int(write.lead_id)
        try:
            links = self._links(sorted(set(leads.values())))
        except CrmError as exc:
            return [results.get(i) or _failed(exc) for i in range(len(writes))]
        owners: dict[str, dict[int, int]] = {kind: {} for kind in PARTIES}  # party id → user
        served: dict[tuple[str, int], list[int]] = {}  # (kind, party id) → the writes it answers
        for index, lead in leads.items():
            if lead not in links:  # the list and a read of its own (204) found nothing: deleted
                results[index] = WriteResult(
                    WriteStatus.GONE, "no such lead in amoCRM", detail={"lead": str(lead)}
                )
                continue
            for kind, ids in zip(PARTIES, links[lead], strict=True):
                for party in ids:
                    owners[kind][party] = writes[index].user_id or 0
                    served.setdefault((kind, party), []).append(index)
        outcome: dict[int, list[WriteResult]] = {}
        for kind in PARTIES:
            items = [
                (party, {"id": party, "responsible_user_id": user}) for party, user in owners[kind].items()
            ]
            sent: dict[int, WriteResult] = {}
            for start in range(0, len(items), self.cap):
                sent |= self._send("PATCH", f"/api/v4/{kind}", items[start : start + self.cap])
            for party, result in sent.items():
                for index in served[(kind, party)]:
                    outcome.setdefault(index, []).append(result)
        for index, lead in leads.items():
            if index not in results:
                contacts, companies = links[lead]
                counts = {"contacts": str(len(contacts)), "companies": str(len(companies))}
                results[index] = _worst(outcome.get(index, []), counts)
        return [results[i] for i in range(len(writes))]

    def _links(self, lead_ids: list[int]) -> dict[int, tuple[list[int], list[int]]]:
        """The contacts and company of each lead that exists; a lead the list misses (a fresh lead
        the list index may not show yet) is read on its own (204: it is gone)."""
        found: dict[int, tuple[list[int], list[int]]] = {}
        for start in range(0, len(lead_ids), READ_BATCH):
            params: list[tuple[str, str | int]] = [
                ("filter[id][]", i) for i in lead_ids[start : start + READ_BATCH]
            ]
            params += [("with", "contacts"), ("limit", 250)]
            for page in self.http.pages("/api/v4/leads", params):
                found |= {lead.id: _parties(lead) for lead in embedded(page, "leads", LeadOut)}
        for lead_id in lead_ids:
            if lead_id not in found:
                body = self.http.get(f"/api/v4/leads/{lead_id}", {"with": "contacts"})
                if body:
                    found[lead_id] = _parties(LeadOut.model_validate(body))
        return found

    def _send(self, method: str, path: str, items: list[Item]) -> dict[int, WriteResult]:
        results: dict[int, WriteResult] = {}
        for _ in range(3):  # each round drops at least one refused item; three is plenty
            try:
                self.http.send(method, path, json=[body for _, body in items])
            except ValidationFailed as exc:
                blamed = _blame(exc, items)
                if not blamed and exc.status == 422 and len(items) > 1:
                    self.cap = half = len(items) // 2  # learn amoCRM's real cap
                    return self._send(method, path, items[:half]) | self._send(method, path, items[half:])
                if not blamed:
                    return results | _all(items, _refused(str(exc), status=str(exc.status)))
                results |= {items[p][0]: _item_refused(exc, problems) for p, problems in blamed.items()}
                items = [item for position, item in enumerate(items) if position not in blamed]
                if not items:
                    return results
            except CrmError as exc:
                return results | _all(items, _failed(exc))
            else:
                return results | _all(items, WriteResult(WriteStatus.OK))
        return results | _all(items, WriteResult(WriteStatus.TRANSIENT, "batch kept being refused"))


def _task_key(write: CrmWrite) -> tuple[int | None, int | None, str, int | None]:
    """What `landed` compares: the lead, the responsible, the text, the deadline as `_body` sends it."""
    lead = int(write.lead_id) if write.lead_id.isascii() and write.lead_id.isdigit() else None
    due = int(write.due.timestamp()) if write.due else None  # no deadline of ours: never matched
    return lead, write.user_id, write.text, due


def _parties(lead: LeadOut) -> tuple[list[int], list[int]]:
    """A lead's contacts (the main one first) and its company (§2.2: at most one)."""
    contacts = sorted(lead.embedded.contacts, key=lambda c: not c.is_main)
    return [c.id for c in contacts], [c.id for c in lead.embedded.companies]


def _worst(results: list[WriteResult], counts: dict[str, str]) -> WriteResult:
    """One client write's result from its contacts' and company's: a refusal, else a transient
    failure (the whole write is sent again: the responsible is idempotent), else done."""
    for status in (WriteStatus.PERMANENT, WriteStatus.TRANSIENT):
        failed = next((r for r in results if r.status is status), None)
        if failed is not None:
            return WriteResult(status, failed.error, failed.retry_after, {**counts, **failed.detail})
    return WriteResult(WriteStatus.OK, detail=counts)


def _all(items: list[Item], result: WriteResult) -> dict[int, WriteResult]:
    return {index: result for index, _ in items}


def _failed(error: CrmError) -> WriteResult:
    """A whole batch failed: TRANSIENT (with amoCRM's wait) unless it was refused for good."""
    if isinstance(error, RateLimited | Blocked):
        return WriteResult(WriteStatus.TRANSIENT, str(error), retry_after=error.retry_after)
    if isinstance(error, AuthError):
        return WriteResult(WriteStatus.TRANSIENT, str(error), retry_after=AUTH_RETRY)
    if isinstance(error, TransientCrmError):
        return WriteResult(WriteStatus.TRANSIENT, str(error))
    return _refused(str(error))


def _item_refused(error: ValidationFailed, problems: list[tuple[str, str]]) -> WriteResult:
    where, what = problems[0]
    said = str(error).split(":")[0]
    gone = next(((p, w) for p, w in problems if _lead_missing(p, w)), None)
    if gone is not None:  # the lead (the task's or note's entity) is deleted: not a refusal to replay
        where, what = gone
        reason = f"{said}: {what} at {where}"
        return WriteResult(WriteStatus.GONE, reason, detail={"status": str(error.status), "path": where})
    reason = f"{said}: {what}" + (f" at {where}" if where else "")
    return _refused(reason, status=str(error.status), path=where, problem=what)


def _lead_missing(path: str, problem: str) -> bool:
    """amoCRM's answer for an item whose lead does not exist: `NotFound` on the lead's `id`, or
    "Entity not found" on a task's or note's `entity_id`."""
    return path in ("id", "entity_id") and ("NotFound" in problem or "Entity not found" in problem)


def _blame(error: ValidationFailed, items: list[Item]) -> dict[int, list[tuple[str, str]]]:
    """Positions in `items` of the refused ones: by echoed index, or by entity id (older shape)."""
    by_id = {str(body.get("id", body.get("entity_id"))): pos for pos, (_, body) in enumerate(items)}
    blamed: dict[int, list[tuple[str, str]]] = {}
    for key, problems in error.items.items():
        if key.startswith("id:"):
            position = by_id.get(key[3:])
        else:
            position = int(key) if key.isascii() and key.isdigit() and int(key) < len(items) else None
        if position is not None:
            blamed.setdefault(position, []).extend(problems or [("", "refused")])
    return blamed
