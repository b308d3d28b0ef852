"""Keep the webhook secret out of every log line: it is part of our hook URLs."""

from __future__ import annotations

import re

_HOOK_PATH = re.compile(r"(/hooks/[A-Za-z0-9_-]+/)[^/?\s\"]+")


def redact_path(text: str) -> str:
    """Replace the secret segment of any hook URL in `text` with `***`."""
    return _HOOK_PATH.sub(r"\1***", text)
