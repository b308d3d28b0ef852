"""Today's chart: each name whole on its own line above its bar (a very long one ends with "…"), a
target tick only where the pool shares by weight, red only for a member far from their target."""

from __future__ import annotations

import re

from webhook_app.web.admin.readmodel import ManagerShare
from webhook_app.web.admin.svg import NAME_CHARS, share_chart


def labels(svg: str) -> list[str]:
    return re.findall(r'<text class="label"[^>]*>([^<]*)</text>', svg)


def test_names_are_whole_and_start_at_the_left_edge():
    long = "Константинопольская-Зайцева Анна-Мария Константиновна Третья"
    svg = share_chart(
        [
            ManagerShare("kuznetsova", "Кузнецова Мария", 1, 4, 2.0, 2.0),
            ManagerShare("long", long, 1, 0, 2.0, -2.0),
        ],
        "sales",
    )
    assert labels(svg) == ["Кузнецова Мария", long[: NAME_CHARS - 1] + "…"]
    assert 'x="0"' in svg and "text-anchor" not in svg  # nothing right-aligned into the left edge
    assert svg.count("<line") == 2 and svg.count("#c0392b") == 2  # both far from their target


def test_a_territory_pool_has_no_target_tick_and_nobody_red():
    svg = share_chart(
        [
            ManagerShare("kuznetsova", "Кузнецова Мария", 1, 12, None, None),
            ManagerShare("smirnov", "Смирнов Алексей", 1, 1, None, None),
        ],
        "territories",
    )
    assert "<line" not in svg and "#c0392b" not in svg
    assert labels(svg) == ["Кузнецова Мария", "Смирнов Алексей"]
