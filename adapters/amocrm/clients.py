"""Who the client behind a lead is, and whether we have seen them before (continuity, §2.7).

The client is the lead's main contact, else its company. A client "already has a manager" when
it has other leads, or existed before this lead (a web form creates the contact together with
the lead, and its responsible is then just the form's default user). A new contact with no other
leads may be a duplicate of an older one: we search its phone with `query` (a fuzzy search over
all fields, so the number goes without its country prefix) and keep only contacts whose PHONE
field really is that number (§2.7 [S]). Everything is read in batches of up to `batch` ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from adapters.amocrm.mapping import ClientInfo, coded, fields_by_name, moment
from adapters.amocrm.schemas import ClientOut, LeadOut, M, embedded
from adapters.amocrm.transport import AmoHttp
from core.conditions import normalize_phone

NATIONAL_DIGITS = 10  # +7 999 123-45-67 and 8 (999) 123 45 67 are both searched as 9991234567


@dataclass
class Clients:
    """Reads contacts, companies and their leads for a batch of leads."""

    http: AmoHttp
    batch: int = 125
    search_phones: bool = True
    grace: int = 60  # a contact created this close to its lead came with it

    def info(self, leads: list[LeadOut]) -> dict[int, ClientInfo]:
        """What we know of each lead's client, by lead id."""
        contact_ids = {c for lead in leads if (c := _main(lead)) is not None}
        contacts = self._read("/api/v4/contacts", "contacts", contact_ids)
        company_ids = {lead.embedded.companies[0].id for lead in leads if lead.embedded.companies}
        company_ids |= {c.embedded.companies[0].id for c in contacts.values() if c.embedded.companies}
        companies = self._read("/api/v4/companies", "companies", company_ids)
        history: dict[int, tuple[ClientOut | None, list[int]]] = {}
        for lead in leads:
            history[lead.id] = self._history(lead, contacts.get(_main(lead) or 0), companies)
        newest = {ids[-1] for _, ids in history.values() if ids}
        created = {lead.id: lead.created_at for lead in self._leads(newest)}
        return {
            lead.id: self._client(lead, contacts.get(_main(lead) or 0), companies, *history[lead.id], created)
            for lead in leads
        }

    def _history(
        self, lead: LeadOut, contact: ClientOut | None, companies: dict[int, ClientOut]
    ) -> tuple[ClientOut | None, list[int]]:
        """The client entity that holds the history, and the ids of the client's other leads, sorted."""
        for entity in self._candidates(contact, companies.get(_company_id(lead, contact) or 0)):
            others = sorted(r.id for r in entity.embedded.leads if r.id != lead.id)
            if others or entity.created_at < lead.created_at - self.grace:
                return entity, others
        return None, []

    def _candidates(self, contact: ClientOut | None, company: ClientOut | None) -> Iterator[ClientOut]:
        """The main contact, then (searched only if needed) its phone twins, then the company."""
        if contact is not None:
            yield contact
            yield from self._twins(contact)
        if company is not None:
            yield company

    def _client(
        self,
        lead: LeadOut,
        contact: ClientOut | None,
        companies: dict[int, ClientOut],
        owner: ClientOut | None,
        others: list[int],
        created: dict[int, int],
    ) -> ClientInfo:
        company = companies.get(_company_id(lead, contact) or 0)
        fields = contact.custom_fields_values if contact else None
        keyed = owner or contact or company
        kind = "company" if keyed is not None and keyed is company else "contact"
        return ClientInfo(
            phone=coded(fields, "PHONE"),
            email=coded(fields, "EMAIL"),
            company=(company.name or None) if company else None,
            company_fields=fields_by_name(company.custom_fields_values) if company else None,
            client_key=f"amocrm:{kind}:{keyed.id}" if keyed else None,
            client_owner=owner.responsible_user_id if owner else None,
            client_last_seen=moment(created.get(others[-1])) if others else None,
        )

    def _twins(self, contact: ClientOut) -> list[ClientOut]:
        """Other contacts whose PHONE is this contact's number, those with the newest leads first."""
        phone = coded(contact.custom_fields_values, "PHONE")
        if not self.search_phones or not phone:
            return []
        digits = normalize_phone(phone)[-NATIONAL_DIGITS:]
        if len(digits) < 6:
            return []
        found = []
        for page in self.http.pages("/api/v4/contacts", {"query": digits, "with": "leads", "limit": 50}):
            found += embedded(page, "contacts", ClientOut)
        twins = [c for c in found if c.id != contact.id and _has_phone(c, digits)]
        return sorted(twins, key=lambda c: max((r.id for r in c.embedded.leads), default=0), reverse=True)

    def _read(self, path: str, key: str, ids: Iterable[int]) -> dict[int, ClientOut]:
        return {c.id: c for c in self._batched(path, key, ids, ClientOut, "leads")}

    def _leads(self, ids: Iterable[int]) -> list[LeadOut]:
        return self._batched("/api/v4/leads", "leads", ids, LeadOut, None)

    def _batched(self, path: str, key: str, ids: Iterable[int], model: type[M], with_: str | None) -> list[M]:
        wanted = sorted(set(ids))
        found: list[M] = []
        for start in range(0, len(wanted), self.batch):
            params: list[tuple[str, str | int]] = [
                ("filter[id][]", i) for i in wanted[start : start + self.batch]
            ]
            params += [("limit", 250)] + ([("with", with_)] if with_ else [])
            for page in self.http.pages(path, params):
                found += embedded(page, key, model)
        return found


def _main(lead: LeadOut) -> int | None:
    contacts = lead.embedded.contacts
    main = [c.id for c in contacts if c.is_main] or [c.id for c in contacts]
    return main[0] if main else None


def _company_id(lead: LeadOut, contact: ClientOut | None) -> int | None:
    if lead.embedded.companies:
        return lead.embedded.companies[0].id
    return contact.embedded.companies[0].id if contact and contact.embedded.companies else None


def _has_phone(contact: ClientOut, digits: str) -> bool:
    for field in contact.custom_fields_values or ():
        is_phone = (field.field_code or "").upper() == "PHONE"
        if is_phone and any(normalize_phone(v.value or "").endswith(digits) for v in field.values):
            return True
    return False
