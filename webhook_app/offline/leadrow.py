"""One record of a lead file turned into a core `Lead`.

Both formats first become the same *record*: a dict whose plain values are stripped non-empty
strings (JSON numbers kept for `price`, a JSON list kept for `tags`), with custom fields and UTM
tags gathered under `fields`, `field_ids` and `utm`. Empty cells and nulls are simply absent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, tzinfo
from types import MappingProxyType
from typing import Any

from core.conditions import UTM_FIELDS
from core.model import Lead, StickyOptions, UserId
from core.strategies.sticky import sticky_key
from webhook_app.offline.rowproblem import RowProblem

PLAIN_KEYS = (
    "id",
    "created_at",
    "name",
    "price",
    "tags",
    "client",
    "owner",
    "pipeline",
    "stage",
    "source",
    "city",
    "region",
    "phone",
    "email",
    "company",
    "inn",
    "event",  # `created` (default), `stage`, `owner` or `until`, see leadevents.py
    "at",  # when an event row's change happened
    "closed",  # a `stage` row's `won` / `lost`
    "loss_reason",  # a `stage` row's reason a lost deal was lost
)
UTM_KEYS = UTM_FIELDS
GROUPS = ("fields", "field_ids", "utm")  # nested objects, JSON lines only
# Russian Excel writes dates as 02.12.2026 14:30; accepting them saves a round of reformatting.
_LOCAL_FORMATS = ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y")
_COMPANY = StickyOptions(key="company")
_SPACES = str.maketrans("", "", " \u00a0\u202f\t")
_NON_DIGITS = re.compile(r"\D+")
NOTHING: Mapping[str, Any] = MappingProxyType({})  # shared by every lead without custom fields or UTM
Record = dict[str, Any]  # values: str, or the JSON list / number / object named above


def is_known(key: str) -> bool:
    """True for a column the reader understands (built-in, utm_*, field:NAME, field_id:ID)."""
    return key in PLAIN_KEYS or key in UTM_KEYS or key in GROUPS or key.startswith(("field:", "field_id:"))


def parse_time(value: object, tz: tzinfo) -> datetime:
    """ISO 8601 (or DD.MM.YYYY HH:MM); a time without an offset is in `tz`."""
    text = "" if value is None else str(value).strip()
    if not text:
        raise RowProblem("created_at_required")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = _local_time(text)
    if moment.tzinfo is not None:
        return moment
    # `moment.replace(tzinfo=tz)`, at a quarter of its cost: it runs twice per row of a lead file.
    return datetime.combine(moment, moment.time(), tz)


def _local_time(text: str) -> datetime:
    for pattern in _LOCAL_FORMATS:
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    raise RowProblem("created_at_bad", value=text)


def parse_price(value: object) -> float:
    """A number; spaces as thousand separators and a decimal comma are fine (1 500 000,50)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    try:
        return float(str(value).translate(_SPACES).replace(",", "."))
    except ValueError:
        raise RowProblem("price_bad", value=value) from None


def parse_tags(value: object) -> tuple[str, ...]:
    """A JSON list, or text separated by `;` or `,`."""
    items = value if isinstance(value, list | tuple) else str(value).replace(";", ",").split(",")
    return tuple(text for text in (str(item).strip() for item in items) if text)


def client_key(phone: str | None, email: str | None, company: str | None) -> str | None:
    """The default client key: the phone's digits (8… as 7…), else the e-mail, else the company name."""
    digits = _NON_DIGITS.sub("", phone) if phone else ""
    if digits:
        # the same trunk-prefix rule as core.conditions.normalize_phone, without its per-char loop
        return f"phone:7{digits[1:]}" if digits[0] == "8" and len(digits) == 11 else f"phone:{digits}"
    if email:
        return f"email:{email.casefold()}"
    name = sticky_key(_COMPANY, company) if company else ""
    return f"company:{name}" if name else None


def json_record(obj: Mapping[str, Any]) -> Record:
    """A JSON object as a record: `field:NAME` / `utm_*` keys gathered, scalars as stripped text."""
    record: Record = {}
    groups: dict[str, dict[str, Any]] = {"fields": {}, "field_ids": {}, "utm": {}}
    for key, value in obj.items():
        if value is None or value == "" or value == []:
            continue
        if key in GROUPS:
            groups[key].update(_object(key, value))
        elif key.startswith("field:"):
            groups["fields"][key[6:]] = value
        elif key.startswith("field_id:"):
            groups["field_ids"][key[9:]] = value
        elif key.startswith("utm_"):
            groups["utm"][key] = str(value).strip()
        elif key in ("price", "tags") and not isinstance(value, str):
            record[key] = value
        elif text := str(value).strip():
            record[key] = text
    utm = groups["utm"]
    groups["utm"] = {k if k.startswith("utm_") else f"utm_{k}": str(v) for k, v in utm.items() if v}
    record.update((name, group) for name, group in groups.items() if group)
    return record


def _object(key: str, value: object) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise RowProblem("object_bad", key=key, value=value)
    return {str(k): v for k, v in value.items() if v is not None and v != ""}


class RowParser:
    """Builds leads from records; raises ValueError with a readable message for a bad value."""

    def __init__(self, tz: tzinfo, owners: Mapping[str, UserId]) -> None:
        self.tz = tz
        self.owners = owners  # manager key → CRM user id, so `owner` may name either

    def owner(self, value: object) -> UserId:
        """A manager key from the config or a numeric CRM user id."""
        text = str(value).strip()
        if text.isdigit():
            return int(text)
        if text in self.owners:
            return self.owners[text]
        raise RowProblem("owner_bad", value=text)

    def lead(self, record: Record, number: int) -> Lead:
        """The lead in one record; `number` (the row number) is its id when the record has none."""
        get = record.get
        created, price, tags, owner = get("created_at"), get("price"), get("tags"), get("owner")
        if created is None:
            raise RowProblem("created_at_required")
        phone, email, company = get("phone"), get("email"), get("company")
        return Lead(
            id=get("id") or str(number),
            created_at=parse_time(created, self.tz),
            name=get("name", ""),
            price=None if price is None else parse_price(price),
            pipeline=get("pipeline"),
            stage=get("stage"),
            source=get("source"),
            utm=get("utm", NOTHING),
            tags=() if tags is None else parse_tags(tags),
            city=get("city"),
            region=get("region"),
            phone=phone,
            email=email,
            company=company,
            inn=get("inn"),
            fields=get("fields", NOTHING),
            field_ids=get("field_ids", NOTHING),
            client_key=get("client") or client_key(phone, email, company),
            client_owner=None if owner is None else self.owner(owner),
        )


class Columns:
    """Where each CSV column goes in a record, worked out once from the header."""

    def __init__(self, raw_header: list[str]) -> None:
        header = self.names = [column_name(name) for name in raw_header]
        self.width = len(header)
        self.created_at = header.index("created_at") if "created_at" in header else -1
        self.event = header.index("event") if "event" in header else -1
        self.at = header.index("at") if "at" in header else -1
        self.plain: list[tuple[int, str]] = []
        nested: dict[str, list[tuple[int, str]]] = {"fields": [], "field_ids": [], "utm": []}
        self.unknown: list[str] = []
        for index, name in enumerate(header):
            if name.startswith("field:"):
                nested["fields"].append((index, name[6:]))
            elif name.startswith("field_id:"):
                nested["field_ids"].append((index, name[9:]))
            elif name.startswith("utm_") and is_known(name):
                nested["utm"].append((index, name))
            elif name in PLAIN_KEYS:
                self.plain.append((index, name))
            else:
                self.unknown.append(name)
        self.nested = [(group, columns) for group, columns in nested.items() if columns]

    def record(self, cells: list[str]) -> Record:
        """One row as a record: stripped non-empty cells only."""
        record: Record = {key: value for index, key in self.plain if (value := cells[index].strip())}
        for group, columns in self.nested:
            values = {key: value for index, key in columns if (value := cells[index].strip())}
            if values:
                record[group] = values
        return record


def column_name(name: str) -> str:
    """Header names are case-insensitive, except the NAME of field:NAME (custom fields match exactly)."""
    name = name.strip()
    prefix, colon, rest = name.partition(":")
    if colon and prefix.strip().lower() in ("field", "field_id"):
        return f"{prefix.strip().lower()}:{rest.strip()}"
    return name.lower()
