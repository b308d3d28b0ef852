"""Server-rendered SVG charts: no JavaScript, no CDN, readable on a phone."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from webhook_app.web.admin.readmodel import ManagerShare

ROW = 22  # px per manager
LABEL = 110  # px for the names
WIDTH = 360  # about a phone's width, so the text stays near its size there (the page caps it on wide screens)


def share_chart(members: Sequence[ManagerShare], title: str) -> str:
    """Horizontal bars of leads received, with a tick at each member's target share."""
    if not members:
        return ""
    top = max([m.received for m in members] + [m.target for m in members] + [1])
    scale = (WIDTH - LABEL - 40) / top
    height = ROW * len(members) + 8
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i, member in enumerate(members):
        y = 4 + i * ROW
        bar = member.received * scale
        target = LABEL + member.target * scale
        far = abs(member.deviation) > max(1.0, 0.1 * member.target)
        colour = "#c0392b" if far else "#2e86c1"
        parts += [
            f'<text x="{LABEL - 6}" y="{y + 14}" text-anchor="end" font-size="13">'
            f"{escape(member.name)}</text>",
            f'<rect x="{LABEL}" y="{y + 3}" width="{bar:.1f}" height="14" fill="{colour}" rx="2"/>',
            f'<text x="{LABEL + bar + 4:.1f}" y="{y + 14}" font-size="12">{member.received}</text>',
        ]
        if member.weight:
            parts.append(
                f'<line x1="{target:.1f}" x2="{target:.1f}" y1="{y}" y2="{y + 20}" '
                'stroke="#222" stroke-width="2"/>'
            )
    parts.append("</svg>")
    return "".join(parts)
