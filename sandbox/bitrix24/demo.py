"""The sandbox's Bitrix24 portal, and the lead stream played into it.

`seed_portal` gives an emulated portal what a config names (users, deal funnels and stages, UF
fields), like `sandbox.company.build_account` does for amoCRM, plus the example company's funnels;
`Bitrix24Player` plays `sandbox.leads.LeadStream` into it as people and a web form would: a deal
created with the form's user as responsible (a new contact, maybe a company), moved through the
stages by its owner once the service has routed it, won or lost; repeat clients come back as the
same contact or as a new contact with the same phone. Every change goes through the emulator's own
REST methods, so the portal POSTs its outbound events (ONCRMDEALADD, ONCRMDEALUPDATE) to whoever
bound them — leadrouter, after `leadrouter install`.

A real deal has no address: as companies do, the portal keeps the client's region, city and INN in
deal fields labelled «Регион», «Город» and «ИНН» (UF_CRM_…), which is where the Bitrix24 adapter
reads them from (adapters/aliases.py); the contact carries its own address too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.bitrix24.emulator import Bitrix24Emulator
from sandbox.bitrix24.portal import status_row
from sandbox.company import OWNERSHIP, OWNERSHIP_CHOICES, Layout, loss_reasons
from sandbox.leads import (
    CHAINS_PIPELINE,
    DIAGNOSIS,
    LOST,
    MAIN_PIPELINE,
    QUALIFIED,
    SERVICE_PIPELINE,
    SIGNED,
    WON,
    WORKING,
    LeadStream,
    Move,
    NewLead,
)
from sandbox.player import Say, StreamPlayer, WaitingMove

GENERAL = "Общая"  # the portal's default deal funnel (category 0)
SERVICE = "Гарантия и сервис"
# The stream's stages as the example Bitrix24 company names them (examples/bitrix24.yaml: the
# call centre's «qualified» handoff fires on «Подготовка документов»); won and lost are the
# funnel's closing stages (semantics S and F), whatever they are called.
STAGES = {
    QUALIFIED: "Подготовка документов",
    WORKING: "Подготовка",
    SIGNED: "Счёт на предоплату",
    DIAGNOSIS: "Диагностика",
}
FUNNELS = {MAIN_PIPELINE: GENERAL, CHAINS_PIPELINE: GENERAL, SERVICE_PIPELINE: SERVICE}
SOURCES = {"site": "WEB", "call": "CALL", "email": "EMAIL", "avito": "CALLBACK", "partner": "PARTNER"}
UTM = ("utm_source", "utm_medium", "utm_campaign")
CLIENT_FIELDS = ("Регион", "Город", "ИНН")  # deal UF fields by label: what a deal has no field of its own for
LOSS_REASON_FIELD = "Причина отказа"  # a list the portal asks for on its failure stages (no field of its own)


@dataclass
class Portal:
    """What the player needs to know of the seeded portal."""

    form_user: int
    ownership_field: str | None = None  # the UF list field «Форма собственности», if the config uses one
    vip_fields: tuple[str, ...] = ()  # UF fields a config tests for "Y": set on a VIP-tagged deal
    client_fields: dict[str, str] = field(default_factory=dict)  # «Регион», «Город», «ИНН» → UF id
    loss_reasons: tuple[str, dict[str, str]] = ("", {})  # «Причина отказа»: UF id, reason → item id


def seed_portal(emu: Bitrix24Emulator, layout: Layout) -> Portal:
    """Users, departments, funnels, stages and UF fields the config names; the form's user (an admin
    who is none of the config's managers, as a web form's default responsible)."""
    taken = {p.user_id for p in layout.people}
    form_user = max(taken, default=1) + 1
    departments: dict[str, int] = {}
    with emu.portal.lock:
        for person in layout.people:
            group = (
                departments.setdefault(person.department, len(departments) + 1) if person.department else 0
            )
            if group:
                emu.add_department(group, person.department)
            email = f"user{person.user_id}@example.ru"
            emu.add_user(
                person.user_id,
                person.name,
                email=email,
                departments=(group,) if group else (),
                active=person.active,
            )
        emu.add_user(form_user, "Администратор", email="admin@example.ru")
        _category(emu, SERVICE)
        for name in layout.pipelines:
            _category(emu, name)
        for stage in STAGES.values():
            _stage(emu, GENERAL if stage != STAGES[DIAGNOSIS] else SERVICE, stage)
        for pipeline, stage in layout.stages:
            _stage(emu, pipeline or GENERAL, stage)
        return _fields(emu, layout, form_user)


def _categories(emu: Bitrix24Emulator) -> dict[str, int]:
    return {str(c["name"]).casefold(): int(c["id"]) for c in emu.portal.categories}


def _category(emu: Bitrix24Emulator, name: str) -> int:
    """A deal funnel by name, added (with the usual stages) when the portal lacks it."""
    found = _categories(emu).get(name.casefold())
    if found is not None:
        return found
    number = max(_categories(emu).values()) + 1
    emu.portal.categories.append(
        {"id": number, "name": name, "sort": 400 + number, "entityTypeId": 2, "isDefault": "N"}
    )
    usual = [("NEW", "Новая", None), ("PREPARATION", "Подготовка", None), ("WON", "Сделка успешна", "S")]
    for n, (sid, title, sem) in enumerate([*usual, ("LOSE", "Сделка провалена", "F")]):
        entity = f"DEAL_STAGE_{number}"
        emu.portal.statuses.append(
            status_row(entity, f"C{number}:{sid}", title, (n + 1) * 10, sem, str(number))
        )
    return number


def _stages(emu: Bitrix24Emulator, category: int) -> list[dict[str, Any]]:
    """A funnel's stages in their order."""
    rows = [s for s in emu.portal.statuses if s.get("CATEGORY_ID") == str(category)]
    return sorted(rows, key=lambda s: int(s["SORT"]))


def _stage(emu: Bitrix24Emulator, funnel: str, name: str) -> None:
    """Add a stage the config names before the funnel's closing ones, unless it has it."""
    category = _category(emu, funnel)
    rows = _stages(emu, category)
    if any(str(s["NAME"]).casefold() == name.casefold() for s in rows):
        return
    closing = [s for s in rows if s.get("SEMANTICS")]
    sort = min((int(s["SORT"]) for s in closing), default=max([int(s["SORT"]) for s in rows] + [0]) + 10)
    for row in closing:  # the closing stages stay last, as the portal's funnel editor keeps them
        row["SORT"] = str(int(row["SORT"]) + 10)
    code = f"UC_{len(emu.portal.statuses):04d}"
    emu.add_deal_stage(code, name, sort=sort, category=category)


def _fields(emu: Bitrix24Emulator, layout: Layout, form_user: int) -> Portal:
    """UF fields of deals: those named by label (with a list's choices) and those tested by id."""
    portal = Portal(form_user)
    known = set(emu.portal.fields["deal"])
    reasons = (LOSS_REASON_FIELD, tuple(loss_reasons(layout)))
    labelled = [*((name, ()) for name in CLIENT_FIELDS), reasons, *layout.fields]
    counter = iter(range(1_712_345_000, 1_712_346_000))

    def new_id() -> str:
        fid = f"UF_CRM_{next(counter)}"
        while fid in known:
            fid = f"UF_CRM_{next(counter)}"
        known.add(fid)
        return fid

    labels = {str(meta.get("listLabel")).casefold() for meta in emu.portal.fields["deal"].values()}
    for name, choices in labelled:
        if name.casefold() not in labels:
            items = {str(n + 1): choice for n, choice in enumerate(choices)} or None
            emu.add_field("deal", new_id(), name, items)
            labels.add(name.casefold())
    expected: dict[str, set[str]] = {}
    for fid, values in layout.id_values:
        expected.setdefault(fid, set()).update(values)
    for fid in layout.field_ids:
        expected.setdefault(fid, set())
    vip: list[str] = []
    for fid, wanted in expected.items():
        known.add(fid)
        if wanted & set(OWNERSHIP_CHOICES):
            items = {str(n + 1): choice for n, choice in enumerate(OWNERSHIP_CHOICES)}
            emu.add_field("deal", fid, OWNERSHIP, items)
            portal.ownership_field = fid
        elif wanted and wanted <= {"Y", "N"}:
            emu.add_field("deal", fid, "Ключевой клиент")
            vip.append(fid)
        else:
            emu.add_field("deal", fid, f"Поле {fid}")
    portal.vip_fields = tuple(vip)
    by_label = {str(meta.get("listLabel")).casefold(): fid for fid, meta in emu.portal.fields["deal"].items()}
    portal.client_fields = {name: by_label[name.casefold()] for name in CLIENT_FIELDS}
    reason_field = by_label[LOSS_REASON_FIELD.casefold()]
    listed = emu.portal.fields["deal"][reason_field].get("items") or []
    portal.loss_reasons = (reason_field, {str(i["VALUE"]): str(i["ID"]) for i in listed})
    return portal


@dataclass
class Bitrix24Player(StreamPlayer):
    """Applies the stream's actions to the emulated portal, one tick per `step()`."""

    emu: Bitrix24Emulator
    stream: LeadStream
    portal: Portal
    say: Say = print
    language: str = "ru"
    patience: int = 30
    deals: dict[int, int] = field(default_factory=dict)  # stream number → deal id
    _contacts: dict[int, int] = field(default_factory=dict, init=False)  # client number → contact id
    _companies: dict[str, int] = field(default_factory=dict, init=False)
    _waiting: list[WaitingMove] = field(default_factory=list, init=False)

    # -- new deals ------------------------------------------------------------------------------------
    def _create(self, lead: NewLead) -> None:
        client, form = lead.client, self.portal.form_user
        contact = self._contact(lead)
        company = self._company(lead)
        category = _category(self.emu, FUNNELS.get(lead.pipeline, GENERAL))
        first = _stages(self.emu, category)[0]["STATUS_ID"]
        fields: dict[str, Any] = {
            "TITLE": lead.name,
            "OPPORTUNITY": lead.price,
            "CURRENCY_ID": "RUB",
            "CATEGORY_ID": category,
            "STAGE_ID": first,
            "SOURCE_ID": SOURCES.get(lead.source, "OTHER"),
            "ASSIGNED_BY_ID": form,
            "CONTACT_ID": contact,
        }
        if company is not None:
            fields["COMPANY_ID"] = company
        known = {"Регион": client.region, "Город": client.city, "ИНН": client.inn}
        uf = self.portal.client_fields
        fields |= {uf[label]: value for label, value in known.items() if value and label in uf}
        fields |= {key.upper(): value for key, value in lead.utm if key in UTM and value}
        ownership = self.portal.ownership_field
        if ownership is not None:
            fields[ownership] = str(OWNERSHIP_CHOICES.index(client.ownership) + 1)
        if "VIP" in lead.tags:
            fields |= {fid: "Y" for fid in self.portal.vip_fields}
        deal = self.emu.create("deal", fields)
        self.deals[lead.number] = deal
        self._tell_new("deal", deal, lead)

    def _contact(self, lead: NewLead) -> int:
        client = lead.client
        known = self._contacts.get(client.number)
        if lead.repeat == "contact" and known is not None:
            return known
        first, _, last = client.person.partition(" ")
        fields: dict[str, Any] = {
            "NAME": first,
            "LAST_NAME": last,
            "ASSIGNED_BY_ID": self.portal.form_user,
            "PHONE": [{"VALUE": client.phone, "VALUE_TYPE": "WORK"}],
        }
        if client.email:
            fields["EMAIL"] = [{"VALUE": client.email, "VALUE_TYPE": "WORK"}]
        if client.region:
            fields |= {"ADDRESS_REGION": client.region, "ADDRESS_CITY": client.city or ""}
        contact = self.emu.create("contact", fields)
        self._contacts.setdefault(client.number, contact)
        return contact

    def _company(self, lead: NewLead) -> int | None:
        client = lead.client
        key = client.company_key
        if client.company is None or key is None:
            return None
        if key not in self._companies:
            fields = {"TITLE": client.company, "ASSIGNED_BY_ID": self.portal.form_user}
            self._companies[key] = self.emu.create("company", fields)
        return self._companies[key]

    # -- stage moves ----------------------------------------------------------------------------------
    def _owner(self, number: int) -> int | None:
        deal_id = self.deals.get(number)
        deal = self.emu.portal.records["deal"].get(deal_id) if deal_id is not None else None
        return int(deal.get("ASSIGNED_BY_ID") or 0) if deal is not None else None

    def _form_user(self) -> int:
        return self.portal.form_user

    def _move(self, move: Move, owner: int) -> None:
        deal_id = self.deals[move.lead]
        deal = self.emu.portal.records["deal"][deal_id]
        stage = self._stage_of(int(deal.get("CATEGORY_ID") or 0), move.stage)
        if stage is None or stage == deal.get("STAGE_ID"):
            return
        field, items = self.portal.loss_reasons
        why = {field: items[move.reason]} if move.reason in items else {}  # asked on the failure stage
        self.emu.update("deal", deal_id, {"STAGE_ID": stage, **why})
        if move.takes_client:
            self._take_client(deal_id, owner)
        user = self.emu.portal.users.get(owner, {})
        name = str(user.get("NAME") or owner)
        self._tell_moved("deal", deal_id, self._stage_name(stage), name)

    def _stage_of(self, category: int, stream_stage: str) -> str | None:
        rows = _stages(self.emu, category)
        if stream_stage in (WON, LOST):
            semantic = "S" if stream_stage == WON else "F"
            return next((str(s["STATUS_ID"]) for s in rows if s.get("SEMANTICS") == semantic), None)
        name = STAGES.get(stream_stage, stream_stage).casefold()
        return next((str(s["STATUS_ID"]) for s in rows if str(s["NAME"]).casefold() == name), None)

    def _stage_name(self, stage: str) -> str:
        return next((str(s["NAME"]) for s in self.emu.portal.statuses if s["STATUS_ID"] == stage), stage)

    def _take_client(self, deal_id: int, owner: int) -> None:
        """The manager who first works the deal becomes its contact's and company's responsible, as
        people do: this is what makes the client's next deal a repeat client of theirs."""
        deal = self.emu.portal.records["deal"].get(deal_id) or {}
        for entity, key in (("contact", "CONTACT_ID"), ("company", "COMPANY_ID")):
            number = int(deal.get(key) or 0)
            record = self.emu.portal.records[entity].get(number)
            if record is not None and int(record.get("ASSIGNED_BY_ID") or 0) == self.portal.form_user:
                self.emu.update(entity, number, {"ASSIGNED_BY_ID": owner})
