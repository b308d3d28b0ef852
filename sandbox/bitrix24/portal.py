"""The state of an emulated Bitrix24 portal: CRM records, users, stages, tokens, the leaky bucket.

Values are kept the way REST returns them (bitrix24.md §2.1): ids and numbers as strings, dates
as ISO 8601 with the portal's offset, multifields as lists of {ID, VALUE_TYPE, VALUE, TYPE_ID}.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

MSK = timezone(timedelta(hours=3))
PAGE = 50
MULTI = ("PHONE", "EMAIL", "WEB", "IM")
ENTITY_TYPE = {1: "lead", 2: "deal", 3: "contact", 4: "company"}


class ApiError(Exception):
    """An error answer: HTTP status, `error` code (may be ""), `error_description`."""

    def __init__(self, status: int, code: str, description: str = "") -> None:
        super().__init__(f"{status} {code} {description}")
        self.status, self.code, self.description = status, code, description


def not_found() -> ApiError:
    """The legacy CRM "Not found" (§2.2): HTTP 400 with an EMPTY error code."""
    return ApiError(400, "", "Not found")


class Clock:
    """Real time plus an offset tests move forward (token expiry, operating limits)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        """Jump ahead."""
        self.offset += seconds

    def iso(self, at: float | None = None) -> str:
        """ISO 8601 with the portal's offset, as Bitrix24 writes dates."""
        return datetime.fromtimestamp(self() if at is None else at, MSK).isoformat(timespec="seconds")


@dataclass
class Bucket:
    """The leaky bucket (§5.1): +1 per request as it arrives, drains `rate`/s, over `capacity` → 503.

    Counted on arrival at the portal, so requests sent evenly can still land bunched (the
    emulator's `jitter`); a request refused is not counted.
    """

    rate: float = 2.0
    capacity: int = 50
    level: float = 0.0
    at: float = field(default_factory=time.time)

    def admit(self, now: float) -> bool:
        """Count one request arriving at `now`; False (and not counted) when the bucket is full."""
        # Arrivals handled out of order by a few microseconds must not refill the bucket.
        now = max(now, self.at)
        self.level = max(0.0, self.level - (now - self.at) * self.rate)
        self.at = now
        if self.level + 1 > self.capacity + 1e-9:
            return False
        self.level += 1
        return True


@dataclass
class Handler:
    """An event subscription: an app's `event.bind`, or an outgoing webhook made in the UI."""

    id: int
    event: str
    url: str
    kind: str  # "app" | "webhook"
    token: str  # the application_token this subscription's events carry


def stage_rows() -> list[dict[str, Any]]:
    """Default lead statuses, the General deal funnel and a second funnel, plus sources (§2.2–2.3)."""
    rows = []
    lead = [
        ("NEW", "Не обработан", None),
        ("IN_PROCESS", "В работе", None),
        ("CONVERTED", "Качественный", "S"),
    ]
    lead.append(("JUNK", "Некачественный", "F"))
    for n, (sid, name, sem) in enumerate(lead):
        rows.append(status_row("STATUS", sid, name, (n + 1) * 10, sem, None))
    deal = [("NEW", "Новая", None), ("PREPARATION", "Подготовка", None), ("WON", "Сделка успешна", "S")]
    deal.append(("LOSE", "Сделка провалена", "F"))
    for n, (sid, name, sem) in enumerate(deal):
        rows.append(status_row("DEAL_STAGE", sid, name, (n + 1) * 10, sem, "0"))
        rows.append(status_row("DEAL_STAGE_1", f"C1:{sid}", name, (n + 1) * 10, sem, "1"))
    for n, (sid, name) in enumerate([("WEB", "Веб-сайт"), ("CALL", "Звонок"), ("WEBFORM", "CRM-форма")]):
        rows.append(status_row("SOURCE", sid, name, (n + 1) * 10, None, None))
    return rows


def status_row(
    entity: str, sid: str, name: str, sort: int, sem: str | None, cat: str | None
) -> dict[str, Any]:
    extra = {"SEMANTICS": {"S": "success", "F": "failure"}.get(sem or "", "process")}
    row: dict[str, Any] = {
        "ID": "0",
        "ENTITY_ID": entity,
        "STATUS_ID": sid,
        "NAME": name,
        "NAME_INIT": name,
        "SORT": str(sort),
    }
    row |= {"SYSTEM": "Y", "SEMANTICS": sem, "EXTRA": extra}
    return row | ({"CATEGORY_ID": cat} if cat is not None else {})


@dataclass
class Portal:
    """Everything one portal holds; guard with `lock`."""

    domain: str = "b24.example.ru"
    member_id: str = "a223c6b3710f85df22e9377d6c4f7553"
    clock: Clock = field(default_factory=Clock)
    bucket: Bucket = field(default_factory=Bucket)
    records: dict[str, dict[int, dict[str, Any]]] = field(
        default_factory=lambda: {k: {} for k in ("lead", "deal", "contact", "company")}
    )
    ids: dict[str, int] = field(default_factory=dict)
    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    departments: dict[int, dict[str, Any]] = field(default_factory=dict)
    statuses: list[dict[str, Any]] = field(default_factory=stage_rows)
    categories: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {"id": 1, "name": "Повторные продажи", "sort": 200, "entityTypeId": 2, "isDefault": "N"},
            {"id": 0, "name": "Общая", "sort": 300, "entityTypeId": 2, "isDefault": "Y"},
        ]
    )
    fields: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: {"lead": {}, "deal": {}})
    bindings: dict[tuple[str, int], list[int]] = field(default_factory=dict)  # a lead's/deal's contacts
    activities: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    handlers: list[Handler] = field(default_factory=list)
    webhooks: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (user, secret) → scopes
    access: dict[str, float] = field(default_factory=dict)  # token → expires at
    refresh: set[str] = field(default_factory=set)
    oauth_client: tuple[str, str] = ("local.app.1", "app-secret-1")
    app_token: str = "app-token-1"
    robot: bool = False  # changes made now are "by a robot": events carry no tokens (§1.2)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def next_id(self, kind: str) -> int:
        """A new id for a record, task, activity or handler."""
        self.ids[kind] = self.ids.get(kind, 0) + 1
        return self.ids[kind]

    def create(self, entity: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Store a new lead/deal/contact/company in REST form; returns it."""
        now = self.clock.iso()
        number = self.next_id(entity)
        record = {"ID": str(number), "DATE_CREATE": now, "DATE_MODIFY": now, "ASSIGNED_BY_ID": "1"}
        record |= {"CREATED_BY_ID": "1", "OPENED": "Y"}
        if entity == "lead":
            record |= {
                "STATUS_ID": "NEW",
                "STATUS_SEMANTIC_ID": "P",
                "SOURCE_ID": "WEB",
                "OPPORTUNITY": "0.00",
            }
        if entity == "deal":
            record |= {"CATEGORY_ID": "0", "STAGE_ID": "NEW", "STAGE_SEMANTIC_ID": "P", "OPPORTUNITY": "0.00"}
            record["CLOSED"] = "N"
        self.records[entity][number] = record
        self.apply(entity, record, fields)
        record["DATE_MODIFY"] = now
        return record

    def apply(self, entity: str, record: dict[str, Any], fields: dict[str, Any]) -> None:
        """Set fields the way `crm.*.add/update` do: strings, multifields as lists; unknown ignored."""
        for key, value in fields.items():
            if key in ("ID", "DATE_CREATE", "DATE_MODIFY", "IS_RETURN_CUSTOMER"):
                continue
            if key == "CONTACT_IDS" and entity in ("lead", "deal"):
                self._bind(entity, record, [int(v) for v in as_list(value) if str(v).isdigit()])
                continue
            if key in MULTI:
                record[key] = [self._multi(key, v) for v in as_list(value)]
            elif isinstance(value, list | dict):
                record[key] = [str(v) for v in as_list(value)]
            else:
                record[key] = "" if value is None else str(value)
        if entity in ("lead", "deal") and "CONTACT_ID" in fields and "CONTACT_IDS" not in fields:
            contact = int(record["CONTACT_ID"]) if str(record.get("CONTACT_ID")).isdigit() else None
            others = [c for c in self.bindings.get((entity, int(record["ID"])), []) if c != contact]
            self._bind(entity, record, ([contact] if contact else []) + others)
        if record.get("CONTACT_ID") or record.get("COMPANY_ID"):
            record["IS_RETURN_CUSTOMER"] = "Y"  # §2.2: set by linking a contact or company
        if entity in ("lead", "deal"):
            self._semantics(entity, record)
        record["DATE_MODIFY"] = self.clock.iso()

    def _bind(self, entity: str, record: dict[str, Any], contacts: list[int]) -> None:
        """A lead's or deal's contacts (CONTACT_IDS on add/update); the first is the primary one,
        the only one `crm.<entity>.get` names (CONTACT_ID)."""
        self.bindings[(entity, int(record["ID"]))] = contacts
        record["CONTACT_ID"] = str(contacts[0]) if contacts else None

    def _semantics(self, entity: str, record: dict[str, Any]) -> None:
        """The record's STATUS_SEMANTIC_ID / STAGE_SEMANTIC_ID follow its stage's SEMANTICS in the
        status list (§2.3: S success, F failure, P in progress); a deal in an S or F stage is CLOSED."""
        stage = str(record.get("STATUS_ID" if entity == "lead" else "STAGE_ID") or "")
        row = next((s for s in self.statuses if s["STATUS_ID"] == stage and _of(entity, s)), None)
        semantic = (row or {}).get("SEMANTICS") or "P"
        record["STATUS_SEMANTIC_ID" if entity == "lead" else "STAGE_SEMANTIC_ID"] = semantic
        if entity == "deal":
            record["CLOSED"] = "Y" if semantic in ("S", "F") else "N"

    def _multi(self, key: str, value: Any) -> dict[str, Any]:
        item = value if isinstance(value, dict) else {"VALUE": value}
        return {
            "ID": str(self.next_id("multifield")),
            "VALUE_TYPE": str(item.get("VALUE_TYPE") or "WORK"),
            "VALUE": str(item.get("VALUE") or ""),
            "TYPE_ID": key,
        }


def _of(entity: str, status: dict[str, Any]) -> bool:
    """Whether a status-list row is a lead status (STATUS) or a deal stage (DEAL_STAGE[_n])."""
    kind = str(status.get("ENTITY_ID") or "")
    return kind == "STATUS" if entity == "lead" else kind == "DEAL_STAGE" or kind.startswith("DEAL_STAGE_")


def as_list(value: Any) -> list[Any]:
    """A JSON list, or a PHP array parsed from a query string ({"0": …, "1": …}), as a list."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict) and value and all(str(k).isdigit() for k in value):
        return [value[k] for k in sorted(value, key=int)]
    return [] if value in (None, "") else [value]
