"""amoCRM's answers map to our error classes, one rule per status (amocrm.md §4)."""

from __future__ import annotations

import json

import httpx
import pytest

from adapters.amocrm.status import error_for, problem_of, retry_after_of
from adapters.errors import (
    AuthError,
    Blocked,
    PermanentCrmError,
    RateLimited,
    TransientCrmError,
    ValidationFailed,
)


def answer(status: int, body: object = None, **headers: str) -> httpx.Response:
    content = body if isinstance(body, str) else json.dumps(body or {"title": "x", "status": status})
    return httpx.Response(status, content=content.encode(), headers=headers)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (401, AuthError),
        (402, Blocked),
        (403, PermanentCrmError),
        (404, PermanentCrmError),
        (405, PermanentCrmError),
        (400, ValidationFailed),
        (422, ValidationFailed),
        (429, RateLimited),
        (408, TransientCrmError),
        (499, TransientCrmError),
        (500, TransientCrmError),
        (502, TransientCrmError),
        (503, TransientCrmError),
        (504, TransientCrmError),
        (418, PermanentCrmError),
    ],
)
def test_each_status_maps_to_one_error_class(status, expected):
    assert type(error_for(answer(status))) is expected


def test_a_403_soon_after_a_429_is_the_abuse_ban():
    assert isinstance(error_for(answer(403), recently_limited=True), Blocked)


def test_a_403_that_says_the_account_is_blocked_is_the_ban_even_without_our_own_429s():
    body = {"title": "Forbidden", "status": 403, "detail": "Аккаунт заблокирован за превышение"}
    assert isinstance(error_for(answer(403, body)), Blocked)


def test_a_plain_403_is_missing_rights_not_a_ban():
    error = error_for(answer(403, {"title": "Forbidden", "status": 403, "detail": "Access denied"}))
    assert type(error) is PermanentCrmError and "rights" in str(error)


def test_retry_after_comes_from_the_json_body_first():
    response = answer(
        429, {"title": "Too Many Requests", "status": 429, "retry_after": 300}, **{"Retry-After": "5"}
    )
    assert retry_after_of(response, problem_of(response)) == 300


def test_retry_after_comes_from_the_header_when_the_body_is_html():
    response = answer(429, "<html><h1>429 Too Many Requests</h1></html>", **{"Retry-After": "7"})
    error = error_for(response)
    assert isinstance(error, RateLimited) and error.retry_after == 7


def test_retry_after_may_be_an_http_date():
    headers = {"Retry-After": "Wed, 21 Oct 2026 07:28:10 GMT", "Date": "Wed, 21 Oct 2026 07:28:00 GMT"}
    response = answer(429, "<html/>", **headers)
    assert retry_after_of(response, problem_of(response)) == 10


def test_a_429_without_any_hint_has_no_retry_after():
    error = error_for(answer(429, "<html/>"))
    assert isinstance(error, RateLimited) and error.retry_after is None


def test_validation_errors_are_kept_per_item_with_path_and_detail():
    body = {
        "validation-errors": [
            {
                "request_id": "1",
                "errors": [{"code": "NotSupportedChoice", "path": "responsible_user_id", "detail": "bad"}],
            }
        ],
        "title": "Bad Request",
        "status": 400,
        "detail": "Request validation failed",
    }
    error = error_for(answer(400, body))
    assert isinstance(error, ValidationFailed)
    assert error.items == {"1": [("responsible_user_id", "NotSupportedChoice: bad")]}
    assert str(error) == "400 Bad Request: Request validation failed"


def test_the_older_error_shape_is_keyed_by_entity_id():
    body = {"errors": {"11062353": "Loss reason can be specified only for lost lead"}, "title": "Bad Request"}
    error = error_for(answer(400, body))
    assert isinstance(error, ValidationFailed)
    assert error.items == {"id:11062353": [("", "Loss reason can be specified only for lost lead")]}


def test_garbage_bodies_do_not_break_the_mapping():
    assert isinstance(error_for(answer(500, "not json {")), TransientCrmError)
    assert isinstance(error_for(answer(400, "[1, 2]")), ValidationFailed)
