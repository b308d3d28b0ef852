"""Handoffs end to end, on amoCRM and on Bitrix24: the real `leadrouter` processes against a CRM
emulator over loopback; the emulator sends its real webhooks (amoCRM: form-encoded v2 payloads with
the lead's state; Bitrix24: ONCRMDEAL* events carrying only the ID, so we read the deal).

- A deal walks the role chain of seed 002: call manager → sales (on «Квалифицирован») → client
  manager (on «Договор подписан»), the previous owner kept in a field and in the note; our own
  writes' echoes and edits within a stage never hand it over again.
- A stage move made in the CRM (amoCRM: `status_lead` + `update_lead`, each delivered twice, then
  the stage's Digital Pipeline hook; Bitrix24: the update event twice, then once more) hands the
  deal over exactly once (seed 004).
- SLA: a lead nobody works is re-routed after N *working* minutes to the next eligible member who
  never had it, never back, and after `max_hops` to the head of sales. Time is the worker's clock:
  webhooks reach a real `leadrouter web`, and the worker runs in this process with a clock the
  test moves, writing to the emulator through the real CRM client over HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from time import monotonic
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.stack import AmoDriver, CrmDriver, Service, emulated, service, wait_for
from webhook_app.bootstrap import build_services, build_worker
from webhook_app.pipeline.worker import Worker
from webhook_app.settings import Settings

HEAD, IVANOVA, PETROV, SIDOROV, KOZLOVA = 504100, 504141, 504142, 504143, 504144
TASK = "Связаться с клиентом"
STAFF = """
language: ru
timezone: Europe/Moscow
head_of_sales: head
crm: %(crm)s
on_assign:
  task: {text: "Связаться с клиентом", due_minutes: 15}
  note: true
managers:
  ivanova: {crm_user_id: 504141, name: Иванова%(ivanova)s}
  petrov: {crm_user_id: 504142, name: Петров%(petrov)s}
  sidorov: {crm_user_id: 504143, name: Сидоров%(others)s}
  kozlova: {crm_user_id: 504144, name: Козлова%(others)s}
  smirnova: {crm_user_id: 504145, name: Смирнова%(others)s}
  head: {crm_user_id: 504100, name: Руководитель}
"""
CHAIN = """
pools:
  callers: {members: [ivanova, smirnova], strategy: round_robin}
  sales: {members: [petrov, sidorov], strategy: round_robin}
  client_managers: {members: [kozlova], strategy: least_loaded}
rules:
  - {name: new-leads, pool: callers}
handoffs:
  - {name: qualified, on_stage: Квалифицирован, to: sales, keep_hunter_in_field: Колл-менеджер}
  - {name: contract-signed, on_stage: Договор подписан, to: client_managers, keep_hunter_in_field: Хантер}
"""
SLA = """
pools:
  sales: {members: [ivanova, petrov, sidorov, kozlova, smirnova], strategy: weighted}
rules:
  - {name: default, pool: sales}
handoffs:
  - {name: sla, unworked_minutes: 10, to: next_in_pool, max_hops: 2, then: head}
"""
MOSCOW = ZoneInfo("Europe/Moscow")
SHIFT = ', schedule: {mon-fri: "09:00-18:00"}'


def chain_config(crm: CrmDriver) -> str:
    return STAFF % {"crm": crm.crm_line(), "ivanova": "", "petrov": "", "others": ""} + CHAIN


@pytest.fixture(params=["amocrm", "bitrix24"])
def crm(request) -> Iterator[CrmDriver]:
    with emulated(request.param) as driver:
        yield driver


def test_a_deal_walks_from_the_caller_to_sales_to_the_client_manager(crm, tmp_path):
    with service(crm, chain_config(crm), tmp_path) as svc:
        deal = crm.create()
        wait_for(lambda: crm.owner(deal) == IVANOVA, what="a caller to get the new lead")
        svc.settle()
        assert crm.tasks(deal) == [(IVANOVA, TASK)]
        assert "new-leads" in crm.notes(deal)[0] and "выбран: Иванова" in crm.notes(deal)[0]

        crm.move(deal, "Квалифицирован")  # the caller qualified the client
        wait_for(lambda: crm.owner(deal) == PETROV, what="the handoff to sales")
        svc.settle()
        assert crm.field(deal, "Колл-менеджер") == "Иванова"  # who qualified it, kept
        assert crm.tasks(deal) == [(IVANOVA, TASK), (PETROV, TASK)]
        note = crm.notes(deal)[-1]
        assert "«qualified» от Иванова" in note and "выбран: Петров" in note

        crm.move(deal, "Договор подписан")
        wait_for(lambda: crm.owner(deal) == KOZLOVA, what="the handoff to the client manager")
        svc.settle()  # every write made, every echo of it in and handled
        assert crm.field(deal, "Хантер") == "Петров"  # the hunter, whose commission still counts
        assert crm.field(deal, "Колл-менеджер") == "Иванова"
        assert crm.tasks(deal) == [(IVANOVA, TASK), (PETROV, TASK), (KOZLOVA, TASK)]
        note = crm.notes(deal)[-1]
        assert "«contract-signed» от Петров" in note and "выбран: Козлова" in note
        assert len(crm.notes(deal)) == 3
        log = svc.audit(deal)
        assert log.kinds().count("echo") >= 3  # each handover's writes came back, seen as ours

        crm.edit(deal)  # a person edits the deal; it stays in «Договор подписан»
        crm.stage_event_again(deal, previous="Квалифицирован")  # the stage's event, again
        svc.settle()
        after = svc.audit(deal)
        assert after.arrived() >= log.arrived() + 2  # both reached us, and changed nothing:
        assert crm.owner(deal) == KOZLOVA
        assert len(crm.tasks(deal)) == 3 and len(crm.notes(deal)) == 3
        kinds = after.kinds()
        assert kinds.count("decision") == 1 and kinds.count("stage_changed") == 2
        assert "override" not in kinds and "dead_letter" not in kinds
        assert after.handoffs() == [("qualified", "petrov"), ("contract-signed", "kozlova")]
        assert after.writes("responsible") == 3 and after.writes("field") == 2


def test_a_stage_move_made_in_the_crm_hands_the_deal_over_once(crm, tmp_path):
    with service(crm, chain_config(crm), tmp_path) as svc:
        deal = crm.create()
        wait_for(lambda: crm.owner(deal) == IVANOVA, what="a caller to get the new lead")
        svc.settle()
        first = "Первичный контакт" if crm.name == "amocrm" else "Новая"
        crm.duplicate_next_events(2)  # each event of the move is delivered twice
        crm.move(deal, "Договор подписан")
        wait_for(lambda: crm.owner(deal) == KOZLOVA, what="the handoff")
        crm.duplicate_next_events(0)
        crm.stage_event_again(deal, previous=first)  # and once more, late
        svc.settle()
        assert crm.field(deal, "Хантер") == "Иванова"
        assert [owner for owner, _ in crm.tasks(deal)] == [IVANOVA, KOZLOVA]
        assert len(crm.notes(deal)) == 2
        log = svc.audit(deal)
        assert log.handoffs() == [("contract-signed", "kozlova")]
        assert log.kinds().count("stage_changed") == 1 and "override" not in log.kinds()
        if crm.name == "amocrm":  # the move came as amoCRM sends it: status_lead and update_lead
            actions = [e["detail"]["action"] for e in log if e["kind"] == "received"]
            assert "status" in actions and "update" in actions
            assert log.kinds().count("duplicate") >= 2
        assert log.arrived() >= 5  # add, the move's event(s) twice, the late one


def test_amocrm_a_move_heard_only_from_the_stages_digital_pipeline_hook_hands_over_once(tmp_path):
    """amoCRM loses account webhooks (§1.5); the stage's own «send webhook» (§1.8) carries only
    id, stage and pipeline — no responsible — and is never retried. It alone must do."""
    with emulated("amocrm") as crm, service(crm, chain_config(crm), tmp_path) as svc:
        assert isinstance(crm, AmoDriver)
        deal = crm.create()
        wait_for(lambda: crm.owner(deal) == IVANOVA, what="a caller to get the new lead")
        svc.settle()
        crm.emu.faults.drop_hooks = 1.0
        crm.move(deal, "Договор подписан")  # its status_lead and update_lead are lost
        assert crm.emu.hooks.wait(timeout=10)
        crm.emu.faults.drop_hooks = 0.0
        crm.stage_event_again(deal, previous="Первичный контакт")
        wait_for(lambda: crm.owner(deal) == KOZLOVA, what="the handoff")
        svc.settle()
        assert crm.field(deal, "Хантер") == "Иванова"
        log = svc.audit(deal)
        assert log.handoffs() == [("contract-signed", "kozlova")]
        assert log.kinds().count("stage_changed") == 1


# --- SLA -----------------------------------------------------------------------------------


class MovableClock:
    """The worker's clock: real time running from a moment the test sets (never behind the real
    time, so the jobs the web process stamps with the real time are due to this worker)."""

    def __init__(self, start: datetime) -> None:
        self.base, self.since = start, monotonic()

    def __call__(self) -> datetime:
        return self.base + timedelta(seconds=monotonic() - self.since)

    def set(self, moment: datetime) -> None:
        assert moment >= self(), "time only moves forward"
        self.base, self.since = moment, monotonic()


def next_wednesday(after: date) -> date:
    day = after + timedelta(days=2)
    return day + timedelta(days=(2 - day.weekday()) % 7)


def sla_worker(svc: Service, clock: MovableClock) -> Worker:
    """The product's worker, built the way `leadrouter worker` builds it, but on the test's clock."""
    prefix = "LEADROUTER_"
    values = {k[len(prefix) :].lower(): v for k, v in svc.env.items() if k.startswith(prefix)}
    settings = Settings(_env_file=None, **values)  # this environment only, no .env
    return build_worker(build_services(settings, clock=clock), name="e2e-sla-worker")


@pytest.mark.wall_clock_across_processes  # the worker's clock starts after the web process's real now
def test_an_untouched_lead_is_rerouted_after_working_minutes_and_never_bounces_back(crm, tmp_path):
    wednesday = next_wednesday(datetime.now(MOSCOW).date())
    thursday = wednesday + timedelta(days=1)
    at = lambda day, hh, mm, ss=0: datetime.combine(day, time(hh, mm, ss), MOSCOW)  # noqa: E731
    clock = MovableClock(at(wednesday, 17, 55, 50))
    away = f", absences: [{{from: {wednesday - timedelta(days=1)}, to: {wednesday + timedelta(days=7)}}}]"
    values = {"crm": crm.crm_line(), "ivanova": ", weight: 5" + SHIFT, "petrov": SHIFT + away}
    config = STAFF % (values | {"others": SHIFT}) + SLA
    with service(crm, config, tmp_path, command="web") as svc:
        worker = sla_worker(svc, clock)
        deal = crm.create()
        wait_for(
            lambda: crm.owner(deal) == IVANOVA and crm.notes(deal),
            what="the first owner",
            pump=worker.run_once,
        )

        def still(moment: datetime) -> int:
            """The owner once everything due by `moment` has run."""
            clock.set(moment)
            svc.settle(pump=worker.run_once)
            return crm.owner(deal)

        def rerouted(moment: datetime, to: int) -> None:
            clock.set(moment)
            wait_for(lambda: crm.owner(deal) == to, what=f"the lead to go to {to}", pump=worker.run_once)
            svc.settle(pump=worker.run_once)

        # 10 working minutes from 17:55:50 are 4:10 today and 5:50 from 09:00 tomorrow.
        assert still(at(wednesday, 18, 20)) == IVANOVA  # not at 18:05:50: the shift had ended
        assert still(at(thursday, 9, 5, 5)) == IVANOVA  # not a minute early either
        rerouted(at(thursday, 9, 6), to=SIDOROV)  # Иванова had it, Петров is on vacation
        note = crm.notes(deal)[-1]
        assert "Иванова — уже получал этот лид" in note and "Петров — отсутствует" in note
        assert still(at(thursday, 9, 15, 30)) == SIDOROV
        rerouted(at(thursday, 9, 16, 30), to=KOZLOVA)  # never back to Иванова (weight 5)
        rerouted(at(thursday, 9, 27), to=HEAD)  # max_hops (2) spent: Смирнова is skipped
        assert still(at(thursday, 12, 0)) == HEAD  # and it stays there
        assert [owner for owner, _ in crm.tasks(deal)] == [IVANOVA, SIDOROV, KOZLOVA, HEAD]
        assert len(crm.notes(deal)) == 4
        hops = [("sla:1", "sidorov"), ("sla:2", "kozlova"), ("sla:3", "head")]
        log = svc.audit(deal)
        assert log.handoffs() == hops
        assert log.kinds().count("decision") == 1 and "override" not in log.kinds()
