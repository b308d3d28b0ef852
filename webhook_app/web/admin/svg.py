"""Server-rendered SVG charts: no JavaScript, no CDN, readable on a phone."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from webhook_app.web.admin.readmodel import ManagerShare

ROW = 36  # px per manager: the name on its own line, the bar under it
WIDTH = 360  # about a phone's width, so the text stays near its size there (the page caps it on wide screens)
NAME_CHARS = 44  # what fits on the line at 13 px; a longer name ends with "…" (the table has it whole)
NUMBER = 40  # px kept right of the longest bar for its count


def share_chart(members: Sequence[ManagerShare], title: str) -> str:
    """Horizontal bars of leads received, each under its member's name, with a tick at the target
    share where the pool has one (not in a territory, manual or claim pool)."""
    if not members:
        return ""
    targets = [m.target for m in members if m.target is not None]
    top = max([m.received for m in members] + targets + [1])
    scale = (WIDTH - NUMBER) / top
    height = ROW * len(members) + 4
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i, member in enumerate(members):
        y = 2 + i * ROW
        bar = member.received * scale
        far = member.deviation is not None and abs(member.deviation) > max(1.0, 0.1 * (member.target or 0))
        colour = "#c0392b" if far else "#2e86c1"
        name = member.name if len(member.name) <= NAME_CHARS else member.name[: NAME_CHARS - 1] + "…"
        parts += [
            f'<text class="label" x="0" y="{y + 13}" font-size="13">{escape(name)}</text>',
            f'<rect x="0" y="{y + 18}" width="{bar:.1f}" height="13" fill="{colour}" rx="2"/>',
            f'<text x="{bar + 4:.1f}" y="{y + 29}" font-size="12">{member.received}</text>',
        ]
        if member.weight and member.target is not None:
            target = member.target * scale
            parts.append(
                f'<line x1="{target:.1f}" x2="{target:.1f}" y1="{y + 15}" y2="{y + 34}" '
                'stroke="#222" stroke-width="2"/>'
            )
    parts.append("</svg>")
    return "".join(parts)
