"""The what-if runner and the `simulate` command, on small policies and on the shipped examples."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from core.decision import Outcome, Route
from core.model import NobodyAvailable
from core.policy import Continuity
from tests.builders import MSK, NOON, lead, manager, policy, pool, weekdays
from webhook_app.cli.main import main
from webhook_app.offline.simulate import MAX_ATTEMPTS, Simulation
from webhook_app.textwidth import width

ROOT = Path(__file__).resolve().parents[2]
CONFIG = str(ROOT / "config.example.yaml")
LEADS = str(ROOT / "examples" / "leads.csv")
NIGHT = datetime(2026, 12, 2, 3, 0, tzinfo=MSK)  # a Wednesday, 03:00 in Moscow


def office_policy(**kw):
    people = [manager("a", 1, schedule=weekdays()), manager("b", 2, schedule=weekdays())]
    return policy(people, [pool("p", ["a", "b"])], **kw)


def test_every_lead_gets_a_decision_and_the_pool_rotates():
    results = list(
        Simulation(office_policy()).run([lead(str(i), NOON + timedelta(minutes=i)) for i in range(4)])
    )
    assert [r.decision.assignee for r in results] == ["a", "b", "a", "b"]


def test_a_night_lead_waits_for_the_shift_and_is_decided_before_later_leads():
    leads = [lead("night", NIGHT), lead("morning", NIGHT.replace(hour=10))]
    results = list(Simulation(office_policy()).run(leads))
    assert [r.lead.id for r in results] == ["night", "morning"]
    night = results[0].decision
    assert night.outcome is Outcome.ASSIGN and night.decided_at == NIGHT.replace(hour=9)


def test_a_lead_that_waits_goes_before_a_new_lead_arriving_exactly_at_shift_start():
    leads = [lead("night", NIGHT), lead("nine", NIGHT.replace(hour=9))]
    results = list(Simulation(office_policy()).run(leads))
    assert [(r.lead.id, r.decision.assignee) for r in results] == [("night", "a"), ("nine", "b")]


def test_leads_still_waiting_after_the_file_ends_are_decided_at_their_shift():
    simulation = Simulation(office_policy())
    (result,) = simulation.run([lead("night", NIGHT)])
    assert result.decision.decided_at == NIGHT.replace(hour=9) and simulation.waited == 1


def test_a_lead_nobody_will_ever_take_is_reported_as_waiting_instead_of_looping_forever():
    people = [manager("a", 1, active=False)]
    simulation = Simulation(policy(people, [pool("p", ["a"])]))
    (result,) = simulation.run([lead("1")])
    assert result.decision.outcome is Outcome.WAIT
    assert simulation.routes["wait"] == 1 and MAX_ATTEMPTS > 1


def test_a_repeat_client_goes_back_to_the_manager_who_got_them_first():
    simulation = Simulation(office_policy(continuity=Continuity(enabled=True)))
    leads = [lead("1", NOON, client_key="c1"), lead("2", NOON.replace(minute=5), client_key="c1")]
    first, second = simulation.run(leads)
    assert first.decision.assignee == second.decision.assignee == "a"
    assert second.decision.route is Route.CONTINUITY


def test_continuity_ends_after_the_window_like_in_production():
    simulation = Simulation(office_policy(continuity=Continuity(enabled=True, within_days=1)))
    leads = [lead("1", NOON, client_key="c1"), lead("2", NOON + timedelta(days=2), client_key="c1")]
    assert [r.decision.route for r in simulation.run(leads)] == [Route.POOL, Route.POOL]


def test_our_own_record_of_the_client_wins_over_an_owner_given_in_the_file():
    simulation = Simulation(office_policy(continuity=Continuity(enabled=True)))
    leads = [
        lead("1", NOON, client_key="c1"),
        lead("2", NOON.replace(minute=5), client_key="c1", client_owner=2),
    ]
    assert [r.decision.assignee for r in simulation.run(leads)] == ["a", "a"]


def test_an_owner_given_in_the_file_counts_while_the_run_knows_no_other():
    simulation = Simulation(office_policy(continuity=Continuity(enabled=True)))
    leads = [
        lead("1", NOON, client_key="c1", client_owner=2),
        lead("2", NOON.replace(minute=5), client_key="c1"),
    ]
    assert [r.decision.assignee for r in simulation.run(leads)] == ["b", "b"]


def test_leads_parked_on_a_head_by_a_manual_pool_do_not_make_the_head_the_clients_manager():
    people = [manager("a", 1), manager("head", 9)]
    rules_policy = policy(
        people, [pool("p", ["a"], "manual", head="head")], continuity=Continuity(enabled=True)
    )
    leads = [lead("1", NOON, client_key="c1"), lead("2", NOON.replace(minute=5), client_key="c1")]
    assert [r.decision.route for r in Simulation(rules_policy).run(leads)] == [Route.POOL, Route.POOL]


def test_daily_caps_count_within_the_run_and_overflow_goes_to_the_fallback():
    people = [manager("a", 1, max_per_day=1), manager("head", 9)]
    capped = policy(
        people,
        [pool("p", ["a"])],
        head_of_sales="head",
        nobody_available=NobodyAvailable(wait_for_shift=False),
    )
    results = list(Simulation(capped).run([lead("1"), lead("2", NOON.replace(minute=1))]))
    assert [(r.decision.assignee, r.decision.route) for r in results] == [
        ("a", Route.POOL),
        ("head", Route.FALLBACK),
    ]


def test_the_fairness_tracker_sees_every_pool_decision():
    simulation = Simulation(office_policy())
    list(simulation.run([lead(str(i), NOON + timedelta(minutes=i)) for i in range(3)]))
    (report,) = simulation.fairness.report()
    assert report.leads == 3 and [m.received for m in report.members] == [2, 1]


def test_the_example_config_and_leads_print_a_table_with_a_fairness_summary(capsys):
    assert main(["simulate", "--config", CONFIG, "--leads", LEADS]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:3] == ["Время", "Лид", "Ответственный"]
    assert len([line for line in out if line[:2].isdigit()]) == 300
    assert out[-1].startswith("Итого лидов: 300")
    assert any(line.startswith("Пул «shared» (по весам): лидов") for line in out)


def test_json_output_has_a_decision_per_lead_then_members_and_pools(capsys):
    assert (
        main(["simulate", "--config", CONFIG, "--leads", LEADS, "--format", "json", "--language", "en"]) == 0
    )
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    decisions = [r for r in records if r["type"] == "decision"]
    assert len(decisions) == 300 and all(r["outcome"] == "assign" for r in decisions)
    assert {"lead", "created_at", "decided_at", "assignee", "crm_user_id", "reason", "skipped"} <= set(
        decisions[0]
    )
    assert "chosen:" in decisions[0]["reason"]
    pools = [r for r in records if r["type"] == "pool"]
    assert sum(r["leads"] for r in pools) == sum(1 for r in decisions if r["route"] == "pool")
    assert records.index(pools[0]) > records.index(decisions[-1])


def test_csv_output_separates_decisions_and_fairness_with_an_empty_line(capsys):
    assert main(["simulate", "--config", CONFIG, "--leads", LEADS, "--format", "csv"]) == 0
    decisions, fairness = capsys.readouterr().out.split("\n\n")
    assert decisions.splitlines()[0].startswith("created_at,decided_at,lead,outcome,assignee")
    assert len(decisions.splitlines()) == 301
    assert fairness.splitlines()[0].startswith("pool,strategy,manager,name,weight,received,target")


def test_no_leads_prints_only_the_fairness_summary(capsys):
    assert main(["simulate", "--config", CONFIG, "--leads", LEADS, "--no-leads", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("pool,strategy,manager") and "\n\n" not in out


def test_a_bad_row_exits_1_with_one_line_naming_the_file_and_line(tmp_path, capsys):
    leads = tmp_path / "bad.csv"
    leads.write_text("created_at,price\n2026-07-01T10:00,100\n2026-07-01T11:00,много\n", encoding="utf-8")
    assert main(["simulate", "--config", CONFIG, "--leads", str(leads)]) == 1
    err = capsys.readouterr().err
    assert err == f"leadrouter simulate: {leads}:3: price «много» — не число\n"


def test_a_missing_leads_file_exits_1_without_a_traceback(tmp_path, capsys):
    assert main(["simulate", "--config", CONFIG, "--leads", str(tmp_path / "none.csv")]) == 1
    err = capsys.readouterr().err
    assert "none.csv: не открывается" in err and "Traceback" not in err and err.count("\n") == 1


def test_a_broken_config_prints_its_problems_like_check_config(tmp_path, capsys):
    config = tmp_path / "broken.yaml"
    config.write_text("managers: {}\n", encoding="utf-8")
    assert main(["simulate", "--config", str(config), "--leads", LEADS]) == 1
    err = capsys.readouterr().err
    assert err and all(line.startswith(f"{config}:") for line in err.splitlines())


def test_without_a_config_the_command_says_how_to_give_one(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("LEADROUTER_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    with pytest.raises(SystemExit) as exc:
        main(["simulate", "--leads", LEADS])
    assert exc.value.code == 2 and "LEADROUTER_CONFIG" in capsys.readouterr().err


def test_an_unsorted_file_is_simulated_in_time_order_with_a_note_on_stderr(tmp_path, capsys):
    leads = tmp_path / "unsorted.csv"
    leads.write_text("id,created_at\nlate,2026-07-01T12:00\nearly,2026-07-01T11:00\n", encoding="utf-8")
    assert main(["simulate", "--config", CONFIG, "--leads", str(leads), "--format", "json"]) == 0
    captured = capsys.readouterr()
    ids = [json.loads(line)["lead"] for line in captured.out.splitlines() if '"decision"' in line]
    assert ids == ["early", "late"] and "not in time order" in captured.err


def _table(policy_, rows: str, tmp_path) -> list[str]:
    import io

    from webhook_app.cli.simulate import simulate_file

    path = tmp_path / "leads.csv"
    path.write_text("id,created_at,source\n" + rows, encoding="utf-8")
    out = io.StringIO()
    simulate_file(policy_, path, out)
    return out.getvalue().splitlines()


def test_the_table_lines_up_with_short_names_and_names_typed_with_combining_accents(tmp_path):
    # Issue 18: with names shorter than «Ответственный» the reason column slid left of its heading.
    # «Ли» typed as «Л» + «и» + a combining breve (й) is two columns wide, not three code points.
    people = [manager("a", 1, name="Ли\u0306"), manager("b", 2, name="Бо")]
    lines = _table(
        policy(people, [pool("p", ["a", "b"])]), "1,2026-12-02T10:00,site\n2,2026-12-02T10:01,x\n", tmp_path
    )
    head, first, second = lines[:3]

    def at(line: str, word: str) -> int:  # the terminal column `word` starts at
        return width(line[: line.index(word)])

    assert at(first, "правило") == at(second, "правило") == at(head, "Причина")
    assert at(first, "default") == at(second, "default") == at(head, "Правило")
    assert "Ли\u0306" in first and len("Ли\u0306") == 3  # three code points, two columns


def test_a_bad_row_is_the_only_thing_printed_even_after_good_rows(tmp_path, capsys):
    # Issue 18: the table's heading (and the rows before it) printed before a lead-file error.
    path = tmp_path / "leads.csv"
    path.write_text(
        "event,id,created_at,at,stage\n"
        "created,1,2026-12-02T10:00,,Новый\n"
        "stage,2,,2026-12-02T10:05,В работе\n",
        encoding="utf-8",
    )
    assert main(["simulate", "--config", CONFIG, "--leads", str(path)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"leadrouter simulate: {path}:3: "
        "строка stage для лида «2», которого раньше нет ни в одной строке created\n"
    )
