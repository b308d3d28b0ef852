"""The pause form on Today takes "until" as a head of sales writes it: `2ч` / `3д` as well as `2h`,
and a date and time without a zone in the company's time zone (the page shows times in it), not UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.storage.engine import reading
from adapters.storage.pausing import current_pauses
from tests.web.conftest import make_stack
from tests.web.test_admin import TOKEN, login


@pytest.mark.parametrize(
    ("written", "after"),
    [
        ("2ч", timedelta(hours=2)),
        ("3 д", timedelta(days=3)),
        ("45мин", timedelta(minutes=45)),
        ("2h", timedelta(hours=2)),
    ],
)
def test_a_pause_for_a_while_in_russian_or_english_units(tmp_path, written, after):
    stack = make_stack(tmp_path, admin_token=TOKEN)
    csrf = login(stack.client)
    answer = stack.client.post("/admin/managers/ivanova/pause", data={"csrf": csrf, "until": written})
    assert answer.status_code == 302
    with reading(stack.services.engine) as connection:
        until = current_pauses(connection)["ivanova"].until
    assert until == (stack.clock() + after).astimezone(UTC)


def test_a_date_and_time_without_a_zone_is_the_companys_local_time(tmp_path):
    stack = make_stack(tmp_path, admin_token=TOKEN)  # Europe/Moscow, UTC+3
    csrf = login(stack.client)
    stack.client.post("/admin/managers/ivanova/pause", data={"csrf": csrf, "until": "2026-12-08 18:00"})
    with reading(stack.services.engine) as connection:
        until = current_pauses(connection)["ivanova"].until
    assert until == datetime(2026, 12, 8, 15, 0, tzinfo=UTC)
    page = stack.client.get("/admin").get_data(as_text=True)
    assert "на паузе до 2026-12-08 18:00" in " ".join(page.split())  # as it was written


def test_decisions_since_7д_reads_like_7d(tmp_path):
    stack = make_stack(tmp_path, admin_token=TOKEN)
    login(stack.client)
    page = stack.client.get("/admin/decisions", query_string={"since": "7д"}).get_data(as_text=True)
    assert "neither like" not in page and 'value="7д"' in page
