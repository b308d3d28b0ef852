"""Finding English in what a Russian-reading head of sales is shown (issue 18), for the sweeps.

`ENGLISH` is our interface's vocabulary as it spoke English (issue 18 quotes several): none of it may
be left where a person reads Russian. `foreign_words` is the strict form, for texts that may name
only what the reader wrote themselves (YAML keys and values) and a few proper names: every Latin word
that is not allowed is English left behind.
"""

from __future__ import annotations

import re
from collections.abc import Collection

ENGLISH = (
    "received",
    "redelivered",
    "written",
    "responsible",
    "task",
    "note",
    "pool",
    "pools",
    "continuity",
    "round_robin",
    "weighted",
    "least_loaded",
    "sticky",
    "manual",
    "claim",
    "rule",
    "rules",
    "chosen",
    "skipped",
    "changed",
    "user",
    "manager",
    "managers",
    "lead",
    "target",
    "deviation",
    "handoff",
    "handoffs",
    "paused",
    "resumed",
    "replayed",
    "refused",
    "version",
    "force",
    "language",
    "weight",
    "always",
    "decision",
    "override",
    "dead",
    "won",
    "lost",
    "stage",
    "waiting",
    "nobody",
    "available",
    "head",
    "sales",
    "unknown",
    "error",
    "warning",
)

# Names that are the same in every language: the CRMs, the formats and the tools a message names.
PROPER_NAMES = frozenset(
    (
        "amoCRM",
        "Bitrix24",
        "CRM",
        "YAML",
        "UTF",
        "API",
        "SIGTERM",
        "SIGHUP",
        "Ctrl",
        "C",
        "gunicorn",
        "curl",
        "leadrouter",
    )
)


def latin_words(text: str) -> list[str]:
    """Every word in Latin letters (underscores and digits inside: `round_robin`, `bitrix24` are one)."""
    return re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)


def foreign_words(text: str, allowed: Collection[str]) -> list[str]:
    """The Latin words of `text` that are neither `allowed` nor proper names, after taking out what
    is never prose: URLs, `LEADROUTER_*` settings, `--options`, `leadrouter <command>` and character
    codes (`#x0010`)."""
    text = re.sub(r"https?://\S*|LEADROUTER_[\w*]*|--[\w-]+|\bleadrouter \w+|#x[0-9a-fA-F]*", " ", text)
    return [w for w in latin_words(text) if w not in allowed and w not in PROPER_NAMES]
