"""Every call: bearer token, retries on 429/5xx/timeouts honouring Retry-After, never on 400/422."""

from __future__ import annotations

import json

import httpx
import pytest

from adapters.errors import AuthError, Blocked, PermanentCrmError, RateLimited, TransientCrmError
from tests.adapters.amocrm.conftest import TOKEN, mock_client

LEAD = {"id": 101, "name": "Заявка", "status_id": 142, "pipeline_id": 1, "created_at": 1_700_000_000}


def script(*answers: httpx.Response | Exception):
    """A handler replaying answers in order (the last one repeats) and keeping the requests."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith(("/pipelines", "/custom_fields")):
            return httpx.Response(204)
        answer = answers[min(len(seen) - 1, len(answers) - 1)]
        if isinstance(answer, Exception):
            raise answer
        return answer

    handler.seen = seen  # type: ignore[attr-defined]
    return handler


def ok() -> httpx.Response:
    return httpx.Response(200, json=LEAD)


def limited(seconds: int | None = None, *, html: bool = False) -> httpx.Response:
    if html:
        return httpx.Response(429, text="<html>429</html>", headers={"Retry-After": str(seconds)})
    return httpx.Response(429, json={"title": "Too Many Requests", "status": 429, "retry_after": seconds})


def api_calls(handler) -> list[httpx.Request]:
    return [r for r in handler.seen if "/leads/101" in r.url.path]


def test_every_call_carries_the_bearer_token_and_asks_for_contacts_and_the_loss_reason(db, fake_time):
    handler = script(ok())
    mock_client(db, handler, fake_time).fetch_lead("101")
    request = handler.seen[0]
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.url.path == "/api/v4/leads/101" and request.url.params["with"] == "contacts,loss_reason"


def test_a_missing_lead_is_none_not_an_error(db, fake_time):
    assert mock_client(db, script(httpx.Response(204)), fake_time).fetch_lead("101") is None


def test_a_429_is_retried_no_sooner_than_its_json_retry_after(db, fake_time):
    handler = script(limited(3), ok())
    lead = mock_client(db, handler, fake_time).fetch_lead("101")
    assert lead is not None and lead.stage == "Успешно реализовано"
    assert len(api_calls(handler)) == 2
    assert sum(fake_time.sleeps) >= 3


def test_a_429_with_an_html_body_honours_the_retry_after_header(db, fake_time):
    handler = script(limited(4, html=True), ok())
    mock_client(db, handler, fake_time).fetch_lead("101")
    assert len(api_calls(handler)) == 2 and sum(fake_time.sleeps) >= 4


def test_server_errors_and_timeouts_are_retried_with_backoff(db, fake_time):
    handler = script(httpx.Response(503), httpx.ReadTimeout("slow"), httpx.ConnectError("refused"), ok())
    assert mock_client(db, handler, fake_time).fetch_lead("101") is not None
    assert len(api_calls(handler)) == 4
    assert len([s for s in fake_time.sleeps if s > 0]) >= 3


def test_retries_give_up_after_five_attempts_with_a_transient_error(db, fake_time):
    handler = script(httpx.Response(502))
    with pytest.raises(TransientCrmError):
        mock_client(db, handler, fake_time).fetch_lead("101")
    assert len(api_calls(handler)) == 5


@pytest.mark.parametrize("status", [400, 422])
def test_validation_errors_are_never_retried(db, fake_time, status):
    handler = script(httpx.Response(status, json={"title": "Bad Request", "status": status}))
    with pytest.raises(PermanentCrmError):
        mock_client(db, handler, fake_time).fetch_lead("101")
    assert len(api_calls(handler)) == 1


def test_a_long_retry_after_is_not_slept_inside_the_call_but_raised(db, fake_time):
    handler = script(limited(300), ok())
    with pytest.raises(RateLimited) as caught:
        mock_client(db, handler, fake_time).fetch_lead("101")
    assert caught.value.retry_after == 300 and len(api_calls(handler)) == 1
    assert max(fake_time.sleeps, default=0) < 300


def test_a_long_pause_holds_back_every_client_sharing_the_database(db, fake_time):
    mock_client(db, script(limited(120)), fake_time)
    first = script(limited(120))
    with pytest.raises(RateLimited):
        mock_client(db, first, fake_time).fetch_lead("101")
    second = script(ok())
    with pytest.raises(RateLimited) as caught:
        mock_client(db, second, fake_time).fetch_lead("101")  # another process: same database
    assert second.seen == [] and 100 < (caught.value.retry_after or 0) <= 120


def test_a_403_after_429s_stops_every_call_without_touching_the_network(db, fake_time):
    handler = script(limited(1), httpx.Response(403, json={"title": "Forbidden", "status": 403}))
    client = mock_client(db, handler, fake_time)
    with pytest.raises(Blocked):
        client.fetch_lead("101")
    calls = len(handler.seen)
    with pytest.raises(Blocked) as caught:
        client.fetch_lead("101")
    assert len(handler.seen) == calls and (caught.value.retry_after or 0) > 60


def test_a_refused_long_lived_token_is_final(db, fake_time):
    handler = script(httpx.Response(401, json={"title": "Unauthorized", "status": 401, "detail": "Invalid"}))
    with pytest.raises(AuthError) as caught:
        mock_client(db, handler, fake_time).fetch_lead("101")
    assert len(api_calls(handler)) == 1 and TOKEN not in str(caught.value)


def test_a_next_page_link_to_another_host_is_never_followed(db, fake_time):
    page = {
        "_embedded": {"leads": [LEAD]},
        "_links": {"next": {"href": "https://evil.example/api/v4/leads?page=2"}},
    }
    handler = script(httpx.Response(200, json=page))
    client = mock_client(db, handler, fake_time)
    from datetime import UTC, datetime

    with pytest.raises(PermanentCrmError):
        client.changed_since(datetime(2026, 1, 1, tzinfo=UTC))
    assert all(r.url.host == "example.amocrm.ru" for r in handler.seen)


def test_changed_since_follows_next_links_and_filters_on_updated_at(db, fake_time):
    def lead(i: int) -> dict:
        return {"id": i, "created_at": 1_700_000_000, "updated_at": 1_700_000_000 + i}

    pages = [
        {
            "_embedded": {"leads": [lead(2), lead(1)]},
            "_links": {"next": {"href": "https://example.amocrm.ru/api/v4/leads?page=2"}},
        },
        {"_embedded": {"leads": [lead(3)]}, "_links": {}},
    ]
    handler = script(*(httpx.Response(200, content=json.dumps(p).encode()) for p in pages))
    from datetime import UTC, datetime

    changed = mock_client(db, handler, fake_time).changed_since(datetime.fromtimestamp(1_700_000_000, UTC))
    assert [c.lead_id for c in changed] == ["1", "2", "3"]
    first = handler.seen[0].url.params
    assert first["filter[updated_at][from]"] == "1700000000" and first["order[updated_at]"] == "asc"
    assert handler.seen[1].url.params["page"] == "2"


def test_a_probe_after_the_ban_pause_that_meets_a_403_stays_blocked(db, fake_time):
    handler = script(limited(1), httpx.Response(403, json={"title": "Forbidden", "status": 403}))
    client = mock_client(db, handler, fake_time)
    with pytest.raises(Blocked):
        client.fetch_lead("101")
    fake_time.now += 901  # the pause is over; one probe goes out and is refused again
    with pytest.raises(Blocked):
        client.fetch_lead("101")
    assert len(api_calls(handler)) == 3
