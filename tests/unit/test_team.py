"""The team as the CRM has it, folded into the policy (core/team.py) and a refused owner routed
again (core/refused.py): pure, on plain data."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from core.availability import SkipReason
from core.decide import apply_decision, decide
from core.decision import StepCode
from core.kinds import AuditKind, JobKind
from core.lifecycle import step
from core.lifecycle_types import Assign, LeadLife, Note, SetTimer, TimerRang
from core.reasons import reason_text
from core.state import RoutingState
from core.team import CrmPerson, Team, TeamChange, crm_key, team_changes, with_team
from tests.builders import MSK, NOON, lead, manager, policy, pool

SALES = "Отдел продаж"


def company(strategy: str = "round_robin"):
    """Named: the head and Иванова (with her own cap); the pool follows the group «Отдел продаж»."""
    head = manager("head", 100, name="Руководитель")
    ivanova = manager("ivanova", 141, name="Иванова", max_per_day=50)
    sales = pool("sales", ["ivanova"], strategy, crm_team=SALES)
    other = pool("vip", ["ivanova"])
    newcomer = manager("", 0)
    return policy([head, ivanova], [sales, other], head_of_sales="head", newcomer=newcomer)


def staff(*people: CrmPerson) -> Team:
    return Team(people=people)


def person(uid: int, name: str, *, active: bool = True, teams: tuple[str, ...] = (SALES,)) -> CrmPerson:
    return CrmPerson(uid, name, active, teams)


def test_people_found_in_the_crm_team_join_the_pool_with_the_defaults_and_their_crm_name():
    base = company()
    team = staff(
        person(141, "Иванова А."),
        person(143, "Сидоров"),
        person(142, "Петров"),
        person(150, "Бухгалтер", teams=("Бухгалтерия",)),
    )
    folded = with_team(base, team)
    assert folded.pools["sales"].members == ("ivanova", "crm-142", "crm-143")  # named first, then by id
    assert folded.pools["vip"].members == ("ivanova",)  # a pool without a CRM team is as written
    petrov = folded.managers["crm-142"]
    assert (petrov.name, petrov.crm_user_id, petrov.tz, petrov.max_per_day) == ("Петров", 142, MSK, None)
    assert folded.managers["ivanova"].max_per_day == 50  # a named person keeps their own settings
    assert folded.manager_for_user(143) is folded.managers["crm-143"]
    assert "crm-150" not in folded.managers  # in no team a pool follows
    assert with_team(base, Team()) is base  # never synced: the config as written


def test_a_deactivated_user_is_never_chosen_again_in_any_pool_named_or_not():
    team = staff(
        person(141, "Иванова", active=False), person(142, "Петров"), person(143, "Сидоров", active=False)
    )
    folded = with_team(company(), team)
    assert folded.pools["sales"].members == ("ivanova", "crm-142")  # Сидоров left the pool
    assert not folded.managers["ivanova"].active and not folded.managers["crm-143"].active
    state = RoutingState()
    owners = []
    for n in range(6):
        decision = decide(lead(str(n)), folded, state, NOON)
        state = apply_decision(state, decision, folded)
        owners.append(decision.assignee)
    assert owners == ["crm-142"] * 6
    assert SkipReason.INACTIVE in {s.reason for s in decide(lead("x"), folded, state, NOON).skipped}
    vip = replace(folded, rules=(replace(folded.rules[0], pool="vip"),))
    assert decide(lead("v"), vip, RoutingState(), NOON).assignee == "head"  # Иванова is out of vip too


def test_a_user_the_crm_no_longer_lists_cannot_own_leads_and_a_refused_one_neither():
    folded = with_team(company(), staff(person(142, "Петров")))
    assert not folded.managers["ivanova"].active  # deleted from the CRM
    refused = with_team(company(), Team((person(141, "Иванова"), person(142, "Петров")), frozenset({142})))
    assert refused.managers["ivanova"].active and not refused.managers["crm-142"].active


def test_a_newcomer_joins_at_the_pools_current_level_without_a_burst():
    base = company()
    before = with_team(base, staff(person(141, "Иванова"), person(142, "Петров")))
    state = RoutingState()
    for n in range(20):
        state = apply_decision(state, decide(lead(str(n)), before, state, NOON), before)
    after = with_team(base, staff(person(141, "Иванова"), person(142, "Петров"), person(146, "Новикова")))
    for strategy in ("round_robin", "weighted"):
        p = replace(after, pools={**after.pools, "sales": replace(after.pools["sales"], strategy=strategy)})
        s, got = state, []
        for n in range(9):
            decision = decide(lead(f"n{n}"), p, s, NOON)
            s = apply_decision(s, decision, p)
            got.append(decision.assignee)
        assert Counter(got) == {"ivanova": 3, "crm-142": 3, "crm-146": 3}, (strategy, got)


def test_team_changes_say_who_joined_and_left_each_pool_and_who_can_no_longer_own_leads():
    base = company()
    before = with_team(base, staff(person(141, "Иванова"), person(142, "Петров"), person(143, "Сидоров")))
    after = with_team(
        base,
        staff(
            person(141, "Иванова"),
            person(142, "Петров"),
            person(143, "Сидоров", active=False),
            person(146, "Н"),
        ),
    )
    assert team_changes(before, after) == [
        TeamChange("sales", joined=("crm-146",), left=("crm-143",)),
        TeamChange(None, joined=(), left=("crm-143",)),
    ]
    assert team_changes(after, after) == []
    assert crm_key(146) == "crm-146"


def test_a_lead_whose_owner_the_crm_refused_is_routed_again_in_its_pool_never_to_them():
    folded = with_team(
        company(), staff(person(141, "Иванова"), person(142, "Петров"), person(143, "Сидоров"))
    )
    life = LeadLife("7", owner="crm-143", owner_user=143, pool="sales", done=frozenset({"new"}))
    ring = TimerRang(JobKind.REROUTE, {"user": "143", "pool": "sales"}, lead("7"))
    transition = step(life, ring, folded, RoutingState(), NOON)
    effect = transition.effects[0]
    assert isinstance(effect, Assign) and effect.purpose == "refused:0"
    assert effect.decision.assignee in ("ivanova", "crm-142") and effect.decision.pool == "sales"
    assert effect.decision.steps[0].code is StepCode.OWNER_REFUSED
    assert "не принимает Сидоров" in reason_text(effect.decision, folded, "ru")
    assert transition.life is not None and transition.life.owner == effect.decision.assignee
    again = step(transition.life, ring, folded, RoutingState(), NOON)  # the same job once more
    assert [type(e) for e in again.effects] == [Note]  # no longer hers: nothing moves
    assert again.effects[0].kind is AuditKind.OWNER_REFUSED  # type: ignore[union-attr]


def test_a_refused_lead_that_came_by_continuity_goes_by_the_rules_and_waits_if_nobody_can_take_it():
    folded = with_team(company(), staff(person(141, "Иванова"), person(143, "Сидоров")))
    life = LeadLife("8", owner="crm-143", owner_user=143, done=frozenset({"new"}))
    ring = TimerRang(JobKind.REROUTE, {"user": "143", "pool": ""}, lead("8", client_owner=143))
    effect = step(life, ring, folded, RoutingState(), NOON).effects[0]
    assert isinstance(effect, Assign) and effect.decision.assignee == "ivanova"
    alone = with_team(company(), staff(person(141, "Иванова", active=False), person(143, "Сидоров")))
    nobody = replace(alone, head_of_sales=None)
    effects = step(life, ring, nobody, RoutingState(), NOON).effects
    assert isinstance(effects[-1], SetTimer) and effects[-1].kind is JobKind.REROUTE
    assert not any(isinstance(e, Assign) for e in effects)
    assert decide(lead("9"), nobody, RoutingState(), NOON).assignee == "crm-143"  # only the reroute excludes


def test_a_refused_head_of_sales_as_the_only_fallback_is_not_written_again_and_again():
    folded = with_team(company(), staff(person(100, "Руководитель", active=False), person(141, "Иванова")))
    folded = replace(folded, rules=(replace(folded.rules[0], pool="vip"),))
    life = LeadLife("5", owner="head", owner_user=100, done=frozenset({"new"}))
    busy = with_team(company(), staff(person(100, "Руководитель"), person(141, "Иванова", active=False)))
    busy = replace(busy, rules=(replace(busy.rules[0], pool="vip"),))
    ring = TimerRang(JobKind.REROUTE, {"user": "100", "pool": ""}, lead("5"))
    effects = step(life, ring, busy, RoutingState(), NOON).effects  # Иванова out, the head refused
    assert not any(isinstance(e, Assign) for e in effects)
    assert isinstance(effects[-1], SetTimer) and effects[-1].kind is JobKind.REROUTE
    assert "only fallback is the refused user" in effects[0].message  # type: ignore[union-attr]
    moved = step(life, ring, folded, RoutingState(), NOON).effects[0]
    assert isinstance(moved, Assign) and moved.decision.assignee == "ivanova"
