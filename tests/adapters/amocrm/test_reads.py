"""Leads read from the emulator as core Leads: names, fields, contact data, client history (§2.2, §2.7)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs

from tests.adapters.amocrm.conftest import emu_client

DAY = 86400


def fields(emu, **values: object) -> dict[int, list[dict[str, object]]]:
    result = {}
    for name, value in values.items():
        definition = emu.account.field_by_name("leads", name)
        if definition.enums:
            enum = next(k for k, v in definition.enums.items() if v == value)
            result[definition.id] = [{"value": value, "enum_id": enum}]
        else:
            result[definition.id] = [{"value": value}]
    return result


def test_a_lead_comes_with_names_fields_tags_price_and_its_contacts_data(db, emu):
    company = emu.add_party("companies", "ООО Ромашка", responsible=504143)
    emu.account.parties[company.id].fields[emu.account.field_by_name("companies", "ИНН").id] = [
        {"value": "7701234567"}
    ]
    contact = emu.add_party(
        "contacts", "Анна", responsible=504142, phone="+7 (916) 000-11-22", company_id=company.id
    )
    custom = fields(emu, **{"Форма собственности": "Госсектор", "Город": "Казань", "utm_source": "yandex"})
    lead = emu.create_lead(
        name="Поставка", price=150000, tags=["сайт", "VIP"], fields=custom, contacts=[contact.id]
    )
    got = emu_client(db, emu).fetch_lead(str(lead.id))
    assert got is not None
    assert (got.id, got.name, got.price, got.tags) == (str(lead.id), "Поставка", 150000.0, ("сайт", "VIP"))
    assert (got.pipeline, got.stage, got.pipeline_id, got.stage_id) == (
        "Продажи",
        "Первичный контакт",
        "5723341",
        "50288839",
    )
    assert got.fields["Форма собственности"] == "Госсектор"
    ownership = emu.account.field_by_name("leads", "Форма собственности").id
    assert got.field_ids[str(ownership)] == "Госсектор"
    assert (got.city, got.utm, got.source) == ("Казань", {"utm_source": "yandex"}, "yandex")
    assert (got.phone, got.company, got.inn) == ("+7 (916) 000-11-22", "ООО Ромашка", "7701234567")
    assert got.responsible_user_id == lead.responsible_user_id
    assert got.created_at == datetime.fromtimestamp(lead.created_at, UTC)


def test_won_and_lost_are_named_in_every_pipeline(db, emu):
    won, lost = emu.create_lead(status_id=142), emu.create_lead(status_id=143)
    client = emu_client(db, emu)
    assert client.fetch_lead(str(won.id)).stage == "Успешно реализовано"
    assert client.fetch_lead(str(lost.id)).stage == "Закрыто и не реализовано"


def test_status_142_reads_as_won_and_143_as_lost_with_the_amount(db, emu):
    sold = emu.create_lead(price=420_000, fields=fields(emu, utm_source="yandex"))
    dropped, open_ = emu.create_lead(price=90_000), emu.create_lead()
    emu.person_moves(sold.id, 142, by=504141)
    emu.person_moves(dropped.id, 143, by=504141)
    emu.person_moves(open_.id, 50288840, by=504141)
    got = emu_client(db, emu).fetch_leads([str(sold.id), str(dropped.id), str(open_.id)])
    assert (got[str(sold.id)].closed, got[str(sold.id)].price, got[str(sold.id)].source) == (
        "won",
        420_000.0,
        "yandex",
    )
    assert got[str(dropped.id)].closed == "lost" and got[str(open_.id)].closed is None
    assert emu.account.leads[sold.id].closed_at is not None  # amoCRM stamps the closing (§2.2)
    emu.person_moves(dropped.id, 50288840, by=504141)  # reopened: no longer closed
    assert emu_client(db, emu).fetch_lead(str(dropped.id)).closed is None
    assert emu.account.leads[dropped.id].closed_at is None


def test_a_missing_lead_is_none(db, emu):
    assert emu_client(db, emu).fetch_lead("999") is None
    assert emu_client(db, emu).fetch_lead("not-a-number") is None


def test_a_repeat_client_brings_their_manager_and_when_we_last_saw_them(db, emu):
    contact = emu.add_party("contacts", "Пётр", responsible=504142, phone="+79990001122")
    older = emu.create_lead(contacts=[contact.id], created_at=emu.account.now() - 40 * DAY)
    newer = emu.create_lead(contacts=[contact.id], created_at=emu.account.now() - 10 * DAY)
    lead = emu.create_lead(contacts=[contact.id])
    got = emu_client(db, emu).fetch_lead(str(lead.id))
    assert got.client_owner == 504142 and got.client_key == f"amocrm:contact:{contact.id}"
    assert got.client_last_seen == datetime.fromtimestamp(newer.created_at, UTC)
    assert older.id < newer.id


def test_a_new_contact_with_an_old_clients_phone_finds_the_old_client(db, emu):
    old = emu.add_party("contacts", "Пётр", responsible=504143, phone="8 (999) 000-11-22")
    seen = emu.create_lead(contacts=[old.id], created_at=emu.account.now() - 5 * DAY)
    fresh = emu.add_party(
        "contacts", "Петр с сайта", responsible=504100, phone="+7 999 000 11 22", created_at=emu.account.now()
    )
    lead = emu.create_lead(contacts=[fresh.id])
    got = emu_client(db, emu).fetch_lead(str(lead.id))
    assert got.client_owner == 504143 and got.client_key == f"amocrm:contact:{old.id}"
    assert got.client_last_seen == datetime.fromtimestamp(seen.created_at, UTC)
    search = emu.requests("GET", "/api/v4/contacts")[-1]
    assert "query=9990001122" in search.query


def test_a_phone_that_only_appears_elsewhere_in_a_contact_is_not_a_match(db, emu):
    other = emu.add_party("contacts", "Заметка 9990001122", responsible=504143, phone="+7 111 222 33 44")
    emu.create_lead(contacts=[other.id], created_at=emu.account.now() - 5 * DAY)
    fresh = emu.add_party(
        "contacts", "Новый", responsible=504100, phone="+7 999 000 11 22", created_at=emu.account.now()
    )
    got = emu_client(db, emu).fetch_lead(str(emu.create_lead(contacts=[fresh.id]).id))
    assert got.client_owner is None and got.client_last_seen is None


def test_a_brand_new_client_has_no_owner(db, emu):
    fresh = emu.add_party(
        "contacts", "Новый", responsible=504100, phone="+7 999 555 44 33", created_at=emu.account.now()
    )
    got = emu_client(db, emu).fetch_lead(str(emu.create_lead(contacts=[fresh.id]).id))
    assert got.client_owner is None and got.client_key == f"amocrm:contact:{fresh.id}"


def test_a_company_client_is_the_fallback_without_a_contact(db, emu):
    company = emu.add_party("companies", "ООО Ромашка", responsible=504144)
    emu.create_lead(company_id=company.id, created_at=emu.account.now() - 3 * DAY)
    got = emu_client(db, emu).fetch_lead(str(emu.create_lead(company_id=company.id).id))
    assert got.client_owner == 504144 and got.client_key == f"amocrm:company:{company.id}"


def test_the_leads_queued_next_are_read_in_one_request(db, emu):
    leads = emu.create_leads(20)
    ids = [str(lead.id) for lead in leads]
    client = emu_client(db, emu, upcoming=lambda limit: ids[:limit])
    got = [client.fetch_lead(i) for i in ids]
    assert [g.id for g in got] == ids
    assert len(emu.requests("GET", "/api/v4/leads")) == 1
    assert not emu.requests("GET", f"/api/v4/leads/{ids[0]}")


def test_a_lead_we_wrote_is_read_again_not_served_from_the_read_ahead(db, emu):
    from core.ports import CrmWrite, WriteKind

    a, b = emu.create_leads(2)
    client = emu_client(db, emu, upcoming=lambda limit: [str(a.id), str(b.id)])
    client.fetch_lead(str(a.id))
    client.write([CrmWrite(WriteKind.RESPONSIBLE, str(b.id), user_id=504141)])
    assert client.fetch_lead(str(b.id)).responsible_user_id == 504141


def test_changed_since_reads_every_page(db, emu):
    start = emu.account.now()
    emu.create_leads(260)
    changed = emu_client(db, emu).changed_since(datetime.fromtimestamp(start, UTC))
    assert len(changed) == 260
    assert len(emu.requests("GET", "/api/v4/leads")) == 2


def test_many_leads_are_read_with_one_list_call_and_a_missing_one_is_none(db, emu):
    ids = [str(lead.id) for lead in emu.create_leads(30)]
    found = emu_client(db, emu).fetch_leads([*ids, "999", "deal:1"])
    assert [found[i].id for i in ids] == ids and found["999"] is None and found["deal:1"] is None
    assert len(emu.requests("GET", "/api/v4/leads")) == 1


def test_a_lost_lead_names_its_loss_reason_as_the_lead_embeds_it(db, emu):
    spam, costly, silent, open_ = emu.create_leads(4)
    emu.person_moves(spam.id, 143, by=504141, loss_reason="Спам")
    emu.person_moves(costly.id, 143, by=504141, loss_reason="Дорого")
    emu.person_moves(silent.id, 143, by=504141)  # closed without saying why
    ids = [str(lead.id) for lead in (spam, costly, silent, open_)]
    got = emu_client(db, emu).fetch_leads(ids)
    assert [got[i].loss_reason for i in ids] == ["Спам", "Дорого", None, None]
    one = emu_client(db, emu).fetch_lead(str(spam.id))  # the single read asks for it too
    assert one.closed == "lost" and one.loss_reason == "Спам"
    ours = ("/api/v4/leads", f"/api/v4/leads/{spam.id}")  # the list read, then the single read
    reads = [parse_qs(r.query) for r in emu.requests("GET") if r.path in ours]
    assert len(reads) == 2 and all(q["with"] == ["contacts,loss_reason"] for q in reads)
    assert not emu.requests("GET", "/api/v4/leads/loss_reasons")  # named by the leads themselves


def test_a_reopened_lead_has_no_loss_reason(db, emu):
    lead = emu.create_lead()
    emu.person_moves(lead.id, 143, by=504141, loss_reason="Не целевой")
    emu.person_moves(lead.id, 50288840, by=504141)  # back to «Переговоры»
    got = emu_client(db, emu).fetch_lead(str(lead.id))
    assert (got.closed, got.loss_reason) == (None, None)


def test_without_its_own_reason_a_lost_lead_reads_a_field_named_loss_reason(db, emu):
    emu.account.add_field("leads", "Причина отказа")
    lead = emu.create_lead(fields=fields(emu, **{"Причина отказа": "Спам"}))
    emu.person_moves(lead.id, 143, by=504141)
    assert emu_client(db, emu).fetch_lead(str(lead.id)).loss_reason == "Спам"
