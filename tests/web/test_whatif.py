"""What-if over stored decisions: the worker stores each decision's input; a replay under the config
that ran gives back what happened; another config shows its own differences; retention purges."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import func, select

from adapters.storage.audit import read_audit
from adapters.storage.inputs import read_history
from adapters.storage.tables import decision_inputs, inbox, lead_events
from core.model import Lead
from tests.web.conftest import CONFIG, CRM_EXTRA, make_stack
from tests.web.test_hooks import amo_add, amo_responsible
from webhook_app.config import load_config
from webhook_app.offline.whatif import run_whatif
from webhook_app.pipeline.decision_input import lead_from_json, lead_to_json
from webhook_app.pipeline.operator_actions import pause, resume
from webhook_app.pipeline.retention import purge_now

THREE = CONFIG.replace(
    "  head: {crm_user_id: 100, name: Руководитель}",
    "  sidorova: {crm_user_id: 103, name: Сидорова}\n  head: {crm_user_id: 100, name: Руководитель}",
).replace("members: [ivanova, petrov], strategy: round_robin", "members: [ivanova, petrov, sidorova]")


def stack_with(tmp_path, text: str):
    stack = make_stack(tmp_path)
    path = stack.services.config.path
    path.write_text(text % {"crm": "amocrm", "crm_extra": CRM_EXTRA["amocrm"]}, encoding="utf-8")
    stack.services.config.reload("test")
    return stack


def lead(stack, lead_id: str, *, client: str | None = None) -> None:
    stack.crm.leads[lead_id] = Lead(
        id=lead_id,
        created_at=stack.clock(),
        stage_id="142000",
        name=f"Иван Петров {lead_id}",
        phone="+7 495 123-45-67",
        email=f"client{lead_id}@example.ru",
        city="Москва",
        client_key=client,
        client_owner=None,
    )


def route(stack, *ids: str) -> None:
    assert stack.hook(amo_add(*ids)).status_code == 200
    stack.worker.run_once()


def history_of(stack):
    engine = stack.services.engine
    now = stack.clock()
    return engine, now - timedelta(days=30), now + timedelta(seconds=1)


def run_a_day(stack) -> None:
    """Leads one by one and in one batch, with a pause and a resume in between."""
    policy = stack.services.config.policy()
    engine = stack.services.engine
    for i in range(1, 5):
        lead(stack, f"10{i}")
        route(stack, f"10{i}")
        stack.clock.advance(minutes=7)
    pause(engine, policy, "petrov", until=None, reason="обед", by="test", now=stack.clock())
    for i in range(5, 8):
        lead(stack, f"10{i}")
    route(stack, "105", "106", "107")  # one claim: the batch path decides all three
    stack.clock.advance(minutes=7)
    resume(engine, policy, "petrov", by="test", now=stack.clock())
    for i in range(8, 10):
        lead(stack, f"10{i}")
        route(stack, f"10{i}")
        stack.clock.advance(minutes=3)


def test_every_new_lead_decision_stores_its_input(tmp_path):
    stack = stack_with(tmp_path, THREE)
    run_a_day(stack)
    engine, since, until = history_of(stack)
    stored = list(read_history(engine, since, until))
    assert [s.lead_id for s in stored] == [f"10{i}" for i in range(1, 10)]
    during_pause = stored[5]
    assert list(during_pause.state["paused"]) == ["petrov"]
    assert stored[0].state["paused"] == {} and stored[-1].state["paused"] == {}
    # As it was read, before our write made Иванова its responsible.
    assert lead_from_json(stored[0].lead) == replace(stack.crm.leads["101"], responsible_user_id=None)
    assert stored[3].state["pools"]["sales"]["last"] == stored[2].manager  # the counters before it


def test_a_replay_under_the_config_that_ran_gives_back_what_happened(tmp_path):
    stack = stack_with(tmp_path, THREE)
    run_a_day(stack)
    engine, since, until = history_of(stack)
    policy = stack.services.config.policy()
    result = run_whatif(engine, policy, policy, since, until)
    assert result.leads == 9
    assert result.changed == 0, result.changes
    assert sum(m.received for m in result.actual_fairness[0].members) == 9
    assert [(m.manager, m.received) for m in result.actual_fairness[0].members] == [
        (m.manager, m.received) for m in result.would_fairness[0].members
    ]
    # A period starting mid-way: the pool's counters are seeded from the first stored snapshot.
    later = list(read_history(engine, since, until))[4].decided_at
    result = run_whatif(engine, policy, policy, later, until)
    assert result.leads == 5 and result.changed == 0, result.changes


def test_another_config_shows_the_leads_that_change_owner(tmp_path):
    stack = stack_with(tmp_path, THREE)
    run_a_day(stack)
    engine, since, until = history_of(stack)
    actual = stack.services.config.policy()
    new_text = (THREE % {"crm": "amocrm", "crm_extra": CRM_EXTRA["amocrm"]}).replace(
        "members: [ivanova, petrov, sidorova]", "members: [ivanova, petrov]"
    )
    new_path = tmp_path / "new.yaml"
    new_path.write_text(new_text, encoding="utf-8")
    new = load_config(new_path).policy
    progress: list[tuple[int, int]] = []
    result = run_whatif(engine, new, actual, since, until, on_progress=lambda d, t: progress.append((d, t)))
    sidorova = [c for c in result.changes if c.actual == "sidorova"]
    assert sidorova and all(c.would in ("ivanova", "petrov") for c in sidorova)
    assert result.changed == len(result.changes) >= len(sidorova)
    assert progress[0] == (0, 9) and progress[-1] == (9, 9)
    would = {m.manager: m.received for m in result.would_fairness[0].members}
    assert "sidorova" not in would and sum(would.values()) == 9
    # Petrov was paused for the batch: the replay honours the pause as it was stored.
    batch = {c.lead_id: c.would for c in result.changes if c.lead_id in ("105", "106", "107")}
    assert "petrov" not in batch.values()
    hits = {r.rule: (r.actual, r.would) for r in result.rules}
    assert hits["default"] == (9, 9)


def test_retention_blanks_personal_data_then_deletes_old_inputs_and_updates(tmp_path):
    stack = stack_with(tmp_path, THREE + "retention: {personal_data_days: 2, decision_inputs_days: 5}\n")
    run_a_day(stack)
    engine = stack.services.engine
    loaded = stack.services.config.current
    assert stack.hook(amo_responsible("101", 103)).status_code == 200  # an update told: kept for what-if
    stack.worker.run_once()

    stack.clock.advance(days=1)
    assert purge_now(engine, loaded, stack.clock()).inputs_blanked == 0
    stack.clock.advance(days=2)
    done = purge_now(engine, loaded, stack.clock())
    assert done.inputs_blanked == 9 and done.webhooks_blanked >= 1 and done.inputs_deleted == 0
    assert (done.events_blanked, done.events_deleted) == (1, 0)
    line = read_audit(engine, kinds=("retention",))[-1].message
    assert "personal data blanked in 9 inputs, 1 lead events and" in line
    with engine.connect() as connection:
        leads = connection.execute(select(decision_inputs.c.lead)).scalars().all()
        bodies = connection.execute(select(inbox.c.payload)).scalars().all()
    assert all(row["phone"] is None and row["email"] is None and row["name"] == "" for row in leads)
    assert all(row["city"] == "Москва" for row in leads)  # what rules read stays
    assert bodies and all(body == {} for body in bodies)
    assert "Петров" not in repr(leads) + repr(bodies)
    # Still replayable, and the run says so.
    _, since, until = history_of(stack)
    policy = stack.services.config.policy()
    result = run_whatif(engine, policy, policy, since - timedelta(days=5), until)
    assert result.leads == 9 and result.purged == 9

    stack.clock.advance(days=3)
    done = purge_now(engine, loaded, stack.clock())
    assert (done.inputs_deleted, done.events_deleted) == (9, 1)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(decision_inputs)).scalar() == 0
        assert connection.execute(select(func.count()).select_from(lead_events)).scalar() == 0
    line = read_audit(engine, kinds=("retention",))[-1].message
    assert line.startswith("retention: 9 decision inputs and 1 lead events deleted")


def test_a_lead_round_trips_through_json():
    from datetime import UTC, datetime

    original = Lead(
        id="7",
        created_at=datetime(2026, 11, 2, 9, 30, tzinfo=UTC),
        tags=("опт", "сайт"),
        utm={"source": "yandex"},
        fields={"Тип клиента": "Дилер", "Регионы": ("Казань", "Уфа")},
        client_last_seen=datetime(2026, 10, 1, tzinfo=UTC),
        price=150000.0,
    )
    back = lead_from_json(lead_to_json(original))
    assert back.created_at == original.created_at and back.tags == original.tags
    assert back.fields["Регионы"] == ["Казань", "Уфа"] and back.client_last_seen == original.client_last_seen


def test_simulate_from_history_compare_prints_the_changes_and_the_split(tmp_path, monkeypatch, capsys):
    import json

    from webhook_app.cli.main import main

    stack = stack_with(tmp_path, THREE)
    run_a_day(stack)
    monkeypatch.setenv("LEADROUTER_DATABASE_URL", str(stack.services.settings.database_url))

    def later():
        return stack.clock() + timedelta(minutes=1)

    two = tmp_path / "two.yaml"
    two.write_text(
        stack.services.config.path.read_text(encoding="utf-8").replace(
            "members: [ivanova, petrov, sidorova]", "members: [ivanova, petrov]"
        ),
        encoding="utf-8",
    )
    assert (
        main(
            ["simulate", "--config", str(two), "--from-history", "7d", "--compare", "--format", "json"],
            clock=later,
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["leads"] == 9 and data["changed"] >= 3
    assert {c["actual"] for c in data["changes"]} >= {"sidorova"}
    assert (
        main(
            ["simulate", "--config", str(two), "--from-history", "7d", "--compare", "--language", "en"],
            clock=later,
        )
        == 0
    )
    text = capsys.readouterr().out
    assert text.startswith("What-if: 9 leads from ") and "Сидорова" in text and "Rule hits" in text
    # The config that ran gives back what happened; without --compare each replayed lead is printed.
    same = str(stack.services.config.path)
    assert (
        main(
            ["simulate", "--config", same, "--from-history", "7d", "--compare", "--format", "json"],
            clock=later,
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["changed"] == 0
    assert main(["simulate", "--config", same, "--from-history", "7d", "--format", "json"], clock=later) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [x["lead"] for x in lines if x["type"] == "decision"] == [f"10{i}" for i in range(1, 10)]
    assert main(["simulate", "--config", same, "--from-history", "soon"], clock=later) == 1
    assert "«soon» — ни вида 24h / 7d, ни дата-время ISO" in capsys.readouterr().err
    assert main(["simulate", "--config", same, "--leads", "x.csv", "--compare"], clock=later) == 2


ADMIN = "adm-T0ken-whatif"
BEARER = {"Authorization": f"Bearer {ADMIN}"}


def admin_stack(tmp_path):
    stack = make_stack(tmp_path, admin_token=ADMIN)
    stack.services.config.path.write_text(
        THREE % {"crm": "amocrm", "crm_extra": CRM_EXTRA["amocrm"]}, "utf-8"
    )
    stack.services.config.reload("test")
    run_a_day(stack)
    return stack


def two_managers(stack) -> str:
    return stack.services.config.path.read_text(encoding="utf-8").replace(
        "members: [ivanova, petrov, sidorova]", "members: [ivanova, petrov]"
    )


def test_the_whatif_api_runs_a_replay_and_answers_by_its_schema(tmp_path):
    import jsonschema

    from webhook_app.web.admin.openapi import document

    stack = admin_stack(tmp_path)
    client = stack.client
    response = client.post(
        "/api/v1/whatif", json={"days": 7, "yaml": two_managers(stack), "wait": True}, headers=BEARER
    )
    assert response.status_code == 200, response.json
    run = response.json
    spec = document()["paths"]["/api/v1/whatif"]["post"]["responses"]["200"]
    jsonschema.validate(run, spec["content"]["application/json"]["schema"])
    assert run["state"] == "done" and run["done"] == run["total"] == 9
    assert run["result"]["leads"] == 9 and "sidorova" in {c["actual"] for c in run["result"]["changes"]}
    again = client.get(f"/api/v1/whatif/{run['id']}", headers=BEARER)
    assert again.status_code == 200 and again.json["result"] == run["result"]
    listed = client.get("/api/v1/whatif", headers=BEARER).json["runs"]
    assert [r["id"] for r in listed] == [run["id"]] and "result" not in listed[0]
    # The running config by default: what really happened.
    same = client.post("/api/v1/whatif", json={"days": 7, "wait": True}, headers=BEARER).json
    assert same["result"]["changed"] == 0 and same["config"].endswith("config.yaml")


def test_the_whatif_api_refuses_bad_input_with_reasons(tmp_path):
    stack = admin_stack(tmp_path)
    client = stack.client
    assert client.post("/api/v1/whatif", json={"days": 7}).status_code == 401
    for days in (0, 401, "soon", True, 2.5):
        response = client.post("/api/v1/whatif", json={"days": days}, headers=BEARER)
        assert response.status_code == 400 and "days" in response.json["error"], days
    broken = two_managers(stack).replace("pool: sales", "pool: salez")
    response = client.post("/api/v1/whatif", json={"yaml": broken, "name": "new.yaml"}, headers=BEARER)
    assert response.status_code == 422
    assert response.json["errors"][0].startswith("new.yaml:") and "salez" in response.json["errors"][0]
    assert client.get("/api/v1/whatif/nope", headers=BEARER).status_code == 404
    # One run at a time: a second start while one runs is refused, not queued behind the leads.
    from webhook_app.web.admin.whatif_runs import _save

    _save(stack.services.engine, "busy1", {"id": "busy1", "state": "running", "done": 0}, stack.clock())
    response = client.post("/api/v1/whatif", json={"days": 7}, headers=BEARER)
    assert response.status_code == 409 and "already running" in response.json["error"]
    stack.clock.advance(minutes=2)  # its process died: shown as lost, and no longer blocks
    assert client.get("/api/v1/whatif/busy1", headers=BEARER).json["state"] == "lost"
    assert client.post("/api/v1/whatif", json={"days": 7, "wait": True}, headers=BEARER).status_code == 200


def test_the_whatif_page_runs_an_edited_config_and_shows_the_changed_owners(tmp_path):
    import re
    import time

    stack = admin_stack(tmp_path)
    client = stack.client
    assert client.post("/admin/login", data={"token": ADMIN}).status_code == 302
    page = client.get("/admin/whatif").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    assert "sidorova" in page  # the running config, ready to edit
    form = {"csrf": csrf, "config": "edited", "days": "7", "yaml": two_managers(stack)}
    assert client.post("/admin/whatif", data={**form, "csrf": "forged"}).status_code in (400, 403)
    response = client.post("/admin/whatif", data=form)
    assert response.status_code == 302
    url = response.headers["Location"]
    deadline = time.monotonic() + 30
    while 'http-equiv="refresh"' in (body := client.get(url).get_data(as_text=True)):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert "Лидов: 9; сменили бы ответственного:" in body
    changes = body[body.index('id="changes"') : body.index("</table>", body.index('id="changes"'))]
    assert "Сидорова" in changes and "Петров" in changes + "Иванова"
    # A broken edit is named by line, and nothing starts.
    broken = {**form, "yaml": two_managers(stack).replace("pool: sales", "pool: [")}
    response = client.post("/admin/whatif", data=broken)
    assert response.status_code == 422 and "edited.yaml:" in response.get_data(as_text=True)


def test_only_the_latest_runs_are_kept_and_never_the_one_starting(tmp_path):
    from webhook_app.web.admin import whatif_runs

    stack = make_stack(tmp_path)
    engine, now = stack.services.engine, stack.clock()  # one moment for all: the order cannot tell them apart
    for n in range(25):
        whatif_runs._save(engine, f"r{n:02d}", {"id": f"r{n:02d}", "state": "done"}, now, prune=True)
    kept = [r["id"] for r in whatif_runs.recent(engine, now)]
    assert len(kept) == whatif_runs.KEEP and "r24" in kept
