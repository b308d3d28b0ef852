"""A Bitrix24 lead or deal (`crm.lead.get` / `crm.deal.get`, bitrix24.md §2.2–2.3) as a core Lead.

Our lead ids carry the entity: "lead:ID" / "deal:ID" (the webhook blueprint stores them so).
Bitrix24 sends numbers as strings and empty values as "" or [] (§2.1): all of them become None.
A record is won or lost by its stage's semantics (§2.2–2.3): the record's own STATUS_SEMANTIC_ID
(leads) / STAGE_SEMANTIC_ID (deals), else the SEMANTICS of its stage in the status list — `S`
success → won, `F` failure → lost, `P` (in progress) or none → open.

Bitrix24 has no loss reason of its own (§2.3): a lost record's reason is the custom field portals
name «Причина отказа» (or «Причина проигрыша» …, adapters/aliases.py), read by its label like
«Регион». Portals that keep a failure stage per reason («Дубль», «Спам») need no field: the stage's
name is what `junk: {stage: …}` matches.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from adapters.aliases import by_alias
from adapters.bitrix24.catalog import FieldMeta, Stage
from core.model import Lead

ENTITIES = ("lead", "deal")
OWNER_TYPE = {"lead": 1, "deal": 2, "contact": 3, "company": 4}  # entityTypeId / ownerTypeId (§2.1)
UTM = ("UTM_SOURCE", "UTM_MEDIUM", "UTM_CAMPAIGN", "UTM_CONTENT", "UTM_TERM")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # created_at of a record without dates: not the wall clock
CLOSED = {"S": "won", "F": "lost"}  # stage semantics (§2.3): S success, F failure, P in progress


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """The contact or company behind a lead, when it has a responsible of its own."""

    key: str  # "contact:ID" / "company:ID"
    owner: int
    last_seen: datetime | None


@dataclass(frozen=True, slots=True)
class Extras:
    """What a lead's own record lacks and its contact/company supply (deals have no PHONE/EMAIL)."""

    phone: str | None = None
    email: str | None = None
    company: str | None = None


def split_id(lead_id: str) -> tuple[str, str]:
    """ "lead:12" → ("lead", "12"); ValueError for anything else."""
    entity, _, number = lead_id.partition(":")
    if entity not in ENTITIES or not number.isascii() or not number.isdigit():
        raise ValueError(f"not a Bitrix24 lead id: {lead_id[:40]!r} (expected lead:ID or deal:ID)")
    return entity, number


def text(value: Any) -> str | None:
    """A non-empty string, else None."""
    if value is None or isinstance(value, list | dict):
        return None
    result = str(value).strip()
    return result or None


def integer(value: Any) -> int | None:
    """An int from "12" or 12; None for "", "0"-less garbage."""
    raw = text(value)
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def moment(value: Any) -> datetime | None:
    """An aware datetime from Bitrix24's ISO 8601 with offset ("2024-05-28T16:34:29+02:00")."""
    raw = text(value)
    if raw is None:
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def first_value(multifield: Any) -> str | None:
    """The first VALUE of a PHONE / EMAIL multifield list (§2.2)."""
    if isinstance(multifield, list):
        for item in multifield:
            if isinstance(item, dict) and text(item.get("VALUE")):
                return text(item.get("VALUE"))
    return None


def to_lead(
    entity: str,
    raw: Mapping[str, Any],
    *,
    stage: Stage | None,
    fields: Mapping[str, FieldMeta],
    client: ClientInfo | None = None,
    extras: Extras = Extras(),
) -> Lead:
    """Map one record; `stage` resolved from STATUS_ID (lead) / STAGE_ID (deal) by the catalog."""
    stage_id = text(raw.get("STATUS_ID" if entity == "lead" else "STAGE_ID"))
    price = text(raw.get("OPPORTUNITY"))
    by_name, by_id = custom_fields(raw, fields)
    closed = closed_as(entity, raw, stage)
    return Lead(
        id=f"{entity}:{raw.get('ID')}",
        created_at=moment(raw.get("DATE_CREATE")) or moment(raw.get("DATE_MODIFY")) or EPOCH,
        name=text(raw.get("TITLE")) or "",
        price=float(price) if price is not None else None,
        pipeline=stage.pipeline if stage else None,
        stage=stage.name if stage else None,
        pipeline_id=text(raw.get("CATEGORY_ID")) if entity == "deal" else None,
        stage_id=stage_id,
        source=text(raw.get("SOURCE_ID")),
        utm={key.lower(): value for key in UTM if (value := text(raw.get(key))) is not None},
        city=text(raw.get("ADDRESS_CITY")) or by_alias("city", by_name),
        region=text(raw.get("ADDRESS_REGION")) or by_alias("region", by_name),  # deals have no address
        inn=by_alias("inn", by_name),
        phone=first_value(raw.get("PHONE")) or extras.phone,
        email=first_value(raw.get("EMAIL")) or extras.email,
        company=text(raw.get("COMPANY_TITLE")) or extras.company,
        fields=by_name,
        field_ids=by_id,
        responsible_user_id=integer(raw.get("ASSIGNED_BY_ID")),
        client_key=client.key if client else None,
        client_owner=client.owner if client else None,
        client_last_seen=client.last_seen if client else None,
        closed=closed,
        loss_reason=by_alias("loss_reason", by_name) if closed == "lost" else None,
    )


def closed_as(entity: str, raw: Mapping[str, Any], stage: Stage | None) -> str | None:
    """ "won" / "lost" by the record's semantic id, else by its stage's semantics; None while open."""
    semantic = text(raw.get("STATUS_SEMANTIC_ID" if entity == "lead" else "STAGE_SEMANTIC_ID"))
    if semantic is None and stage is not None:
        semantic = stage.semantics
    return CLOSED.get((semantic or "").upper())


def custom_fields(
    raw: Mapping[str, Any], fields: Mapping[str, FieldMeta]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """UF_ values by label and by id; list items shown as their text, empty values left out."""
    by_name: dict[str, Any] = {}
    by_id: dict[str, Any] = {}
    for fid, value in raw.items():
        if not fid.startswith("UF_") or value in (None, "", [], False):
            continue
        meta = fields.get(fid)
        shown = _display(value, meta)
        if shown in (None, [], ""):
            continue
        by_id[fid] = shown
        if meta is not None:
            by_name[meta.label] = shown
    return by_name, by_id


def _display(value: Any, meta: FieldMeta | None) -> Any:
    if isinstance(value, list):
        return [v for v in (_display(item, meta) for item in value) if v not in (None, "")]
    if isinstance(value, dict):
        return None  # files, money objects: nothing a rule can compare
    shown = str(value)
    return meta.items.get(shown, shown) if meta is not None and meta.items else shown
