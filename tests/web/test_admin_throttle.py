"""One throttle on wrong admin tokens for the login form and Bearer, shared by every process."""

from __future__ import annotations

import pytest

from tests.web.conftest import make_stack

TOKEN = "adm-T0ken-9f3kQ"
GUESSER, COLLEAGUE, PROXY = "203.0.113.7", "198.51.100.20", "10.0.0.1"


def bearer(stack, token: str, address: str, **headers: str) -> int:
    environ = {"REMOTE_ADDR": address}
    headers["Authorization"] = f"Bearer {token}"
    return stack.client.get("/api/v1/managers", headers=headers, environ_base=environ).status_code


def form(stack, token: str, address: str, **headers: str) -> int:
    environ = {"REMOTE_ADDR": address}
    response = stack.client.post("/admin/login", data={"token": token}, headers=headers, environ_base=environ)
    return response.status_code


@pytest.fixture
def two_processes(tmp_path):
    """Two app instances on one database, as two gunicorn workers or two hosts are."""
    return make_stack(tmp_path, admin_token=TOKEN), make_stack(tmp_path, admin_token=TOKEN)


def test_wrong_tokens_from_one_address_are_throttled_on_both_ways_in_across_instances(two_processes):
    one, other = two_processes
    assert [bearer(one, f"guess{n}", GUESSER) for n in range(3)] == [401, 401, 401]
    assert [form(other, f"guess{n}", GUESSER) for n in range(3, 5)] == [401, 401]
    assert bearer(one, TOKEN, GUESSER) == 429  # even the right token waits out the window
    assert bearer(other, TOKEN, GUESSER) == 429
    assert form(one, TOKEN, GUESSER) == 429
    assert form(other, "guess5", GUESSER) == 429


def test_the_right_token_from_another_address_still_works(two_processes):
    one, other = two_processes
    for n in range(6):
        bearer(one, f"guess{n}", GUESSER)
    assert bearer(other, TOKEN, COLLEAGUE) == 200
    assert form(one, TOKEN, COLLEAGUE) == 302


def test_the_window_passes_and_the_address_may_try_again(two_processes):
    one, _ = two_processes
    for n in range(5):
        bearer(one, f"guess{n}", GUESSER)
    assert bearer(one, TOKEN, GUESSER) == 429
    one.clock.advance(seconds=61)
    assert bearer(one, TOKEN, GUESSER) == 200


def test_a_stale_token_retried_behind_a_proxy_never_locks_the_others_out(two_processes):
    one, other = two_processes
    assert [bearer(one, "stale", PROXY) for _ in range(7)][-2:] == [429, 429]
    assert bearer(other, TOKEN, PROXY) == 200 and form(one, TOKEN, PROXY) == 302


def test_x_forwarded_for_is_ignored_unless_it_comes_from_a_trusted_proxy(tmp_path, monkeypatch):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    untrusted = make_stack(tmp_path / "a", admin_token=TOKEN)
    for n in range(5):  # a forged header per guess does not make a new client
        bearer(untrusted, f"guess{n}", GUESSER, **{"X-Forwarded-For": f"192.0.2.{n}"})
    assert bearer(untrusted, TOKEN, GUESSER, **{"X-Forwarded-For": "192.0.2.99"}) == 429
    monkeypatch.setenv("LEADROUTER_TRUSTED_PROXIES", f"{PROXY}, 10.1.0.0/16")
    proxied = make_stack(tmp_path / "b", admin_token=TOKEN)
    for n in range(5):
        bearer(proxied, f"guess{n}", PROXY, **{"X-Forwarded-For": GUESSER})
    assert bearer(proxied, TOKEN, PROXY, **{"X-Forwarded-For": GUESSER}) == 429
    assert bearer(proxied, TOKEN, PROXY, **{"X-Forwarded-For": f"{COLLEAGUE}, 10.1.2.3"}) == 200


def test_the_client_is_read_from_the_right_past_trusted_hops_only():
    from webhook_app.web.admin.throttle import client_address, trusted_networks

    trusted = trusted_networks("10.0.0.1, 10.1.0.0/16")
    assert client_address("10.0.0.1", "1.2.3.4, 5.6.7.8, 10.1.9.9", trusted) == "5.6.7.8"
    assert client_address("5.6.7.8", "1.2.3.4", trusted) == "5.6.7.8"  # not from a proxy: ignored
    assert client_address("10.0.0.1", "junk", trusted) == "10.0.0.1"
    assert client_address("10.0.0.1", None, trusted) == "10.0.0.1"
    assert client_address("10.0.0.1", "1.2.3.4", ()) == "10.0.0.1"
    with pytest.raises(ValueError):
        trusted_networks("10.0.0.300")


@pytest.mark.parametrize(
    "target", ["/admin\r\nSet-Cookie: x=1", "/admin%0d%0aX: y", "/admin/\x00", "http://e.x/admin"]
)
def test_a_next_with_control_characters_or_off_site_goes_to_the_admin_page(tmp_path, target):
    stack = make_stack(tmp_path, admin_token=TOKEN)
    response = stack.client.post("/admin/login", query_string={"next": target}, data={"token": TOKEN})
    assert response.status_code == 302
    assert response.headers["Location"] in ("/admin", "/admin/")
