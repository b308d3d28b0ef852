"""The emulated account: users, pipelines, fields, leads, contacts, companies, tasks, notes, hooks.

One lock guards everything; time is emulated (`Clock.advance`) so token expiry and webhook retry
schedules can be tested without waiting. Shapes follow amocrm.md §2 (API v4, JSON).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sandbox.data import LOSS_REASONS

WON, LOST, UNSORTED = 142, 143, 1


class Clock:
    """Real time plus an offset tests move forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class User:
    id: int
    name: str
    email: str = ""
    is_active: bool = True
    is_free: bool = False
    is_admin: bool = False
    group_id: int | None = None


@dataclass
class FieldDef:
    id: int
    name: str
    type: str = "text"
    code: str | None = None
    enums: dict[int, str] = field(default_factory=dict)


@dataclass
class Lead:
    id: int
    name: str
    status_id: int
    pipeline_id: int
    responsible_user_id: int
    created_at: int
    updated_at: int
    price: int = 0
    created_by: int = 0
    updated_by: int = 0
    fields: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # field id → values
    tags: list[str] = field(default_factory=list)
    contacts: list[int] = field(default_factory=list)  # the first is the main contact
    company_id: int | None = None
    closed_at: int | None = None  # set when the lead enters won (142) or lost (143), §2.2
    loss_reason_id: int | None = None  # only on a lost lead (§4: "only for lost lead")


@dataclass
class LossReason:
    """One of the account's loss reasons (`GET /api/v4/leads/loss_reasons`)."""

    id: int
    name: str
    sort: int
    created_at: int


@dataclass
class Party:
    """A contact or a company."""

    id: int
    kind: str  # contacts | companies
    name: str
    responsible_user_id: int
    created_at: int
    fields: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    company_id: int | None = None
    updated_at: int = 0  # 0: never changed since created_at


@dataclass
class Webhook:
    id: int
    destination: str
    settings: list[str]
    sort: int
    created_at: int
    created_by: int
    disabled: bool = False
    invalid: list[float] = field(default_factory=list)  # times of invalid answers (auto-disable, §1.5)


@dataclass
class Account:
    """Everything the API serves, under one lock."""

    id: int = 29604535
    subdomain: str = "example"
    lock: threading.RLock = field(default_factory=threading.RLock)
    clock: Clock = field(default_factory=Clock)
    users: dict[int, User] = field(default_factory=dict)
    groups: dict[int, str] = field(default_factory=dict)
    pipelines: dict[int, tuple[str, dict[int, tuple[str, int]]]] = field(default_factory=dict)
    fields: dict[str, dict[int, FieldDef]] = field(default_factory=dict)  # entity → id → def
    leads: dict[int, Lead] = field(default_factory=dict)
    parties: dict[int, Party] = field(default_factory=dict)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    webhooks: dict[str, Webhook] = field(default_factory=dict)  # by destination
    loss_reasons: dict[int, LossReason] = field(default_factory=dict)
    next_id: dict[str, int] = field(default_factory=dict)

    def new_id(self, kind: str) -> int:
        start = {"lead": 30_000_001, "party": 50_000_001, "field": 700_001, "task": 4_700_001}
        start |= {"pipeline": 7_700_001, "stage": 61_000_001, "loss_reason": 8_400_001}
        value = self.next_id.get(kind, start.get(kind, 9_000_001))
        self.next_id[kind] = value + 1
        return value

    def now(self) -> int:
        return int(self.clock.now())

    def party_leads(self, party_id: int) -> list[int]:
        return [
            lead.id
            for lead in self.leads.values()
            if party_id in lead.contacts or lead.company_id == party_id
        ]

    def field_by_name(self, entity: str, name: str) -> FieldDef | None:
        return next((f for f in self.fields.get(entity, {}).values() if f.name == name), None)

    def field_by_code(self, entity: str, code: str) -> FieldDef | None:
        return next((f for f in self.fields.get(entity, {}).values() if f.code == code), None)

    def add_field(
        self,
        entity: str,
        name: str,
        type: str = "text",
        *,
        code: str | None = None,
        enums: list[str] | None = None,
        field_id: int | None = None,
    ) -> FieldDef:
        definition = FieldDef(field_id or self.new_id("field"), name, type, code)
        for value in enums or ():
            definition.enums[self.new_id("field")] = value
        self.fields.setdefault(entity, {})[definition.id] = definition
        return definition

    def add_loss_reason(self, name: str) -> LossReason:
        """A loss reason an admin adds (lead settings → «Причины отказа»), listed after the others."""
        reason = LossReason(self.new_id("loss_reason"), name, (len(self.loss_reasons) + 1) * 10, self.now())
        self.loss_reasons[reason.id] = reason
        return reason

    def loss_reason_by_name(self, name: str) -> LossReason | None:
        return next((r for r in self.loss_reasons.values() if r.name == name), None)

    def stage_exists(self, pipeline_id: int, status_id: int) -> bool:
        return pipeline_id in self.pipelines and status_id in self.pipelines[pipeline_id][1]


def seed(account: Account) -> Account:
    """The example company: an admin, managers, one free seat, one deactivated user, a pipeline."""
    account.groups = {0: "Отдел продаж", 77: "Аккаунт-менеджеры"}
    for user in (
        User(504100, "Руководитель", "head@example.ru", is_admin=True),
        User(504141, "Иванова Анна", "ivanova@example.ru", group_id=0),
        User(504142, "Петров Пётр", "petrov@example.ru", group_id=0),
        User(504143, "Сидоров Иван", "sidorov@example.ru", group_id=0),
        User(504144, "Козлова Мария", "kozlova@example.ru", group_id=77),
        User(504150, "Наблюдатель", "viewer@example.ru", is_free=True),
        User(504160, "Уволенный", "gone@example.ru", is_active=False),
    ):
        account.users[user.id] = user
    stages = {
        50288838: ("Неразобранное", UNSORTED),
        50288839: ("Первичный контакт", 0),
        50288840: ("Переговоры", 0),
        50288841: ("Договор подписан", 0),
        WON: ("Успешно реализовано", 0),
        LOST: ("Закрыто и не реализовано", 0),
    }
    account.pipelines[5723341] = ("Продажи", stages)
    account.add_field("leads", "Хантер")
    account.add_field("leads", "Форма собственности", "select", enums=["Госсектор", "Частный", "Компания"])
    account.add_field("leads", "Город")
    account.add_field("leads", "utm_source", "tracking_data", code="UTM_SOURCE")
    account.add_field("contacts", "Телефон", "multitext", code="PHONE")
    account.add_field("contacts", "Email", "multitext", code="EMAIL")
    account.add_field("companies", "ИНН")
    for reason in LOSS_REASONS:
        account.add_loss_reason(reason)
    return account
