"""Dead letters: the CRM refuses a lead's writes; replayed from the page, the outcome shows."""

from __future__ import annotations

from tests.browser.conftest import expect, log_in, screenshot


def kind_row(page, table: str, kind: str):
    """The row of a table whose Kind cell is exactly `kind` (the error text names kinds too)."""
    return page.locator(f"{table} tr", has=page.get_by_role("cell", name=kind, exact=True))


def test_a_dead_letter_replayed_from_the_page_is_sent_and_the_decision_shows_it(page, served):
    served.stack.crm.refuse_leads.add("777")
    served.post_leads("777")
    log_in(page, served)
    expect(page.locator("#health .stale")).to_contain_text("Недоставленные: 1")
    page.get_by_role("link", name="Недоставленные (1)").click()
    rows = page.locator("#deadletters tr", has_text="777")
    expect(rows).to_have_count(1)  # the refused owner; its task and note wait with it
    expect(rows.first).to_contain_text("422 responsible user is inactive")
    screenshot(page, "deadletters")

    served.stack.crm.refuse_leads.clear()  # the CRM accepts again (the user was re-activated)
    responsible = kind_row(page, "#deadletters", "ответственный")
    letter = responsible.locator("td").first.inner_text()
    responsible.get_by_role("button", name="Повторить").click()
    expect(page.locator(".flash")).to_have_text(f"Поставлены в очередь снова: {letter}")
    served.stack.worker.run_once()
    page.reload()
    expect(rows).to_have_count(0)
    expect(page.locator("#deadletters")).to_contain_text("Нет записей")

    page.get_by_role("link", name="Решения").click()
    page.locator("#decisions tr", has_text="777").locator("td").first.get_by_role("link").click()
    expect(kind_row(page, "#writes", "ответственный")).to_contain_text("отправлено")
    expect(kind_row(page, "#writes", "задача")).to_contain_text("отправлено")  # sent after the owner was
    expect(kind_row(page, "#writes", "примечание")).to_contain_text("отправлено")
    screenshot(page, "decision-after-replay")
    expect(page.get_by_role("link", name="Недоставленные (0)")).to_be_visible()
    assert served.stack.crm.owner_of("777") == 101
