"""Pausing a manager on Today, then the next lead on Decisions: the paused one skipped, and why."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from tests.browser.conftest import expect, log_in, screenshot


def test_a_manager_paused_on_the_page_is_skipped_by_the_next_lead(page, served):
    # The page gives times in the company's zone (Europe/Moscow), as the reasons do.
    until = (served.stack.clock() + timedelta(hours=2)).astimezone(ZoneInfo("Europe/Moscow"))
    log_in(page, served)
    row = page.locator("#managers tr[data-manager=ivanova]")
    row.get_by_label("до").fill("2h")
    row.get_by_label("Причина").fill("обучение")
    row.get_by_role("button", name="Пауза").click()
    expect(row).to_contain_text(f"на паузе до {until:%Y-%m-%d %H:%M}")
    expect(row).to_contain_text("обучение")
    expect(row.get_by_role("button", name="Снять паузу")).to_be_visible()
    expect(page.locator("#managers tr[data-manager=petrov]")).to_contain_text("работает")

    served.post_leads("35168771")
    page.get_by_role("link", name="Решения").click()
    decision = page.locator("#decisions tr", has_text="35168771")
    expect(decision).to_contain_text("Петров")
    screenshot(page, "decisions")
    decision.locator("td").first.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Лид 35168771 → Петров")).to_be_visible()
    skipped = page.locator("#skipped tr[data-manager=ivanova]")
    expect(skipped).to_contain_text("Иванова")
    expect(skipped).to_contain_text("на паузе")
    expect(skipped).to_contain_text(f"{until:%Y-%m-%d %H:%M}")
    expect(page.locator("#reason")).to_contain_text(f"Иванова — на паузе до {until:%d.%m.%Y %H:%M}")
    expect(page.locator("#writes")).to_contain_text("ответственный")
    expect(page.get_by_role("link", name="Открыть в CRM")).to_have_attribute(
        "href", "https://example.amocrm.ru/leads/detail/35168771"
    )
    screenshot(page, "decision")
