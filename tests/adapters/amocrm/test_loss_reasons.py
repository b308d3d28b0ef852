"""A lost lead's loss reason when amoCRM sends only its id: named through the account's list of
reasons (`GET /api/v4/leads/loss_reasons`), read once and kept like the pipelines (§2.2)."""

from __future__ import annotations

import httpx

from tests.adapters.amocrm.conftest import mock_client

REASONS = {"_embedded": {"loss_reasons": [{"id": 7, "name": "Спам", "sort": 10}, {"id": 8, "name": "Дубль"}]}}


def bare(lead_id: int, reason: int | None, status: int = 143) -> dict[str, object]:
    """A lead as a list answers it without `_embedded.loss_reason` (only the id)."""
    lead = {"id": lead_id, "name": "Заявка", "status_id": status, "pipeline_id": 1}
    return lead | {"created_at": 1_700_000_000, "loss_reason_id": reason}


def account(reasons: httpx.Response):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        path = request.url.path
        if path.endswith(("/pipelines", "/custom_fields")):
            return httpx.Response(204)
        if path == "/api/v4/leads/loss_reasons":
            return reasons
        leads = [bare(101, 7), bare(102, 8), bare(103, 7, status=50288840), bare(104, 99)]
        return httpx.Response(200, json={"_embedded": {"leads": leads}})

    handler.seen = seen  # type: ignore[attr-defined]
    return handler


def test_a_bare_reason_id_is_named_from_the_accounts_reasons_read_once(db, fake_time):
    handler = account(httpx.Response(200, json=REASONS))
    client = mock_client(db, handler, fake_time)
    got = client.fetch_leads(["101", "102", "103", "104"])
    assert [got[i].loss_reason for i in ("101", "102", "103", "104")] == ["Спам", "Дубль", None, None]
    client.fetch_leads(["101"])
    fake_time.now += 61  # an unknown id reloads the list, but no sooner than a minute after
    client.fetch_leads(["104"])
    lists = [r for r in handler.seen if r.url.path == "/api/v4/leads/loss_reasons"]
    assert len(lists) == 2


def test_an_account_that_refuses_the_reasons_list_still_reads_its_leads(db, fake_time):
    refused = httpx.Response(403, json={"title": "Forbidden", "status": 403, "detail": "Access denied"})
    got = mock_client(db, account(refused), fake_time).fetch_leads(["101", "102"])
    assert (got["101"].closed, got["101"].loss_reason, got["102"].loss_reason) == ("lost", None, None)
