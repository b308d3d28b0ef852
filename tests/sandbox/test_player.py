"""The lead stream played into the emulated account: leads as a web form creates them, deals moved
by their owners once the service has routed them, repeat clients as the CRM would hold them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.amocrm import AmoEmulator
from sandbox.amocrm.state import Lead
from sandbox.company import build_account, stage_id
from sandbox.leads import LOST, Action, LeadStream, Move, NewLead
from sandbox.player import Player
from webhook_app.config import load_config
from webhook_app.config.sandbox import layout

ROOT = Path(__file__).resolve().parents[2]
MANAGER = 6102311  # Кузнецова in the example config


@pytest.fixture
def emu_admin() -> Iterator[tuple[AmoEmulator, int]]:
    account, admin = build_account(layout(load_config(ROOT / "config.example.yaml").document))
    with AmoEmulator(rate=None, hook_threads=1, account=account) as emu:
        yield emu, admin


def route_all(emu: AmoEmulator, admin: int) -> None:
    """What the service does: every lead still with the form's user gets a manager."""
    for lead in list(emu.account.leads.values()):
        if lead.responsible_user_id == admin:
            emu.person_sets_responsible(lead.id, MANAGER)


def played(emu: AmoEmulator, admin: int, player: Player, ticks: int) -> list[Action]:
    """What `ticks` ticks of the stream did, the service routing every new lead after each."""
    actions: list[Action] = []
    for _ in range(ticks):
        actions += player.step()
        route_all(emu, admin)
    return actions


def first_stage(emu: AmoEmulator, lead: Lead) -> int:
    """Where a new lead starts: the pipeline's first open stage."""
    return next(sid for sid, (_, kind) in emu.account.pipelines[lead.pipeline_id][1].items() if kind == 0)


def values(emu: AmoEmulator, entity: str, fields: dict, name: str) -> list:
    definition = emu.account.field_by_name(entity, name)
    assert definition is not None
    return [v["value"] for v in fields.get(definition.id, [])]


def test_a_new_lead_arrives_as_a_web_form_creates_it(emu_admin):
    emu, admin = emu_admin
    lines: list[str] = []
    player = Player(emu, LeadStream(seed=1), admin, say=lines.append)
    (new,) = player.step()
    assert isinstance(new, NewLead)
    lead = emu.account.leads[player.leads[new.number]]
    assert (lead.name, lead.price, lead.responsible_user_id) == (new.name, new.price, admin)
    assert emu.account.pipelines[lead.pipeline_id][0] == new.pipeline
    assert values(emu, "leads", lead.fields, "Регион") == [new.client.region]
    assert values(emu, "leads", lead.fields, "Город") == [new.client.city]
    assert values(emu, "leads", lead.fields, "Источник") == [new.source]
    assert values(emu, "leads", lead.fields, "Форма собственности") == [new.client.ownership]
    contact = emu.account.parties[lead.contacts[0]]
    assert contact.name == new.client.person and contact.responsible_user_id == admin
    assert values(emu, "contacts", contact.fields, "Телефон") == [new.client.phone]
    company = emu.account.parties[lead.company_id] if lead.company_id else None
    assert (company.name if company else None) == new.client.company
    assert lines == [lines[0]] and lines[0].startswith(f"+ лид {lead.id}  {new.name}  ·  {new.client.person}")


def test_the_stream_speaks_the_configs_language(emu_admin):
    emu, admin = emu_admin
    said: dict[str, list[str]] = {"ru": [], "en": []}
    for language, lines in said.items():
        player = Player(emu, LeadStream(seed=1), admin, say=lines.append, language=language)
        player.step()
    assert said["ru"][0].startswith("+ лид ") and said["en"][0].startswith("+ lead ")
    assert not any(word in said["ru"][0] for word in ("lead", "repeat client", "no region"))


def test_deals_move_only_once_routed_and_by_their_owner_who_takes_the_client(emu_admin):
    emu, admin = emu_admin
    player = Player(emu, LeadStream(seed=1), admin, say=lambda _: None)
    moves = [a for _ in range(12) for a in player.step() if isinstance(a, Move)]
    assert moves  # due, but nobody could make them: every deal still sits with the form's user
    assert all(lead.status_id == first_stage(emu, lead) for lead in emu.account.leads.values())
    route_all(emu, admin)
    player.step()
    moved = emu.account.leads[player.leads[moves[0].lead]]
    assert moved.status_id == stage_id(emu.account, moved.pipeline_id, moves[0].stage)
    assert moved.updated_by == MANAGER
    assert emu.account.parties[moved.contacts[0]].responsible_user_id == MANAGER  # the client is theirs
    if moved.company_id:
        assert emu.account.parties[moved.company_id].responsible_user_id == MANAGER


def test_a_waiting_move_is_dropped_after_the_patience_runs_out(emu_admin):
    emu, admin = emu_admin
    player = Player(emu, LeadStream(seed=1), admin, say=lambda _: None, patience=2)
    moves = [a for _ in range(12) for a in player.step() if isinstance(a, Move)]
    route_all(emu, admin)
    player.step()
    early = emu.account.leads[player.leads[moves[0].lead]]
    assert early.status_id == first_stage(emu, early)


def test_repeat_clients_are_the_same_contact_or_a_duplicate_with_the_same_phone(emu_admin):
    emu, admin = emu_admin
    player = Player(emu, LeadStream(seed=1), admin, say=lambda _: None)
    leads = [a for a in played(emu, admin, player, 150) if isinstance(a, NewLead)]
    first: dict[int, int] = {}
    seen = set()
    for new in leads:
        contact = emu.account.leads[player.leads[new.number]].contacts[0]
        first.setdefault(new.client.number, contact)
        if new.repeat == "contact":
            assert contact == first[new.client.number]
        elif new.repeat == "phone":
            original = emu.account.parties[first[new.client.number]]
            assert contact != original.id and emu.account.parties[contact].fields == original.fields
        seen.add(new.repeat)
    assert seen == {None, "contact", "phone"}


def test_a_retail_chain_is_one_company_while_namesakes_elsewhere_are_not(emu_admin):
    emu, admin = emu_admin
    player = Player(emu, LeadStream(seed=1), admin, say=lambda _: None)
    leads = [a for _ in range(300) for a in player.step() if isinstance(a, NewLead) and not a.repeat]
    by_name: dict[str, set[int]] = {}
    for new in leads:
        company = emu.account.leads[player.leads[new.number]].company_id
        if company is not None and new.client.company is not None:
            by_name.setdefault(new.client.company, set()).add(company)
    chains = {name: ids for name, ids in by_name.items() if name.startswith("ООО «Ситилинк»")}
    assert chains and all(len(ids) == 1 for ids in chains.values())
    assert any(len(ids) > 1 for name, ids in by_name.items() if name.startswith("ООО «"))


def test_a_lost_lead_is_closed_with_one_of_the_accounts_loss_reasons(emu_admin):
    emu, admin = emu_admin
    player = Player(emu, LeadStream(seed=1), admin, say=lambda _: None)
    moves = [a for a in played(emu, admin, player, 60) if isinstance(a, Move)]
    reasons = {r.id: r.name for r in emu.account.loss_reasons.values()}
    lost = [(m.reason, emu.account.leads[player.leads[m.lead]]) for m in moves if m.stage == LOST]
    assert lost and all(lead.status_id == 143 for _, lead in lost)
    assert all(reasons[lead.loss_reason_id] == reason for reason, lead in lost)
