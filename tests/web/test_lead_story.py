"""A lead's story, page and API: a lead that went to a substitute while its owner was away, came back
to her on her first working morning, and was then given to someone else by the head — each step
with names and Moscow times; an unknown lead is a 404 on both."""

from __future__ import annotations

from dataclasses import replace
from zoneinfo import ZoneInfo

from core.model import Lead
from tests.web.conftest import CONFIG, CRM_EXTRA, make_stack
from tests.web.test_hooks import amo_add, amo_responsible

TOKEN = "adm-St0ry-Token-9x"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
MSK = ZoneInfo("Europe/Moscow")
AWAY = (
    CONFIG.replace(
        "  ivanova: {crm_user_id: 101, name: Иванова}",
        "  ivanova:\n    crm_user_id: 101\n    name: Иванова Мария\n"
        "    absences: [{from: 2026-11-30, to: 2026-12-04, substitute: petrov}]",
    ).replace(
        "  sales: {members: [ivanova, petrov], strategy: round_robin}",
        "  sales: {members: [ivanova, petrov], strategy: round_robin, return_after_absence: true}",
    )
    + "continuity: {enabled: true, within_days: 365}\n"
)


def stack_away(tmp_path):
    stack = make_stack(tmp_path, admin_token=TOKEN)
    text = AWAY % {"crm": "amocrm", "crm_extra": CRM_EXTRA["amocrm"]}
    stack.services.config.path.write_text(text, "utf-8")
    stack.services.config.reload("test")
    return stack


def test_a_substitute_the_return_and_the_heads_change_are_one_story_in_order(tmp_path):
    stack = stack_away(tmp_path)
    arrived = stack.clock().astimezone(MSK)
    # A repeat client of Иванова's, who is away: Петров stands in.
    stack.crm.leads["1"] = Lead(
        id="1", created_at=stack.clock(), stage_id="142000", client_key="amocrm:contact:7", client_owner=101
    )
    assert stack.hook(amo_add("1")).status_code == 200
    stack.worker.run_once()
    assert stack.crm.owner_of("1") == 102
    stack.clock.now = stack.clock.now.replace(day=7, hour=9, minute=0)  # Monday 09:00 in Moscow
    while stack.worker.run_once():
        pass
    assert stack.crm.owner_of("1") == 101  # back to her
    stack.clock.advance(minutes=30)
    stack.crm.leads["1"] = replace(stack.crm.leads["1"], responsible_user_id=102)
    changed = int(stack.clock().timestamp())
    assert stack.hook(amo_responsible("1", 102, modified=changed)).status_code == 200
    stack.worker.run_once()

    story = stack.client.get("/api/v1/leads/1", headers=BEARER).json
    events = [(e["kind"], e["title"], e.get("name")) for e in story["events"]]
    kinds = [kind for kind, _, _ in events]
    assert kinds[:2] == ["received", "decision"], events
    assert kinds.index("decision") < kinds.index("return") < kinds.index("override"), events
    decided = story["events"][1]
    assert decided["name"] == "Петров" and "замещает" in decided["text"]
    assert [w["state"] for w in decided["writes"]] == ["sent", "sent", "sent"]
    returned = next(e for e in story["events"] if e["kind"] == "return")
    assert returned["title"] == "Возврат после отсутствия" and returned["name"] == "Иванова Мария"
    override = next(e for e in story["events"] if e["kind"] == "override")
    assert override["title"] == "Ответственного сменил человек"
    assert override["text"] == "новый ответственный: Петров; было у: Иванова Мария"
    assert story["owner_name"] == "Петров"

    page = stack.client.get("/admin/leads/1", headers=BEARER).get_data(as_text=True)
    assert "История лида 1" in page and f"{arrived:%Y-%m-%d %H:%M}" in page
    assert "2026-12-07 09:00" in page  # the return, in Moscow time
    assert (
        page.index("Распределён")
        < page.index("Возврат после отсутствия")
        < page.index("Ответственного сменил человек")
    )
    for key in ("ivanova", "petrov"):  # names, never config keys, on the page
        assert f">{key}<" not in page and f" {key} " not in page


def test_a_lead_nothing_is_known_about_is_a_404_on_the_page_and_in_the_api(tmp_path):
    stack = make_stack(tmp_path, admin_token=TOKEN)
    assert stack.client.get("/api/v1/leads/404404", headers=BEARER).status_code == 404
    answer = stack.client.get("/admin/leads/404404", headers=BEARER)
    assert answer.status_code == 404 and "О лиде 404404 ничего не записано" in answer.get_data(as_text=True)
