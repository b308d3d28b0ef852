"""amoCRM v4 JSON ↔ core terms, pure: a lead (with what we know of its client) becomes a core Lead.

A lead in status 142 is won and in 143 lost: the same ids in every pipeline (§2.8).

Custom fields are exposed by name (`fields`) and by id (`field_ids`): one value as itself, several
as a tuple (§2.9). UTM marks are the tracking fields coded `UTM_*` (§2.9 [S]); amoCRM has no city,
region or INN of its own, so those are read from custom fields with the usual names, on the lead
first, then on its company. A lost lead's loss reason is amoCRM's own (`_embedded.loss_reason` with
`with=loss_reason`, or its `loss_reason_id` named by the catalog), else a field named so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from adapters.aliases import by_alias
from adapters.amocrm.schemas import CustomFieldValue, LeadOut
from core.model import Lead

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
WON, LOST = 142, 143  # the same ids in every pipeline (§2.8)
CLOSED = {WON: "won", LOST: "lost"}


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """What the lead's main contact and company tell us, and the client's history with us."""

    phone: str | None = None
    email: str | None = None
    company: str | None = None
    company_fields: Mapping[str, object] | None = None
    client_key: str | None = None
    client_owner: int | None = None
    client_last_seen: datetime | None = None


def moment(unix: int | float | None) -> datetime | None:
    """A unix timestamp as an aware UTC datetime (None for none or zero)."""
    return datetime.fromtimestamp(unix, UTC) if unix else None


def field_value(field: CustomFieldValue) -> object:
    """One value as itself, several as a tuple, none as None."""
    values = [v.value for v in field.values if v.value is not None and v.value != ""]
    if not values:
        return None
    return values[0] if len(values) == 1 else tuple(values)


def fields_by_name(custom: Iterable[CustomFieldValue] | None) -> dict[str, object]:
    """Custom field values by field name (the first field wins when two share a name)."""
    result: dict[str, object] = {}
    for field in custom or ():
        value = field_value(field)
        if field.field_name and value is not None:
            result.setdefault(field.field_name, value)
    return result


def coded(custom: Iterable[CustomFieldValue] | None, code: str) -> str | None:
    """The first value of the field with this code (PHONE, EMAIL, UTM_SOURCE …)."""
    for field in custom or ():
        if (field.field_code or "").upper() == code:
            value = field_value(field)
            first = value[0] if isinstance(value, tuple) else value
            if first is not None:
                return str(first)
    return None


def to_lead(
    raw: LeadOut,
    *,
    pipeline: str | None,
    stage: str | None,
    client: ClientInfo,
    loss_reason: str | None = None,
) -> Lead:
    """The core Lead for an API lead, its pipeline and stage names, its client and, for a lead
    without an embedded reason, the name of its `loss_reason_id`."""
    custom = raw.custom_fields_values
    fields = fields_by_name(custom)
    field_ids = {str(f.field_id): v for f in custom or () if (v := field_value(f)) is not None}
    utm = {
        name: value
        for name in ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
        if (value := coded(custom, name.upper())) is not None
    }
    source = raw.embedded.source.name if raw.embedded.source and raw.embedded.source.name else None
    return Lead(
        id=str(raw.id),
        created_at=moment(raw.created_at) or moment(raw.updated_at) or EPOCH,
        name=raw.name or "",
        price=raw.price,
        pipeline=pipeline,
        stage=stage,
        pipeline_id=str(raw.pipeline_id) if raw.pipeline_id is not None else None,
        stage_id=str(raw.status_id) if raw.status_id is not None else None,
        source=source or by_alias("source", fields) or utm.get("utm_source"),
        utm=utm,
        tags=tuple(t.name for t in raw.embedded.tags if t.name),
        city=by_alias("city", fields, client.company_fields),
        region=by_alias("region", fields, client.company_fields),
        phone=client.phone,
        email=client.email,
        company=client.company,
        inn=by_alias("inn", fields, client.company_fields),
        fields=fields,
        field_ids=field_ids,
        responsible_user_id=raw.responsible_user_id,
        client_key=client.client_key,
        client_owner=client.client_owner,
        client_last_seen=client.client_last_seen,
        closed=closed_as(raw.status_id),
        loss_reason=reason_of(raw, fields, loss_reason) if raw.status_id == LOST else None,
    )


def reason_of(raw: LeadOut, fields: Mapping[str, object], named: str | None) -> str | None:
    """Why a lost lead was lost: its embedded reason, the name of its reason id, else a field."""
    embedded = next((r.name for r in raw.embedded.loss_reason if r.name), None)
    return embedded or named or by_alias("loss_reason", fields)


def closed_as(status_id: int | None) -> str | None:
    """ "won" for status 142, "lost" for 143, None for every other stage (§2.8)."""
    return CLOSED.get(status_id) if status_id is not None else None
