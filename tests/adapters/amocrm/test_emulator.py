"""The emulator behaves as amocrm.md §8 documents amoCRM: auth, errors, limits, faults."""

from __future__ import annotations

import httpx

from sandbox.amocrm import ADMIN, AmoEmulator


def call(emu, method: str, path: str, token: str | None, **kw) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.request(method, f"{emu.url}{path}", headers=headers, timeout=5, **kw)


def test_a_missing_or_wrong_token_gets_a_401_problem(emu):
    for token in (None, "nope"):
        answer = call(emu, "GET", "/api/v4/leads", token)
        assert answer.status_code == 401
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["detail"] == "Invalid user name or password"


def test_an_unknown_lead_is_204_with_no_body(emu):
    answer = call(emu, "GET", "/api/v4/leads/1", emu.admin_token())
    assert answer.status_code == 204 and answer.content == b""


def test_an_access_token_expires_in_emulated_time_and_a_refresh_token_works_once(emu):
    refresh = emu.tokens.refresh_token(ADMIN)
    body = {
        "client_id": emu.tokens.client_id,
        "client_secret": emu.tokens.client_secret,
        "grant_type": "refresh_token",
        "refresh_token": refresh,
        "redirect_uri": emu.tokens.redirect_uri,
    }
    first = call(emu, "POST", "/oauth2/access_token", None, json=body)
    assert first.status_code == 200 and first.json()["expires_in"] == 86400
    again = call(emu, "POST", "/oauth2/access_token", None, json=body)
    assert again.status_code == 401 and again.json()["hint"] == "Token has been revoked"
    access = first.json()["access_token"]
    assert call(emu, "GET", "/api/v4/account", access).status_code == 200
    emu.advance(86401)
    assert call(emu, "GET", "/api/v4/account", access).status_code == 401


def test_an_authorization_code_is_traded_once_within_20_minutes(emu):
    base = {"client_id": emu.tokens.client_id, "client_secret": emu.tokens.client_secret}
    code = emu.tokens.code(ADMIN)
    body = base | {"grant_type": "authorization_code", "code": code, "redirect_uri": emu.tokens.redirect_uri}
    assert call(emu, "POST", "/oauth2/access_token", None, json=body).status_code == 200
    assert call(emu, "POST", "/oauth2/access_token", None, json=body).status_code == 400
    late = emu.tokens.code(ADMIN)
    emu.advance(21 * 60)
    assert call(emu, "POST", "/oauth2/access_token", None, json=body | {"code": late}).status_code == 400


def test_users_are_admin_only_and_paged(emu):
    assert call(emu, "GET", "/api/v4/users", emu.tokens.long_lived(504141)).status_code == 403
    answer = call(emu, "GET", "/api/v4/users", emu.admin_token(), params={"limit": 3})
    assert answer.json()["_page_count"] == 3 and "next" in answer.json()["_links"]


def test_a_patch_above_250_leads_is_422(emu):
    items = [{"id": 1, "responsible_user_id": ADMIN}] * 251
    answer = call(emu, "PATCH", "/api/v4/leads", emu.admin_token(), json=items)
    assert answer.status_code == 422


def test_an_inactive_responsible_refuses_the_whole_batch_naming_the_item(emu):
    a, b = emu.create_lead(), emu.create_lead()
    items = [{"id": a.id, "responsible_user_id": 504141}, {"id": b.id, "responsible_user_id": 504160}]
    answer = call(emu, "PATCH", "/api/v4/leads", emu.admin_token(), json=items)
    assert answer.status_code == 400
    assert answer.json()["validation-errors"] == [
        {
            "request_id": "1",
            "errors": [
                {
                    "code": "NotSupportedChoice",
                    "path": "responsible_user_id",
                    "detail": "The value you selected is not a valid choice.",
                }
            ],
        }
    ]
    assert emu.account.leads[a.id].responsible_user_id == ADMIN  # nothing applied


def test_tasks_need_text_and_a_due_time(emu):
    lead = emu.create_lead()
    answer = call(
        emu, "POST", "/api/v4/tasks", emu.admin_token(), json=[{"entity_id": lead.id, "entity_type": "leads"}]
    )
    paths = [e["path"] for e in answer.json()["validation-errors"][0]["errors"]]
    assert answer.status_code == 400 and paths == ["text", "complete_till"]


def test_webhooks_upsert_by_destination_and_delete_is_204_then_404(emu):
    token, hook = emu.admin_token(), {"destination": "https://x.test/h", "settings": ["add_lead"]}
    assert call(emu, "POST", "/api/v4/webhooks", token, json=hook).status_code == 201
    assert (
        call(emu, "POST", "/api/v4/webhooks", token, json=hook | {"settings": ["update_lead"]}).status_code
        == 201
    )
    listed = call(emu, "GET", "/api/v4/webhooks", token).json()["_embedded"]["webhooks"]
    assert [(h["destination"], h["settings"]) for h in listed] == [("https://x.test/h", ["update_lead"])]
    assert (
        call(emu, "DELETE", "/api/v4/webhooks", token, json={"destination": "https://x.test/h"}).status_code
        == 204
    )
    assert (
        call(emu, "DELETE", "/api/v4/webhooks", token, json={"destination": "https://x.test/h"}).status_code
        == 404
    )


def test_more_than_seven_requests_in_a_second_get_429_and_then_a_ban():
    with AmoEmulator(rate=7) as emu:
        emu.limiter.ban_after = 3
        emu.limiter.clock = lambda: 1000.0  # all twelve within one second, however slow the machine
        token = emu.admin_token()
        statuses = [call(emu, "GET", "/api/v4/account", token).status_code for _ in range(12)]
        assert statuses[:7] == [200] * 7 and 429 in statuses
        assert statuses[-1] == 403
        limited = next(r for r in emu.log if r.status == 429)
        assert limited.path == "/api/v4/account"


def test_the_429_can_be_an_html_page_with_a_retry_after_header():
    with AmoEmulator(rate=1) as emu:
        emu.limiter.html_429 = True
        token = emu.admin_token()
        answers = [call(emu, "GET", "/api/v4/account", token) for _ in range(2)]
        assert answers[1].status_code == 429 and answers[1].headers["Retry-After"] == "1"
        assert answers[1].text.startswith("<html>")


def test_a_burst_of_server_errors_can_be_injected(emu):
    emu.faults.fail_next = 2
    token = emu.admin_token()
    assert [call(emu, "GET", "/api/v4/account", token).status_code for _ in range(3)] == [503, 503, 200]
