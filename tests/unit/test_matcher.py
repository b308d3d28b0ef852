"""The compiled rule list picks exactly the rule that asking each condition in order picks."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from core.conditions import (
    All,
    Always,
    AnyOf,
    Condition,
    Contains,
    Equals,
    Exists,
    Not,
    Prefix,
    Range,
    Regex,
)
from core.matcher import RuleMatcher
from core.model import Lead
from core.policy import Rule
from tests.builders import NOON

PATHS = ["region", "city", "source", "phone", "tags", "price", "utm_source", "field:Форма", "field_id:7"]
WORDS = ["", " ", "Москва", "москва ", "Ёлка", "елка", "8812", "+7 812 000", "7812", "1500", "1 500,5", "VIP"]
texts = st.sampled_from(WORDS)
values = st.one_of(
    st.none(),
    texts,
    st.integers(-5, 2000),
    st.floats(allow_nan=False, width=32),
    st.booleans(),
    st.lists(texts, max_size=3),
    st.tuples(texts, texts),
)


@st.composite
def field_tests(draw: st.DrawFn) -> Condition:
    path = draw(st.sampled_from(PATHS))
    kind = draw(st.sampled_from(["equals", "prefix", "contains", "regex", "range", "exists"]))
    if kind == "equals":
        return Equals(path, draw(st.lists(st.one_of(texts, st.integers(0, 2000)), min_size=1, max_size=3)))
    if kind == "prefix":
        return Prefix(path, draw(st.lists(texts, min_size=1, max_size=2)))
    if kind == "contains":
        return Contains(path, draw(st.lists(texts, min_size=1, max_size=2)))
    if kind == "regex":
        return Regex(path, draw(st.sampled_from(["^мос", "лк", r"\d{3}", "^$"])))
    if kind == "range":
        low, high = draw(st.none() | st.integers(0, 1500)), draw(st.none() | st.integers(0, 3000))
        return Range(path, gte=low, lt=high)
    return Exists(path, draw(st.booleans()))


class Odd(Condition):
    """A condition type the matcher does not know: it must be asked through `matches`."""

    def matches(self, lead: Lead) -> bool:
        return len(lead.id) % 2 == 1

    def describe(self) -> str:
        return "odd id"


conditions = st.recursive(
    field_tests() | st.just(Always()) | st.just(Odd()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda parts: All(tuple(parts))),
        st.lists(inner, max_size=3).map(lambda parts: AnyOf(tuple(parts))),
        inner.map(Not),
    ),
    max_leaves=6,
)


@st.composite
def leads(draw: st.DrawFn) -> Lead:
    plain = {name: draw(values) for name in ["region", "city", "source", "phone"]}
    tags = draw(st.lists(texts, max_size=2).map(tuple))
    price = draw(st.none() | st.floats(0, 3000, allow_nan=False) | st.integers(0, 3000))
    utm = {"utm_source": draw(values)}
    return Lead(
        id=draw(st.sampled_from(["1", "22"])),
        created_at=NOON,
        tags=tags,
        price=price,  # type: ignore[arg-type]
        utm=utm,  # type: ignore[arg-type]
        fields={"Форма": draw(values)},
        field_ids={"7": draw(values)},
        **plain,  # type: ignore[arg-type]
    )


@settings(max_examples=400, deadline=None)
@given(conditions=st.lists(conditions, min_size=1, max_size=6), lead_list=st.lists(leads(), max_size=5))
def test_the_compiled_rules_pick_the_first_rule_whose_condition_matches(conditions, lead_list):
    rules = tuple(Rule(f"r{i}", c, "p") for i, c in enumerate(conditions))
    matcher = RuleMatcher(rules)
    for lead in lead_list:
        expected = next((rule for rule in rules if rule.condition.matches(lead)), None)
        assert matcher.first(lead) is expected, matcher.source
