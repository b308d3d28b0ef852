"""The emulator's loss reasons as amoCRM keeps them (amocrm.md §2.2, §2.3, §4, §6): every lead has a
`loss_reason_id`, `with=loss_reason` embeds the reason only when asked, the account lists its
reasons, and a reason is refused on a lead that is not lost."""

from __future__ import annotations

from tests.adapters.amocrm.test_emulator import call

LOST, TALKS = 143, 50288840


def test_the_account_lists_its_loss_reasons(emu):
    answer = call(emu, "GET", "/api/v4/leads/loss_reasons", emu.admin_token())
    assert answer.status_code == 200
    reasons = answer.json()["_embedded"]["loss_reasons"]
    assert [r["name"] for r in reasons] == ["Дубль", "Спам", "Не целевой", "Дорого", "Выбрали конкурента"]
    assert all({"id", "sort", "created_at", "updated_at"} <= set(r) for r in reasons)
    one = call(emu, "GET", f"/api/v4/leads/loss_reasons/{reasons[1]['id']}", emu.admin_token())
    assert one.json()["name"] == "Спам"


def test_the_reason_is_embedded_only_when_asked_for(emu):
    lead = emu.create_lead()
    emu.person_moves(lead.id, LOST, loss_reason="Спам")
    spam = emu.account.loss_reason_by_name("Спам").id
    token = emu.admin_token()
    plain = call(emu, "GET", f"/api/v4/leads/{lead.id}", token).json()
    assert plain["loss_reason_id"] == spam and "loss_reason" not in plain["_embedded"]
    asked = call(emu, "GET", f"/api/v4/leads/{lead.id}?with=contacts,loss_reason", token).json()
    assert [(r["id"], r["name"]) for r in asked["_embedded"]["loss_reason"]] == [(spam, "Спам")]
    assert "contacts" in asked["_embedded"]
    listed = call(emu, "GET", f"/api/v4/leads?filter[id][]={lead.id}&with=loss_reason", token).json()
    assert listed["_embedded"]["leads"][0]["_embedded"]["loss_reason"][0]["name"] == "Спам"
    open_ = call(emu, "GET", f"/api/v4/leads/{emu.create_lead().id}?with=loss_reason", token).json()
    assert open_["loss_reason_id"] is None and "loss_reason" not in open_["_embedded"]


def test_a_reason_is_taken_only_for_a_lead_lost_by_the_same_change(emu):
    token, lead = emu.admin_token(), emu.create_lead()
    spam = emu.account.loss_reason_by_name("Спам").id
    refused = call(emu, "PATCH", "/api/v4/leads", token, json=[{"id": lead.id, "loss_reason_id": spam}])
    assert refused.status_code == 400
    assert refused.json()["errors"] == {str(lead.id): "Loss reason can be specified only for lost lead"}
    assert emu.account.leads[lead.id].loss_reason_id is None
    unknown = [{"id": lead.id, "status_id": LOST, "loss_reason_id": 1}]
    answer = call(emu, "PATCH", "/api/v4/leads", token, json=unknown)
    assert answer.status_code == 400
    assert answer.json()["validation-errors"][0]["errors"][0]["path"] == "loss_reason_id"
    closing = [{"id": lead.id, "status_id": LOST, "pipeline_id": 5723341, "loss_reason_id": spam}]
    assert call(emu, "PATCH", "/api/v4/leads", token, json=closing).status_code == 200
    assert emu.account.leads[lead.id].loss_reason_id == spam
    emu.person_moves(lead.id, TALKS)  # reopened: the reason goes with the loss
    assert emu.account.leads[lead.id].loss_reason_id is None


def test_an_admin_can_add_a_reason_and_a_person_closes_with_it(emu):
    with emu.account.lock:
        emu.account.add_loss_reason("Нет бюджета")
    lead = emu.create_lead()
    emu.person_moves(lead.id, LOST, by=504141, loss_reason="Нет бюджета")
    reasons = call(emu, "GET", "/api/v4/leads/loss_reasons", emu.admin_token()).json()["_embedded"]
    assert reasons["loss_reasons"][-1]["name"] == "Нет бюджета"
    assert emu.account.loss_reasons[emu.account.leads[lead.id].loss_reason_id].name == "Нет бюджета"


def test_the_hooks_of_a_loss_carry_the_reasons_id(emu, catcher):
    emu.subscribe(catcher.url, ["status_lead", "update_lead"])
    lead = emu.create_lead()
    emu.person_moves(lead.id, LOST, by=504141, loss_reason="Дубль")
    assert emu.hooks.wait()
    reason = str(emu.account.loss_reason_by_name("Дубль").id)
    pairs = [pair for _, posted in catcher.received for pair in posted]
    sent = {value for key, value in pairs if key.endswith("[loss_reason_id]")}
    assert sent == {reason}  # amocrm.md §1.3 lists it among the lead's fields
