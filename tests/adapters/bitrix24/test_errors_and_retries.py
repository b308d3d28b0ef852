"""Which answers are retried and how: one mapping of (HTTP status, code) → error, retries with an
injected sleep, and secrets that never leak into errors, reprs or logs."""

from __future__ import annotations

import logging

import httpx
import pytest

from adapters.bitrix24.status import error_for
from adapters.errors import AuthError, Blocked, PermanentCrmError, RateLimited, TransientCrmError
from core.ports import CrmWrite, WriteKind, WriteStatus
from tests.adapters.bitrix24.conftest import WEBHOOK, batch_answer

LEAD = {"ID": "3", "TITLE": "x", "DATE_CREATE": "2026-12-02T12:00:00+03:00", "STATUS_ID": "NEW"}
CATALOG = batch_answer({"statuses": [], "fields": {}})


@pytest.mark.parametrize(
    ("status", "code", "description", "kind"),
    [
        (503, "QUERY_LIMIT_EXCEEDED", "Too many requests", RateLimited),
        (429, "OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit.", RateLimited),
        (503, "OVERLOAD_LIMIT", "REST API is blocked due to overload", Blocked),
        (500, "INTERNAL_SERVER_ERROR", "", TransientCrmError),
        (502, "", "", TransientCrmError),
        (401, "expired_token", "The access token provided has expired", AuthError),
        (401, "NO_AUTH_FOUND", "Wrong authorization data", AuthError),
        (403, "ACCESS_DENIED", "REST API is available only on commercial plans", PermanentCrmError),
        (403, "insufficient_scope", "", PermanentCrmError),
        (400, "", "Not found", PermanentCrmError),
        (400, "ERROR_CORE", "Task title is not specified", PermanentCrmError),
        (400, "ERROR_BATCH_LENGTH_EXCEEDED", "Max batch length exceeded", PermanentCrmError),
        (404, "ERROR_METHOD_NOT_FOUND", "Method not found!", PermanentCrmError),
    ],
)
def test_each_documented_answer_maps_to_one_error_class(status, code, description, kind):
    error = error_for("crm.lead.update", status, code, description)
    assert type(error) is kind
    if kind is PermanentCrmError:
        assert not isinstance(error, TransientCrmError)


def test_a_server_error_is_retried_with_backoff_then_succeeds(make_client, server):
    server.script += [(500, {"error": "INTERNAL_SERVER_ERROR", "error_description": ""}), (502, "<html/>")]
    server.script += [batch_answer({"r0": LEAD}), CATALOG]
    lead = make_client().fetch_lead("lead:3")
    assert lead is not None and lead.stage_id == "NEW"
    assert len(server.sleeps) == 2 and all(s > 0 for s in server.sleeps)


def test_a_timeout_is_retried(make_client, server):
    def timeout(request):
        raise httpx.ReadTimeout("slow", request=request)

    server.script += [timeout, batch_answer({"r0": LEAD}), CATALOG]
    assert make_client().fetch_lead("lead:3") is not None


def test_a_full_bucket_backs_off_and_marks_the_shared_limiter_full(make_client, server):
    server.script += [(503, {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"})]
    server.script += [batch_answer({"r0": LEAD}), CATALOG]
    client = make_client()
    client.fetch_lead("lead:3")
    assert client.transport.limited == 1
    # After the backoff the portal's bucket counts as full: each next call waits one drain
    # interval (0.5 s at 2/s) more than the one before, until the bucket has drained again.
    assert server.sleeps[0] >= 0.5
    assert server.sleeps[1:] == [pytest.approx(0.5, abs=0.05), pytest.approx(1.0, abs=0.05)]


def test_validation_and_not_found_are_never_retried(make_client, server):
    server.script += [(400, {"error": "", "error_description": "Parameter 'fields' must be array."})]
    with pytest.raises(PermanentCrmError):
        make_client().transport.call("crm.lead.update", {"id": 1})
    assert len(server.requests) == 1 and server.sleeps == []


def test_an_operating_limit_is_not_slept_inside_the_call_but_reported_with_its_wait(make_client, server):
    def blocked(request):
        body = {
            "error": "OPERATION_TIME_LIMIT",
            "error_description": "Method is blocked",
            "time": {"operating_reset_at": server.now + 600},  # ten minutes from the client's now
        }
        return httpx.Response(429, json=body)

    server.script.append(blocked)
    client = make_client()
    results = client.write([CrmWrite(WriteKind.NOTE, "lead:1", text="a")])
    assert results[0].status is WriteStatus.TRANSIENT and results[0].retry_after > 60
    assert len(server.requests) == 1 and server.sleeps == []
    client.write([CrmWrite(WriteKind.NOTE, "lead:1", text="a")])  # still blocked: no request at all
    assert len(server.requests) == 1


def test_a_missing_lead_is_none_and_costs_no_retry(make_client, server):
    server.script += [batch_answer({}, {"r0": {"error": "", "error_description": "Not found"}})]
    assert make_client().fetch_lead("lead:404") is None
    assert make_client().fetch_lead("contact:1") is None  # not an id of ours: no call at all
    assert len(server.requests) == 1


def test_the_webhook_secret_never_appears_in_errors_reprs_or_logs(make_client, server, caplog):
    caplog.set_level(logging.DEBUG)
    server.script += [(401, {"error": "NO_AUTH_FOUND", "error_description": "Wrong authorization data"})]
    client = make_client()
    with pytest.raises(AuthError) as info:
        client.transport.call("crm.lead.get", {"id": 1})
    server.script += [(302, {})] * 1 + [(500, "<html/>")] * 5
    results = client.write([CrmWrite(WriteKind.NOTE, "lead:1", text="a")])
    client.write([CrmWrite(WriteKind.NOTE, "lead:1", text="a")])
    secret = WEBHOOK.split("/")[-2]
    said = [str(info.value), repr(client), repr(client.transport), repr(client.transport.credentials)]
    said += [r.error for r in results] + [caplog.text]
    assert all(secret not in text for text in said)
