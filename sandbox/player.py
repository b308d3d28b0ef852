"""Plays a `LeadStream` into an emulated amoCRM account: leads arrive as a web form creates them (the
admin as their default responsible, a new contact and company), and deals are moved by their owners.

A move waits while its deal still sits with the admin (the service has not routed it yet), and a
deal's later moves wait behind its earlier ones; after `patience` ticks a waiting move is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.amocrm import AmoEmulator
from sandbox.amocrm.state import LOST, Party
from sandbox.company import OWNERSHIP, pipeline_id, stage_id
from sandbox.leads import Action, Client, LeadStream, Move, NewLead
from sandbox.words import stream_words

Say = Callable[[str], None]


@dataclass
class WaitingMove:
    """A move of the stream kept for a later tick, and how many ticks it has waited."""

    move: Move
    ticks: int = 0


class StreamPlayer:
    """What both CRMs' players share: a tick of the stream, and moves that wait for their deal's owner.

    A CRM's player says who owns a deal now (`_owner`), creates new ones (`_create`) and moves them
    (`_move`); a move waits while the deal sits with the form's user or behind an earlier move."""

    stream: LeadStream
    patience: int
    say: Say
    language: str
    _waiting: list[WaitingMove]

    def _tell_new(self, what: str, record_id: int, lead: NewLead) -> None:
        """One line for a new lead or deal, in the config's language."""
        w = stream_words(self.language)
        again = {"contact": w["repeat_contact"], "phone": w["repeat_phone"]}.get(lead.repeat or "", "")
        client = lead.client
        self.say(
            w["new"].format(
                what=w[what],
                id=record_id,
                name=lead.name,
                person=client.person,
                where=client.city or w["no_region"],
                budget=f"{lead.price:,} ₽".replace(",", " "),
                source=lead.source,
                again=again,
            )
        )

    def _tell_moved(self, what: str, record_id: int | str, stage: str, by: str) -> None:
        """One line for a deal its owner moved, in the config's language."""
        w = stream_words(self.language)
        self.say(w["moved"].format(what=w[what], id=record_id, stage=stage, name=by))

    def step(self) -> list[Action]:
        """Play the next tick; the actions it held."""
        actions = self.stream.tick()
        pending, self._waiting = self._waiting, []
        pending += [WaitingMove(a) for a in actions if isinstance(a, Move)]
        held: set[int] = set()
        for waiting in pending:
            self._try(waiting, held)
        for action in actions:
            if isinstance(action, NewLead):
                self._create(action)
        return actions

    def _try(self, waiting: WaitingMove, held: set[int]) -> None:
        """Move the deal now if its owner can, else keep the move for the next tick (or drop it)."""
        move = waiting.move
        owner = self._owner(move.lead)
        if owner is None:
            return
        if move.lead in held or owner == self._form_user():
            waiting.ticks += 1
            held.add(move.lead)
            if waiting.ticks <= self.patience:
                self._waiting.append(waiting)
            return
        self._move(move, owner)

    def _owner(self, number: int) -> int | None:
        """The responsible of the stream's deal `number` in the CRM (None: no such deal)."""
        raise NotImplementedError

    def _form_user(self) -> int:
        """The user a web form leaves as the responsible (the service has not routed the deal yet)."""
        raise NotImplementedError

    def _create(self, lead: NewLead) -> None:
        raise NotImplementedError

    def _move(self, move: Move, owner: int) -> None:
        raise NotImplementedError


@dataclass
class Player(StreamPlayer):
    """Applies the stream's actions to the emulator, one tick per `step()`."""

    emu: AmoEmulator
    stream: LeadStream
    form_user: int
    say: Say = print
    language: str = "ru"
    patience: int = 30
    leads: dict[int, int] = field(default_factory=dict)  # stream number → CRM lead id
    _contacts: dict[int, int] = field(default_factory=dict, init=False)  # client number → contact id
    _companies: dict[str, int] = field(default_factory=dict, init=False)  # company key → company id
    _waiting: list[WaitingMove] = field(default_factory=list, init=False)

    # -- new leads ------------------------------------------------------------------------------------
    def _create(self, lead: NewLead) -> None:
        account = self.emu.account
        with account.lock:
            contact = self._contact(lead)
            company = self._company(lead.client)
            if company is not None and contact.company_id is None:
                contact.company_id = company
            pipeline = pipeline_id(account, lead.pipeline) or next(iter(account.pipelines))
        created = self.emu.create_lead(
            name=lead.name,
            price=lead.price,
            pipeline_id=pipeline,
            responsible_user_id=self.form_user,
            fields=self._lead_fields(lead),
            tags=list(lead.tags),
            contacts=[contact.id],
            company_id=company,
        )
        self.leads[lead.number] = created.id
        self._tell_new("lead", created.id, lead)

    def _contact(self, lead: NewLead) -> Party:
        account, client = self.emu.account, lead.client
        known = self._contacts.get(client.number)
        if lead.repeat == "contact" and known is not None:
            return account.parties[known]
        party = Party(account.new_id("party"), "contacts", client.person, self.form_user, account.now())
        phone, email = account.field_by_code("contacts", "PHONE"), account.field_by_code("contacts", "EMAIL")
        if phone is not None:
            party.fields[phone.id] = [{"value": client.phone, "enum_code": "WORK"}]
        if email is not None and client.email:
            party.fields[email.id] = [{"value": client.email, "enum_code": "WORK"}]
        account.parties[party.id] = party
        self._contacts.setdefault(client.number, party.id)
        return party

    def _company(self, client: Client) -> int | None:
        account = self.emu.account
        key = client.company_key
        if client.company is None or key is None:
            return None
        if key not in self._companies:
            party = Party(account.new_id("party"), "companies", client.company, self.form_user, account.now())
            inn = account.field_by_name("companies", "ИНН")
            if inn is not None and client.inn:
                party.fields[inn.id] = [{"value": client.inn}]
            account.parties[party.id] = party
            self._companies[key] = party.id
        return self._companies[key]

    def _lead_fields(self, lead: NewLead) -> dict[int, list[dict[str, Any]]]:
        account, client = self.emu.account, lead.client
        values: dict[int, list[dict[str, Any]]] = {}
        named = {"Регион": client.region, "Город": client.city, "Источник": lead.source}
        for name, value in named.items():
            definition = account.field_by_name("leads", name)
            if definition is not None and value:
                values[definition.id] = [{"value": value}]
        ownership = account.field_by_name("leads", OWNERSHIP)
        if ownership is not None:
            choice = next((k for k, v in ownership.enums.items() if v == client.ownership), None)
            if choice is not None:
                values[ownership.id] = [{"value": client.ownership, "enum_id": choice}]
        for code, value in lead.utm:
            definition = account.field_by_code("leads", code.upper())
            if definition is not None:
                values[definition.id] = [{"value": value}]
        return values

    # -- stage moves ----------------------------------------------------------------------------------
    def _owner(self, number: int) -> int | None:
        lead_id = self.leads.get(number)
        lead = self.emu.account.leads.get(lead_id) if lead_id is not None else None
        return lead.responsible_user_id if lead is not None else None

    def _form_user(self) -> int:
        return self.form_user

    def _move(self, move: Move, owner: int) -> None:
        account = self.emu.account
        lead = account.leads[self.leads[move.lead]]
        with account.lock:
            status = stage_id(account, lead.pipeline_id, move.stage)
            name = account.users[owner].name if owner in account.users else str(owner)
            # Dropped on lost, the lead asks why (a reason its admin has since removed is not offered).
            known = status == LOST and move.reason and account.loss_reason_by_name(move.reason)
        if status is None or status == lead.status_id:
            return
        self.emu.person_moves(lead.id, status, by=owner, loss_reason=move.reason if known else None)
        if move.takes_client:
            self._take_client(lead.contacts, lead.company_id, owner)
        self._tell_moved("lead", lead.id, move.stage, name)

    def _take_client(self, contacts: list[int], company: int | None, owner: int) -> None:
        """The manager who first works the deal becomes the client's responsible, as people do in
        amoCRM: this is what makes the client's next lead a repeat client of theirs."""
        account = self.emu.account
        with account.lock:
            for party_id in [*contacts[:1], *([company] if company else [])]:
                party = account.parties.get(party_id)
                if party is not None and party.responsible_user_id == self.form_user:
                    party.responsible_user_id = owner
