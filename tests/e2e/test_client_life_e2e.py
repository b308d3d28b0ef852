"""A lead's whole life with its client, end to end on amoCRM and on Bitrix24: the real `leadrouter
serve` against a CRM emulator, which sends its real webhooks and keeps what we write.

- Won and lost come from the CRM: a deal dragged into won (amoCRM status 142; Bitrix24 a stage
  with semantics `S`) is reported won by `leadrouter report`, with its amount, for the manager
  who owned it and its source; the audit's `won` row names the hunter it was handed over from.
- The client follows the deal into the CRM (`continuity.sync_client_owner`): after the handoff
  the client's contact and company are the account manager's there too, and the client's next
  lead goes to the account manager. With the sync off, the contacts are left as they were.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.e2e.stack import CrmDriver, emulated, run, service, wait_for
from tests.e2e.test_handoffs_e2e import IVANOVA, KOZLOVA, STAFF

LONG_AGO = "2025-03-01T10:00:00+03:00"
LIFE = """
pools:
  callers: {members: [ivanova, smirnova], strategy: round_robin}
  client_managers: {members: [kozlova], strategy: least_loaded}
rules:
  - {name: new-leads, pool: callers}
handoffs:
  - {name: contract-signed, on_stage: Договор подписан, to: client_managers, keep_hunter_in_field: Хантер}
continuity: {enabled: true, sync_client_owner: %s}
"""


def life_config(crm: CrmDriver, *, sync: bool = True) -> str:
    staff = STAFF % {"crm": crm.crm_line(), "ivanova": "", "petrov": "", "others": ""}
    return staff + LIFE % ("true" if sync else "false")


@pytest.fixture(params=["amocrm", "bitrix24"])
def crm(request) -> Iterator[CrmDriver]:
    with emulated(request.param) as driver:
        yield driver


# --- what each CRM's people do, and what each CRM holds ----------------------------------------


def form_user(crm: CrmDriver) -> int:
    """The CRM user a web form leaves as the responsible: nobody the config routes to."""
    return 504150 if crm.name == "amocrm" else 1


def new_client(crm: CrmDriver) -> tuple[int, int]:
    """A client the CRM has known for a year (a contact with its company), still held by the user
    the web form gave it to: nobody the config knows, so its first lead goes by the rules."""
    form = form_user(crm)
    if crm.name == "amocrm":
        company = crm.emu.add_party("companies", "ООО Вектор", responsible=form)
        contact = crm.emu.add_party(
            "contacts", "Анна Смирнова", responsible=form, phone="+7 916 000-11-22", company_id=company.id
        )
        return contact.id, company.id
    emu = crm.emu
    contact = emu.create(
        "contact", {"NAME": "Анна", "PHONE": [{"VALUE": "+7 916 000-11-22"}], "ASSIGNED_BY_ID": str(form)}
    )
    company = emu.create("company", {"TITLE": "ООО Вектор", "ASSIGNED_BY_ID": str(form)})
    for kind, number in (("contact", contact), ("company", company)):
        emu.portal.records[kind][number]["DATE_CREATE"] = LONG_AGO  # an old client, not the form's new one
    return contact, company


def new_deal(crm: CrmDriver, client: tuple[int, int] | None = None, price: int = 0) -> int:
    """A deal from a web form (amoCRM: marked utm_source=yandex; Bitrix24: source CALL)."""
    contact, company = client or (None, None)
    if crm.name == "amocrm":
        emu = crm.emu
        utm = emu.account.field_by_code("leads", "UTM_SOURCE")
        fields = {utm.id: [{"value": "yandex"}]}
        links = {"contacts": [contact] if contact else [], "company_id": company}
        return int(emu.create_lead(name="Заявка с сайта", price=price, fields=fields, **links).id)
    fields = {"TITLE": "Заявка с сайта", "OPPORTUNITY": str(price), "SOURCE_ID": "CALL"}
    if contact:
        fields |= {"CONTACT_ID": str(contact), "COMPANY_ID": str(company)}
    return int(crm.emu.create("deal", fields))


def win(crm: CrmDriver, deal: int) -> None:
    """The owner drags the deal into won: status 142 (amoCRM), the `S` stage WON (Bitrix24)."""
    if crm.name == "amocrm":
        crm.emu.person_moves(deal, 142, by=crm.owner(deal))
    else:
        crm.emu.update("deal", deal, {"STAGE_ID": "WON"})


def responsible(crm: CrmDriver, kind: str, number: int) -> int:
    """The responsible of a contact or a company, as the CRM keeps it."""
    if crm.name == "amocrm":
        return int(crm.emu.account.parties[number].responsible_user_id)
    return int(crm.emu.record(kind, number)["ASSIGNED_BY_ID"])


def holds(crm: CrmDriver, client: tuple[int, int]) -> tuple[int, int]:
    """The responsible of the client's contact and of its company."""
    return responsible(crm, "contact", client[0]), responsible(crm, "company", client[1])


def report(svc, *args: str) -> dict:
    done = run(svc.env, svc.cwd, "report", "--format", "json", "--since", "1d", *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# --- the tests -----------------------------------------------------------------------------------


def test_a_deal_won_in_the_crm_is_reported_won_with_its_amount_for_its_owner_and_source(crm, tmp_path):
    source = "yandex" if crm.name == "amocrm" else "CALL"
    with service(crm, life_config(crm), tmp_path) as svc:
        deal = new_deal(crm, price=420_000)
        wait_for(lambda: crm.owner(deal) == IVANOVA, what="a caller to get the new lead")
        svc.settle()
        crm.move(deal, "Договор подписан")  # the hunter hands it to the account manager
        wait_for(lambda: crm.owner(deal) == KOZLOVA, what="the handoff")
        svc.settle()
        win(crm, deal)
        wait_for(lambda: "won" in svc.audit(deal).kinds(), what="the won deal in the audit log")
        svc.settle()
        won = [e for e in svc.audit(deal) if e["kind"] == "won"]
        assert len(won) == 1 and won[0]["manager"] == "kozlova"
        assert won[0]["detail"] == {"amount": 420_000, "source": source, "hunter": "ivanova"}
        out = report(svc)
    lines = {row["manager"]: row for row in out["managers"]}
    assert (lines["kozlova"]["won"], lines["kozlova"]["lost"], lines["kozlova"]["won_amount"]) == (
        1,
        0,
        420_000,
    )
    assert lines["kozlova"]["conversion"] == "100%" and lines["kozlova"]["handed_in"] == 1
    assert (lines["ivanova"]["received"], lines["ivanova"]["won"], lines["ivanova"]["handed_out"]) == (
        1,
        0,
        1,
    )
    sources = {row["source"]: row for row in out["sources"]}
    assert (sources[source]["received"], sources[source]["won"], sources[source]["conversion"]) == (
        1,
        1,
        "100%",
    )


def test_after_a_handoff_the_clients_contact_and_company_are_the_account_managers_in_the_crm(crm, tmp_path):
    with service(crm, life_config(crm), tmp_path) as svc:
        client = new_client(crm)
        deal = new_deal(crm, client)
        wait_for(lambda: crm.owner(deal) == IVANOVA, what="a caller to get the new lead")
        wait_for(lambda: holds(crm, client) == (IVANOVA, IVANOVA), what="the client to follow the lead")
        crm.move(deal, "Договор подписан")
        wait_for(lambda: crm.owner(deal) == KOZLOVA, what="the handoff")
        wait_for(lambda: holds(crm, client) == (KOZLOVA, KOZLOVA), what="the client to follow the deal")
        svc.settle()
        writes = svc.audit(deal).writes("client")
        assert writes == 2  # the first decision, then the handoff

        again = new_deal(crm, client)  # the client comes back: to their account manager
        wait_for(lambda: crm.owner(again) == KOZLOVA, what="the repeat client's lead")
        svc.settle()
        assert holds(crm, client) == (KOZLOVA, KOZLOVA)
        assert [e["detail"]["route"] for e in svc.audit(again) if e["kind"] == "decision"] == ["continuity"]
        assert "dead_letter" not in svc.audit(again).kinds()


def test_with_sync_client_owner_off_the_crms_contacts_are_left_as_they_were(crm, tmp_path):
    with service(crm, life_config(crm, sync=False), tmp_path) as svc:
        client = new_client(crm)
        deal = new_deal(crm, client)
        wait_for(lambda: crm.owner(deal) == IVANOVA, what="a caller to get the new lead")
        crm.move(deal, "Договор подписан")
        wait_for(lambda: crm.owner(deal) == KOZLOVA, what="the handoff")
        svc.settle()
        assert holds(crm, client) == (form_user(crm), form_user(crm))
        assert svc.audit(deal).writes("client") == 0
        again = new_deal(crm, client)  # continuity still follows our own record of the holder
        wait_for(lambda: crm.owner(again) == KOZLOVA, what="the repeat client's lead")
