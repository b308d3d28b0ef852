"""The sandbox's lead stream: realistic leads that meet every rule of the example config, repeat
clients, stories that reach the handoff stages, and the same stream from the same seed."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.conditions import normalize_text
from core.model import Lead
from sandbox import data
from sandbox.leads import (
    LOST,
    MAIN_PIPELINE,
    QUALIFIED,
    SIGNED,
    VIP_BUDGET,
    WON,
    WORKING,
    LeadStream,
    Move,
    NewLead,
)
from webhook_app.config import load_config

ROOT = Path(__file__).resolve().parents[2]
TICKS = 600


def play(seed: int = 1, ticks: int = TICKS) -> list[list[NewLead | Move]]:
    stream = LeadStream(seed=seed)
    return [stream.tick() for _ in range(ticks)]


def new_leads(ticks: list[list[NewLead | Move]]) -> list[NewLead]:
    return [a for tick in ticks for a in tick if isinstance(a, NewLead)]


def as_core(lead: NewLead) -> Lead:
    """The lead as the amoCRM adapter would read it from the sandbox's account."""
    client = lead.client
    return Lead(
        id=str(lead.number),
        created_at=datetime(2026, 11, 24, tzinfo=UTC),
        name=lead.name,
        price=lead.price,
        pipeline=lead.pipeline,
        source=lead.source,
        utm=dict(lead.utm),
        tags=lead.tags,
        city=client.city,
        region=client.region,
        phone=client.phone,
        email=client.email,
        company=client.company,
        fields={"Форма собственности": client.ownership},
    )


@pytest.fixture(scope="module")
def example():
    return load_config(ROOT / "config.example.yaml").policy


def test_the_same_seed_gives_the_same_stream_and_another_seed_another():
    assert play(seed=7, ticks=200) == play(seed=7, ticks=200)
    assert play(seed=7, ticks=200) != play(seed=8, ticks=200)


def test_one_new_lead_per_tick_numbered_in_order():
    ticks = play(ticks=50)
    assert all(sum(isinstance(a, NewLead) for a in tick) == 1 for tick in ticks)
    assert [lead.number for lead in new_leads(ticks)] == list(range(1, 51))


def test_leads_look_like_russian_b2b_leads():
    first_names = {name for name, _ in data.FIRST_NAMES}
    cities = {city for _, city, _ in data.REGIONS + data.MOSCOW}
    for lead in new_leads(play()):
        client = lead.client
        first, last = client.person.split()
        assert first in first_names and re.fullmatch(r"[А-ЯЁ][а-яё]+", last)
        assert re.fullmatch(r"\+7 \(\d{3,5}\) [\d-]+", client.phone)
        assert len(re.sub(r"\D", "", client.phone)) == 11
        assert client.city is None or client.city in cities
        assert client.ownership in ("Компания", "Госсектор", "Частное лицо")
        assert (client.company is None) == (client.ownership == "Частное лицо")
        assert client.inn is None or re.fullmatch(r"\d{10}|\d{12}", client.inn)
        assert client.email is None or re.fullmatch(r"[a-z]+\d+@[a-z]+\.[a-z]+", client.email)
        assert lead.price > 0 and lead.price % 1000 == 0 and re.search(r"[а-я]", lead.name)


def test_women_have_feminine_surnames():
    women = {name for name, gender in data.FIRST_NAMES if gender == "f"}
    people = [lead.client.person.split() for lead in new_leads(play())]
    assert all(last.endswith(("а", "я")) for first, last in people if first in women)
    assert all(not last.endswith("а") for first, last in people if first not in women)


def test_every_rule_of_the_example_config_is_met_with_sensible_shares(example):
    leads = new_leads(play())
    first_rule = Counter(
        next(rule.name for rule in example.rules if rule.condition.matches(as_core(lead))) for lead in leads
    )
    assert set(first_rule) == {rule.name for rule in example.rules}
    assert first_rule["territories"] > first_rule["moscow"] > first_rule["public-sector-moscow"]
    assert first_rule["territories"] < len(leads) / 2


def test_regional_leads_fall_in_the_territories_of_the_example(example):
    territories = example.pools["territories"]
    assert territories.sticky is not None
    owned = territories.sticky.by_value  # normalised region → its manager
    regional = [lead for lead in new_leads(play()) if lead.kind == "regional"]
    assert regional and all(normalize_text(lead.client.region) in owned for lead in regional)
    assert set(owned[normalize_text(lead.client.region)] for lead in regional) == set(territories.members)


def test_vip_leads_have_a_vip_budget_or_the_tag_and_others_stay_below_it():
    for lead in new_leads(play()):
        if lead.kind == "vip":
            assert lead.price >= VIP_BUDGET or "VIP" in lead.tags
        elif lead.kind not in ("warranty",):
            assert lead.price < VIP_BUDGET


def test_some_clients_come_back_as_the_same_contact_or_the_same_phone():
    leads = new_leads(play())
    repeats = [lead for lead in leads if lead.repeat]
    assert 0.08 < len(repeats) / len(leads) < 0.2
    assert {lead.repeat for lead in repeats} == {"contact", "phone"}
    first_seen = {}
    for lead in leads:
        first_seen.setdefault(lead.client.number, lead)
    for lead in repeats:
        original = first_seen[lead.client.number]
        assert original.number < lead.number and original.client == lead.client


def test_a_client_comes_back_only_after_someone_worked_their_first_lead():
    taken: set[int] = set()
    client_of: dict[int, int] = {}
    for tick in play():
        for action in tick:
            if isinstance(action, Move) and action.takes_client:
                taken.add(client_of[action.lead])
            elif isinstance(action, NewLead):
                client_of[action.number] = action.client.number
                assert not action.repeat or action.client.number in taken


def test_stories_move_deals_forward_some_to_the_handoff_stages_and_some_not_at_all():
    ticks = play()
    leads = {lead.number: lead for lead in new_leads(ticks)}
    moves: dict[int, list[str]] = {}
    for at, tick in enumerate(ticks):
        for action in tick:
            if isinstance(action, Move):
                moves.setdefault(action.lead, []).append(action.stage)
                assert leads[action.lead].number <= at  # never before the lead exists
    allowed = [[WORKING], [WORKING, LOST], [WORKING, SIGNED, WON], [QUALIFIED], [QUALIFIED, WORKING, SIGNED]]
    sales = [number for number, lead in leads.items() if lead.pipeline != "Гарантия и сервис"]
    # A story cut short by the end of the run is a beginning of one of these.
    assert all(any(story[: len(moves[n])] == moves[n] for story in allowed) for n in sales if n in moves)
    assert any(SIGNED in moves.get(n, []) and leads[n].pipeline == MAIN_PIPELINE for n in leads)
    assert any(moves.get(n, [None])[0] == QUALIFIED for n in leads)
    untouched = [n for n in sales if n not in moves and n < len(leads) - 20]
    assert 0.15 < len(untouched) / len(sales) < 0.5
    assert all(leads[n].kind == "call" for n in leads if moves.get(n, [None])[0] == QUALIFIED)


def test_the_first_move_of_a_deal_takes_the_client_and_later_ones_do_not():
    firsts: set[int] = set()
    for tick in play():
        for action in tick:
            if isinstance(action, Move):
                assert action.takes_client == (action.lead not in firsts)
                firsts.add(action.lead)
