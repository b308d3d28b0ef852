"""The webhook path end to end: POST → 200 → decision → CRM writes → an audit that explains it."""

from __future__ import annotations

import logging

from sqlalchemy import func, select

from adapters.storage.audit import read_audit
from adapters.storage.tables import inbox, jobs
from core.model import Lead
from core.ports import WriteKind
from tests.fakes.payloads import amocrm_lead_payload, bitrix24_event_payload, urlencode
from tests.web.conftest import ACCOUNT_ID, APP_TOKEN, SECRET


def amo_add(*ids: str, account: str = ACCOUNT_ID) -> str:
    leads = [
        {
            "id": i,
            "name": f"Заявка {i}",
            "status_id": "142000",
            "price": "1000",
            "responsible_user_id": "100",
            "pipeline_id": "77",
        }
        for i in ids
    ]
    return urlencode(amocrm_lead_payload("add", leads, account_id=account, subdomain="example"))


def amo_responsible(lead_id: str, user: int, modified: int = 1796202060) -> str:
    """A person's responsible change, made at `modified` (default: a minute after the stack's noon)."""
    lead = {
        "id": lead_id,
        "status_id": "142000",
        "responsible_user_id": str(user),
        "old_responsible_user_id": "100",
        "last_modified": str(modified),
        "pipeline_id": "77",
    }
    return urlencode(amocrm_lead_payload("responsible", [lead], account_id=ACCOUNT_ID, subdomain="example"))


def stored(stack) -> int:
    with stack.services.engine.connect() as c:
        return c.execute(select(func.count()).select_from(inbox)).scalar()


def seed(stack, *ids: str) -> None:
    for lead_id in ids:
        stack.crm.leads[lead_id] = Lead(id=lead_id, created_at=stack.clock(), stage_id="142000")


def test_a_new_amocrm_lead_gets_an_owner_a_task_and_a_note_with_the_reason(stack):
    seed(stack, "35168771")
    response = stack.hook(amo_add("35168771"))
    assert response.status_code == 200 and response.json == {"ok": True, "stored": 1, "duplicates": 0}
    stack.worker.run_once()
    assert stack.crm.owner_of("35168771") == 101
    assert [w.kind for w in stack.crm.writes] == [WriteKind.RESPONSIBLE, WriteKind.TASK, WriteKind.NOTE]
    decision = read_audit(stack.services.engine, lead_id="35168771", kinds=("decision",))[0]
    assert decision.message == "правило «default» → пул «sales» (по очереди); выбран: Иванова"


def test_several_leads_in_one_post_are_all_stored(stack):
    seed(stack, "1", "2", "3")
    assert stack.hook(amo_add("1", "2", "3")).json["stored"] == 3
    stack.worker.run_once()
    assert [stack.crm.owner_of(i) for i in ("1", "2", "3")] == [101, 102, 101]


def test_our_own_writes_echo_back_without_a_second_decision(stack):
    seed(stack, "7")
    stack.hook(amo_add("7"))
    stack.worker.run_once()
    assert stack.hook(amo_responsible("7", 101)).status_code == 200
    stack.worker.run_once()
    kinds = [e.kind for e in read_audit(stack.services.engine, lead_id="7")]
    assert kinds.count("decision") == 1 and kinds[-1] == "echo"


def test_a_redelivered_post_is_acknowledged_and_not_stored_twice(stack):
    body = amo_add("5")
    assert stack.hook(body).json["stored"] == 1
    assert stack.hook(body).json == {"ok": True, "stored": 0, "duplicates": 1}
    with stack.services.engine.connect() as c:
        assert c.execute(select(func.count()).select_from(jobs)).scalar() == 1


def test_a_wrong_secret_is_refused_and_nothing_is_stored(stack):
    assert stack.hook(amo_add("1"), secret="guess").status_code == 403
    assert stored(stack) == 0


def test_a_webhook_from_another_account_is_refused(stack):
    assert stack.hook(amo_add("1", account="999")).status_code == 403
    assert stored(stack) == 0


def test_a_malformed_body_gets_400_with_a_reason_and_is_not_stored(stack):
    response = stack.hook("leads[add][0][id]=abc&account[id]=" + ACCOUNT_ID)
    assert response.status_code == 400 and "id" in response.json["error"]
    assert stack.client.post(f"/hooks/amocrm/{SECRET}", json={"x": 1}).status_code == 400
    assert stored(stack) == 0


def test_an_oversized_body_gets_413(stack):
    response = stack.hook("a=" + "x" * (2 * 1024 * 1024))
    assert response.status_code == 413 and stored(stack) == 0


def test_the_hook_of_the_crm_not_configured_is_not_found(stack):
    assert stack.hook("event=ONCRMLEADADD", crm="bitrix24").status_code == 404
    assert stored(stack) == 0


def test_bitrix24_lead_event_is_verified_stored_and_decided(b24_stack):
    stack = b24_stack
    stack.crm.leads["lead:1000983"] = Lead(id="lead:1000983", created_at=stack.clock(), stage_id="NEW")
    body = urlencode(
        bitrix24_event_payload(
            "ONCRMLEADADD", "1000983", application_token=APP_TOKEN, domain="b24.example.ru", member_id="m1"
        )
    )
    assert stack.hook(body, crm="bitrix24").status_code == 200
    stack.worker.run_once()
    assert stack.crm.owner_of("lead:1000983") == 101
    received = [row for row in read_audit(stack.services.engine) if row.kind == "received"]
    # What happened, named by the adapter in the words every CRM shares (the audit reads it so).
    assert [(row.detail["event"], row.detail["action"]) for row in received] == [("ONCRMLEADADD", "add")]


def test_bitrix24_wrong_application_token_is_refused(b24_stack):
    body = urlencode(
        bitrix24_event_payload(
            "ONCRMLEADADD", "1", application_token="wrong", domain="b24.example.ru", member_id="m1"
        )
    )
    assert b24_stack.hook(body, crm="bitrix24").status_code == 403
    assert stored(b24_stack) == 0


def test_the_secret_never_reaches_logs_or_the_audit(stack, caplog):
    caplog.set_level(logging.DEBUG)
    stack.hook(amo_add("9"))
    stack.hook(amo_add("9"), secret="wrong-" + SECRET)
    stack.worker.run_once()
    assert SECRET not in caplog.text
    for entry in read_audit(stack.services.engine):
        assert SECRET not in entry.message and SECRET not in str(entry.detail)


def test_healthz_reports_the_database_and_the_worker_heartbeat(stack):
    body = stack.client.get("/healthz").json
    assert body["database"] == "ok" and body["worker_heartbeat_age_seconds"] is None
    assert stack.client.get("/healthz?strict=1").status_code == 503
    stack.worker.run_once()
    stack.clock.advance(seconds=5)
    body = stack.client.get("/healthz?strict=1").json
    assert body["status"] == "ok" and body["worker_heartbeat_age_seconds"] == 5.0


def test_metrics_count_received_stored_duplicates_rejected_jobs_and_writes(stack):
    seed(stack, "1")
    stack.hook(amo_add("1"))
    stack.hook(amo_add("1"))
    stack.hook(amo_add("1"), secret="nope")
    stack.worker.run_once()
    text = stack.client.get("/metrics").get_data(as_text=True)
    assert 'leadrouter_webhooks_received_total{crm="amocrm"} 3.0' in text
    assert 'leadrouter_events_stored_total{crm="amocrm"} 1.0' in text
    assert 'leadrouter_events_duplicate_total{crm="amocrm"} 1.0' in text
    assert 'leadrouter_webhooks_rejected_total{crm="amocrm",reason="secret"} 1.0' in text
    assert 'leadrouter_jobs{state="done"} 1.0' in text
    assert 'leadrouter_outbox{state="sent"} 3.0' in text
    assert 'leadrouter_crm_writes_total{kind="responsible",outcome="crm_write"} 1.0' in text
    assert "leadrouter_decision_seconds_count 1.0" in text
