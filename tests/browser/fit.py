"""What every admin page must hold at a laptop's and a phone's width: nothing sticks out of the page
or its card, no chart label is cut, and a Russian page shows no English words of the interface."""

from __future__ import annotations

import re
from typing import Any

from core.texts import en
from tests.browser.conftest import Page

WIDE = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}

# Words of the English catalog (and the identifiers the pages used to show) that a Russian page must
# not contain; config names people chose (pools, rules) and file names are theirs, not ours.
_IDENTIFIERS = (
    "responsible task note sent pending sending dead pool continuity substitute fallback round_robin "
    "weighted sticky least_loaded manual claim received decision replayed never queue"
)
_ALLOWED = {"config", "yaml", "leadrouter", "crm", "sla", "utc", "json", "api", "today"}
ENGLISH = {
    word.lower()
    for text in [*en.CATALOG["admin"].values(), _IDENTIFIERS]
    for word in re.findall(r"[A-Za-z_]{4,}", text)
} - _ALLOWED

_OVERFLOW = """() => {
  const out = [];
  const root = document.documentElement, vw = root.clientWidth;
  if (root.scrollWidth > vw) out.push(`page ${root.scrollWidth} > ${vw}`);
  for (const card of document.querySelectorAll('.card')) {
    const [inner, outer] = [card.scrollWidth, card.clientWidth];
    if (inner > outer + 1) out.push(`card #${card.id} ${inner} > ${outer}`);
  }
  for (const table of document.querySelectorAll('main table')) {
    const scroll = table.closest('.scroll');
    const box = scroll || table.closest('.card') || document.querySelector('main');
    const t = table.getBoundingClientRect(), b = box.getBoundingClientRect();
    if (!scroll && t.right > b.right + 1) out.push(`table ${table.id} sticks out of its box`);
  }
  for (const svg of document.querySelectorAll('svg.chart')) {
    const s = svg.getBoundingClientRect();
    for (const label of svg.querySelectorAll('text')) {
      const r = label.getBoundingClientRect();
      if (r.left < s.left - 0.5 || r.right > s.right + 0.5) out.push(`label cut: ${label.textContent}`);
    }
  }
  const texts = 'main h2, main h3, main h4, header a, .health span, td, th';
  for (const el of document.querySelectorAll(texts)) {
    const said = el.textContent.trim().slice(0, 40);
    const hidden = getComputedStyle(el).overflow === 'hidden';
    if (hidden && el.scrollWidth > el.clientWidth + 1) out.push(`clipped: ${said}`);
    const off = el.getBoundingClientRect().right > vw + 1;
    if (off && !el.closest('.scroll')) out.push(`off screen: ${said}`);
  }
  return out;
}"""

# The YAML and the CRM's errors (.raw) are quoted as they are; everything else, the decisions'
# reasons included, must be in the page's language.
_TEXT = """() => {
  const copy = document.body.cloneNode(true);
  for (const raw of copy.querySelectorAll('textarea, pre, .raw')) raw.remove();
  return copy.innerText;
}"""

_SCROLLS = """() => [...document.querySelectorAll('main .scroll')]
  .filter(s => s.scrollWidth > s.clientWidth + 1)
  .map(s => (s.querySelector('table') || s).id || s.className)"""


def overflow(page: Page) -> list[str]:
    """What sticks out at the page's current width (empty when everything fits)."""
    found: list[str] = page.evaluate(_OVERFLOW)
    return found


def scrolling_tables(page: Page) -> list[str]:
    """Tables that need their box's scroll bar (fine on a phone, not on a laptop)."""
    found: list[str] = page.evaluate(_SCROLLS)
    return found


def english_words(page: Page, allowed: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    """English interface words on the page (the config's own names in `allowed`)."""
    text: str = page.evaluate(_TEXT)
    words = {w.lower() for w in re.findall(r"[A-Za-z_]{4,}", text)}
    return sorted(words & ENGLISH - {a.lower() for a in allowed})


def check_fits(page: Page, shot: Any, name: str, allowed: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    """At 1400 and 390 px wide: a screenshot each, nothing overflows, no English on a Russian page;
    on the wide screen no table even needs its scroll bar."""
    for label, size in (("wide", WIDE), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.wait_for_timeout(50)  # one layout pass after the resize
        shot(page, f"{name}-{label}")
        assert overflow(page) == [], f"{name} at {size['width']} px: {overflow(page)}"
        if label == "wide":
            assert scrolling_tables(page) == [], (
                f"{name} at {size['width']} px scrolls: {scrolling_tables(page)}"
            )
        assert english_words(page, allowed) == [], (
            f"{name}: English on a Russian page: {english_words(page, allowed)}"
        )
