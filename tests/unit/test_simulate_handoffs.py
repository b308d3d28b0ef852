"""`simulate` over files with stage rows: the core's handoffs, in time order, with a summary."""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from core.conditions import Equals
from core.model import Absence, StageRef, Target, TargetKind
from core.policy import Continuity, Handoff
from tests.builders import date, manager, policy, pool, weekdays
from webhook_app.cli.main import main
from webhook_app.cli.simulate import simulate_file
from webhook_app.config import load_config

ROOT = Path(__file__).resolve().parents[2]
CONFIG = str(ROOT / "config.example.yaml")
EXAMPLE = ROOT / "examples" / "stage-events.csv"
HEADER = "event,id,created_at,at,pipeline,stage,tags,owner\n"

QUALIFIED = Handoff("qualified", to="sales", on_stage=StageRef("Квалифицирован", "Продажи"))
SIGNED = Handoff(
    "contract-signed",
    to="farmers",
    on_stage=StageRef("Договор подписан"),
    unless=Equals("tags", ["VIP"]),
    never_move=frozenset({"head"}),
)
MONTH = Handoff("first-month", to="farmers", after_days=30, in_stage=StageRef("Успешно"))
SLA = Handoff(
    "sla", to="next_in_pool", unworked_minutes=15, max_hops=2, then=Target(TargetKind.MANAGER, "head")
)


def company(*handoffs: Handoff, **kw: object):
    """Callers, three salespeople on office hours, a farmer and a head; leads go to the callers."""
    people = [
        manager("caller", 1, name="Оператор", schedule=weekdays()),
        manager("ivanov", 2, name="Иванов", schedule=weekdays()),
        manager("petrov", 3, name="Петров", schedule=weekdays()),
        manager("sidorov", 4, name="Сидоров", schedule=weekdays()),
        manager("farmer", 5, name="Фермер", schedule=weekdays()),
        manager("head", 9, name="Руководитель", schedule=weekdays()),
    ]
    pools = [
        pool("calls", ["caller"]),
        pool("sales", ["ivanov", "petrov", "sidorov"], **kw.pop("sales", {})),
        pool("farmers", ["farmer"]),
    ]
    return policy(people, pools, handoffs=handoffs, head_of_sales="head", **kw)


def run(tmp_path, p, rows: str, *, name: str = "leads.csv", **options):
    """Simulate a CSV (header HEADER) and return its JSON lines, grouped by type."""
    path = tmp_path / name
    path.write_text(HEADER + rows, encoding="utf-8")
    out = io.StringIO()
    simulate_file(p, path, out, output="json", **options)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    grouped: dict[str, list[dict]] = {}
    for line in lines:
        grouped.setdefault(line["type"], []).append(line)
    return grouped


def handoffs(result) -> list[tuple[str, str, str, str | None, str | None]]:
    return [(h["lead"], h["handoff"], h["outcome"], h["from"], h["to"]) for h in result.get("handoff", [])]


def summary(result) -> dict[str, dict]:
    return {row["handoff"]: row for row in result["handoff_summary"]}


# 2 December 2026 is a Wednesday; everyone works 09-18.
def test_entering_a_stage_hands_the_deal_over_and_staying_in_it_does_not(tmp_path):
    rows = (
        "created,1,2026-12-02T10:00,,Продажи,Новый,,\n"
        "stage,1,,2026-12-02T11:00,,Договор подписан,,\n"
        "stage,1,,2026-12-02T12:00,,Договор подписан,,\n"  # staying there
    )
    result = run(tmp_path, company(SIGNED), rows)
    assert handoffs(result) == [("1", "contract-signed", "handed", "caller", "farmer")]
    assert summary(result)["contract-signed"]["handed"] == 1
    assert [p["handovers"] for p in result["handoff_pair"]] == [1]


def test_a_role_chain_hands_the_deal_on_at_each_step(tmp_path):
    rows = (
        "created,1,2026-12-02T10:00,,Продажи,Новый,,\n"
        "stage,1,,2026-12-02T10:30,,Квалифицирован,,\n"
        "stage,1,,2026-12-03T15:00,,Договор подписан,,\n"
    )
    result = run(tmp_path, company(QUALIFIED, SIGNED), rows)
    assert handoffs(result) == [
        ("1", "qualified", "handed", "caller", "ivanov"),
        ("1", "contract-signed", "handed", "ivanov", "farmer"),
    ]
    assert "передача «qualified» от Оператор" in result["handoff"][0]["reason"]


def test_a_stage_of_another_pipeline_does_not_trigger_a_handoff_bound_to_one(tmp_path):
    rows = "created,1,2026-12-02T10:00,,Сервис,Новый,,\nstage,1,,2026-12-02T10:30,,Квалифицирован,,\n"
    assert handoffs(run(tmp_path, company(QUALIFIED), rows)) == []


def test_after_n_days_in_the_stage_the_deal_goes_unless_it_left_the_stage(tmp_path):
    rows = (
        "created,1,2026-12-01T10:00,,Продажи,Новый,,\n"
        "created,2,2026-12-01T10:05,,Продажи,Новый,,\n"
        "stage,1,,2026-12-02T10:00,,Успешно,,\n"
        "stage,2,,2026-12-02T10:00,,Успешно,,\n"
        "stage,2,,2026-12-20T10:00,,Возврат,,\n"  # left the stage: its clock is cancelled
        "created,3,2027-01-05T10:00,,Продажи,Новый,,\n"  # the file goes past both clocks
    )
    result = run(tmp_path, company(MONTH), rows)
    assert handoffs(result) == [
        ("1", "first-month", "handed", "caller", "farmer"),
        ("2", "first-month", "cancelled", "caller", None),
    ]
    assert result["handoff"][0]["at"].startswith("2027-01-01T10:00")
    assert "уже не на этапе «Успешно»" in result["handoff"][1]["reason"]


def test_an_unworked_lead_goes_to_the_next_member_never_back_and_after_k_hops_to_the_head(tmp_path):
    # A file with stage rows is a stage history: lead 1 never moves, lead 2 moves in time.
    rows = (
        "created,1,2026-12-02T10:00,,,Новый,,\n"
        "created,2,2026-12-02T12:00,,,Новый,,\n"
        "stage,2,,2026-12-02T12:05,,В работе,,\n"
    )
    p = company(SLA)
    p = replace(p, rules=(replace(p.rules[0], pool="sales"),))
    result = run(tmp_path, p, rows)
    assert handoffs(result) == [
        ("1", "sla", "handed", "ivanov", "petrov"),
        ("1", "sla", "handed", "petrov", "sidorov"),
        ("1", "sla", "to-head", "sidorov", "head"),
    ]
    assert [h["at"][11:16] for h in result["handoff"]] == ["10:15", "10:30", "10:45"]
    # Lead 2's check would ring after the file's last row, but it was worked on at 12:05: in time.
    assert (summary(result)["sla"]["pending"], summary(result)["sla"]["in_time"]) == (0, 1)
    assert (
        "лид не взят в работу за 15 мин (переход 3); резерв: Руководитель" in result["handoff"][2]["reason"]
    )


def test_the_sla_counts_working_minutes_of_the_owner(tmp_path):
    rows = "created,1,2026-12-02T17:55,,,Новый,,\nstage,1,,2026-12-03T12:00,,Новый,,\n"
    p = company(SLA)
    p = replace(p, rules=(replace(p.rules[0], pool="sales"),))
    result = run(tmp_path, p, rows)
    assert result["handoff"][0]["at"].startswith("2026-12-03T09:10")  # 5 min today, 10 tomorrow


def test_a_lead_whose_stage_changed_in_time_stays_and_counts_as_in_time(tmp_path):
    rows = (
        "created,1,2026-12-02T10:00,,,Новый,,\n"
        "stage,1,,2026-12-02T10:10,,В работе,,\n"
        "created,2,2026-12-02T11:00,,,Новый,,\n"
        "stage,2,,2026-12-02T11:01,,В работе,,\n"
        "stage,2,,2026-12-02T15:00,,Переговоры,,\n"
    )
    result = run(tmp_path, company(SLA), rows)
    assert handoffs(result) == []
    assert summary(result)["sla"]["in_time"] == 2


def test_a_lead_worked_on_in_time_is_in_time_even_when_its_check_is_after_the_file(tmp_path):
    # Issue 18: the file ends at 10:05, before the 10:15 check; lead 1 moved at 10:05, lead 2 never.
    rows = (
        "created,1,2026-12-02T10:00,,,Новый,,\n"
        "created,2,2026-12-02T10:01,,,Новый,,\n"
        "stage,1,,2026-12-02T10:05,,В работе,,\n"
    )
    result = run(tmp_path, company(SLA), rows)
    assert handoffs(result) == []
    assert (summary(result)["sla"]["in_time"], summary(result)["sla"]["pending"]) == (1, 1)


def test_an_exception_keeps_a_vip_deal_and_a_never_moved_owner_keeps_theirs(tmp_path):
    rows = (
        "created,1,2026-12-02T10:00,,,Новый,VIP,\n"
        "created,2,2026-12-02T10:05,,,Новый,,head\n"
        "stage,1,,2026-12-02T11:00,,Договор подписан,,\n"
        "stage,2,,2026-12-02T11:00,,Договор подписан,,\n"
    )
    result = run(tmp_path, company(SIGNED, continuity=Continuity(enabled=True)), rows)
    assert handoffs(result) == [
        ("1", "contract-signed", "kept-by-exception", "caller", None),
        ("2", "contract-signed", "blocked", "head", None),
    ]
    counts = summary(result)["contract-signed"]
    assert (counts["kept_by_exception"], counts["blocked"], counts["handed"]) == (1, 1, 0)


def test_a_substitutes_lead_goes_back_when_the_owner_returns_worked_on_or_not(tmp_path):
    away = Absence(date(2026, 11, 30), date(2026, 12, 4), substitute="petrov")
    p = company(continuity=Continuity(enabled=True), sales={"return_after_absence": True})
    p = replace(p, managers={**p.managers, "ivanov": replace(p.managers["ivanov"], absences=(away,))})
    rows = (
        "created,1,2026-12-02T10:00,,,Новый,,ivanov\n"
        "created,2,2026-12-02T10:05,,,Новый,,ivanov\n"
        "stage,2,,2026-12-03T10:00,,В работе,,\n"
        "created,3,2026-12-08T10:00,,,Новый,,\n"
    )
    result = run(tmp_path, p, rows)
    assert handoffs(result) == [
        ("1", "return", "handed", "petrov", "ivanov"),
        ("2", "return", "handed", "petrov", "ivanov"),
    ]
    assert result["handoff"][0]["at"].startswith("2026-12-07T09:00")  # Monday morning
    assert "возврат менеджеру Иванов после отсутствия" in result["handoff"][1]["reason"]


def test_a_handoff_nobody_can_take_now_waits_for_the_shift(tmp_path):
    rows = "created,1,2026-12-02T10:00,,,Новый,,\nstage,1,,2026-12-02T19:00,,Договор подписан,,\n"
    result = run(tmp_path, company(SIGNED), rows + "created,2,2026-12-03T12:00,,,Новый,,\n")
    assert handoffs(result) == [("1", "contract-signed", "handed", "caller", "farmer")]
    assert result["handoff"][0]["at"].startswith("2026-12-03T09:00")


def test_a_file_without_stage_rows_runs_no_handoffs_and_prints_no_handoff_summary(tmp_path):
    result = run(tmp_path, company(SIGNED, SLA), "created,1,2026-12-02T10:00,,,Новый,,\n")
    assert "handoff" not in result and "handoff_summary" not in result
    assert [d["assignee"] for d in result["decision"]] == ["caller"]


def test_read_ahead_and_jsonl_give_the_same_run(tmp_path):
    p = company(QUALIFIED, SIGNED, SLA)
    rows = (
        "created,1,2026-12-02T10:00,,Продажи,Новый,,\n"
        "stage,1,,2026-12-02T10:30,,Квалифицирован,,\n"
        "created,2,2026-12-02T11:00,,Продажи,Новый,,\n"
        "stage,1,,2026-12-03T15:00,,Договор подписан,,\n"
    )
    plain = run(tmp_path, p, rows, read_ahead=False)
    assert run(tmp_path, p, rows, read_ahead=True) == plain
    jsonl = tmp_path / "leads.jsonl"
    header = HEADER.strip().split(",")
    with jsonl.open("w", encoding="utf-8") as out:
        for line in rows.splitlines():
            out.write(json.dumps({k: v for k, v in zip(header, line.split(","), strict=True) if v}) + "\n")
    text = io.StringIO()
    simulate_file(p, jsonl, text, output="json")
    assert [json.loads(x) for x in text.getvalue().splitlines() if '"type": "handoff"' in x] == plain[
        "handoff"
    ]
    assert [(h[0], h[1], h[2]) for h in handoffs(plain)] == [
        ("1", "sla", "to-head"),  # the callers' pool has nobody else
        ("1", "qualified", "handed"),
        ("2", "sla", "to-head"),
        ("1", "contract-signed", "handed"),
    ]


def test_an_unsorted_file_with_stage_rows_is_run_in_time_order(tmp_path, capsys):
    rows = "stage,1,,2026-12-02T11:00,,Договор подписан,,\ncreated,1,2026-12-02T10:00,,,Новый,,\n"
    assert handoffs(run(tmp_path, company(SIGNED), rows)) == [
        ("1", "contract-signed", "handed", "caller", "farmer")
    ]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("stage,1,,,,Договор подписан,,\n", ":2: a stage row needs `at`"),
        ("stage,1,,завтра,,Договор подписан,,\n", ":2: at 'завтра' is not a date and time"),
        ("moved,1,2026-12-02T10:00,,,,,\n", ":2: event 'moved' is not one of: created, stage"),
        (
            "created,1,2026-12-02T10:00,,,,,\nstage,,,2026-12-02T11:00,,Договор,,\n",
            ":3: a stage row needs the `id`",
        ),
        (
            "created,1,2026-12-02T10:00,,,,,\nstage,1,,2026-12-02T11:00,,,,\n",
            ":3: a stage row needs the `stage`",
        ),
        (
            "created,1,2026-12-02T10:00,,,,,\nstage,7,,2026-12-02T11:00,,Договор,,\n",
            ":3: stage row for lead '7'",
        ),
        (
            "stage,1,,2026-12-02T09:00,,Договор,,\ncreated,1,2026-12-02T10:00,,,,,\n",
            ":2: stage row for lead '1'",
        ),
        (
            "created,1,2026-12-02T10:00,,,,,\nowner,1,,2026-12-02T11:00,,,,\n",
            ":3: an owner row needs the `owner`",
        ),
        (
            "created,1,2026-12-02T10:00,,,,,\nowner,1,,2026-12-02T11:00,,,,nobody\n",
            ":3: owner 'nobody' is neither a manager in the config nor a numeric CRM user id",
        ),
        (
            "created,1,2026-12-02T10:00,,,,,\nowner,7,,2026-12-02T11:00,,,,head\n",
            ":3: owner row for lead '7'",
        ),
        ("created,1,2026-12-02T10:00,,,,,\nuntil,,,,,,,\n", ":3: an until row needs `at`"),
    ],
)
def test_a_bad_stage_row_exits_1_naming_the_file_and_line(tmp_path, capsys, rows, message):
    leads = tmp_path / "leads.csv"
    leads.write_text(HEADER + rows, encoding="utf-8")
    assert main(["simulate", "--config", CONFIG, "--leads", str(leads), "--language", "en"]) == 1
    err = capsys.readouterr().err
    assert f"leads.csv{message}" in err and "Traceback" not in err and err.count("\n") == 1
    # In the config's own language (Russian) by default.
    assert main(["simulate", "--config", CONFIG, "--leads", str(leads)]) == 1
    err = capsys.readouterr().err
    assert "leads.csv:" in err and f"leads.csv{message}" not in err
    assert re.search(r" (не|ни|нужн\w*|строк\w*) ", err), err


def test_the_example_file_shows_every_kind_of_handoff(capsys):
    assert main(["simulate", "--config", CONFIG, "--leads", str(EXAMPLE), "--format", "json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    seen = {(h["kind"], h["outcome"]) for h in lines if h["type"] == "handoff"}
    assert seen == {
        ("stage", "handed"),
        ("stage", "kept-by-exception"),
        ("stage", "blocked"),
        ("after_days", "kept-by-exception"),  # the chain's account manager is in `chains` already
        ("after_days", "cancelled"),
        ("sla", "handed"),
        ("sla", "to-head"),
        ("return", "handed"),
    }
    rows = {r["handoff"]: r for r in lines if r["type"] == "handoff_summary"}
    assert list(rows) == ["qualified", "contract-signed", "first-month", "sla", "return"]
    assert (rows["sla"]["handed"], rows["sla"]["to_head"], rows["sla"]["in_time"]) == (2, 1, 6)


def test_the_example_file_as_a_table_and_as_csv(capsys):
    assert main(["simulate", "--config", CONFIG, "--leads", str(EXAMPLE), "--language", "en"]) == 0
    out = capsys.readouterr().out
    assert "Handoffs: deals that changed hands 6" in out
    assert "handoff 'contract-signed' not done: exception (tags = VIP)" in out
    assert "Гусев Андрей" in out and "From → to" in out
    assert main(["simulate", "--config", CONFIG, "--leads", str(EXAMPLE), "--format", "csv"]) == 0
    sections = capsys.readouterr().out.split("\n\n")
    assert [s.splitlines()[0].split(",")[0] for s in sections] == [
        "created_at",
        "at",
        "pool",
        "handoff",
        "from",
    ]
    assert len(sections[1].splitlines()) == 1 + 10  # header + the example's handoff lines


def test_a_stage_handoff_never_takes_a_deal_from_a_member_of_its_target_pool(tmp_path):
    rows = (
        "created,1,2026-12-02T10:00,,Продажи,Новый,,\n"
        "created,2,2026-12-02T10:05,,Продажи,Новый,,\n"
        "owner,1,,2026-12-02T10:10,,,,ivanov\n"  # a person gives lead 1 to a salesperson
        "stage,1,,2026-12-02T10:30,,Квалифицирован,,\n"
        "stage,2,,2026-12-02T10:30,,Квалифицирован,,\n"
    )
    result = run(tmp_path, company(QUALIFIED), rows)
    assert handoffs(result) == [
        ("1", "owner", "override", "caller", "ivanov"),
        ("1", "qualified", "kept-by-exception", "ivanov", None),
        ("2", "qualified", "handed", "caller", "ivanov"),
    ]
    assert "передача «qualified» не выполняется: Иванов уже в пуле «sales»" in result["handoff"][1]["reason"]
    counts = summary(result)["qualified"]
    assert (counts["kept_by_exception"], counts["handed"]) == (1, 1)
    assert [(p["from"], p["to"]) for p in result["handoff_pair"]] == [
        ("caller", "ivanov")
    ]  # not the override


def test_reassign_always_moves_it_anyway_and_from_limits_whose_deals_move(tmp_path):
    rows = (
        "created,1,2026-12-02T10:00,,Продажи,Новый,,\n"
        "created,2,2026-12-02T10:05,,Продажи,Новый,,\n"
        "owner,1,,2026-12-02T10:10,,,,ivanov\n"
        "owner,2,,2026-12-02T10:10,,,,farmer\n"
        "stage,1,,2026-12-02T10:30,,Квалифицирован,,\n"
        "stage,2,,2026-12-02T10:30,,Квалифицирован,,\n"
    )
    always = replace(QUALIFIED, reassign_always=True)
    assert handoffs(run(tmp_path, company(always), rows))[2:] == [
        ("1", "qualified", "handed", "ivanov", "petrov"),  # never back to its owner
        ("2", "qualified", "handed", "farmer", "sidorov"),
    ]
    only_callers = replace(QUALIFIED, from_members=frozenset({"caller"}))
    result = run(tmp_path, company(only_callers), rows)
    assert handoffs(result)[2:] == [
        ("1", "qualified", "kept-by-exception", "ivanov", None),
        ("2", "qualified", "kept-by-exception", "farmer", None),
    ]
    assert "передача «qualified» не выполняется: Фермер не из Оператор" in result["handoff"][3]["reason"]


def test_only_untouched_leads_go_back_when_the_pool_says_so(tmp_path):
    away = Absence(date(2026, 11, 30), date(2026, 12, 4), substitute="petrov")
    sales = {"return_after_absence": True, "return_only_untouched": True}
    p = company(continuity=Continuity(enabled=True), sales=sales)
    p = replace(p, managers={**p.managers, "ivanov": replace(p.managers["ivanov"], absences=(away,))})
    rows = (
        "created,1,2026-12-02T10:00,,,Новый,,ivanov\n"
        "created,2,2026-12-02T10:05,,,Новый,,ivanov\n"
        "stage,2,,2026-12-03T10:00,,В работе,,\n"
        "created,3,2026-12-08T10:00,,,Новый,,\n"
    )
    result = run(tmp_path, p, rows)
    assert handoffs(result) == [
        ("1", "return", "handed", "petrov", "ivanov"),
        ("2", "return", "cancelled", "petrov", None),
    ]
    assert (
        "не выполняется: замещающий работал с лидом, а возвращаются только нетронутые"
        in result["handoff"][1]["reason"]
    )
    assert summary(result)["return"]["cancelled"] == 1


def test_a_deal_closed_meanwhile_stays_with_the_substitute(tmp_path):
    away = Absence(date(2026, 11, 30), date(2026, 12, 4), substitute="petrov")
    p = company(continuity=Continuity(enabled=True), sales={"return_after_absence": True})
    p = replace(p, managers={**p.managers, "ivanov": replace(p.managers["ivanov"], absences=(away,))})
    path = tmp_path / "closed.csv"
    path.write_text(
        "event,id,created_at,at,stage,closed,owner\n"
        "created,1,2026-12-02T10:00,,Новый,,ivanov\n"
        "stage,1,,2026-12-03T10:00,Успешно,won,\n"
        "until,,,2026-12-07T12:00,,,\n",
        encoding="utf-8",
    )
    out = io.StringIO()
    simulate_file(p, path, out, output="json")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(h["lead"], h["kind"], h["outcome"]) for h in lines if h["type"] == "handoff"] == [
        ("1", "return", "cancelled")
    ]


def test_an_until_row_lets_the_timers_due_by_then_ring(tmp_path):
    p = company(SLA)
    p = replace(p, rules=(replace(p.rules[0], pool="sales"),))
    rows = "created,1,2026-12-02T10:00,,,Новый,,\nuntil,,,2026-12-02T10:40,,,,\n"
    result = run(tmp_path, p, rows)
    assert [h[2] for h in handoffs(result)] == ["handed", "handed"]  # 10:15, 10:30
    assert summary(result)["sla"]["pending"] == 1  # the third check, at 10:45


def test_a_bad_closed_value_exits_1_naming_the_file_and_line(tmp_path, capsys):
    leads = tmp_path / "leads.csv"
    leads.write_text(
        "event,id,created_at,at,stage,closed\ncreated,1,2026-12-02T10:00,,,\nstage,1,,2026-12-02T11:00,Успешно,yes\n",
        encoding="utf-8",
    )
    assert main(["simulate", "--config", CONFIG, "--leads", str(leads)]) == 1
    assert "leads.csv:3: closed «yes» — не одно из: won, lost" in capsys.readouterr().err


def test_owner_and_until_rows_read_ahead_and_as_json_lines_give_the_same_run(tmp_path):
    p = company(QUALIFIED, SLA)
    rows = (
        "created,1,2026-12-02T10:00,,Продажи,Новый,,\n"
        "owner,1,,2026-12-02T10:05,,,,petrov\n"
        "stage,1,,2026-12-02T10:30,,Квалифицирован,,\n"
        "until,,,2026-12-02T11:00,,,,\n"
    )
    plain = run(tmp_path, p, rows, read_ahead=False)
    assert run(tmp_path, p, rows, read_ahead=True) == plain
    assert handoffs(plain) == [
        ("1", "owner", "override", "caller", "petrov"),
        ("1", "qualified", "kept-by-exception", "petrov", None),
    ]
    assert summary(plain)["sla"]["in_time"] == 1  # the SLA saw the lead change hands
    jsonl = tmp_path / "leads.jsonl"
    header = HEADER.strip().split(",")
    with jsonl.open("w", encoding="utf-8") as out:
        for line in rows.splitlines():
            out.write(json.dumps({k: v for k, v in zip(header, line.split(","), strict=True) if v}) + "\n")
    text = io.StringIO()
    simulate_file(p, jsonl, text, output="json")
    assert [json.loads(x) for x in text.getvalue().splitlines() if '"type": "handoff"' in x] == plain[
        "handoff"
    ]


def test_without_handoffs_the_lifecycle_decides_every_lead_as_the_plain_run_does(tmp_path):
    # An `until` row sends the file through the lifecycle; with nothing to hand over, the decisions,
    # the repeat clients, the waits and the fairness must be the plain run's, lead for lead.
    p = load_config(Path(CONFIG)).policy
    pools = {name: replace(pool, return_after_absence=False) for name, pool in p.pools.items()}
    p = replace(p, handoffs=(), pools=pools)
    leads = ROOT / "examples" / "leads.csv"
    history = tmp_path / "history.csv"
    with leads.open(encoding="utf-8-sig") as source:
        header, *rows = source.read().splitlines()
    columns = len(header.split(","))
    history.write_text(
        "\n".join(
            [f"{header},event,at", *(f"{row},," for row in rows), "," * columns + "until,2026-08-01T00:00"]
        ),
        encoding="utf-8",
    )
    plain, lifecycle = io.StringIO(), io.StringIO()
    simulate_file(p, leads, plain, output="table")
    simulate_file(p, history, lifecycle, output="table")
    assert "ждали смены: 17" in plain.getvalue()
    ends = lifecycle.getvalue().index("\nПередачи")
    assert lifecycle.getvalue()[:ends] == plain.getvalue()[: plain.getvalue().index("\nИтого")]
    assert lifecycle.getvalue().splitlines()[-1] == plain.getvalue().splitlines()[-1]
