"""How wide a text is on a terminal, for aligned tables in any language.

`len` counts code points: a name typed with a combining accent (`й` as `и` + U+0306) is one column
but two code points, and East Asian wide characters take two columns. Tables pad by this instead.
"""

from __future__ import annotations

import unicodedata


def width(text: str) -> int:
    """Terminal columns `text` takes: combining marks take none, wide characters two."""
    if text.isascii():
        return len(text)
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )


def ljust(text: str, columns: int) -> str:
    """`text` padded on the right to `columns` terminal columns."""
    return text + " " * max(columns - width(text), 0)


def rjust(text: str, columns: int) -> str:
    """`text` padded on the left to `columns` terminal columns."""
    return " " * max(columns - width(text), 0) + text
