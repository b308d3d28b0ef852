"""Lists read from Bitrix24: changed leads for the reconciler, users with departments, absences.

Paging (bitrix24.md §2.4): list methods return 50 rows a page with `next`/`total`; for a large
read, `start=-1` turns the count off and we page by `order {ID: ASC}` + `filter {">ID": last}`
until a page has fewer than 50 rows — the vendor's own advice for big tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from adapters.admin import CrmUser
from adapters.bitrix24.batch import chunks, run_batch
from adapters.bitrix24.mapping import integer, moment, text
from adapters.bitrix24.transport import Transport
from core.ports import ChangedLead
from core.team import CrmPerson

PAGE = 50


def walk_by_id(
    transport: Transport, method: str, filter_: dict[str, Any], select: list[str]
) -> list[dict[str, Any]]:
    """Every row of a CRM list, paged with `start=-1` and a growing `>ID` filter (§2.4)."""
    rows: list[dict[str, Any]] = []
    last = 0
    while True:
        params = {"filter": {**filter_, ">ID": last}, "order": {"ID": "ASC"}, "select": select, "start": -1}
        page = [r for r in transport.call(method, params).get("result") or [] if isinstance(r, dict)]
        rows += page
        if len(page) < PAGE:
            return rows
        last = max(integer(r.get("ID")) or 0 for r in page)


def changed_since(transport: Transport, entity: str, since: datetime) -> list[ChangedLead]:
    """Leads or deals created or changed at or after `since`, oldest change first."""
    stamp = since.astimezone(UTC).isoformat(timespec="seconds")
    rows = walk_by_id(
        transport, f"crm.{entity}.list", {">=DATE_MODIFY": stamp}, ["ID", "DATE_CREATE", "DATE_MODIFY"]
    )
    items = []
    for row in rows:
        created = moment(row.get("DATE_CREATE"))
        changed = moment(row.get("DATE_MODIFY")) or created
        if created is not None and changed is not None:
            items.append(ChangedLead(f"{entity}:{row.get('ID')}", created, changed))
    return sorted(items, key=lambda c: (c.updated_at, c.lead_id))


def paged(
    transport: Transport, method: str, params: dict[str, Any], *, start_key: str = "start"
) -> list[Any]:
    """Every page of a small list (users, departments) by its `next` (§2.4)."""
    rows: list[Any] = []
    start: int | None = 0
    while start is not None:
        body = transport.call(method, {**params, start_key: start})
        rows += list(body.get("result") or [])
        start = int(body["next"]) if body.get("next") else None
    return rows


def users(transport: Transport, *, active_only: bool = True) -> list[CrmUser]:
    """Employees (`user.get` USER_TYPE employee; only ACTIVE ones unless told) with their departments."""
    departments = {str(d.get("ID")): str(d.get("NAME") or "") for d in paged(transport, "department.get", {})}
    wanted: dict[str, Any] = (
        {"ACTIVE": True, "USER_TYPE": "employee"} if active_only else {"USER_TYPE": "employee"}
    )
    people = paged(transport, "user.get", {"FILTER": wanted})
    result = []
    for person in people:
        user_id = integer(person.get("ID"))
        if user_id is None:
            continue
        name = " ".join(x for x in (text(person.get("NAME")), text(person.get("LAST_NAME"))) if x)
        units = [departments.get(str(d), "") for d in person.get("UF_DEPARTMENT") or []]
        result.append(
            CrmUser(
                id=user_id,
                name=name or text(person.get("EMAIL")) or f"user {user_id}",
                email=text(person.get("EMAIL")) or "",
                active=person.get("ACTIVE") in (True, "Y", "true", "1"),
                department=", ".join(u for u in units if u),
            )
        )
    return result


def team(transport: Transport) -> list[CrmPerson]:
    """Every employee, active (not dismissed) or not, with their departments and every department
    above them: a pool following a department takes its sub-departments too (§2.5)."""
    rows = paged(transport, "department.get", {})
    names = {str(d.get("ID")): str(d.get("NAME") or "") for d in rows}
    parents = {str(d.get("ID")): str(d.get("PARENT") or "") for d in rows}
    people = []
    for person in paged(transport, "user.get", {"FILTER": {"USER_TYPE": "employee"}}):
        user_id = integer(person.get("ID"))
        if user_id is None:
            continue
        teams: list[str] = []
        for unit in person.get("UF_DEPARTMENT") or []:
            seen: set[str] = set()
            current = str(unit)
            while current and current in names and current not in seen:  # up to the root, once
                seen.add(current)
                teams.append(names[current])
                current = parents.get(current, "")
        name = " ".join(x for x in (text(person.get("NAME")), text(person.get("LAST_NAME"))) if x)
        people.append(
            CrmPerson(
                user_id=user_id,
                name=name or text(person.get("EMAIL")) or f"user {user_id}",
                active=person.get("ACTIVE") in (True, "Y", "true", "1"),
                teams=tuple(dict.fromkeys(t for t in teams if t)),
            )
        )
    return people


def open_load(
    transport: Transport, entity: str, user_ids: Sequence[int], now: datetime
) -> dict[int, tuple[int, int]]:
    """(open deals, overdue open to-dos) per user, from list totals in `batch` (§2.4 "load counting"):
    `crm.<entity>.list` with the stage semantics "P" (in progress) and `crm.activity.list` with
    COMPLETED N and DEADLINE past, `select [ID]`, one command each per user, 50 commands a request."""
    semantic = "STATUS_SEMANTIC_ID" if entity == "lead" else "STAGE_SEMANTIC_ID"
    stamp = now.astimezone(UTC).isoformat(timespec="seconds")
    calls: dict[str, tuple[str, dict[str, Any]]] = {}
    for user in sorted(set(user_ids)):
        calls[f"d{user}"] = (
            f"crm.{entity}.list",
            {"filter": {"ASSIGNED_BY_ID": user, semantic: "P"}, "select": ["ID"]},
        )
        overdue = {"RESPONSIBLE_ID": user, "COMPLETED": "N", "<DEADLINE": stamp}
        calls[f"t{user}"] = ("crm.activity.list", {"filter": overdue, "select": ["ID"]})
    outcome = run_batch(transport, calls)
    for key in calls:
        if key in outcome.errors:
            raise outcome.errors[key]

    def total(key: str) -> int:
        found = outcome.totals.get(key)
        return int(found) if found is not None else len(outcome.results.get(key) or [])

    return {u: (total(f"d{u}"), total(f"t{u}")) for u in user_ids}


def absences(transport: Transport, user_ids: Sequence[int]) -> dict[int, datetime | None]:
    """`im.user.list.get` → `absent`: "date until which the user is on vacation" or false (§2.5)."""
    ids = sorted({str(u) for u in user_ids})
    calls = {f"a{n}": ("im.user.list.get", {"ID": part}) for n, part in enumerate(chunks(ids, PAGE))}
    outcome = run_batch(transport, calls)
    away: dict[int, datetime | None] = dict.fromkeys(user_ids)
    for key in calls:
        if key in outcome.errors:
            raise outcome.errors[key]
        result = outcome.results[key]
        for uid, info in result.items() if isinstance(result, dict) else []:
            if isinstance(info, dict) and info.get("absent") and integer(uid) is not None:
                away[int(uid)] = moment(info["absent"])
    return away
