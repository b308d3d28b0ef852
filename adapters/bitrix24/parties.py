"""The client write (`WriteKind.CLIENT`): a lead's or deal's contacts and company get the new holder
as their responsible, so people see in the CRM who holds the client (bitrix24.md §2.6: reassigning
a deal leaves its contacts and company as they were).

Two batches for up to 25 writes (§3: 50 commands a request): the links of each record —
`crm.<entity>.get` for COMPANY_ID (and CONTACT_ID), `crm.<entity>.contact.items.get` for every
bound contact — then `crm.contact.update` / `crm.company.update` with ASSIGNED_BY_ID, without an
activity-stream notification (the lead's own write already told the new responsible). Each write
gets one result: a refusal of any of its updates, else a limit or fault (the whole write is sent
again; the responsible is idempotent), else done.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.bitrix24.batch import BatchOutcome, run_batch
from adapters.bitrix24.mapping import integer, split_id
from adapters.bitrix24.status import is_not_found
from adapters.bitrix24.transport import Transport
from adapters.bitrix24.writes import result_of_error
from adapters.errors import PermanentCrmError
from core.ports import CrmWrite, WriteResult, WriteStatus

Call = tuple[str, dict[str, Any]]


def write_client_owners(transport: Transport, writes: Sequence[CrmWrite], size: int) -> list[WriteResult]:
    """One result per write, in order; `size` commands per batch request (≤ 50)."""
    results: dict[int, WriteResult] = {}
    records: dict[int, tuple[str, str]] = {}  # write index → (entity, number)
    for index, write in enumerate(writes):
        try:
            records[index] = split_id(write.lead_id)
        except ValueError as exc:
            results[index] = _refused(str(exc))
    for index in [i for i in records if writes[i].user_id is None]:
        results[index] = _refused("client write without a user")
        del records[index]
    reads: dict[str, Call] = {}
    for index, (entity, number) in records.items():
        reads[f"r{index}"] = (f"crm.{entity}.get", {"id": number})
        reads[f"c{index}"] = (f"crm.{entity}.contact.items.get", {"id": number})
    links = run_batch(transport, reads, size=size) if reads else BatchOutcome()
    owners: dict[tuple[str, int], int] = {}  # (kind, id) → user: a later write for one party wins
    served: dict[tuple[str, int], list[int]] = {}
    counts: dict[int, dict[str, str]] = {}
    for index in records:
        parties = _parties(links, index)
        if isinstance(parties, WriteResult):
            results[index] = parties
            continue
        for party in parties:
            owners[party] = writes[index].user_id or 0
            served.setdefault(party, []).append(index)
        contacts = sum(1 for kind, _ in parties if kind == "contact")
        counts[index] = {"contacts": str(contacts), "companies": str(len(parties) - contacts)}
    updates = {
        f"u{n}": (
            f"crm.{kind}.update",
            {"id": party, "fields": {"ASSIGNED_BY_ID": user}, "params": {"REGISTER_SONET_EVENT": "N"}},
        )
        for n, ((kind, party), user) in enumerate(owners.items())
    }
    done = run_batch(transport, updates, size=size) if updates else BatchOutcome()
    outcome: dict[int, list[WriteResult]] = {}
    for n, party in enumerate(owners):
        error = done.errors.get(f"u{n}")
        result = result_of_error(error) if error is not None else WriteResult(WriteStatus.OK)
        for index in served[party]:
            outcome.setdefault(index, []).append(result)
    for index, count in counts.items():
        results[index] = _worst(outcome.get(index, []), count)
    return [results[i] for i in range(len(writes))]


def _parties(links: BatchOutcome, index: int) -> list[tuple[str, int]] | WriteResult:
    """The record's contacts (every bound one, the primary first) and company, or why not."""
    for key in (f"r{index}", f"c{index}"):
        error = links.errors.get(key)
        if error is None:
            continue
        if is_not_found(error):  # the lead or deal itself is deleted
            return WriteResult(
                WriteStatus.GONE, "no such lead or deal in Bitrix24", detail={"code": "NOT_FOUND"}
            )
        if key.startswith("r") or not isinstance(error, PermanentCrmError):
            return result_of_error(error)
        # The record was read but its binding list refused (a portal without the method): the
        # contact the record names will do.
    record = links.results.get(f"r{index}")
    record = record if isinstance(record, dict) else {}
    bound = links.results.get(f"c{index}")
    items = sorted(
        (item for item in bound if isinstance(item, dict)) if isinstance(bound, list) else [],
        key=lambda item: (str(item.get("IS_PRIMARY")) != "Y", integer(item.get("SORT")) or 0),
    )
    contacts = [number for item in items if (number := integer(item.get("CONTACT_ID")))]
    primary = integer(record.get("CONTACT_ID"))
    if primary and primary not in contacts:  # a portal without the binding list: the one it names
        contacts.insert(0, primary)
    company = integer(record.get("COMPANY_ID"))
    return [("contact", c) for c in contacts] + ([("company", company)] if company else [])


def _worst(results: list[WriteResult], counts: dict[str, str]) -> WriteResult:
    for status in (WriteStatus.PERMANENT, WriteStatus.TRANSIENT):
        failed = next((r for r in results if r.status is status), None)
        if failed is not None:
            return WriteResult(status, failed.error, failed.retry_after, {**counts, **failed.detail})
    return WriteResult(WriteStatus.OK, detail=counts)


def _refused(reason: str, code: str = "INVALID_WRITE") -> WriteResult:
    return WriteResult(WriteStatus.PERMANENT, reason, detail={"code": code})
