"""amoCRM lead webhooks parsed field by field, from the payloads in amocrm.md §1.4."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.amocrm.webhook import AmoCustomField, AmoLeadEvent, parse_amocrm_webhook
from adapters.errors import ForbiddenWebhook, MalformedWebhook
from tests.fakes.payloads import amocrm_lead_payload

# The add_lead 2024 capture, verbatim from amocrm.md §1.4 (order as sent).
ADD_LEAD_2024_WIRE = """\
account[subdomain]=700622
account[id]=29604535
account[_links][self]=https://700622.amocrm.ru
leads[add][0][id]=35168771
leads[add][0][name]=Заказ #87856, +7 (919) 959-39-84
leads[add][0][status_id]=50288839
leads[add][0][price]=0
leads[add][0][responsible_user_id]=9750914
leads[add][0][last_modified]=1712331728
leads[add][0][modified_user_id]=0
leads[add][0][created_user_id]=0
leads[add][0][date_create]=1712331728
leads[add][0][pipeline_id]=5723341
leads[add][0][tags][0][id]=276241
leads[add][0][tags][0][name]=myshop.ru
leads[add][0][account_id]=29604535
leads[add][0][custom_fields][0][id]=6099
leads[add][0][custom_fields][0][name]=_ym_uid
leads[add][0][custom_fields][0][values][0][value]=87856
leads[add][0][custom_fields][0][code]=_YM_UID
leads[add][0][custom_fields][2][id]=1402697
leads[add][0][custom_fields][2][name]=С какого сайта пришла заявка
leads[add][0][custom_fields][2][values][0][value]=xn--80afdp5b4b.xn--p1ai
leads[add][0][custom_fields][2][values][0][enum]=918167
leads[add][0][created_at]=1712331728
leads[add][0][updated_at]=1712331728"""

ADD_LEAD_2024 = {
    "id": "35168771",
    "name": "Заказ #87856, +7 (919) 959-39-84",
    "status_id": "50288839",
    "price": "0",
    "responsible_user_id": "9750914",
    "last_modified": "1712331728",
    "modified_user_id": "0",
    "created_user_id": "0",
    "date_create": "1712331728",
    "pipeline_id": "5723341",
    "tags": [{"id": "276241", "name": "myshop.ru"}],
    "account_id": "29604535",
    "custom_fields": {
        "0": {"id": "6099", "name": "_ym_uid", "values": [{"value": "87856"}], "code": "_YM_UID"},
        "2": {
            "id": "1402697",
            "name": "С какого сайта пришла заявка",
            "values": [{"value": "xn--80afdp5b4b.xn--p1ai", "enum": "918167"}],
        },
    },
    "created_at": "1712331728",
    "updated_at": "1712331728",
}

# The official status_lead example (DOC:webhooks-format), with its bare `values` list.
STATUS_LEAD = {
    "id": "25399013",
    "name": "Lead title",
    "old_status_id": "7039101",
    "status_id": "142",
    "price": "0",
    "responsible_user_id": "123123",
    "last_modified": "1413554372",
    "modified_user_id": "123123",
    "created_user_id": "123123",
    "date_create": "1413554349",
    "account_id": "7039099",
    "custom_fields": [{"id": "427183", "name": "Checkbox custom field", "values": ["1"]}],
}

# The 2016 responsible_lead capture (Bolid1/zapier_build), which had only account[subdomain].
RESPONSIBLE_LEAD = {
    "id": "31926520",
    "name": "Some test lead",
    "status_id": "10216994",
    "price": "10000",
    "responsible_user_id": "938348",
    "old_responsible_user_id": "102525",
    "last_modified": "1456822527",
    "modified_user_id": "102525",
    "created_user_id": "102525",
    "date_create": "1456808154",
    "pipeline_id": "2116",
    "account_id": "10216991",
}


def add_lead_2024() -> list[tuple[str, str]]:
    return amocrm_lead_payload("add", [ADD_LEAD_2024])


def malformed(pairs: list[tuple[str, str]]) -> str:
    with pytest.raises(MalformedWebhook) as info:
        parse_amocrm_webhook(pairs)
    return info.value.reason


def test_the_payload_builder_reproduces_the_2024_capture_line_by_line():
    assert [f"{k}={v}" for k, v in add_lead_2024()] == ADD_LEAD_2024_WIRE.splitlines()


def test_every_field_of_the_2024_add_lead_capture_is_parsed():
    hook = parse_amocrm_webhook(add_lead_2024(), account_id="29604535", subdomain="700622")
    assert (hook.account_id, hook.subdomain, hook.account) == ("29604535", "700622", "29604535")
    assert hook.events == (
        AmoLeadEvent(
            action="add",
            lead_id="35168771",
            name="Заказ #87856, +7 (919) 959-39-84",
            status_id="50288839",
            pipeline_id="5723341",
            price=0.0,
            responsible_user_id="9750914",
            modified_user_id="0",
            created_user_id="0",
            created_at=1712331728,
            updated_at=1712331728,
            tags=("myshop.ru",),
            custom_fields=(
                AmoCustomField("6099", "_ym_uid", "_YM_UID", ("87856",), ()),
                AmoCustomField(
                    "1402697", "С какого сайта пришла заявка", None, ("xn--80afdp5b4b.xn--p1ai",), ("918167",)
                ),
            ),
            account_id="29604535",
        ),
    )
    assert hook.events[0].by_robot


def test_the_official_status_lead_example_parses_with_old_status_and_v2_timestamps():
    (event,) = parse_amocrm_webhook(amocrm_lead_payload("status", [STATUS_LEAD], account_id="7039099")).events
    assert (event.action, event.lead_id, event.status_id, event.old_status_id) == (
        "status",
        "25399013",
        "142",
        "7039101",
    )
    assert (event.created_at, event.updated_at, event.modified_user_id) == (1413554349, 1413554372, "123123")
    assert not event.by_robot
    assert event.custom_fields == (AmoCustomField("427183", "Checkbox custom field", None, ("1",), ()),)


def test_the_2016_responsible_lead_capture_parses_with_the_old_responsible():
    pairs = amocrm_lead_payload("responsible", [RESPONSIBLE_LEAD], account_id=None, subdomain="test000002")
    hook = parse_amocrm_webhook(pairs, subdomain="test000002")
    (event,) = hook.events
    assert (event.responsible_user_id, event.old_responsible_user_id, event.price) == (
        "938348",
        "102525",
        10000.0,
    )
    assert (hook.account_id, hook.account, event.account_id) == (None, "test000002", "10216991")


def test_a_bare_values_entry_of_a_date_field_is_read_as_its_value():
    lead = {"id": "1", "custom_fields": [{"id": "5", "values": {"0": "1542067200"}}]}
    (event,) = parse_amocrm_webhook(amocrm_lead_payload("update", [lead])).events
    assert event.custom_fields[0].values == ("1542067200",)


def test_a_composite_custom_field_value_is_skipped_not_refused():
    lead = {"id": "1", "custom_fields": [{"id": "5", "values": [{"value": {"name": "ООО Ромашка"}}]}]}
    (event,) = parse_amocrm_webhook(amocrm_lead_payload("update", [lead])).events
    assert event.custom_fields[0].values == ()


def test_several_leads_in_one_post_are_all_returned_in_index_order():
    leads = [{"id": str(i), "status_id": "1"} for i in (5, 6, 7)]
    events = parse_amocrm_webhook(amocrm_lead_payload("add", leads)).events
    assert [e.lead_id for e in events] == ["5", "6", "7"]


def test_several_actions_in_one_post_are_all_returned_in_wire_order():
    pairs = [
        *amocrm_lead_payload("update", [{"id": "1"}]),
        ("leads[status][0][id]", "1"),
        ("leads[status][0][status_id]", "142"),
        ("leads[responsible][0][id]", "2"),
    ]
    events = parse_amocrm_webhook(pairs).events
    assert [(e.action, e.lead_id) for e in events] == [("update", "1"), ("status", "1"), ("responsible", "2")]


def test_a_delete_may_carry_an_id_subkey_or_a_bare_id():
    pairs = amocrm_lead_payload("delete", [{"id": "11"}, "12"])
    assert [(e.action, e.lead_id) for e in parse_amocrm_webhook(pairs).events] == [
        ("delete", "11"),
        ("delete", "12"),
    ]


def test_a_note_event_names_its_lead_by_element_id():
    pairs = amocrm_lead_payload(
        "note", [{"note": {"id": "900", "element_id": "35168771", "created_by": "7"}}]
    )
    (event,) = parse_amocrm_webhook(pairs).events
    assert (event.action, event.lead_id, event.note_id, event.modified_user_id) == (
        "note",
        "35168771",
        "900",
        "7",
    )


def test_other_entities_and_unknown_actions_are_ignored_without_failing():
    pairs = [
        *amocrm_lead_payload("add", [{"id": "1"}]),
        ("contacts[add][0][id]", "5"),
        ("contacts[add][0][type]", "contact"),
        ("task[add][0][id]", "6"),
        ("unsorted[add][0][uid]", "abc"),
        ("leads[something_new][0][id]", "7"),
    ]
    assert [e.lead_id for e in parse_amocrm_webhook(pairs).events] == ["1"]


def test_a_post_without_lead_events_is_valid_and_yields_none():
    hook = parse_amocrm_webhook([*amocrm_lead_payload("add", []), ("contacts[add][0][id]", "5")])
    assert hook.events == ()


def test_redelivery_of_the_same_event_gives_the_same_dedup_key():
    first, again = (parse_amocrm_webhook(add_lead_2024()).events[0] for _ in range(2))
    assert first.dedup_key("29604535") == again.dedup_key("29604535")
    assert first.dedup_key("29604535") == "amocrm:29604535:add:35168771:1712331728:50288839:9750914"


@pytest.mark.parametrize(
    "change",
    [
        {"updated_at": "1712331729"},
        {"status_id": "142"},
        {"responsible_user_id": "1"},
    ],
)
def test_another_change_of_the_same_lead_gives_another_dedup_key(change):
    before = parse_amocrm_webhook(add_lead_2024()).events[0]
    after = parse_amocrm_webhook(amocrm_lead_payload("add", [ADD_LEAD_2024 | change])).events[0]
    assert before.dedup_key("a") != after.dedup_key("a")


def test_the_same_change_reported_by_two_actions_gives_two_dedup_keys():
    pairs = amocrm_lead_payload("update", [RESPONSIBLE_LEAD]) + amocrm_lead_payload(
        "responsible", [RESPONSIBLE_LEAD]
    )
    update, responsible = parse_amocrm_webhook(pairs).events
    assert update.dedup_key("a") != responsible.dedup_key("a")


@pytest.mark.parametrize(
    ("kw", "pairs_kw"),
    [
        ({"account_id": "1"}, {}),
        ({"subdomain": "other"}, {}),
        ({"account_id": "1"}, {"account_id": None}),  # no id in the payload, no subdomain to go by
        ({"account_id": "29604535", "subdomain": "other"}, {"account_id": None}),
    ],
)
def test_a_foreign_account_is_forbidden(kw, pairs_kw):
    pairs = amocrm_lead_payload("add", [{"id": "1"}], **pairs_kw)
    with pytest.raises(ForbiddenWebhook, match="foreign account"):
        parse_amocrm_webhook(pairs, **kw)


def test_a_lead_from_a_foreign_account_inside_our_post_is_forbidden():
    pairs = amocrm_lead_payload("add", [{"id": "1", "account_id": "666"}])
    with pytest.raises(ForbiddenWebhook):
        parse_amocrm_webhook(pairs, account_id="29604535")


def test_a_payload_without_account_id_is_checked_by_subdomain_case_insensitively():
    pairs = amocrm_lead_payload("add", [{"id": "1"}], account_id=None, subdomain="Example")
    assert parse_amocrm_webhook(pairs, account_id="29604535", subdomain="example").events[0].lead_id == "1"


def test_a_matching_account_id_is_enough_when_the_subdomain_was_renamed():
    pairs = amocrm_lead_payload("add", [{"id": "1"}], subdomain="renamed")
    assert parse_amocrm_webhook(pairs, account_id="29604535", subdomain="old").events


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ([("leads[add][0][id]", "1")], "account is missing"),
        (
            [("account[_links][self]", "https://x.amocrm.ru"), ("leads[add][0][id]", "1")],
            "account has neither id nor subdomain",
        ),
        ([("account", "x")], "account is not a group"),
        (amocrm_lead_payload("add", [{"name": "no id"}]), "leads[add][0][id] is missing"),
        (amocrm_lead_payload("add", [{"id": "abc"}]), "leads[add][0][id] is not a number"),
        (amocrm_lead_payload("delete", ["x1"]), "leads[delete][0] is not a number"),
        (
            amocrm_lead_payload("add", [{"id": "1", "price": "дорого"}]),
            "leads[add][0][price] is not a number",
        ),
        (
            amocrm_lead_payload("add", [{"id": "1", "status_id": "1.5"}]),
            "leads[add][0][status_id] is not a number",
        ),
        (
            amocrm_lead_payload("add", [{"id": "1", "date_create": "yesterday"}]),
            "leads[add][0][date_create] is not an integer",
        ),
        (
            amocrm_lead_payload("add", [{"id": "1", "updated_at": "-5"}]),
            "leads[add][0][updated_at] is not an integer",
        ),
        (
            amocrm_lead_payload("add", [{"id": "1", "custom_fields": [{"name": "x"}]}]),
            "leads[add][0][custom_fields][0][id] is missing",
        ),
        (
            amocrm_lead_payload("add", [{"id": "1", "custom_fields": {"a": {"id": "1"}}}]),
            "leads[add][0][custom_fields] is not a numbered list",
        ),
        (
            amocrm_lead_payload("add", [{"id": "1", "custom_fields": ["x"]}]),
            "leads[add][0][custom_fields][0] is not a group",
        ),
        (amocrm_lead_payload("note", [{"note": {"id": "1"}}]), "leads[note][0][note][element_id] is missing"),
        (
            [*amocrm_lead_payload("add", [{"id": "1"}]), ("leads[add]", "x")],
            "leads[add] is used both as a value and as a group",
        ),
    ],
)
def test_each_malformed_case_names_the_key_that_is_wrong(pairs, expected):
    assert malformed(pairs) == expected


def test_an_empty_price_is_none():
    (event,) = parse_amocrm_webhook(amocrm_lead_payload("add", [{"id": "1", "price": ""}])).events
    assert event.price is None


VALID = add_lead_2024() + amocrm_lead_payload("status", [STATUS_LEAD | {"account_id": "29604535"}])[3:]
TEXT = st.text(max_size=10) | st.sampled_from(["", "0", "12", "-1", "1.5", "abc", "[", "]", "[0]", "٣"])


@st.composite
def mutated(draw):
    """A valid payload with a few pairs dropped, duplicated, re-keyed or given odd values."""
    pairs = list(VALID)
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(pairs) - 1))
        key, value = pairs[i]
        op = draw(st.sampled_from(["drop", "value", "key", "dup", "suffix"]))
        if op == "drop":
            pairs.pop(i)
        elif op == "value":
            pairs[i] = (key, draw(TEXT))
        elif op == "key":
            pairs[i] = (draw(TEXT), value)
        elif op == "dup":
            pairs.insert(i, (key, draw(TEXT)))
        else:
            pairs[i] = (key + draw(TEXT), value)
        if not pairs:
            break
    return pairs


@settings(max_examples=300, deadline=None)
@given(st.one_of(mutated(), st.lists(st.tuples(TEXT, TEXT), max_size=20)))
def test_fuzzed_payloads_only_ever_raise_malformed_or_forbidden(pairs):
    try:
        parse_amocrm_webhook(pairs, account_id="29604535")
    except (MalformedWebhook, ForbiddenWebhook) as exc:
        assert exc.reason
