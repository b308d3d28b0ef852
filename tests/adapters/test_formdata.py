"""Bracket form keys rebuilt into nested dicts, and every bad shape refused with a reason."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.errors import MalformedWebhook
from adapters.formdata import Group, as_list, parse_brackets


def reason(pairs: list[tuple[str, str]], **kw: int) -> str:
    with pytest.raises(MalformedWebhook) as info:
        parse_brackets(pairs, **kw)
    return info.value.reason


def test_bracket_keys_nest_into_dicts_with_indices_kept_as_string_keys():
    tree = parse_brackets(
        [
            ("leads[add][0][id]", "1"),
            ("leads[add][0][custom_fields][0][values][0][value]", "x"),
            ("auth[application_token]", "t"),
            ("event", "ONCRMLEADADD"),
        ]
    )
    assert tree == {
        "leads": {"add": {"0": {"id": "1", "custom_fields": {"0": {"values": {"0": {"value": "x"}}}}}}},
        "auth": {"application_token": "t"},
        "event": "ONCRMLEADADD",
    }


def test_keys_keep_their_wire_order():
    tree = parse_brackets([("leads[update][0][id]", "1"), ("leads[status][0][id]", "1"), ("a", "")])
    assert list(tree) == ["leads", "a"] and list(tree["leads"]) == ["update", "status"]


def test_empty_brackets_append_like_php():
    assert parse_brackets([("tags[]", "a"), ("tags[]", "b")]) == {"tags": {"0": "a", "1": "b"}}


def test_a_repeated_key_with_the_same_value_is_harmless():
    assert parse_brackets([("a[b]", "1"), ("a[b]", "1")]) == {"a": {"b": "1"}}


def test_as_list_orders_by_number_not_by_text():
    assert as_list({"10": "c", "2": "b", "0": "a"}) == ["a", "b", "c"]
    assert as_list({"99999999999999999999999999": "big", "3": "small"}) == ["small", "big"]


def test_as_list_turns_a_scalar_into_a_one_element_list():
    assert as_list("x") == ["x"]


def test_as_list_refuses_a_dict_that_is_not_numbered():
    with pytest.raises(MalformedWebhook, match="tags is not a numbered list"):
        as_list({"0": "a", "name": "b"}, key="tags")


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ([("a", "1"), ("a[b]", "2")], "a[b] is used both as a value and as a group"),
        ([("a[b]", "2"), ("a", "1")], "a is used both as a value and as a group"),
        ([("a[b", "1")], "a[b has unbalanced brackets"),
        ([("a]b", "1")], "a]b has unbalanced brackets"),
        ([("a[b]c", "1")], "a[b]c has unbalanced brackets"),
        ([("a[b[c]]", "1")], "a[b[c]] has unbalanced brackets"),
        ([("[x]", "1")], "a field has an empty name"),
        ([("", "1")], "a field has an empty name"),
        ([("a[b]", "1"), ("a[b]", "2")], "a[b] is repeated with different values"),
    ],
)
def test_a_bad_shape_is_malformed_with_a_reason_naming_the_key(pairs, expected):
    assert reason(pairs) == expected


def test_too_many_pairs_are_refused():
    assert reason([(f"k{i}", "") for i in range(11)], max_pairs=10) == "more than 10 fields"


def test_the_default_pair_limit_is_ten_thousand():
    parse_brackets([(f"k{i}", "") for i in range(10_000)])
    assert reason([(f"k{i}", "") for i in range(10_001)]) == "more than 10000 fields"


def test_nesting_deeper_than_the_limit_is_refused():
    parse_brackets([("a" + "[x]" * 8, "1")])
    assert reason([("a" + "[x]" * 9, "1")]) == "a[x][x][x][x][x][x][x][x][x] is nested deeper than 8"


def test_a_reason_is_bounded_and_printable_whatever_the_key():
    text = reason([("a\n" + "b" * 5000 + "[", "1")])
    assert len(text) <= 201 and "\n" not in text


def test_group_readers_name_the_wire_key_of_a_bad_value():
    lead = Group("leads[add][0]", {"id": "x1", "price": "1e5", "created_at": "1.5", "tags": "t"})
    for read, expected in [
        (lambda: lead.ident("id"), "leads[add][0][id] is not a number"),
        (lambda: lead.number("price"), "leads[add][0][price] is not a number"),
        (lambda: lead.integer("created_at"), "leads[add][0][created_at] is not an integer"),
        (lambda: lead.group("tags"), "leads[add][0][tags] is not a group"),
        (lambda: lead.required_ident("status_id"), "leads[add][0][status_id] is missing"),
    ]:
        with pytest.raises(MalformedWebhook) as info:
            read()
        assert info.value.reason == expected


def test_ids_must_be_ascii_digits():
    with pytest.raises(MalformedWebhook):
        Group("", {"id": "٣"}).ident("id")  # Arabic-Indic three: isdigit() but not an id


def test_group_readers_treat_empty_as_absent():
    empty = Group("x", {"price": "", "id": "", "ts": ""})
    assert empty.number("price") is None and empty.ident("id") is None and empty.integer("ts") is None


# Keys from an alphabet rich in brackets, so the fuzz reaches every branch of the key parser.
KEYS = st.text(alphabet=st.sampled_from("ab0[]] [é€\x00"), max_size=12) | st.text(max_size=12)
PAIRS = st.lists(st.tuples(KEYS, st.text(max_size=8)), max_size=30)


@settings(max_examples=400, deadline=None)
@given(PAIRS)
def test_any_input_either_parses_or_is_malformed(pairs):
    try:
        tree = parse_brackets(pairs, max_pairs=25, max_depth=3)
    except MalformedWebhook as exc:
        assert exc.reason and len(exc.reason) <= 201
    else:
        assert isinstance(tree, dict)
