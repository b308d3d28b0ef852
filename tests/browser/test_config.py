"""The Config view: a broken YAML is refused with its line named, and the running version stays."""

from __future__ import annotations

import re

from tests.browser.conftest import expect, log_in, screenshot


def test_a_broken_yaml_loaded_on_the_page_names_its_line_and_changes_nothing(page, served):
    holder = served.stack.services.config
    running = holder.current.version
    text = holder.current.raw.decode()
    line = 1 + text[: text.index("strategy: round_robin")].count("\n")
    log_in(page, served)
    page.get_by_role("link", name="Конфигурация").click()
    expect(page.locator("#version")).to_have_text(running)
    editor = page.get_by_label("YAML")
    expect(editor).to_have_value(text)
    editor.fill(text.replace("strategy: round_robin", "strategy: roulette"))
    page.get_by_role("button", name="Проверить и применить").click()

    expect(page.locator("#result")).to_contain_text("Отклонена, действует прежняя версия")
    errors = page.locator("#errors")
    expect(errors).to_have_text(re.compile(rf"^edited\.yaml:{line}: pools\.sales\.strategy: .*roulette"))
    expect(page.locator("#version")).to_have_text(running)
    expect(page.locator("#health")).to_contain_text(f"Версия конфигурации: {running}")
    expect(editor).to_have_value(re.compile("strategy: roulette"))  # the edit is kept for fixing
    screenshot(page, "config-refused")
    assert holder.current.version == running
    assert "roulette" not in holder.path.read_text(encoding="utf-8")

    page.get_by_role("link", name="Конфигурация").click()  # a fresh look: still the same version
    expect(page.locator("#version")).to_have_text(running)
    expect(page.locator("#history tr")).to_have_count(2)  # the header and the one version
