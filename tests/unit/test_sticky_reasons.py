"""Issue 18: a `sticky` decision says which key decided it, how its owner was found, who stood in,
and lists as skipped only the members whose absence mattered."""

from __future__ import annotations

from datetime import date

from core.decide import decide
from core.model import Absence, StickyOptions
from core.reasons import reason_text
from core.state import Pause, RoutingState
from core.strategies.sticky import ranking
from tests.builders import NOON, lead, manager, policy, pool

AWAY = Absence(date(2026, 12, 1), date(2026, 12, 10), substitute="sidorov")


def territories(*, ivanova_away: bool = False, by_value=None, ranges=(), key="region"):
    ms = [
        manager("ivanova", 1, name="Иванова", absences=(AWAY,) if ivanova_away else ()),
        manager("petrov", 2, name="Петров"),
        manager("sidorov", 3, name="Сидоров"),
        manager("kozlov", 4, name="Козлов"),
    ]
    opts = StickyOptions(key=key, by_value=by_value or {"москва": "ivanova"}, ranges=ranges)
    return policy(
        ms, [pool("territories", ["ivanova", "petrov", "sidorov", "kozlov"], "sticky", sticky=opts)]
    )


def test_a_listed_region_names_its_key_and_its_owner():
    p = territories()
    text = reason_text(decide(lead(region="Москва"), p, RoutingState(), NOON), p)
    assert text == (
        "правило «default» → пул «territories» (закрепление клиентов); "
        "регион: «Москва» → Иванова по списку в конфигурации; выбран: Иванова"
    )


def test_a_region_nobody_owns_is_said_to_be_spread_evenly_by_hash():
    p = territories()
    d = decide(lead(region="Мурманская область"), p, RoutingState(), NOON)
    owner = {"ivanova": "Иванова", "petrov": "Петров", "sidorov": "Сидоров", "kozlov": "Козлов"}[d.assignee]
    assert d.assignee == ranking(p.pools["territories"], "мурманская область")[0]
    assert reason_text(d, p) == (
        "правило «default» → пул «territories» (закрепление клиентов); "
        "регион: «Мурманская область» нет ни в одном списке — такие значения делятся поровну (хешем), "
        f"это всегда → {owner}; выбран: {owner}"
    )
    assert reason_text(d, p, "en").endswith(
        f"region: “Мурманская область” is in no list — such values are spread evenly (by hash), "
        f"this one always → {owner}; chosen: {owner}"
    )


def test_letters_and_inn_say_their_key():
    p = territories(key="company", by_value={}, ranges=(("А", "К", "petrov"),))
    text = reason_text(decide(lead(company="ООО «Альфа»"), p, RoutingState(), NOON), p)
    assert "компания: «ООО «Альфа»» → Петров по первой букве; выбран: Петров" in text
    p = territories(key="inn", by_value={"7701234567": "kozlov"})
    assert "ИНН: «7701234567» → Козлов по списку в конфигурации" in reason_text(
        decide(lead(inn="7701234567"), p, RoutingState(), NOON), p
    )


def test_the_substitute_of_an_absent_owner_is_said_to_stand_in_and_only_the_owner_is_skipped():
    p = territories(ivanova_away=True)
    state = RoutingState(paused={"kozlov": Pause()})  # an unrelated member, off too: not a candidate
    d = decide(lead(region="Москва"), p, state, NOON)
    assert d.assignee == "sidorov" and [s.manager for s in d.skipped] == ["ivanova"]
    text = reason_text(d, p)
    assert "регион: «Москва» → Иванова по списку в конфигурации; вместо Иванова — замещающий" in text
    assert "выбран: Сидоров; пропущены: Иванова — отсутствует до 11.12.2026" in text
    assert "Козлов" not in text


def test_an_unavailable_owner_without_a_substitute_passes_to_the_next_in_the_keys_order():
    p = territories()
    state = RoutingState(paused={"ivanova": Pause()})
    d = decide(lead(region="Москва"), p, state, NOON)
    order = [m for m in ranking(p.pools["territories"], "москва") if m != "ivanova"]
    assert d.assignee == order[0]
    assert [s.manager for s in d.skipped] == ["ivanova"]
    assert "вместо Иванова — следующий по порядку для этого значения" in reason_text(d, p)


def test_a_lead_without_the_key_says_so():
    p = territories()
    text = reason_text(decide(lead(), p, RoutingState(), NOON), p)
    assert "регион: нет значения — распределение по весам" in text
