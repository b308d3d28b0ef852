"""What-if replays each lead's whole life: the real worker runs every seed story on SQLite and
PostgreSQL, then what-if replays the stored history. Under the config that ran every owner comes
back, handoffs, SLA re-routes, returns and people's changes included; a changed config changes
exactly the owners it should."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from adapters.storage.engine import make_engine
from adapters.storage.history import read_events, read_handoffs
from adapters.storage.inputs import read_history
from adapters.storage.intake import IncomingEvent
from adapters.storage.migrate import upgrade_database
from tests.fakes.crm import FakeCrm
from tests.integration.helpers import Clock, make_worker, post
from tests.stories.drivers import lead_of, run_on_worker, story_policy
from tests.stories.seeds import STORIES, Arrive, Move, Reassign, Story, Until, at, team
from webhook_app.config import load_config
from webhook_app.offline.whatif import LifeReplay, compare, run_whatif
from webhook_app.offline.whatif_real import PEOPLE

BY_NAME = {story.name: story for story in STORIES}


def period(story: Story) -> tuple:
    """The story's whole time, up to where the worker's clock stopped."""
    return story.timeline[0].at - timedelta(days=1), story.timeline[-1].at


def worked(story: Story, tmp_path, engine):
    run_on_worker(story, tmp_path, engine)
    return story_policy(story, tmp_path)


def replayed(engine, policy, story: Story) -> LifeReplay:
    since, until = period(story)
    replay = LifeReplay(policy, policy)
    streams = (read_events(engine, since, until), read_handoffs(engine, since, until))
    for _ in replay.run(read_history(engine, since, until), *streams, until):
        pass
    return replay


def under(story: Story, tmp_path, text: str):
    path = tmp_path / "new.yaml"
    path.write_text(text, encoding="utf-8")
    return load_config(path).policy


@pytest.mark.parametrize("story", STORIES, ids=[s.name for s in STORIES])
def test_the_config_that_ran_replayed_over_a_story_the_worker_ran_gives_back_every_owner(
    story, tmp_path, engine
):
    policy = worked(story, tmp_path, engine)
    since, until = period(story)
    result = run_whatif(engine, policy, policy, since, until)
    assert result.leads == sum(isinstance(step, Arrive) for step in story.timeline)
    assert result.changed == 0, result.changes
    assert all(h.actual == h.would for h in result.handoffs), result.handoffs
    # Not only the last owner: every lead's assignments, in order, as the worker made them.
    replay = replayed(engine, policy, story)
    assert {k: o.real for k, o in replay.leads.items()} == {k: o.would for k, o in replay.leads.items()}
    handed = sum(len(owners) - 1 for owners in story.owners.values())
    assert sum(h.would for h in result.handoffs) >= handed  # the story's handoffs were replayed


def test_the_stories_give_the_replay_handoffs_sla_returns_and_a_persons_change_to_check(tmp_path):
    seen: dict[str, int] = {}
    for n, story in enumerate(STORIES):
        (tmp_path / str(n)).mkdir()
        engine = make_engine(f"sqlite:///{tmp_path / str(n) / 'story.db'}")
        upgrade_database(engine)
        policy = worked(story, tmp_path / str(n), engine)
        result = run_whatif(engine, policy, policy, *period(story))
        for hits in result.handoffs:
            seen[hits.rule] = seen.get(hits.rule, 0) + hits.actual
    assert seen == {"sla": 3, "qualified": 1, "contract-signed": 1, "return": 2, PEOPLE: 1}


def test_without_the_contract_handoff_the_deal_and_the_clients_next_order_stay_in_sales(tmp_path, engine):
    story = BY_NAME["call, sales, account manager, and the client's next order goes to the account manager"]
    actual = worked(story, tmp_path, engine)
    text = story.config.replace(
        "  - {name: contract-signed, on_stage:", "  - {name: contract-gone, on_stage:"
    )
    text = text.replace(
        "Договор подписан}, to: account-managers", "Подписан где-то ещё}, to: account-managers"
    )
    new = under(story, tmp_path, text)
    result = run_whatif(engine, new, actual, *period(story))
    assert {(c.lead_id, c.actual, c.would) for c in result.changes} == {
        ("call-1", "zaitseva", "volkova"),  # qualified by sales, and it stays there
        ("call-2", "zaitseva", "volkova"),  # the repeat client follows the deal
    }
    call_1 = next(c for c in result.changes if c.lead_id == "call-1")
    assert call_1.actual_owners == ("novikova", "volkova", "zaitseva")
    assert call_1.would_owners == ("novikova", "volkova")
    hits = {h.rule: (h.actual, h.would) for h in result.handoffs}
    assert hits == {"qualified": (1, 1), "contract-signed": (1, 0)}


def test_without_the_sla_the_untouched_callback_stays_with_the_queue(tmp_path, engine):
    story = BY_NAME["an untouched marketplace callback ends with the head after two hops"]
    actual = worked(story, tmp_path, engine)
    lines = story.config.splitlines(keepends=True)
    text = "".join(line for line in lines if "{name: sla," not in line)
    result = run_whatif(engine, under(story, tmp_path, text), actual, *period(story))
    assert [(c.lead_id, c.actual, c.would) for c in result.changes] == [("avito-1", "head", "queue")]
    assert {h.rule: (h.actual, h.would) for h in result.handoffs} == {"sla": (3, 0)}


def test_a_lead_sent_elsewhere_keeps_its_replayed_owner_through_our_echoes_until_a_persons_change(
    tmp_path, engine
):
    story = BY_NAME["a person's change is an override; a late event from before our write is not"]
    worked(story, tmp_path, engine)
    text = story.config.replace("smirnov: [Мурманская область]", "smirnov: [Тверская область]").replace(
        "volkova: [Самарская область]", "volkova: [Самарская область, Мурманская область]"
    )
    replay = replayed(engine, under(story, tmp_path, text), story)
    owners = replay.leads["m-1"]
    assert owners.real == ["smirnov"] and owners.would == ["volkova"]
    # The stage move told the CRM's responsible (Смирнов, really ours): the replay reads its own
    # holder there, so only the real person's change (to Попов) is one, and the late event is stale.
    assert replay.real.handoffs[PEOPLE] == replay.would_handoffs[PEOPLE] == 1
    assert replay.lives.lives["m-1"].owner == "popov"


def test_the_vacation_config_removed_gives_the_same_last_owners_and_no_returns(tmp_path, engine):
    story = BY_NAME[
        "back from vacation, her territory's new lead and her repeat client come back, worked on or not"
    ]
    actual = worked(story, tmp_path, engine)
    result = run_whatif(engine, under(story, tmp_path, team()), actual, *period(story))
    assert result.changed == 0  # every lead ends with Волкова either way
    assert {h.rule: (h.actual, h.would) for h in result.handoffs} == {"return": (2, 0)}


def test_a_persons_change_counted_toward_the_share_moves_it_in_the_replay_too(tmp_path, engine):
    config = team().replace(
        "call-center: {strategy: round_robin, members: [novikova, fedorov]}",
        "call-center: {strategy: weighted, members: [novikova, fedorov]}",
    )
    story = Story(
        "a person's change counted toward the share",
        "overrides.count_toward_share",
        config + "overrides: {count_toward_share: true}\n",
        (
            Arrive(at(7, 10), "a", {"source": "call"}),
            Move(at(7, 10, 5), "a", "Переговоры"),
            Reassign(at(7, 10, 30), "a", "fedorov"),
            Arrive(at(7, 11), "b", {"source": "call"}),
            Move(at(7, 11, 5), "b", "Переговоры"),
            Until(at(7, 12)),
        ),
        {"a": ["novikova", "fedorov"], "b": ["novikova"]},  # Федоров has the share of «a» now
    )
    owners, _ = run_on_worker(story, tmp_path, engine)
    assert owners == story.owners
    policy = story_policy(story, tmp_path)
    result = run_whatif(engine, policy, policy, *period(story))
    assert result.changed == 0, result.changes

    def split(pools):
        return {(p.pool, m.manager): m.received for p in pools for m in p.members}

    assert split(result.would_fairness) == split(result.actual_fairness)


def test_a_timer_the_worker_ran_late_rings_in_the_replay_when_it_really_rang(tmp_path, engine):
    story = BY_NAME["an untouched marketplace callback ends with the head after two hops"]
    policy = story_policy(story, tmp_path)
    crm, clock = FakeCrm(), Clock(at(7, 10))
    worker = make_worker(engine, crm, clock, policy)
    arrive = story.timeline[0]
    assert isinstance(arrive, Arrive)
    crm.leads["avito-1"] = replace(lead_of(arrive), stage_id="new")
    post(engine, clock, IncomingEvent("amocrm", "add:avito-1", "add", "avito-1", {"action": "add"}, "lead"))
    worker.run_once()
    for minute in (40, 50):  # the worker was busy: the check due at 10:15 runs at 10:40
        clock.now = at(7, 10, minute)
        worker.run_once()
    since, until = at(7, 9), clock.now
    result = run_whatif(engine, policy, policy, since, until)
    assert result.changed == 0 and [(h.rule, h.actual, h.would) for h in result.handoffs] == [("sla", 1, 1)]
    # Rung when due instead, its next check would have come at 10:30 and the head's at 10:45.
    streams = {"events": read_events(engine, since, until), "handoffs": read_handoffs(engine, since, until)}
    blind = compare(read_history(engine, since, until), policy, policy, since, until, reason=str, **streams)
    assert [(c.actual_owners, c.would_owners) for c in blind.changes] == [
        (("queue", "novikova"), ("queue", "novikova", "fedorov", "head"))
    ]
