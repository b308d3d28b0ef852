"""The What-if view: edit the config, replay the stored leads, see whose owner would change."""

from __future__ import annotations

import re

from tests.browser.conftest import expect, log_in, screenshot


def test_a_whatif_on_an_edited_config_shows_the_changed_owners(page, served):
    served.post_leads("11", "12", "13", "14")  # round robin: Иванова, Петров, Иванова, Петров
    text = served.stack.services.config.current.raw.decode()
    assert "members: [ivanova, petrov]" in text
    log_in(page, served)
    page.get_by_role("link", name="Что если").click()
    editor = page.get_by_label("YAML")
    expect(editor).to_have_value(text)  # the running config, ready to edit
    editor.fill(text.replace("members: [ivanova, petrov]", "members: [ivanova]"))
    page.locator("#edited").check()
    page.locator("#days").fill("3")
    page.locator("#run").click()

    # The run page refreshes itself until the replay is done.
    expect(page.locator("#state")).to_have_text("готово")
    expect(page.locator("#summary")).to_have_text(re.compile(r"Лидов: 4; сменили бы ответственного: 2"))
    changes = page.locator("#changes tr[data-lead]")
    expect(changes).to_have_count(2)
    for lead in ("12", "14"):  # Петров's two leads would have gone to Иванова
        row = page.locator(f'#changes tr[data-lead="{lead}"]')
        expect(row.locator("td").nth(2)).to_have_text("Петров")
        expect(row.locator("td.would")).to_have_text("Иванова")
    split = page.locator('#split-sales tr[data-manager="ivanova"] td')
    expect(split.nth(1)).to_have_text("2")
    expect(split.nth(2)).to_have_text("4")
    gone = page.locator('#split-sales tr[data-manager="petrov"] td')  # out of the pool: 2 → 0
    expect(gone.nth(1)).to_have_text("2")
    expect(gone.nth(2)).to_have_text("0")
    screenshot(page, "whatif")

    page.get_by_role("link", name="Что если").click()  # the run is listed
    expect(page.locator("#runs")).to_contain_text("edited.yaml")
    expect(page.locator("#runs")).to_contain_text("готово")
