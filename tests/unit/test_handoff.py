from __future__ import annotations

from datetime import date, datetime, timedelta

from core.conditions import Equals
from core.decision import Outcome, Route, StepCode
from core.handoff import (
    StageMove,
    after_days,
    blocked,
    hand_over,
    on_stage,
    reroute,
    stage_is,
    working_deadline,
)
from core.model import Absence, StageRef, Target, TargetKind
from core.policy import Handoff
from core.reasons import reason_text
from core.state import Pause, RoutingState
from tests.builders import MSK, NOON, lead, manager, policy, pool, weekdays

QUALIFIED = Handoff("qualified", to="sales", on_stage=StageRef("Квалифицирован", "Продажи"))
SIGNED = Handoff(
    "contract-signed",
    to="farmers",
    on_stage=StageRef("Договор подписан"),
    keep_hunter_in_field="Хантер",
    unless=Equals("tags", ["VIP"]),
    never_move=frozenset({"head"}),
)
FIRST_MONTH = Handoff("first-month", to="farmers", after_days=30, in_stage=StageRef("Успешно"))
SLA = Handoff(
    "sla", to="next_in_pool", unworked_minutes=15, max_hops=2, then=Target(TargetKind.MANAGER, "head")
)


def chain():
    ms = [
        manager(k, i + 1, name=k.capitalize())
        for i, k in enumerate(["caller", "ivanov", "petrov", "farmer", "head"])
    ]
    pools = [pool("calls", ["caller"]), pool("sales", ["ivanov", "petrov"]), pool("farmers", ["farmer"])]
    return policy(ms, pools, handoffs=(QUALIFIED, SIGNED, FIRST_MONTH, SLA), head_of_sales="head")


def test_a_transition_into_the_stage_triggers_its_handoff():
    move = StageMove("Продажи", "Новый", "Продажи", "квалифицирован")
    assert on_stage(chain(), move) is QUALIFIED


def test_staying_in_the_stage_triggers_nothing():
    move = StageMove("Продажи", "Квалифицирован", "Продажи", "Квалифицирован")
    assert on_stage(chain(), move) is None


def test_a_stage_named_with_a_pipeline_matches_only_in_that_pipeline():
    assert not stage_is(StageRef("Квалифицирован", "Продажи"), "Сервис", "Квалифицирован")
    assert stage_is(StageRef("Договор подписан"), "Любая", "Договор подписан")


def test_a_role_chain_hands_the_deal_on_step_by_step():
    p = chain()
    first = hand_over(
        lead(),
        p,
        RoutingState(),
        NOON,
        on_stage(p, StageMove(None, "Новый", "Продажи", "Квалифицирован")),
        "caller",
    )
    assert first.assignee == "ivanov" and first.pool == "sales"
    second = hand_over(
        lead(),
        p,
        RoutingState(),
        NOON,
        on_stage(p, StageMove("Продажи", "Квалифицирован", "Продажи", "Договор подписан")),
        "ivanov",
    )
    assert second.assignee == "farmer"
    text = reason_text(second, p)
    assert text.startswith("передача «contract-signed» от Ivanov") and "выбран: Farmer" in text


def test_the_previous_owner_never_gets_the_deal_back_from_a_handoff():
    d = hand_over(lead(), chain(), RoutingState(), NOON, QUALIFIED, "ivanov")
    assert d.assignee == "petrov"


def test_exceptions_keep_a_vip_deal_and_never_move_the_head():
    assert blocked(SIGNED, lead(tags=("VIP",)), "ivanov").params["unless"] == "tags = VIP"
    assert blocked(SIGNED, lead(), "head").params["never_move"] == "head"
    assert blocked(SIGNED, lead(), "ivanov") is None


def test_after_days_starts_its_clock_when_the_deal_enters_the_stage():
    assert after_days(chain(), StageMove(None, "Договор подписан", None, "Успешно")) == [FIRST_MONTH]
    assert after_days(chain(), StageMove(None, "Успешно", None, "Успешно")) == []


def test_sla_goes_to_the_next_member_never_back_to_anyone_who_had_it():
    p = chain()
    d = reroute(lead(), p, RoutingState(), NOON, SLA, "sales", frozenset({"ivanov"}))
    assert d.assignee == "petrov" and d.steps[0].code is StepCode.SLA_EXPIRED


def test_sla_after_everyone_had_it_goes_to_the_head():
    d = reroute(lead(), chain(), RoutingState(), NOON, SLA, "sales", frozenset({"ivanov", "petrov"}))
    assert (d.assignee, d.route) == ("head", Route.FALLBACK)


def test_sla_after_k_hops_goes_to_the_head_even_if_members_remain():
    ms = [manager(k, i + 1) for i, k in enumerate("abcdh")]
    to_head = Handoff("sla", to="next_in_pool", unworked_minutes=15, max_hops=2)
    p = policy(ms, [pool("p", "abcd")], handoffs=(to_head,), head_of_sales="h")
    assert reroute(lead(), p, RoutingState(), NOON, to_head, "p", frozenset("ab")).assignee == "c"
    assert reroute(lead(), p, RoutingState(), NOON, to_head, "p", frozenset("abc")).assignee == "h"


def test_sla_skips_unavailable_members():
    p = chain()
    state = RoutingState(paused={"petrov": Pause()})
    d = reroute(lead(), p, state, NOON, SLA, "sales", frozenset({"ivanov"}))
    assert d.assignee == "head" and d.outcome is Outcome.ASSIGN


def test_working_minutes_follow_the_managers_schedule():
    m = manager("a", schedule=weekdays("09:00", "18:00"))
    assert working_deadline(m, NOON, 15) == datetime(2026, 12, 2, 12, 15, tzinfo=MSK)
    evening = datetime(2026, 12, 2, 17, 50, tzinfo=MSK)
    assert working_deadline(m, evening, 15) == datetime(2026, 12, 3, 9, 5, tzinfo=MSK)
    friday = datetime(2026, 12, 4, 17, 55, tzinfo=MSK)
    assert working_deadline(m, friday, 15) == datetime(2026, 12, 7, 9, 10, tzinfo=MSK)
    night = datetime(2026, 12, 2, 23, 0, tzinfo=MSK)
    assert working_deadline(m, night, 15) == datetime(2026, 12, 3, 9, 15, tzinfo=MSK)


def test_working_minutes_count_from_the_second_the_lead_came():
    m = manager("a", schedule=weekdays("09:00", "18:00"))
    late_in_the_minute = datetime(2026, 12, 2, 12, 0, 59, 500_000, tzinfo=MSK)
    assert working_deadline(m, late_in_the_minute, 1) == datetime(2026, 12, 2, 12, 1, 59, 500_000, tzinfo=MSK)
    evening = datetime(2026, 12, 2, 17, 55, 50, tzinfo=MSK)  # 4:10 today, 5:50 tomorrow
    assert working_deadline(m, evening, 10) == datetime(2026, 12, 3, 9, 5, 50, tzinfo=MSK)
    always = manager("b")
    assert working_deadline(always, late_in_the_minute, 15) == late_in_the_minute + timedelta(minutes=15)


def test_working_minutes_skip_holidays_and_absences():
    m = manager(
        "a",
        schedule=weekdays(),
        holidays=frozenset({date(2026, 12, 3)}),
        absences=(Absence(date(2026, 12, 4), date(2026, 12, 4)),),
    )
    evening = datetime(2026, 12, 2, 17, 55, tzinfo=MSK)
    assert working_deadline(m, evening, 15) == datetime(2026, 12, 7, 9, 10, tzinfo=MSK)
