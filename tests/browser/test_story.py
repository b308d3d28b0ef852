"""A lead's story: received, decided (who was skipped), written, left untouched (the SLA hands it on),
moved to «Договор подписан» (the contract handoff), won — each on one page, in order, with names
and Moscow times; and every admin page at 1400 and 390 px: nothing cut, nothing in English."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from core.model import Lead
from tests.browser.conftest import TOKEN, Served, expect, log_in, screenshot, serving
from tests.browser.fit import check_fits, scrolling_tables
from tests.fakes.crm import FakeCrm
from tests.integration.helpers import Clock, add_lead_event, post, update_event
from tests.web.conftest import SECRET, Stack
from webhook_app.bootstrap import build_services, build_worker
from webhook_app.settings import Settings
from webhook_app.web.app import create_app

MSK = ZoneInfo("Europe/Moscow")
CONFIG = """
language: ru
timezone: Europe/Moscow
head_of_sales: head
crm: {type: amocrm, base_url: https://example.amocrm.ru, account_id: 29604535, subdomain: example}
managers:
  kuznetsova: {crm_user_id: 101, name: Кузнецова Мария}
  smirnov: {crm_user_id: 102, name: Смирнов Алексей}
  zaitseva: {crm_user_id: 201, name: Зайцева Анна Константиновна}
  head: {crm_user_id: 100, name: Гусев Андрей}
pools:
  sales: {members: [kuznetsova, smirnov], strategy: round_robin}
  territories:
    strategy: sticky
    members: [kuznetsova, smirnov]
    sticky: {key: region, values: {kuznetsova: [Тверская область], smirnov: [Мурманская область]}}
  farmers: {members: [zaitseva], strategy: round_robin}
rules:
  - {name: regions, when: {region: {exists: true}}, pool: territories}
  - {name: default, pool: sales}
handoffs:
  - {name: contract-signed, on_stage: Договор подписан, to: farmers}
  - {name: sla, unworked_minutes: 15, to: next_in_pool, max_hops: 1, then: head}
on_assign:
  task: {text: "Связаться с клиентом", due_minutes: 15}
  note: true
"""
# The config's own names, which may be Latin: pools, rules, handoffs.
NAMES = {"sales", "territories", "farmers", "regions", "default", "contract", "signed", "edited"}


@dataclass
class Life:
    """The stack and how to move its leads."""

    served: Served

    @property
    def stack(self) -> Stack:
        return self.served.stack

    def drain(self) -> None:
        while self.stack.worker.run_once():
            pass

    def arrive(self, lead_id: str, region: str | None = None) -> None:
        crm, clock = self.stack.crm, self.stack.clock
        crm.leads[lead_id] = Lead(id=lead_id, created_at=clock(), stage="Новый", stage_id="s1", region=region)
        post(self.stack.services.engine, clock, add_lead_event(lead_id))
        self.drain()

    def move(self, lead_id: str, stage: str, stage_id: str, closed: str | None = None, n: int = 0) -> None:
        crm = self.stack.crm
        crm.leads[lead_id] = replace(crm.leads[lead_id], stage=stage, stage_id=stage_id, closed=closed)
        owner = crm.owner_of(lead_id) or 0
        post(self.stack.services.engine, self.stack.clock, update_event(lead_id, owner, stage=stage_id, n=n))
        self.drain()


@pytest.fixture
def life(tmp_path: Path, browser) -> Iterator[Life]:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    settings = Settings(
        config=config,
        database_url=f"sqlite:///{tmp_path / 'lr.db'}",
        webhook_secret=SECRET,
        admin_token=TOKEN,
    )  # type: ignore[call-arg]
    crm, clock = FakeCrm(), Clock()
    services = build_services(settings, crm=crm, clock=clock)
    app = create_app(services=services)
    stack = Stack(app.test_client(), services, crm, clock, build_worker(services, "story-worker"))
    with serving(stack) as served:
        yield Life(served)


def test_a_lead_handed_on_by_the_sla_then_to_the_farmers_then_won_tells_its_whole_story(page, life):
    stack = life.stack
    received = stack.clock().astimezone(MSK)
    life.arrive("5001")  # round robin: Кузнецова Мария
    stack.clock.advance(minutes=16)  # never worked on: the SLA hands it to Смирнов Алексей
    life.drain()
    rerouted = stack.clock().astimezone(MSK)
    assert stack.crm.owner_of("5001") == 102
    stack.clock.advance(minutes=5)
    life.move("5001", "Договор подписан", "s5")  # the contract handoff: to the farmers
    assert stack.crm.owner_of("5001") == 201
    stack.clock.advance(minutes=30)
    life.move("5001", "Успешно реализовано", "142", closed="won", n=1)
    won = stack.clock().astimezone(MSK)

    log_in(page, life.served)
    page.get_by_role("link", name="Решения").click()
    page.locator("#decisions tr", has_text="5001").first.get_by_role("link", name="5001").click()
    expect(page.locator("#story-title")).to_have_text("История лида 5001")
    events = page.locator("#story > li")
    kinds = [events.nth(i).get_attribute("data-kind") for i in range(events.count())]
    # In order: in, decided, the SLA's re-route, the stage move and its handoff, won and its move.
    assert kinds[:2] == ["received", "decision"], kinds
    assert (
        kinds.index("decision") < kinds.index("sla") < kinds.index("stage_changed") < kinds.index("handoff")
    )
    assert kinds.index("handoff") < kinds.index("won"), kinds
    for owner in ("decision", "sla", "handoff"):  # each owner's responsible, task and note, each sent
        writes = page.locator(f"#story > li[data-kind={owner}] .writes")
        expect(writes).to_have_text(
            "Записи в CRM: ответственный: отправлено · задача: отправлено · примечание: отправлено"
        )

    first = page.locator("#story > li[data-kind=decision]")
    expect(first).to_contain_text("Распределён → Кузнецова Мария")
    expect(first).to_contain_text(f"{received:%Y-%m-%d %H:%M}")
    sla = page.locator("#story > li[data-kind=sla]")
    expect(sla).to_contain_text("SLA: передан другому → Смирнов Алексей")
    expect(sla).to_contain_text("не взят в работу за 15 мин")
    expect(sla).to_contain_text(f"{rerouted:%Y-%m-%d %H:%M}")
    expect(page.locator("#story > li[data-kind=stage_changed]").first).to_contain_text(
        "«Новый» → «Договор подписан»"
    )
    handoff = page.locator("#story > li[data-kind=handoff]")
    expect(handoff).to_contain_text("Передача «contract-signed» → Зайцева Анна Константиновна")
    expect(page.locator("#story > li[data-kind=won]")).to_contain_text(f"{won:%Y-%m-%d %H:%M}")
    expect(page.locator("#story > li[data-kind=won]")).to_contain_text("Сделка выиграна")
    expect(page.locator("#story > li[data-kind=received]").first).to_contain_text("новый лид в CRM")
    expect(page.locator("#story-now")).to_contain_text("Сейчас у: Зайцева Анна Константиновна")
    expect(page.locator("#story-now")).to_contain_text("выиграна")
    check_fits(page, screenshot, "story", NAMES)

    # Its JSON twin says the same.
    answer = httpx.get(
        f"{life.served.url}/api/v1/leads/5001", headers={"Authorization": f"Bearer {TOKEN}"}
    ).json()
    assert [e["kind"] for e in answer["events"] if not e["minor"]] == kinds
    assert {e["kind"] for e in answer["events"] if e["minor"]} == {"received"}  # the updates behind moves

    # Everything, the updates the CRM sent included, one click away.
    page.get_by_role("link", name=re.compile("Показать все события")).click()
    expect(page.locator("#story > li")).to_have_count(len(answer["events"]))
    expect(page.locator("#story > li[data-kind=received]").nth(1)).to_contain_text(
        "в CRM сменился ответственный"
    )
    assert answer["owner_name"] == "Зайцева Анна Константиновна" and answer["closed"] == "won"


def test_every_page_fits_a_laptop_and_a_phone_and_speaks_russian(page, life):
    stack = life.stack
    for number, region in enumerate(["Тверская область"] * 4 + ["Мурманская область", None, None]):
        life.arrive(str(6000 + number), region)
    stack.crm.refuse_leads.add("6100")
    life.arrive("6100")  # its writes are refused: a dead letter
    page.goto(f"{life.served.url}/admin/login")
    check_fits(page, screenshot, "login", NAMES)
    log_in(page, life.served)

    # Today: a territory's owner receiving their territory's leads is not «behind» or «ahead».
    territory = page.locator("#pool-territories")
    expect(territory).to_contain_text("без целевой доли")
    expect(territory.locator("tr[data-manager=kuznetsova] .received-today")).to_have_text("4")
    expect(territory.locator(".bad")).to_have_count(0)
    expect(territory.locator("svg line")).to_have_count(0)  # no target tick either
    expect(page.locator("#pool-sales")).to_contain_text("стратегия: по очереди")
    expect(page.locator("#queue")).to_contain_text("Очередь сейчас: 0 · отложено:")
    # What is set for later, with each lead's story a click away: the SLA checks of today's leads.
    sla = page.locator("#scheduled tr[data-kind=sla]")
    expect(sla.first).to_contain_text("проверка SLA: взят ли в работу")
    assert sla.count() == int(page.locator("#queue").inner_text().rsplit(":", 1)[1])
    check_fits(page, screenshot, "today", NAMES)
    # On a phone (where check_fits leaves the page) the split tables fit their cards without scrolling.
    assert [t for t in scrolling_tables(page) if t != "managers"] == []

    page.get_by_role("link", name="Решения").click()
    expect(page.locator("#decisions")).to_contain_text("Кузнецова Мария")
    expect(page.locator("#decisions")).to_contain_text("из пула")
    check_fits(page, screenshot, "decisions", NAMES)
    page.get_by_label("Менеджер").select_option(label="Смирнов Алексей")  # by name, not by key
    page.get_by_role("button", name="Фильтр").click()
    expect(page.locator("#decisions tr:has(td)")).to_have_count(2)  # 6004 and 6006
    expect(page.locator("#decisions")).not_to_contain_text("Кузнецова Мария")
    page.get_by_role("link", name="Решения").click()

    page.locator("#decisions tr", has_text="6000").locator("td").first.get_by_role("link").click()
    expect(page.locator("#writes")).to_contain_text("ответственный")
    check_fits(page, screenshot, "decision", NAMES)

    page.get_by_role("link", name="Недоставленные (1)").click()
    expect(page.locator("#deadletters")).to_contain_text("ответственный")
    check_fits(page, screenshot, "deadletters", NAMES)
    page.locator("#deadletters").get_by_role("link", name="6100").first.click()
    expect(page.locator("#story .writes .bad").first).to_contain_text("не доставлено")

    page.goto(f"{life.served.url}/admin/decisions/999999")
    expect(page.locator("main")).to_contain_text("Нет решения 999999")
    check_fits(page, screenshot, "no-decision", NAMES)
    page.get_by_role("link", name="Конфигурация").click()
    check_fits(page, screenshot, "config", NAMES | {"startup"})

    page.get_by_role("link", name="Что если").click()
    page.locator("#days").fill("3")
    page.locator("#run").click()
    expect(page.locator("#state")).to_have_text("готово")
    territories = page.locator("#split-territories")
    expect(territories).to_contain_text("без целевой доли")
    expect(territories.locator("tr[data-manager=kuznetsova] td").nth(3)).to_have_text("")  # no target
    expect(page.locator("#split-sales tr[data-manager=kuznetsova] td").nth(3)).to_have_text("1.5")
    check_fits(page, screenshot, "whatif-run", NAMES)
    page.get_by_role("link", name="Что если").click()
    check_fits(page, screenshot, "whatif", NAMES)
