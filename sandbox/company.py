"""The sandbox's emulated amoCRM account: the example company's pipelines and fields, an admin, and
whatever users, pipelines, stages and fields the config names (so `check-config --online` passes).
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.amocrm.state import LOST, UNSORTED, WON, Account, User
from sandbox.data import LOSS_REASONS
from sandbox.leads import (
    CHAINS_PIPELINE,
    DIAGNOSIS,
    MAIN_PIPELINE,
    QUALIFIED,
    SERVICE_PIPELINE,
    SIGNED,
    WORKING,
)

FIRST_STAGE = "Первичный контакт"
PIPELINES = {
    MAIN_PIPELINE: (FIRST_STAGE, QUALIFIED, WORKING, SIGNED),
    CHAINS_PIPELINE: (FIRST_STAGE, WORKING, SIGNED),
    SERVICE_PIPELINE: ("Заявка принята", DIAGNOSIS, "Ремонт"),
}
OWNERSHIP = "Форма собственности"
OWNERSHIP_CHOICES = ("Компания", "Госсектор", "Частное лицо")
KEY_CLIENT = (982451, "Ключевой клиент")  # the checkbox the example config tests by id
LEAD_FIELDS = ("Регион", "Город", "Источник", "Хантер")
UTM = ("utm_source", "utm_medium", "utm_campaign")


@dataclass(frozen=True)
class Person:
    """A CRM user the config names as a manager."""

    user_id: int
    name: str
    active: bool = True
    department: str = ""


@dataclass(frozen=True)
class Layout:
    """What the config needs the account to hold, besides the example company's own things."""

    account_id: int = 29841576
    subdomain: str = "example"
    people: tuple[Person, ...] = ()
    stages: tuple[tuple[str | None, str], ...] = ()  # (pipeline or None for the main one, stage)
    pipelines: tuple[str, ...] = ()
    fields: tuple[tuple[str, tuple[str, ...]], ...] = ()  # lead field name, choices of a list field
    field_ids: tuple[str, ...] = ()
    id_values: tuple[tuple[str, tuple[str, ...]], ...] = ()  # a field id and the values conditions expect
    loss_reasons: tuple[str, ...] = ()  # `junk: {loss_reason: …}` names, besides the usual reasons


def loss_reasons(layout: Layout) -> list[str]:
    """The account's loss reasons: the usual ones, then those the config names that they lack."""
    usual = list(LOSS_REASONS)
    return usual + [r for r in layout.loss_reasons if r.casefold() not in {u.casefold() for u in usual}]


def build_account(layout: Layout) -> tuple[Account, int]:
    """The seeded account and the id of its admin (who also receives every new lead, as a web form's
    default responsible would)."""
    account = Account(id=layout.account_id, subdomain=layout.subdomain)
    taken = {p.user_id for p in layout.people}
    admin = max(taken, default=1) + 1
    account.users[admin] = User(admin, "Администратор", "admin@example.ru", is_admin=True)
    groups: dict[str, int] = {}
    for person in layout.people:
        group = groups.setdefault(person.department, len(groups) + 1) if person.department else None
        email = f"user{person.user_id}@example.ru"
        account.users[person.user_id] = User(
            person.user_id, person.name, email, is_active=person.active, group_id=group
        )
    account.groups = {number: name for name, number in groups.items()}
    for name, stages in PIPELINES.items():
        _add_pipeline(account, name, stages)
    for name in layout.pipelines:
        _pipeline(account, name)
    for pipeline, stage in layout.stages:
        _stage(account, _pipeline(account, pipeline or MAIN_PIPELINE), stage)
    _fields(account, layout)
    for reason in loss_reasons(layout):
        account.add_loss_reason(reason)
    return account, admin


def stage_id(account: Account, pipeline_id: int, name: str) -> int | None:
    """A stage of the pipeline by name, without case."""
    stages = account.pipelines[pipeline_id][1]
    return next((sid for sid, (sname, _) in stages.items() if sname.casefold() == name.casefold()), None)


def pipeline_id(account: Account, name: str) -> int | None:
    """A pipeline by name, without case."""
    return next(
        (pid for pid, (pname, _) in account.pipelines.items() if pname.casefold() == name.casefold()), None
    )


def _add_pipeline(account: Account, name: str, stages: tuple[str, ...]) -> int:
    # Every amoCRM pipeline has «Неразобранное» first and won (142) and lost (143) last (§2.8).
    listed = {account.new_id("stage"): ("Неразобранное", UNSORTED)}
    listed |= {account.new_id("stage"): (stage, 0) for stage in stages}
    listed |= {WON: ("Успешно реализовано", 0), LOST: ("Закрыто и не реализовано", 0)}
    number = account.new_id("pipeline")
    account.pipelines[number] = (name, listed)
    return number


def _pipeline(account: Account, name: str) -> int:
    return pipeline_id(account, name) or _add_pipeline(account, name, (FIRST_STAGE,))


def _stage(account: Account, pipeline: int, name: str) -> None:
    """Add a stage the config names before the closing ones, unless the pipeline has it."""
    if stage_id(account, pipeline, name) is not None:
        return
    stages = account.pipelines[pipeline][1]
    closing = {sid: stages.pop(sid) for sid in (WON, LOST)}
    stages[account.new_id("stage")] = (name, 0)
    stages |= closing


def _fields(account: Account, layout: Layout) -> None:
    for name in LEAD_FIELDS:
        account.add_field("leads", name)
    account.add_field("leads", OWNERSHIP, "select", enums=list(OWNERSHIP_CHOICES))
    account.add_field("leads", KEY_CLIENT[1], "checkbox", field_id=KEY_CLIENT[0])
    for name in UTM:
        account.add_field("leads", name, "tracking_data", code=name.upper())
    account.add_field("contacts", "Телефон", "multitext", code="PHONE")
    account.add_field("contacts", "Email", "multitext", code="EMAIL")
    account.add_field("companies", "ИНН")
    for name, choices in layout.fields:
        found = account.field_by_name("leads", name)
        if found is None:
            account.add_field("leads", name, "select" if choices else "text", enums=list(choices))
        elif found.enums:
            for choice in choices:
                if choice.casefold() not in {v.casefold() for v in found.enums.values()}:
                    found.enums[account.new_id("field")] = choice
    for number in layout.field_ids:
        if number.isdigit() and int(number) not in account.fields["leads"]:
            account.add_field("leads", f"Поле {number}", field_id=int(number))
