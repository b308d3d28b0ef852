"""`/metrics` counts handoffs where the worker performs them, by kind and outcome."""

from __future__ import annotations

from dataclasses import replace

from core.model import Lead
from tests.fakes.crm import FakeCrm
from tests.integration.helpers import Clock, add_lead_event, post, update_event
from webhook_app.bootstrap import build_services, build_worker
from webhook_app.settings import Settings
from webhook_app.web.app import create_app

CONFIG = """
timezone: Europe/Moscow
head_of_sales: head
crm: {type: amocrm, base_url: https://example.amocrm.ru, account_id: 29604535}
managers:
  ivanova: {crm_user_id: 101, name: Иванова}
  petrov: {crm_user_id: 102, name: Петров}
  farmer: {crm_user_id: 201, name: Фермер}
  head: {crm_user_id: 100, name: Руководитель}
pools:
  sales: {members: [ivanova, petrov], strategy: round_robin}
  farmers: {members: [farmer], strategy: round_robin}
rules:
  - {name: default, pool: sales}
handoffs:
  - {name: contract-signed, on_stage: Договор подписан, to: farmers, unless: {tags: VIP}}
  - {name: sla, unworked_minutes: 15, to: next_in_pool, max_hops: 1, then: head}
"""


def handoff_lines(text: str) -> dict[str, float]:
    return {
        line.split(" ")[0]: float(line.split(" ")[1])
        for line in text.splitlines()
        if line.startswith("leadrouter_handoffs_total{")
    }


def test_handoffs_are_counted_by_kind_and_outcome_once_they_happen(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    settings = Settings(config=config, database_url=f"sqlite:///{tmp_path / 'lr.db'}")  # type: ignore[call-arg]
    crm, clock = FakeCrm(), Clock()
    services = build_services(settings, crm=crm, clock=clock)
    client = create_app(services=services).test_client()
    worker = build_worker(services, "metrics-worker")
    engine = services.engine

    def drain() -> None:
        while worker.run_once():
            pass

    def move(lead_id: str, stage: str, stage_id: str) -> None:
        crm.leads[lead_id] = replace(crm.leads[lead_id], stage=stage, stage_id=stage_id)
        post(engine, clock, update_event(lead_id, crm.owner_of(lead_id) or 0, stage=stage_id))

    for lead_id, tags in (("1", ()), ("2", ("VIP",)), ("3", ())):
        crm.leads[lead_id] = Lead(id=lead_id, created_at=clock(), stage="Новый", stage_id="s1", tags=tags)
        post(engine, clock, add_lead_event(lead_id))
    drain()
    assert handoff_lines(client.get("/metrics").get_data(as_text=True)) == {}

    clock.advance(minutes=5)
    move("1", "Договор подписан", "s5")  # handed to the farmers
    move("2", "Договор подписан", "s5")  # VIP: kept where it is
    drain()
    clock.advance(minutes=11)  # lead 3 was never worked on: the next member
    drain()
    clock.advance(minutes=16)  # still not: after one hop, the head
    drain()

    counted = handoff_lines(client.get("/metrics").get_data(as_text=True))
    assert counted == {
        'leadrouter_handoffs_total{kind="stage",outcome="handed"}': 1.0,
        'leadrouter_handoffs_total{kind="stage",outcome="kept-by-exception"}': 1.0,
        'leadrouter_handoffs_total{kind="sla",outcome="handed"}': 1.0,
        'leadrouter_handoffs_total{kind="sla",outcome="to-head"}': 1.0,
    }
    assert (crm.owner_of("1"), crm.owner_of("2"), crm.owner_of("3")) == (201, 102, 100)
