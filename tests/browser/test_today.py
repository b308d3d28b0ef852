"""The Today view: the split per manager as leads arrive, on a laptop and on a phone."""

from __future__ import annotations

from tests.browser.conftest import PHONE, expect, log_in, screenshot


def test_new_leads_change_todays_split_per_manager(page, served):
    log_in(page, served)
    ivanova = page.locator("#pool-sales tr[data-manager=ivanova] .received-today")
    petrov = page.locator("#pool-sales tr[data-manager=petrov] .received-today")
    expect(ivanova).to_have_text("0 / 0.0")
    expect(petrov).to_have_text("0 / 0.0")
    served.post_leads("1", "2", "3")
    page.reload()
    expect(page.locator("#pool-sales h3")).to_contain_text("всего 3")
    expect(ivanova).to_have_text("2 / 1.5")
    expect(petrov).to_have_text("1 / 1.5")
    expect(page.locator("#pool-sales svg")).to_be_visible()
    screenshot(page, "today")
    page.set_viewport_size(PHONE)
    expect(ivanova).to_have_text("2 / 1.5")
    # Wide tables scroll inside their box; the page itself never scrolls sideways on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    expect(
        page.locator("#managers tr[data-manager=ivanova]").get_by_role("button", name="Пауза")
    ).to_be_visible()
    screenshot(page, "today-phone")
