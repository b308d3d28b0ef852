"""The lead stream played into the emulated Bitrix24 portal: deals as a web form creates them (the
form's user responsible, a contact with the phone), moved by their owners once routed, won in the
funnel's success stage — each change announced by the portal's outbound events."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.bitrix24 import Bitrix24Emulator
from sandbox.bitrix24.demo import Bitrix24Player, Portal, seed_portal
from sandbox.leads import LOST, WON, LeadStream, Move, NewLead
from webhook_app.config import load_config
from webhook_app.config.sandbox import layout

ROOT = Path(__file__).resolve().parents[2]
KUZNETSOVA = 7  # in examples/bitrix24.yaml


@pytest.fixture
def portal() -> Iterator[tuple[Bitrix24Emulator, Portal]]:
    document = load_config(ROOT / "examples" / "bitrix24.yaml").document
    with Bitrix24Emulator(domain="example.bitrix24.ru", rate=1000.0, burst=1000) as emu:
        seeded = seed_portal(emu, layout(document))
        # Where the service would be: nobody listens, the deliveries are recorded all the same.
        emu.add_outgoing_webhook(
            "http://127.0.0.1:9/hooks/bitrix24/x", ["ONCRMDEALADD", "ONCRMDEALUPDATE"], "t"
        )
        yield emu, seeded


def route_all(emu: Bitrix24Emulator, form_user: int) -> None:
    """What the service does: every deal still with the form's user gets a manager."""
    for number, deal in list(emu.portal.records["deal"].items()):
        if int(deal["ASSIGNED_BY_ID"]) == form_user:
            emu.update("deal", number, {"ASSIGNED_BY_ID": KUZNETSOVA})


def test_a_new_deal_arrives_as_a_web_form_creates_it_and_the_portal_says_so(portal):
    emu, seeded = portal
    lines: list[str] = []
    player = Bitrix24Player(emu, LeadStream(seed=1), seeded, say=lines.append)
    (new,) = player.step()
    assert isinstance(new, NewLead)
    deal = emu.record("deal", player.deals[new.number])
    assert (deal["TITLE"], deal["ASSIGNED_BY_ID"]) == (new.name, str(seeded.form_user))
    assert float(deal["OPPORTUNITY"]) == new.price and deal["STAGE_ID"] == "NEW"
    assert "ADDRESS_REGION" not in deal  # a deal has no address: the client's region is a UF field
    assert deal[seeded.client_fields["Регион"]] == new.client.region
    assert deal[seeded.client_fields["Город"]] == new.client.city
    ownership = emu.portal.fields["deal"][str(seeded.ownership_field)]
    chosen = {i["ID"]: i["VALUE"] for i in ownership["items"]}[deal[str(seeded.ownership_field)]]
    assert chosen == new.client.ownership
    contact = emu.record("contact", int(deal["CONTACT_ID"]))
    assert contact["PHONE"][0]["VALUE"] == new.client.phone
    assert contact["ASSIGNED_BY_ID"] == str(seeded.form_user)
    assert emu.events.wait_idle()
    assert [(d.event, d.entity_id) for d in emu.events.deliveries] == [("ONCRMDEALADD", deal["ID"])]
    assert lines == [lines[0]] and lines[0].startswith(
        f"+ сделка {deal['ID']}  {new.name}  ·  {new.client.person}"
    )


def test_deals_move_once_routed_and_a_won_deal_ends_in_the_success_stage(portal):
    emu, seeded = portal
    player = Bitrix24Player(emu, LeadStream(seed=1), seeded, say=lambda _: None)
    moves = [a for _ in range(12) for a in player.step() if isinstance(a, Move)]
    assert moves  # due, but nobody could make them: every deal still sits with the form's user
    assert {d["STAGE_ID"] for d in emu.portal.records["deal"].values() if d["CATEGORY_ID"] == "0"} == {"NEW"}
    route_all(emu, seeded.form_user)
    for _ in range(40):
        moves += [a for a in player.step() if isinstance(a, Move)]
        route_all(emu, seeded.form_user)
    first = emu.record("deal", player.deals[moves[0].lead])
    assert first["STAGE_ID"] != "NEW"
    contact = emu.record("contact", int(first["CONTACT_ID"]))
    assert contact["ASSIGNED_BY_ID"] == str(KUZNETSOVA)  # the client is theirs now
    won = [emu.record("deal", player.deals[m.lead]) for m in moves if m.stage == WON]
    assert won and all(d["STAGE_SEMANTIC_ID"] == "S" and d["CLOSED"] == "Y" for d in won)
    assert emu.events.wait_idle()
    updates = {d.entity_id for d in emu.events.deliveries if d.event == "ONCRMDEALUPDATE"}
    assert {d["ID"] for d in won} <= updates  # every move announced, as the real portal does


def test_a_lost_deal_ends_in_the_failure_stage_saying_why_in_the_portals_field(portal):
    emu, seeded = portal
    player = Bitrix24Player(emu, LeadStream(seed=1), seeded, say=lambda _: None)
    moves: list[Move] = []
    for _ in range(60):
        moves += [a for a in player.step() if isinstance(a, Move)]
        route_all(emu, seeded.form_user)
    field, items = seeded.loss_reasons
    reasons = {item_id: name for name, item_id in items.items()}
    lost = [(m.reason, emu.record("deal", player.deals[m.lead])) for m in moves if m.stage == LOST]
    assert lost and all(deal["STAGE_SEMANTIC_ID"] == "F" for _, deal in lost)
    assert all(reasons[deal[field]] == reason for reason, deal in lost)
    assert "Спам" in items  # the example's junk: {loss_reason: Спам} can be given
