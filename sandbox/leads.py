"""A seeded, clock-free stream of what happens in the sandbox's CRM: one new lead per tick, and deals
moved through the stages a few ticks later.

`LeadStream.tick()` returns the next tick's actions. The same seed gives the same actions, and
nothing here reads a clock or touches a CRM (`sandbox.player` does both). Each new lead gets a
story when it is created: left untouched (the SLA handoff re-routes it), worked, lost, or won
through «Договор подписан» (the contract handoff); most call-centre leads are qualified first (the
«Квалифицирован» handoff). Some clients come back, as the same contact or as a new contact with
the same phone (a duplicate the service finds by phone): continuity sends them to their manager.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from sandbox import data

MAIN_PIPELINE = "Продажи"
CHAINS_PIPELINE = "Сети"
SERVICE_PIPELINE = "Гарантия и сервис"
QUALIFIED, WORKING, SIGNED = "Квалифицирован", "Переговоры", "Договор подписан"
WON, LOST, DIAGNOSIS = "Успешно реализовано", "Закрыто и не реализовано", "Диагностика"
VIP_BUDGET = 1_000_000  # the example config's VIP threshold
# What a new lead is, and how often: each kind meets a different rule of the example config.
KINDS = {
    "regional": 34,  # a territory's region → the sticky `territories` pool
    "moscow": 18,  # Moscow or its region → the weighted `shared` pool
    "no-region": 4,  # only a phone: +7 495 → `moscow`, a mobile → `no-region`
    "call": 10,  # source call → the call centre, then qualified → a territory
    "avito": 8,  # an Avito callback → parked on the claim user
    "tender": 5,  # a tender → the head of sales picks (manual pool)
    "public": 5,  # «Госсектор» in Moscow → public sector
    "vip": 7,  # a budget of a million or more, or the VIP tag
    "chain": 5,  # «Федеральная сеть» → key accounts, by the chain's name
    "warranty": 4,  # the service pipeline: never VIP, whatever the sum
}
REPEAT_SHARE = 0.15  # of new leads, once a few clients have been worked
UNTOUCHED, WORKED, LOST_STORY, WON_STORY = "untouched", "worked", "lost", "won"
Marks = tuple[tuple[str, str], ...]  # UTM marks: (utm_source, yandex) …


@dataclass(frozen=True)
class Client:
    """A person, maybe with their company, and where they are."""

    number: int
    person: str
    phone: str
    email: str | None
    company: str | None
    inn: str | None
    region: str | None
    city: str | None
    ownership: str  # «Форма собственности»: Компания, Госсектор or Частное лицо

    @property
    def company_key(self) -> str | None:
        """Same key, same company in the CRM: a retail chain is one company for all its buyers, while
        two clients' «ООО «Вектор»» in different cities are two companies."""
        if self.company is None:
            return None
        return self.company if self.company in data.CHAINS else f"{self.company} #{self.number}"


@dataclass(frozen=True)
class NewLead:
    """A lead arriving from a form, a call, a marketplace or a tender site."""

    number: int
    kind: str
    client: Client
    name: str
    price: int
    pipeline: str
    source: str
    utm: Marks = ()
    tags: tuple[str, ...] = ()
    repeat: str | None = None  # a returning client: "contact" (the same contact) or "phone" (a duplicate)


@dataclass(frozen=True)
class Move:
    """The deal's owner drags it to a stage of its pipeline."""

    lead: int
    stage: str
    takes_client: bool = False  # first touch: the owner also becomes the client's responsible
    reason: str | None = None  # why a lost deal was lost: one of the account's loss reasons


Action = NewLead | Move


@dataclass
class LeadStream:
    """The sandbox's leads and stage moves, tick by tick, from a seed."""

    seed: int = 1
    ticks: int = field(default=0, init=False)
    _rng: random.Random = field(init=False, repr=False)
    _due: dict[int, list[Move]] = field(default_factory=dict, init=False, repr=False)
    _clients: dict[int, Client] = field(default_factory=dict, init=False, repr=False)
    _client_of: dict[int, int] = field(default_factory=dict, init=False, repr=False)  # lead → client
    _known: list[int] = field(default_factory=list, init=False, repr=False)  # clients someone worked

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def tick(self) -> list[Action]:
        """The next tick: the stage moves due now, then one new lead."""
        moves = self._due.pop(self.ticks, [])
        self._known += [self._client_of[m.lead] for m in moves if m.takes_client]
        lead = self._new_lead()
        self._plan(lead)
        self.ticks += 1
        return [*moves, lead]

    # -- new leads ------------------------------------------------------------------------------------
    def _new_lead(self) -> NewLead:
        rng = self._rng
        number = len(self._client_of) + 1
        if len(self._known) >= 3 and rng.random() < REPEAT_SHARE:
            lead = self._repeat(number, self._clients[rng.choice(self._known[-200:])])
        else:
            kind = rng.choices(list(KINDS), list(KINDS.values()))[0]
            lead = self._fresh(number, kind, self._client(kind))
        self._client_of[number] = lead.client.number
        return lead

    def _repeat(self, number: int, client: Client) -> NewLead:
        rng = self._rng
        title, price = self._order(cap=True)
        how = rng.choice(("contact", "phone"))
        source = rng.choice(("site", "email", "call"))
        prefix = {"site": "Заявка с сайта", "email": "Повторный заказ", "call": "Входящий звонок"}[source]
        return NewLead(
            number, "repeat", client, f"{prefix}: {title}", price, MAIN_PIPELINE, source, repeat=how
        )

    def _fresh(self, number: int, kind: str, client: Client) -> NewLead:
        rng = self._rng
        by_tag = kind == "vip" and rng.random() < 0.3  # a key client with an ordinary budget
        title, price = self._order(cap=kind not in ("vip", "warranty") or by_tag)
        source, utm, prefix = self._channel(kind, client)
        pipeline, tags = MAIN_PIPELINE, ("VIP",) if by_tag else ()
        if kind == "chain":
            pipeline, tags = CHAINS_PIPELINE, ("Федеральная сеть",)
        elif kind == "warranty":
            pipeline = SERVICE_PIPELINE
            if rng.random() < 0.75:  # most are small repairs; some are big contracts, still not VIP
                title, price = rng.choice(data.REPAIRS), rng.randrange(5, 60) * 1000
        return NewLead(number, kind, client, f"{prefix}: {title}", price, pipeline, source, utm, tags)

    def _order(self, *, cap: bool) -> tuple[str, int]:
        """What the client wants and the budget: quantity × unit price, under the VIP line if `cap`."""
        rng = self._rng
        product, unit, (low, high) = rng.choice(data.PRODUCTS)
        quantity = rng.randint(low, high)
        if cap:
            quantity = max(1, min(quantity, (VIP_BUDGET - 1) // unit))
        else:
            quantity = max(quantity, -(-VIP_BUDGET // unit) + rng.randrange(0, 10))
        return f"{product}, {quantity} шт.", round(quantity * unit, -3)

    def _channel(self, kind: str, client: Client) -> tuple[str, Marks, str]:
        """Source, UTM marks and the title's first words."""
        rng = self._rng
        if kind == "call":
            return "call", (), "Входящий звонок"
        if kind == "avito":
            marks: Marks = (("utm_source", "avito"), ("utm_medium", "classified"))
            return "avito", (*marks, ("utm_campaign", "avito_b2b")), "Авито, обратный звонок"
        if kind == "tender":
            return self._tender()
        if kind == "chain":
            return "email", (), f"Сеть {client.company}"
        if kind == "warranty":
            return rng.choice(("call", "site")), (), "Гарантия"
        roll = rng.random()
        if roll < 0.6:
            engine, medium = rng.choice((("yandex", "cpc"), ("google", "cpc"), ("", "organic")))
            marks = ((("utm_source", engine),) if engine else ()) + (("utm_medium", medium),)
            return "site", marks, "Заявка с сайта"
        return ("email", (), "Запрос КП") if roll < 0.8 else ("partner", (), "От партнёра")

    def _tender(self) -> tuple[str, Marks, str]:
        """One of the three ways the tenders rule knows a tender: source, UTM source, or the title."""
        rng = self._rng
        number = f"{rng.randrange(10**18, 10**19)}"
        how = rng.randrange(3)
        if how == 0:
            return "tender", (), f"Закупка № {number}"
        if how == 1:
            return "site", (("utm_source", rng.choice(data.TENDER_SITES)),), "Извещение о закупке"
        return "email", (), f"Аукцион 44-ФЗ № {number}"

    # -- clients --------------------------------------------------------------------------------------
    def _client(self, kind: str) -> Client:
        rng = self._rng
        if kind in ("moscow", "public") or (kind in ("vip", "chain") and rng.random() < 0.5):
            region, city, code = rng.choice(data.MOSCOW)
        else:
            region, city, code = rng.choice(
                data.REGIONS + data.MOSCOW if kind != "regional" else data.REGIONS
            )
        first, gender = rng.choice(data.FIRST_NAMES)
        last, latin = rng.choice(data.LAST_NAMES)
        person = f"{first} {last}{'а' if gender == 'f' else ''}"
        phone = _phone(rng, rng.choice(data.MOBILE_CODES) if rng.random() < 0.6 else code)
        where: tuple[str | None, str | None] = (region, city)
        if kind == "no-region":
            where = (None, None)
            phone = _phone(rng, rng.choice(("495", "499", *data.MOBILE_CODES[:4])))
        ownership, company, inn = self._company(kind, last, first)
        email = (
            f"{latin}{rng.randrange(1, 100)}@{rng.choice(data.MAIL_DOMAINS)}" if rng.random() < 0.5 else None
        )
        client = Client(len(self._clients) + 1, person, phone, email, company, inn, *where, ownership)
        self._clients[client.number] = client
        return client

    def _company(self, kind: str, last: str, first: str) -> tuple[str, str | None, str | None]:
        rng = self._rng
        if kind == "public":
            return "Госсектор", rng.choice(data.STATE_BODIES), "77" + _digits(rng, 8)
        if kind == "chain":
            return "Компания", rng.choice(data.CHAINS), "77" + _digits(rng, 8)
        if kind not in ("vip", "tender") and rng.random() < 0.3:
            return "Частное лицо", None, None
        form = rng.choices(("ООО", "АО", "ИП"), (75, 10, 15))[0]
        if form == "ИП":
            return "Компания", f"ИП {last} {first[0]}.", _digits(rng, 12)
        return "Компания", f"{form} «{rng.choice(data.COMPANY_WORDS)}»", _digits(rng, 10)

    # -- stories --------------------------------------------------------------------------------------
    def _plan(self, lead: NewLead) -> None:
        """Schedule the deal's stage moves, relative to this tick."""
        rng = self._rng
        if lead.kind in ("avito", "tender"):
            return  # they wait for a person who claims or picks them: the SLA and the head's view show it
        if lead.pipeline == SERVICE_PIPELINE:
            stages = [DIAGNOSIS] if rng.random() < 0.6 else []
        elif lead.kind == "call":
            roll = rng.random()
            stages = [QUALIFIED] if roll < 0.4 else [QUALIFIED, WORKING, SIGNED] if roll < 0.75 else []
        else:
            story = rng.choices((UNTOUCHED, WORKED, LOST_STORY, WON_STORY), (25, 30, 15, 30))[0]
            stages = {
                UNTOUCHED: [],
                WORKED: [WORKING],
                LOST_STORY: [WORKING, LOST],
                WON_STORY: [WORKING, SIGNED, WON],
            }[story]
        at = self.ticks
        for index, stage in enumerate(stages):
            at += rng.randint(2, 4)  # ticks between two steps of a story
            # Not drawn from the stream's random numbers: the same seed keeps giving the same leads.
            reason = data.LOSS_REASONS[lead.number % len(data.LOSS_REASONS)] if stage == LOST else None
            self._due.setdefault(at, []).append(Move(lead.number, stage, index == 0, reason))


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(count))


def _phone(rng: random.Random, code: str) -> str:
    """+7 (code) and the rest of the ten digits, grouped as people write them."""
    rest = _digits(rng, 10 - len(code))
    groups = {7: (3, 2, 2), 6: (2, 2, 2), 5: (1, 2, 2)}[len(rest)]
    parts, start = [], 0
    for size in groups:
        parts.append(rest[start : start + size])
        start += size
    return f"+7 ({code}) {'-'.join(parts)}"
