"""Keep Bitrix24 credentials out of log lines that other libraries write.

httpx logs every request URL at INFO ("HTTP Request: POST https://…"): an incoming webhook's URL
*is* its secret (`/rest/<user>/<secret>/`, bitrix24.md §4.1) and the OAuth refresh carries the
client secret and refresh token in its query (§4.2). A filter on the `httpx` logger masks both.
"""

from __future__ import annotations

import logging
import re

_PATTERNS = (
    (re.compile(r"(/rest/[^/\s]+/)[^/\s]+/"), r"\1***/"),
    (re.compile(r"((?:client_secret|refresh_token|access_token|auth|code)=)[^&\s\"']+"), r"\1***"),
)


def redact(text: str) -> str:
    """The text with webhook secrets and token parameters masked."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """Rewrites a record's message with `redact` (never drops the record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


def install(logger_name: str = "httpx") -> None:
    """Add the filter to a logger once."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactSecrets) for f in logger.filters):
        logger.addFilter(RedactSecrets())
