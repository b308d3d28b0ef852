"""Request shapes, batch packing and per-command outcomes, against a scripted MockTransport."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.ports import CrmWrite, WriteKind, WriteStatus
from tests.adapters.bitrix24.conftest import WEBHOOK, batch_answer

DUE = datetime(2026, 12, 2, 9, 15, tzinfo=UTC)


def test_calls_go_to_the_webhook_url_as_json_batches(make_client, server):
    server.script.append(batch_answer({"w0": True}))
    make_client().write([CrmWrite(WriteKind.RESPONSIBLE, "lead:17", user_id=5)])
    request = server.requests[0]
    assert str(request.url) == WEBHOOK + "batch.json"
    assert request.headers["content-type"] == "application/json"
    assert server.body()["halt"] == 0
    assert server.commands() == {
        "w0": (
            "crm.lead.update",
            {"id": "17", "fields": {"ASSIGNED_BY_ID": "5"}, "params": {"REGISTER_SONET_EVENT": "Y"}},
        )
    }


def test_a_deal_responsible_goes_through_crm_deal_update(make_client, server):
    make_client(entity="deal").write([CrmWrite(WriteKind.RESPONSIBLE, "deal:9", user_id=3)])
    assert server.commands()["w0"][0] == "crm.deal.update"


def test_a_task_is_a_timeline_todo_for_the_new_responsible_with_a_deadline(make_client, server):
    make_client().write(
        [CrmWrite(WriteKind.TASK, "deal:9", user_id=3, text="Позвонить клиенту\nсрочно", due=DUE)]
    )
    method, params = server.commands()["w0"]
    assert method == "crm.activity.todo.add"
    assert params == {
        "ownerTypeId": "2",
        "ownerId": "9",
        "deadline": "2026-12-02T09:15:00+00:00",
        "title": "Позвонить клиенту",
        "description": "Позвонить клиенту\nсрочно",
        "responsibleId": "3",
        "pingOffsets": {"0": "0"},
    }


def test_a_task_without_a_due_moment_is_due_in_fifteen_minutes_by_the_clients_clock(make_client, server):
    make_client().write([CrmWrite(WriteKind.TASK, "lead:9", user_id=3, text="Позвонить")])
    deadline = datetime.fromisoformat(server.commands()["w0"][1]["deadline"])
    assert deadline == datetime.fromtimestamp(server.now, UTC) + timedelta(minutes=15)


def test_a_note_is_a_timeline_comment_whose_text_survives_query_encoding(make_client, server):
    text = "leadrouter: rule `vip` → pool & co = 100%; chosen: Иванова"
    make_client().write([CrmWrite(WriteKind.NOTE, "lead:4", text=text)])
    assert server.commands()["w0"] == (
        "crm.timeline.comment.add",
        {"fields": {"ENTITY_ID": "4", "ENTITY_TYPE": "lead", "COMMENT": text}},
    )


def test_a_hundred_and_twenty_writes_pack_into_batches_of_fifty(make_client, server):
    writes = [CrmWrite(WriteKind.RESPONSIBLE, f"lead:{n}", user_id=1) for n in range(1, 121)]
    results = make_client().write(writes)
    assert [len(server.body(n)["cmd"]) for n in range(3)] == [50, 50, 20]
    assert len(results) == 120


def test_a_configured_smaller_batch_size_is_what_the_worker_is_told(make_client):
    assert make_client(batch_size=20).batch_size(WriteKind.NOTE) == 20
    assert make_client(batch_size=500).batch_size(WriteKind.NOTE) == 50  # the API's cap (§3)


def test_each_command_of_a_batch_gets_its_own_outcome(make_client, server):
    errors = {
        "w1": {"error": "", "error_description": "Not found"},
        "w2": {"error": "ACCESS_DENIED", "error_description": "Access denied"},
        "w3": {"error": "OPERATION_TIME_LIMIT", "error_description": "Method is blocked"},
        "w4": {"error": "INTERNAL_SERVER_ERROR", "error_description": ""},
    }
    server.script.append(batch_answer({"w0": True}, errors))
    writes = [CrmWrite(WriteKind.RESPONSIBLE, f"lead:{n}", user_id=1) for n in range(1, 6)]
    results = make_client().write(writes)
    assert [r.status for r in results] == [
        WriteStatus.OK,
        WriteStatus.GONE,  # "Not found": the lead is deleted (the worker records it so)
        WriteStatus.PERMANENT,
        WriteStatus.TRANSIENT,
        WriteStatus.TRANSIENT,
    ]
    assert results[1].detail == {"code": "NOT_FOUND"} and "Not found" in results[1].error
    assert results[2].detail == {"code": "ACCESS_DENIED"}


def test_a_write_for_a_malformed_lead_id_is_refused_without_a_call(make_client, server):
    results = make_client().write([CrmWrite(WriteKind.NOTE, "12", text="x")])
    assert results[0].status is WriteStatus.PERMANENT and server.requests == []


def test_a_whole_batch_that_keeps_failing_leaves_every_write_transient(make_client, server):
    server.script += [(500, "<html>oops</html>")] * 5
    results = make_client().write(
        [CrmWrite(WriteKind.NOTE, "lead:1", text="a"), CrmWrite(WriteKind.NOTE, "lead:2", text="b")]
    )
    assert {r.status for r in results} == {WriteStatus.TRANSIENT}
    assert len(server.requests) == 5  # retried, then given back to the outbox


def test_a_field_write_finds_the_uf_field_by_label_and_sends_the_list_item_id(make_client, server):
    fields = {
        "UF_CRM_77": {
            "type": "enumeration",
            "title": "UF_CRM_77",
            "listLabel": "Хантер",
            "items": [{"ID": "41", "VALUE": "Иванова"}, {"ID": "42", "VALUE": "Петров"}],
        }
    }
    server.script.append(batch_answer({"statuses": [], "fields": fields}))
    server.script.append(batch_answer({"w0": True}))
    make_client().write([CrmWrite(WriteKind.FIELD, "lead:5", field_name="хантер", field_value="Петров")])
    assert server.commands()["w0"][1]["fields"] == {"UF_CRM_77": "42"}


def test_a_field_write_to_an_unknown_field_is_refused_for_good(make_client, server):
    server.script.append(batch_answer({"statuses": [], "fields": {}}))
    results = make_client().write([CrmWrite(WriteKind.FIELD, "lead:5", field_name="Хантер", field_value="x")])
    assert results[0].status is WriteStatus.PERMANENT and "Хантер" in results[0].error


def test_a_record_without_date_create_takes_its_date_modify_and_never_the_wall_clock():
    from adapters.bitrix24.mapping import EPOCH, to_lead

    changed = to_lead("lead", {"ID": "3", "DATE_MODIFY": "2026-12-02T12:00:00+03:00"}, stage=None, fields={})
    bare = to_lead("lead", {"ID": "4", "DATE_CREATE": ""}, stage=None, fields={})
    assert changed.created_at == datetime(2026, 12, 2, 9, 0, tzinfo=UTC) and bare.created_at == EPOCH


def test_a_client_write_reads_the_links_then_updates_each_contact_and_company_quietly(make_client, server):
    links = {
        "r0": {"ID": "9", "CONTACT_ID": "4", "COMPANY_ID": "7"},
        "c0": [
            {"CONTACT_ID": 5, "SORT": 20, "IS_PRIMARY": "N"},
            {"CONTACT_ID": 4, "SORT": 10, "IS_PRIMARY": "Y"},
        ],
        "r1": {"ID": "10", "CONTACT_ID": "6", "COMPANY_ID": None},  # a portal without the binding list
    }
    refused = {
        "c1": {"error": "ERROR_METHOD_NOT_FOUND", "error_description": "Method not found!"},
        "r2": {"error": "", "error_description": "Not found"},
    }
    server.script += [batch_answer(links, refused), batch_answer({f"u{n}": True for n in range(4)})]
    writes = [CrmWrite(WriteKind.CLIENT, f"deal:{n}", user_id=3) for n in (9, 10, 11)]
    results = make_client(entity="deal").write(writes)
    assert [r.status for r in results] == [
        WriteStatus.OK,
        WriteStatus.OK,
        WriteStatus.GONE,
    ]  # deal 11 deleted
    assert results[0].detail == {"contacts": "2", "companies": "1"} and results[2].detail == {
        "code": "NOT_FOUND"
    }
    assert server.commands(0) == {
        "r0": ("crm.deal.get", {"id": "9"}),
        "c0": ("crm.deal.contact.items.get", {"id": "9"}),
        "r1": ("crm.deal.get", {"id": "10"}),
        "c1": ("crm.deal.contact.items.get", {"id": "10"}),
        "r2": ("crm.deal.get", {"id": "11"}),
        "c2": ("crm.deal.contact.items.get", {"id": "11"}),
    }
    quiet = {"REGISTER_SONET_EVENT": "N"}
    assert server.commands(1) == {
        "u0": ("crm.contact.update", {"id": "4", "fields": {"ASSIGNED_BY_ID": "3"}, "params": quiet}),
        "u1": ("crm.contact.update", {"id": "5", "fields": {"ASSIGNED_BY_ID": "3"}, "params": quiet}),
        "u2": ("crm.company.update", {"id": "7", "fields": {"ASSIGNED_BY_ID": "3"}, "params": quiet}),
        "u3": ("crm.contact.update", {"id": "6", "fields": {"ASSIGNED_BY_ID": "3"}, "params": quiet}),
    }


def test_a_client_write_whose_update_hits_a_limit_is_transient_and_one_refused_is_permanent(
    make_client, server
):
    links = {"r0": {"CONTACT_ID": "4"}, "c0": [], "r1": {"COMPANY_ID": "8"}, "c1": []}
    errors = {
        "u0": {"error": "OPERATION_TIME_LIMIT", "error_description": "Method is blocked"},
        "u1": {"error": "ACCESS_DENIED", "error_description": "Access denied"},
    }
    server.script += [batch_answer(links), batch_answer({}, errors)]
    writes = [CrmWrite(WriteKind.CLIENT, f"lead:{n}", user_id=3) for n in (1, 2)]
    results = make_client().write(writes)
    assert [r.status for r in results] == [WriteStatus.TRANSIENT, WriteStatus.PERMANENT]
    assert results[1].detail == {"contacts": "0", "companies": "1", "code": "ACCESS_DENIED"}
