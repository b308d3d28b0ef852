"""Repeat clients: the contact or company behind new leads/deals, and its responsible (continuity).

Sources (bitrix24.md §2.7): the record's own CONTACT_ID / COMPANY_ID, and duplicates found by
phone and e-mail with `crm.duplicate.findbycomm` (≤ 20 values a call, ids only, so the found
contacts are read back with their PHONE/EMAIL to tell which lead they match). A contact counts as
an existing client only if it was created before the lead — a web form that creates contact and
deal together makes no repeat client. Everything for a group of up to 50 records takes at most
three requests (own links, duplicate search, found owners), each a `batch`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from adapters.bitrix24.batch import chunks, run_batch
from adapters.bitrix24.mapping import ClientInfo, Extras, first_value, integer, moment, text
from adapters.bitrix24.transport import Transport

FIND_LIMIT = 20  # §2.7: crm.duplicate.findbycomm takes at most 20 values
SELECT = [
    "ID",
    "ASSIGNED_BY_ID",
    "DATE_CREATE",
    "DATE_MODIFY",
    "PHONE",
    "EMAIL",
    "TITLE",
    "NAME",
    "LAST_NAME",
]
SAME_TIME = timedelta(seconds=60)  # created this close to the lead: made together, not a repeat client
KINDS = (("CONTACT", "contact"), ("COMPANY", "company"))


@dataclass(frozen=True, slots=True)
class Found:
    """What the lookup tells about one record: the client (if any) and contact details it lacks."""

    client: ClientInfo | None
    extras: Extras


def find_clients(transport: Transport, records: Mapping[str, Mapping[str, Any]]) -> dict[str, Found]:
    """For `lead id → raw record`, the repeat client of each (None when it is a new one)."""
    known: dict[str, dict[str, Any]] = {}  # "contact:7" → its record
    own = {lid: _own_keys(raw) for lid, raw in records.items()}
    _load(transport, {key for keys in own.values() for key in keys}, known)
    extras = {lid: _extras({k: known[k] for k in own[lid] if k in known}) for lid in records}
    wanted = {lid: _comms(raw, extras[lid]) for lid, raw in records.items()}
    found = _search(transport, wanted)
    _load(transport, found - set(known), known)
    result: dict[str, Found] = {}
    for lid, raw in records.items():
        matching = [k for k, entity in known.items() if k in found and _comms_of(entity) & wanted[lid]]
        result[lid] = Found(_choose(raw, own[lid], matching, known), extras[lid])
    return result


def _own_keys(raw: Mapping[str, Any]) -> list[str]:
    keys = []
    if integer(raw.get("CONTACT_ID")):
        keys.append(f"contact:{integer(raw.get('CONTACT_ID'))}")
    if integer(raw.get("COMPANY_ID")):
        keys.append(f"company:{integer(raw.get('COMPANY_ID'))}")
    return keys


def _load(transport: Transport, keys: set[str], into: dict[str, dict[str, Any]]) -> None:
    """Read contacts/companies by id with `crm.<kind>.list` filter @ID, 50 a command, one batch."""
    calls: dict[str, tuple[str, dict[str, Any]]] = {}
    for _, kind in KINDS:
        ids = sorted(k.split(":")[1] for k in keys if k.startswith(f"{kind}:"))
        for n, part in enumerate(chunks(ids, 50)):
            calls[f"{kind}{n}"] = (
                f"crm.{kind}.list",
                {"filter": {"@ID": part}, "select": SELECT, "start": -1},
            )
    if not calls:
        return
    outcome = run_batch(transport, calls)
    for key in calls:
        if key in outcome.errors:
            raise outcome.errors[key]
        kind = key.rstrip("0123456789")
        for item in outcome.results[key] or []:
            into[f"{kind}:{item.get('ID')}"] = item


def _extras(linked: Mapping[str, Mapping[str, Any]]) -> Extras:
    """Phone, e-mail and company name from the record's own contact/company (deals have none)."""
    company = next((text(e.get("TITLE")) for k, e in linked.items() if k.startswith("company:")), None)
    return Extras(
        phone=next((p for e in linked.values() if (p := first_value(e.get("PHONE")))), None),
        email=next((m for e in linked.values() if (m := first_value(e.get("EMAIL")))), None),
        company=company,
    )


def normal_phone(value: str) -> str:
    """The last 10 digits: +7 (912) 000-11-22 and 8 912 000 1122 are one number."""
    return "".join(ch for ch in value if ch.isdigit())[-10:]


def _comms(raw: Mapping[str, Any], extras: Extras) -> set[tuple[str, str]]:
    phone = first_value(raw.get("PHONE")) or extras.phone
    email = first_value(raw.get("EMAIL")) or extras.email
    comms = set()
    if phone and normal_phone(phone):
        comms.add(("PHONE", normal_phone(phone)))
    if email:
        comms.add(("EMAIL", email.strip().casefold()))
    return comms


def _comms_of(entity: Mapping[str, Any]) -> set[tuple[str, str]]:
    comms = set()
    for item in entity.get("PHONE") or []:
        if isinstance(item, dict) and text(item.get("VALUE")):
            comms.add(("PHONE", normal_phone(str(item["VALUE"]))))
    for item in entity.get("EMAIL") or []:
        if isinstance(item, dict) and text(item.get("VALUE")):
            comms.add(("EMAIL", str(item["VALUE"]).strip().casefold()))
    return comms


def _search(transport: Transport, wanted: Mapping[str, set[tuple[str, str]]]) -> set[str]:
    """Contacts and companies sharing a phone or e-mail with any record: one batch."""
    values = {
        kind: sorted({v for comms in wanted.values() for k, v in comms if k == kind})
        for kind in ("PHONE", "EMAIL")
    }
    calls: dict[str, tuple[str, dict[str, Any]]] = {}
    for comm, items in values.items():
        for n, part in enumerate(chunks(items, FIND_LIMIT)):
            for upper, _ in KINDS:
                # One entity type per call: with ≥ 20 hits of one type the others are dropped (§2.7).
                params = {"type": comm, "values": part, "entity_type": upper}
                calls[f"{comm}_{upper}_{n}"] = ("crm.duplicate.findbycomm", params)
    if not calls:
        return set()
    outcome = run_batch(transport, calls)
    found: set[str] = set()
    for key in calls:
        if key in outcome.errors:
            raise outcome.errors[key]
        result = outcome.results[key]
        for upper, kind in KINDS:
            ids = result.get(upper, []) if isinstance(result, dict) else []
            found.update(f"{kind}:{i}" for i in ids)
    return found


def _choose(
    raw: Mapping[str, Any], own: list[str], matching: list[str], known: Mapping[str, Mapping[str, Any]]
) -> ClientInfo | None:
    """Own contact, own company, then the most recently changed duplicate — if it predates the lead."""
    created = moment(raw.get("DATE_CREATE"))
    dups = sorted(
        (k for k in matching if k not in own),
        key=lambda k: str(known[k].get("DATE_MODIFY") or ""),
        reverse=True,
    )
    for key in [*own, *dups]:
        entity = known.get(key)
        owner = integer(entity.get("ASSIGNED_BY_ID")) if entity else None
        born = moment(entity.get("DATE_CREATE")) if entity else None
        if entity is None or owner is None:
            continue
        if created is not None and born is not None and born > created - SAME_TIME:
            continue
        return ClientInfo(key, owner, moment(entity.get("DATE_MODIFY")) or born)
    return None
