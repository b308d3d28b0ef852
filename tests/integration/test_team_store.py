"""The stored team and the CRM's open loads, on SQLite and PostgreSQL: what a sync writes is what
every process folds in; `load: crm` shows the CRM's figure plus what we handed out since the read,
and the table of leads handed out keeps counting only those."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapters.storage.kv import put_value
from adapters.storage.routing import load_routing_state, save_routing_state
from adapters.storage.teams import add_refused, read_team, save_team
from core.decide import apply_decision, decide
from core.model import CrmLoad
from core.team import CrmPerson
from tests.builders import NOON, lead, manager, policy, pool
from webhook_app.config.team import TeamFollower
from webhook_app.pipeline.crm_load import crm_offsets, with_offsets

AT = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def test_a_sync_replaces_the_team_and_settles_the_refusals_recorded_before_it(engine):
    with engine.begin() as connection:
        assert read_team(connection, "amocrm")[0].people == ()
        assert add_refused(connection, "amocrm", 143, AT) and not add_refused(connection, "amocrm", 143, AT)
        team, first = read_team(connection, "amocrm")
        assert team.inactive_users() == {143}
        save_team(connection, "amocrm", [CrmPerson(141, "Иванова", True, ("Продажи",))], AT)
        team, second = read_team(connection, "amocrm")
    assert team.people == (CrmPerson(141, "Иванова", True, ("Продажи",)),) and team.refused == frozenset()
    assert first != second  # every process sees that something changed


def test_every_process_folds_the_stored_team_into_its_policy_and_keeps_it_while_nothing_changes(engine):
    base = policy(
        [manager("ivanova", 141)], [pool("sales", ["ivanova"], crm_team="Продажи")], newcomer=manager("", 1)
    )
    follower = TeamFollower(engine, poll_seconds=0)
    assert follower.apply(base, "amocrm") is base
    with engine.begin() as connection:
        people = [
            CrmPerson(141, "Иванова", True, ("Продажи",)),
            CrmPerson(146, "Новикова", True, ("Продажи",)),
        ]
        save_team(connection, "amocrm", people, AT)
    folded = follower.apply(base, "amocrm")
    assert folded.pools["sales"].members == ("ivanova", "crm-146")
    assert follower.apply(base, "amocrm") is folded  # the same object: the shift calendar's caches live in it


def test_load_from_the_crm_adds_what_we_handed_out_since_the_read_and_stores_only_that(engine):
    staff = [manager("ivanova", 141), manager("petrov", 142)]
    p = policy(staff, [pool("sales", ["ivanova", "petrov"], "least_loaded")], crm_load=CrmLoad(0.5))
    with engine.begin() as connection:
        state = load_routing_state(connection, ["sales"], AT)
        for n in range(2):  # two leads handed out before the CRM was read
            after = apply_decision(state, decide(lead(str(n)), p, state, NOON), p)
            save_routing_state(connection, state, after, AT)
            state = after
        stored = {k: v.open for k, v in state.loads.items()}
        assert stored == {"ivanova": 1, "petrov": 1}
        read = {"users": {"141": [5, 2], "142": [1, 0]}, "baseline": stored, "at": AT.isoformat()}
        put_value(connection, "load:amocrm", read, AT)
        state = load_routing_state(connection, ["sales"], AT + timedelta(minutes=1))
        offsets = crm_offsets(connection, "amocrm", p, state)
        seen = with_offsets(state, offsets)
        assert {k: seen.load(k).open for k in ("ivanova", "petrov")} == {
            "ivanova": 6,
            "petrov": 1,
        }  # 5 + 2×0.5
        decision = decide(lead("x"), p, seen, NOON)
        assert decision.assignee == "petrov"  # least loaded as the CRM counts it
        after = apply_decision(seen, decision, p)
        save_routing_state(connection, seen, after, AT, offsets)
        state = load_routing_state(connection, ["sales"], AT + timedelta(minutes=2))
        assert {k: v.open for k, v in state.loads.items()} == {"ivanova": 1, "petrov": 2}  # handed out
        again = with_offsets(state, crm_offsets(connection, "amocrm", p, state))
        assert again.load("petrov").open == 2  # the CRM's 1 + the one we handed since the read
