"""Bitrix24 outbound events parsed and verified, from the payloads in bitrix24.md §1.4."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.bitrix24.webhook import Bitrix24Event, parse_bitrix24_event, verify_bitrix24_event
from adapters.errors import ForbiddenWebhook, MalformedWebhook
from tests.fakes.payloads import bitrix24_event_payload

APP_TOKEN = "51856fefc120afa4b628cc82d3935cce"
DOMAIN = "some-domain.bitrix24.com"
MEMBER = "a223c6b3710f85df22e9377d6c4f7553"

# ONCRMLEADADD to an application, verbatim from bitrix24.md §1.4 minus the refresh_token the
# doc says to expect absent on CRM events (§1.2).
LEAD_ADD_WIRE = f"""\
event=ONCRMLEADADD
event_handler_id=707
data[FIELDS][ID]=1000983
ts=1742807175
auth[access_token]=s6p6eclrvim6da22ft9ch94ekreb52lv
auth[expires_in]=3600
auth[scope]=crm
auth[domain]={DOMAIN}
auth[server_endpoint]=https://oauth.bitrix.info/rest/
auth[status]=L
auth[client_endpoint]=https://{DOMAIN}/rest/
auth[member_id]={MEMBER}
auth[application_token]={APP_TOKEN}"""


def lead_add() -> list[tuple[str, str]]:
    return bitrix24_event_payload("ONCRMLEADADD", "1000983", application_token=APP_TOKEN)


def deal_update_to_outgoing_webhook() -> list[tuple[str, str]]:
    return bitrix24_event_payload(
        "ONCRMDEALUPDATE",
        "7405",
        application_token="jvh9y1ulvt2m6k5or90v9mg8nn32ozas",
        member_id="d897063e1ce7c5eb9f04b9751eef5915",
        handler_id="975",
        ts=1766047124,
        with_tokens=False,
    )


def malformed(pairs: list[tuple[str, str]]) -> str:
    with pytest.raises(MalformedWebhook) as info:
        parse_bitrix24_event(pairs)
    return info.value.reason


def test_the_payload_builder_reproduces_the_documented_lead_add_line_by_line():
    assert [f"{k}={v}" for k, v in lead_add()] == LEAD_ADD_WIRE.splitlines()


def test_every_field_of_the_documented_lead_add_is_parsed():
    assert parse_bitrix24_event(lead_add()) == Bitrix24Event(
        event="ONCRMLEADADD",
        handler_id="707",
        entity="lead",
        entity_id="1000983",
        ts=1742807175,
        domain=DOMAIN,
        member_id=MEMBER,
        application_token=APP_TOKEN,
        has_user_tokens=True,
    )


def test_a_deal_update_to_an_outgoing_webhook_has_no_user_tokens():
    event = parse_bitrix24_event(deal_update_to_outgoing_webhook())
    assert (event.event, event.entity, event.entity_id, event.ts) == (
        "ONCRMDEALUPDATE",
        "deal",
        "7405",
        1766047124,
    )
    assert (event.handler_id, event.member_id, event.has_user_tokens) == (
        "975",
        "d897063e1ce7c5eb9f04b9751eef5915",
        False,
    )
    assert event.category_id is None and event.stage_id is None


def test_move_to_category_carries_the_new_funnel_and_stage():
    pairs = bitrix24_event_payload(
        "ONCRMDEALMOVETOCATEGORY",
        "6675",
        application_token=APP_TOKEN,
        fields={"CATEGORY_ID": "1", "STAGE_ID": "C1:NEW"},
    )
    event = parse_bitrix24_event(pairs)
    assert (event.entity, event.entity_id, event.category_id, event.stage_id) == (
        "deal",
        "6675",
        "1",
        "C1:NEW",
    )


def test_a_stage_id_on_a_plain_deal_update_is_not_trusted():
    pairs = bitrix24_event_payload(
        "ONCRMDEALUPDATE", "1", application_token=APP_TOKEN, fields={"STAGE_ID": "WON"}
    )
    assert parse_bitrix24_event(pairs).stage_id is None


def test_the_older_outgoing_webhook_payload_without_handler_id_is_tolerated():
    pairs = [
        ("event", "ONCRMDEALUPDATE"),
        ("data[FIELDS][ID]", "662"),
        ("ts", "1724140800"),
        ("auth[domain]", "example.bitrix24.com"),
        ("auth[member_id]", MEMBER),
        ("auth[application_token]", APP_TOKEN),
    ]
    event = parse_bitrix24_event(pairs)
    assert (event.handler_id, event.entity_id, event.has_user_tokens) == (None, "662", False)


@pytest.mark.parametrize(
    ("code", "entity"),
    [
        ("ONCRMLEADUPDATE", "lead"),
        ("ONCRMLEADDELETE", "lead"),
        ("ONCRMDEALADD", "deal"),
        ("ONCRMDEALDELETE", "deal"),
        ("ONCRMCONTACTADD", "contact"),
        ("ONCRMCOMPANYUPDATE", "company"),
        ("oncrmleadadd", "lead"),
    ],
)
def test_each_crm_event_names_its_entity(code, entity):
    event = parse_bitrix24_event(bitrix24_event_payload(code, "5", application_token=APP_TOKEN))
    assert (event.event, event.entity) == (code.upper(), entity)


def test_other_events_parse_as_other_without_needing_an_id():
    pairs = [("event", "ONAPPINSTALL"), ("data[VERSION]", "1.0.0"), ("ts", "1696527000")]
    pairs += [("auth[application_token]", APP_TOKEN)]
    event = parse_bitrix24_event(pairs)
    assert (event.entity, event.entity_id) == ("other", None)
    task = parse_bitrix24_event(bitrix24_event_payload("ONTASKADD", "abc", application_token=APP_TOKEN))
    assert (task.entity, task.entity_id) == ("other", None)


def test_redelivery_gives_the_same_dedup_key_and_a_later_event_another():
    first, again = parse_bitrix24_event(lead_add()), parse_bitrix24_event(lead_add())
    later = parse_bitrix24_event(
        bitrix24_event_payload("ONCRMLEADADD", "1000983", application_token=APP_TOKEN, ts=1742807176)
    )
    assert first.dedup_key() == again.dedup_key() == f"bitrix24:{MEMBER}:ONCRMLEADADD:1000983:1742807175"
    assert later.dedup_key() != first.dedup_key()


def test_the_dedup_key_falls_back_to_the_domain_without_a_member_id():
    pairs = bitrix24_event_payload("ONCRMLEADADD", "1", application_token=APP_TOKEN, member_id=None)
    assert parse_bitrix24_event(pairs).dedup_key().startswith(f"bitrix24:{DOMAIN}:")


def test_the_right_token_and_portal_pass_verification():
    event = parse_bitrix24_event(lead_add())
    verify_bitrix24_event(event, application_token=APP_TOKEN, domain=DOMAIN.upper(), member_id=MEMBER)


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"application_token": "wrong"}, "wrong application token"),
        ({"application_token": "ключ"}, "wrong application token"),
        ({"application_token": ""}, "no application token is configured"),
        ({"application_token": APP_TOKEN, "domain": "other.bitrix24.com"}, "foreign portal"),
        ({"application_token": APP_TOKEN, "member_id": "other"}, "foreign portal"),
    ],
)
def test_a_wrong_token_or_foreign_portal_is_forbidden(kw, expected):
    with pytest.raises(ForbiddenWebhook) as info:
        verify_bitrix24_event(parse_bitrix24_event(lead_add()), **kw)
    assert info.value.reason == expected


def test_the_application_token_never_shows_in_repr_str_or_errors():
    event = parse_bitrix24_event(lead_add())
    assert APP_TOKEN not in repr(event) and APP_TOKEN not in str(event)
    with pytest.raises(ForbiddenWebhook) as info:
        verify_bitrix24_event(event, application_token="x" + APP_TOKEN)
    assert APP_TOKEN not in str(info.value) and APP_TOKEN not in repr(info.value)
    pairs = [*lead_add(), ("auth[application_token][x]", APP_TOKEN)]
    assert APP_TOKEN not in malformed(pairs)


def without(pairs: list[tuple[str, str]], key: str) -> list[tuple[str, str]]:
    return [(k, v) for k, v in pairs if k != key]


def replaced(pairs: list[tuple[str, str]], key: str, value: str) -> list[tuple[str, str]]:
    return [(k, value if k == key else v) for k, v in pairs]


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        (without(lead_add(), "event"), "event is missing"),
        (replaced(lead_add(), "event", " "), "event is missing"),
        (without(lead_add(), "data[FIELDS][ID]"), "data[FIELDS][ID] is missing"),
        (replaced(lead_add(), "data[FIELDS][ID]", "12a"), "data[FIELDS][ID] is not a number"),
        (without(lead_add(), "auth[application_token]"), "auth[application_token] is missing"),
        (replaced(lead_add(), "auth[application_token]", ""), "auth[application_token] is missing"),
        (without(lead_add(), "ts"), "ts is missing"),
        (replaced(lead_add(), "ts", "soon"), "ts is not an integer"),
        (replaced(lead_add(), "ts", "1742807175.5"), "ts is not an integer"),
        ([*without(lead_add(), "data[FIELDS][ID]"), ("data", "x")], "data is not a group"),
    ],
)
def test_each_malformed_case_names_the_key_that_is_wrong(pairs, expected):
    assert malformed(pairs) == expected


VALID = bitrix24_event_payload(
    "ONCRMDEALMOVETOCATEGORY",
    "6675",
    application_token=APP_TOKEN,
    fields={"CATEGORY_ID": "1", "STAGE_ID": "C1:NEW"},
)
TEXT = st.text(max_size=10) | st.sampled_from(
    ["", "0", "12", "ONCRMLEADADD", "[", "]", "[ID]", "data[FIELDS]", "٣"]
)


@st.composite
def mutated(draw):
    """A valid event with a few pairs dropped, duplicated, re-keyed or given odd values."""
    pairs = list(VALID)
    for _ in range(draw(st.integers(1, 4))):
        if not pairs:
            break
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
    return pairs


@settings(max_examples=300, deadline=None)
@given(st.one_of(mutated(), st.lists(st.tuples(TEXT, TEXT), max_size=20)))
def test_fuzzed_events_only_ever_raise_malformed_or_forbidden(pairs):
    try:
        event = parse_bitrix24_event(pairs)
        verify_bitrix24_event(event, application_token=APP_TOKEN, domain=DOMAIN, member_id=MEMBER)
    except (MalformedWebhook, ForbiddenWebhook) as exc:
        assert exc.reason and APP_TOKEN not in exc.reason
