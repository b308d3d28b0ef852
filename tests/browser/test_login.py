"""Logging in through the form: a wrong token is refused on the page, the right one opens Today."""

from __future__ import annotations

from tests.browser.conftest import TOKEN, expect, screenshot


def test_a_wrong_token_shows_an_error_and_the_right_one_lands_on_today(page, served):
    page.goto(f"{served.url}/admin/decisions")
    expect(page).to_have_url(f"{served.url}/admin/login?next=/admin/decisions")
    page.fill("#token", "not-the-token")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_have_text("Неверный токен")
    expect(page.locator("#token")).to_be_visible()
    screenshot(page, "login-refused")
    page.goto(f"{served.url}/admin/login")
    page.fill("#token", TOKEN)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{served.url}/admin/")
    expect(page.locator("header a.on")).to_have_text("Сегодня")
    expect(page.get_by_role("heading", name="Доступность сейчас")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)
    assert TOKEN not in page.content()
