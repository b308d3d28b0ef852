"""The seeds' stories as data: a small config, a timeline of what happens, the owners expected.

Each story is told in the words of a head of sales (the seed it comes from is named), and run by
every driver of the lead lifecycle (tests/stories/drivers.py): the same owners must come out.
Times are Moscow time in the week of Monday 2026-12-07; nobody depends on today's date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

MSK = ZoneInfo("Europe/Moscow")


def at(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    """A moment of December 2026 (or `month` 1: January 2027) in Moscow; 2026-12-07 is a Monday."""
    return datetime(2026 if month == 12 else 2027, month, day, hour, minute, tzinfo=MSK)


@dataclass(frozen=True)
class Arrive:
    """A new lead comes in (fields as the CRM gives them: region, source, tags, price, client)."""

    at: datetime
    lead: str
    fields: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Move:
    """Someone moves the deal to a stage (closed: won / lost, and why a lost one was lost)."""

    at: datetime
    lead: str
    stage: str
    pipeline: str = "Продажи"
    closed: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Reassign:
    """A person makes someone else responsible in the CRM."""

    at: datetime
    lead: str
    manager: str


@dataclass(frozen=True)
class LateEvent:
    """The CRM delivers, late, a responsible change that predates our last write (a stale event)."""

    at: datetime
    lead: str
    manager: str
    happened: datetime


@dataclass(frozen=True)
class Until:
    """Time passes to this moment: timers ring, nothing else happens."""

    at: datetime


Step = Arrive | Move | Reassign | LateEvent | Until


@dataclass(frozen=True)
class Story:
    """A config, what happens, and each lead's owners in order (as the CRM shows them over time)."""

    name: str
    seed: str
    config: str
    timeline: tuple[Step, ...]
    owners: dict[str, list[str]]
    counts: dict[str, int] = field(default_factory=dict)  # audit kind → how many rows the story makes


TEAM = """
language: ru
timezone: Europe/Moscow
head_of_sales: head
working_hours: {mon-fri: "09:00-18:00"}
crm: {type: amocrm, base_url: https://example.amocrm.ru, subdomain: example, account_id: 1}
managers:
  volkova: {crm_user_id: 11, name: Волкова Елена%(volkova)s}
  smirnov: {crm_user_id: 12, name: Смирнов Алексей}
  popov: {crm_user_id: 13, name: Попов Игорь}
  orlova: {crm_user_id: 21, name: Орлова Наталья}
  zaitseva: {crm_user_id: 31, name: Зайцева Анна}
  pavlov: {crm_user_id: 32, name: Павлов Никита}
  novikova: {crm_user_id: 41, name: Новикова Юлия}
  fedorov: {crm_user_id: 42, name: Федоров Павел}
  head: {crm_user_id: 1, name: Гусев Андрей}
  queue: {crm_user_id: 99, name: Очередь маркетплейса, schedule: always}
pools:
  territories:
    strategy: sticky
    members: [volkova, smirnov, popov]
    sticky:
      key: region
      values: {volkova: [Самарская область], smirnov: [Мурманская область], popov: [Краснодарский край]}
    return_after_absence: true
  vip: {strategy: round_robin, members: [orlova]}
  callbacks: {strategy: claim, members: [novikova, fedorov], claim_user: queue}
  call-center: {strategy: round_robin, members: [novikova, fedorov]}
  account-managers: {strategy: round_robin, members: [zaitseva, pavlov]}
  chains:
    strategy: sticky
    members: [zaitseva, pavlov]
    sticky: {key: company, ranges: {zaitseva: [А-Л], pavlov: [М-Я]}}
rules:
  - {name: vip, when: {tags: VIP}, pool: vip}
  - {name: avito, when: {source: avito}, pool: callbacks}
  - {name: calls, when: {source: call}, pool: call-center}
  - {name: chains, when: {tags: Сеть}, pool: chains}
  - {name: regions, pool: territories}
continuity: {enabled: true, within_days: 365, unless: {tags: VIP}}
handoffs:
  - {name: qualified, on_stage: {pipeline: Продажи, stage: Квалифицирован}, to: territories}
  - {name: contract-signed, on_stage: {pipeline: Продажи, stage: Договор подписан}, to: account-managers,
     keep_hunter_in_field: Хантер}
  - {name: first-month, after_days: 30, in_stage: {pipeline: Сети, stage: Успешно реализовано}, to: chains}
  - {name: sla, unworked_minutes: 15, to: next_in_pool, max_hops: 2, then: head, never_move: [head]}
on_assign:
  task: {text: "Связаться с клиентом", due_minutes: 15}
  note: true
"""

VACATION = ", absences: [{from: 2026-12-08, to: 2026-12-11, substitute: popov}]"
SAMARA = {"region": "Самарская область"}


def team(volkova: str = "") -> str:
    """The story team's config; `volkova` adds to Волкова's entry (an absence)."""
    return TEAM % {"volkova": volkova}


JUNK = """
language: ru
timezone: Europe/Moscow
head_of_sales: head
crm: {type: amocrm, base_url: https://example.amocrm.ru, subdomain: example, account_id: 1}
managers:
  novikova: {crm_user_id: 41, name: Новикова Юлия}
  fedorov: {crm_user_id: 42, name: Федоров Павел}
  head: {crm_user_id: 1, name: Гусев Андрей}
pools:
  call-center:
    strategy: round_robin
    members: [novikova, fedorov]
    junk: {stage: Спам, within_hours: 24, max_per_week: 2}
rules:
  - {name: calls, pool: call-center}
"""

JUNK_LOSS = JUNK.replace("junk: {stage: Спам,", "junk: {loss_reason: Спам,")
LOST = "Закрыто и не реализовано"


def lost(when: datetime, lead: str, reason: str) -> Move:
    """The deal's owner closes it as lost, saying why."""
    return Move(when, lead, LOST, closed="lost", reason=reason)


STORIES = (
    Story(
        "an untouched marketplace callback ends with the head after two hops",
        "003 #1 (claim), PRODUCT 'SLA always ends'",
        team(),
        (Arrive(at(7, 10), "avito-1", {"source": "avito"}), Until(at(7, 13))),
        {"avito-1": ["queue", "novikova", "fedorov", "head"]},
        {"handoff": 3},
    ),
    Story(
        "a salesperson who qualifies their own lead keeps it",
        "002 (role chain), PRODUCT 'never takes a deal from someone already in its target pool'",
        team(),
        (
            Arrive(at(7, 10), "samara-1", SAMARA),
            Move(at(7, 10, 5), "samara-1", "Квалифицирован"),
            Until(at(7, 12)),
        ),
        {"samara-1": ["volkova"]},
        {"handoff": 0, "handoff_blocked": 1},
    ),
    Story(
        "call, sales, account manager, and the client's next order goes to the account manager",
        "002, 004 (the client follows the deal)",
        team(),
        (
            Arrive(
                at(7, 10), "call-1", {"source": "call", "region": "Самарская область", "client_key": "c-1"}
            ),
            Move(at(7, 10, 5), "call-1", "Квалифицирован"),
            Move(at(7, 11), "call-1", "Договор подписан"),
            Arrive(at(9, 10), "call-2", {"source": "call", "client_key": "c-1"}),
            Until(at(9, 12)),
        ),
        {"call-1": ["novikova", "volkova", "zaitseva"], "call-2": ["zaitseva"]},
        {"override": 0, "handoff": 2},
    ),
    Story(
        "back from vacation, her territory's new lead and her repeat client come back, worked on or not",
        "003 #5 (a colleague takes your client and passes it back)",
        team(VACATION),
        (
            Arrive(at(7, 10), "hers", {**SAMARA, "client_key": "c-9"}),
            Move(at(7, 10, 5), "hers", "Переговоры"),
            Arrive(at(8, 10), "new-1", SAMARA),
            Move(at(8, 10, 5), "new-1", "Переговоры"),
            Arrive(at(9, 10), "again-1", {"region": "Мурманская область", "client_key": "c-9"}),
            Until(at(14, 12)),
        ),
        {"hers": ["volkova"], "new-1": ["popov", "volkova"], "again-1": ["popov", "volkova"]},
        {"return_skipped": 0},
    ),
    Story(
        "a repeat client who is now VIP goes to the VIP pool, not to the regional manager",
        "001 (VIP stays with the VIP managers)",
        team(),
        (
            Arrive(at(7, 10), "first", {**SAMARA, "client_key": "c-2"}),
            Move(at(7, 10, 1), "first", "Переговоры"),
            Arrive(at(8, 10), "vip", {**SAMARA, "client_key": "c-2", "tags": ("VIP",)}),
            Move(at(8, 10, 1), "vip", "Переговоры"),
            Until(at(8, 12)),
        ),
        {"first": ["volkova"], "vip": ["orlova"]},
    ),
    Story(
        "a retail chain stays with its account manager after the first month",
        "004 (sales keeps the client for the first month, then hands over)",
        team(),
        (
            Arrive(at(7, 10), "chain-1", {"tags": ("Сеть",), "company": "Магнит"}),
            Move(at(7, 10, 5), "chain-1", "Успешно реализовано", pipeline="Сети", closed="won"),
            Until(at(7, 12, month=1)),
        ),
        {"chain-1": ["pavlov"]},
        {"won": 1, "handoff_blocked": 1, "handoff": 0},
    ),
    Story(
        "a person's change is an override; a late event from before our write is not",
        "PRODUCT 'an override is a person's change, nothing else'",
        team(),
        (
            Arrive(at(7, 10), "m-1", {"region": "Мурманская область"}),
            LateEvent(at(7, 10, 2), "m-1", "head", at(7, 9, 59)),
            Move(at(7, 10, 3), "m-1", "Переговоры"),
            Reassign(at(7, 12), "m-1", "popov"),
            Until(at(7, 13)),
        ),
        {"m-1": ["smirnov", "popov"]},
        {"override": 1, "stale": 1},
    ),
    Story(
        "a call marked as spam soon after it came gives the operator their turn back, two a week at most",
        "003 #2 (a dud lead should not cost the manager their share), PRODUCT 'Fair by value' junk credit",
        JUNK,
        (
            Arrive(at(7, 10), "c-1"),
            Arrive(at(7, 10, 5), "c-2"),
            Move(at(7, 10, 30), "c-1", "Спам"),  # credit 1: Новикова is a lead behind again
            Arrive(at(7, 11), "c-3"),
            Move(at(7, 11, 30), "c-3", "Спам"),  # credit 2
            Arrive(at(7, 12), "c-4"),  # hers again: without the credits it would be Федоров's
            Move(at(7, 12, 30), "c-4", "Спам"),  # refused: two a week
            Arrive(at(7, 13), "c-5"),
            Move(at(8, 11), "c-2", "Спам"),  # 25 hours after Федоров got it: too late to disown
            Arrive(at(8, 12), "c-6"),
            Arrive(at(14, 10), "c-7"),
            Arrive(at(14, 10, 5), "c-8"),
            Move(at(14, 10, 30), "c-8", "Спам"),  # a new week: a new credit
            Arrive(at(14, 11), "c-9"),
        ),
        {f"c-{n}": ["fedorov" if n in (2, 5, 7) else "novikova"] for n in range(1, 10)},
        {"junk_credit": 3, "junk_refused": 1, "decision": 9},
    ),
    Story(
        "a call closed as lost for being a dud gives the operator their turn back, one lost as too dear not",
        "003 #2 with amoCRM's loss reasons, PRODUCT 'Fair by value' junk credit by loss reason",
        JUNK_LOSS,
        (
            Arrive(at(7, 10), "c-1"),
            Arrive(at(7, 10, 5), "c-2"),
            lost(at(7, 10, 30), "c-1", "Спам"),  # credit 1: Новикова is a lead behind again
            Arrive(at(7, 11), "c-3"),
            lost(at(7, 11, 30), "c-3", "спам"),  # credit 2: the reason's case does not matter
            Arrive(at(7, 12), "c-4"),  # hers again: without the credits it would be Федоров's
            lost(at(7, 12, 30), "c-4", "Дорого"),  # lost, but not as junk: no credit
            Arrive(at(7, 13), "c-5"),
        ),
        {f"c-{n}": ["fedorov" if n in (2, 5) else "novikova"] for n in range(1, 6)},
        {"junk_credit": 2, "junk_refused": 0, "decision": 5},
    ),
)
