"""Writes as amoCRM batch calls: the exact bodies, and one honest result per write (§2.3–2.6, §4)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx

from core.ports import CrmWrite, WriteKind, WriteStatus
from tests.adapters.amocrm.conftest import mock_client

FIELDS = {
    "_embedded": {
        "custom_fields": [
            {"id": 701, "name": "Хантер", "type": "text"},
            {
                "id": 702,
                "name": "Форма собственности",
                "type": "select",
                "enums": [{"id": 9, "value": "Госсектор"}],
            },
        ]
    }
}
DUE = datetime(2026, 12, 2, 9, 15, tzinfo=UTC)


class Amo:
    """A fake API: records write bodies, answers each with the next scripted response."""

    def __init__(self, *answers: httpx.Response) -> None:
        self.answers = list(answers)
        self.bodies: list[tuple[str, str, list]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/custom_fields"):
            return httpx.Response(200, json=FIELDS)
        if request.method == "GET":
            return httpx.Response(204)
        self.bodies.append((request.method, request.url.path, json.loads(request.content)))
        return self.answers.pop(0) if self.answers else httpx.Response(200, json={"_embedded": {}})


def responsible(lead: str, user: int) -> CrmWrite:
    return CrmWrite(WriteKind.RESPONSIBLE, lead, user_id=user)


def refusal(*items: tuple[str, str]) -> httpx.Response:
    errors = [
        {
            "request_id": rid,
            "errors": [{"code": "NotSupportedChoice", "path": path, "detail": "not a valid choice"}],
        }
        for rid, path in items
    ]
    body = {
        "validation-errors": errors,
        "title": "Bad Request",
        "status": 400,
        "detail": "Request validation failed",
    }
    return httpx.Response(400, json=body)


def test_responsibles_go_in_one_patch_with_only_the_changed_field(db, fake_time):
    amo = Amo()
    results = mock_client(db, amo, fake_time).write([responsible("11", 504141), responsible("12", 504142)])
    assert [r.status for r in results] == [WriteStatus.OK, WriteStatus.OK]
    assert amo.bodies == [
        (
            "PATCH",
            "/api/v4/leads",
            [{"id": 11, "responsible_user_id": 504141}, {"id": 12, "responsible_user_id": 504142}],
        )
    ]


def test_a_task_has_text_due_time_responsible_and_the_lead(db, fake_time):
    amo = Amo()
    write = CrmWrite(WriteKind.TASK, "11", user_id=504141, text="Связаться с клиентом", due=DUE)
    mock_client(db, amo, fake_time).write([write])
    assert amo.bodies[0][:2] == ("POST", "/api/v4/tasks")
    assert amo.bodies[0][2] == [
        {
            "task_type_id": 1,
            "text": "Связаться с клиентом",
            "complete_till": int(DUE.timestamp()),
            "entity_id": 11,
            "entity_type": "leads",
            "responsible_user_id": 504141,
        }
    ]


def test_a_note_is_a_common_note_with_the_reason(db, fake_time):
    amo = Amo()
    mock_client(db, amo, fake_time).write(
        [CrmWrite(WriteKind.NOTE, "11", text="leadrouter: правило default")]
    )
    assert amo.bodies == [
        (
            "POST",
            "/api/v4/leads/notes",
            [{"entity_id": 11, "note_type": "common", "params": {"text": "leadrouter: правило default"}}],
        )
    ]


def test_a_field_write_resolves_the_name_to_an_id_and_a_choice_to_its_enum(db, fake_time):
    amo = Amo()
    writes = [
        CrmWrite(WriteKind.FIELD, "11", field_name="Хантер", field_value="Иванова"),
        CrmWrite(WriteKind.FIELD, "12", field_name="форма собственности", field_value="госсектор"),
    ]
    assert all(r.status is WriteStatus.OK for r in mock_client(db, amo, fake_time).write(writes))
    assert amo.bodies[0][2] == [
        {"id": 11, "custom_fields_values": [{"field_id": 701, "values": [{"value": "Иванова"}]}]},
        {"id": 12, "custom_fields_values": [{"field_id": 702, "values": [{"enum_id": 9}]}]},
    ]


def test_an_unknown_field_or_choice_is_refused_without_a_request(db, fake_time):
    amo = Amo()
    writes = [
        CrmWrite(WriteKind.FIELD, "11", field_name="Нет такого", field_value="x"),
        CrmWrite(WriteKind.FIELD, "12", field_name="Форма собственности", field_value="Кооператив"),
    ]
    results = mock_client(db, amo, fake_time).write(writes)
    assert [r.status for r in results] == [WriteStatus.PERMANENT, WriteStatus.PERMANENT]
    assert amo.bodies == []


def test_only_the_refused_items_are_permanent_and_the_rest_is_sent_again_at_once(db, fake_time):
    amo = Amo(refusal(("1", "responsible_user_id")))
    writes = [responsible("11", 504141), responsible("12", 504160), responsible("13", 504142)]
    results = mock_client(db, amo, fake_time).write(writes)
    assert [r.status for r in results] == [WriteStatus.OK, WriteStatus.PERMANENT, WriteStatus.OK]
    assert results[1].detail["path"] == "responsible_user_id"
    assert "NotSupportedChoice" in results[1].error and "responsible_user_id" in results[1].error
    assert [r.owner_refused for r in results] == [False, True, False]  # routed again, not dead-lettered
    assert [len(body) for _, _, body in amo.bodies] == [3, 2]
    assert [item["id"] for item in amo.bodies[1][2]] == [11, 13]


def test_errors_keyed_by_entity_id_blame_that_lead(db, fake_time):
    body = {
        "errors": {"12": "Loss reason can be specified only for lost lead"},
        "title": "Bad Request",
        "status": 400,
    }
    amo = Amo(httpx.Response(400, json=body))
    results = mock_client(db, amo, fake_time).write([responsible("11", 1), responsible("12", 2)])
    assert [r.status for r in results] == [WriteStatus.OK, WriteStatus.PERMANENT]


def test_a_refusal_naming_no_item_refuses_the_whole_batch(db, fake_time):
    amo = Amo(
        httpx.Response(400, json={"title": "Bad Request", "status": 400, "detail": "Invalid request body"})
    )
    results = mock_client(db, amo, fake_time).write([responsible("11", 1), responsible("12", 2)])
    assert [r.status for r in results] == [WriteStatus.PERMANENT] * 2 and len(amo.bodies) == 1


def test_a_422_for_size_halves_the_batch_and_remembers_the_smaller_cap(db, fake_time):
    too_big = httpx.Response(422, json={"title": "Unprocessable Entity", "status": 422, "detail": "limit"})
    amo = Amo(too_big)
    client = mock_client(db, amo, fake_time, crm={"batch_size": 4})
    results = client.write([responsible(str(i), 1) for i in range(10, 14)])
    assert all(r.status is WriteStatus.OK for r in results)
    assert [len(body) for _, _, body in amo.bodies] == [4, 2, 2]
    assert client.batch_size(WriteKind.RESPONSIBLE) == 2


def test_a_rate_limited_batch_comes_back_transient_with_amocrms_wait(db, fake_time):
    slow_down = httpx.Response(429, json={"title": "Too Many Requests", "status": 429, "retry_after": 300})
    amo = Amo(slow_down)
    results = mock_client(db, amo, fake_time).write([responsible("11", 1), responsible("12", 2)])
    assert {(r.status, r.retry_after) for r in results} == {(WriteStatus.TRANSIENT, 300)}


def test_server_errors_that_outlast_the_retries_come_back_transient(db, fake_time):
    amo = Amo(*[httpx.Response(503)] * 5)
    results = mock_client(db, amo, fake_time).write([responsible("11", 1)])
    assert results[0].status is WriteStatus.TRANSIENT and len(amo.bodies) == 5


def test_a_lead_id_that_is_not_amocrms_is_refused_locally(db, fake_time):
    amo = Amo()
    results = mock_client(db, amo, fake_time).write([responsible("deal:5", 1), responsible("11", 1)])
    assert [r.status for r in results] == [WriteStatus.PERMANENT, WriteStatus.OK]
    assert amo.bodies[0][2] == [{"id": 11, "responsible_user_id": 1}]


def test_the_default_batch_is_amocrms_cap_of_250(db, fake_time):
    client = mock_client(db, Amo(), fake_time)
    assert {client.batch_size(kind) for kind in WriteKind} == {250}


def test_a_client_write_reads_the_links_then_patches_and_a_429_leaves_it_transient(db, fake_time):
    calls: list[tuple[str, str]] = []

    def amo(request: httpx.Request) -> httpx.Response:
        calls.append((request.method, request.url.path))
        if request.method == "GET":
            lead = {
                "id": 11,
                "_embedded": {"contacts": [{"id": 5, "is_main": True}], "companies": [{"id": 7}]},
            }
            return httpx.Response(200, json={"_embedded": {"leads": [lead]}})
        return httpx.Response(429, json={"title": "Too Many Requests", "status": 429, "retry_after": 300})

    results = mock_client(db, amo, fake_time).write([CrmWrite(WriteKind.CLIENT, "11", user_id=504141)])
    assert (results[0].status, results[0].retry_after) == (WriteStatus.TRANSIENT, 300)
    assert calls == [("GET", "/api/v4/leads"), ("PATCH", "/api/v4/contacts")]  # every process paused now


def test_a_client_write_without_a_user_or_for_a_foreign_id_is_refused_without_a_call(db, fake_time):
    amo = Amo()
    writes = [CrmWrite(WriteKind.CLIENT, "deal:5", user_id=1), CrmWrite(WriteKind.CLIENT, "11")]
    results = mock_client(db, amo, fake_time).write(writes)
    assert [r.status for r in results] == [WriteStatus.PERMANENT] * 2 and amo.bodies == []


def test_a_refusal_elsewhere_than_the_responsible_is_not_an_owner_refusal(db, fake_time):
    amo = Amo(refusal(("0", "status_id")))
    results = mock_client(db, amo, fake_time).write([responsible("11", 504141), responsible("12", 504142)])
    assert [(r.status, r.owner_refused) for r in results] == [
        (WriteStatus.PERMANENT, False),
        (WriteStatus.OK, False),
    ]
