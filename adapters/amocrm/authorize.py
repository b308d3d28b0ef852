"""`leadrouter auth --code CODE`: trade an OAuth authorization code for the first token pair (§3).

An admin copies the code from the integration's settings (or gets it at the redirect URI); it
works once, for 20 minutes. The pair is stored exactly where refreshes keep it (the `amocrm:oauth`
row, taken under the refresh lease so a running service does not refresh meanwhile), and one API
call with the new token proves it works. Nothing returned or raised here carries a token, the
code or the client secret.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import Engine

from adapters.amocrm.factory import connection_parts, oauth_tokens
from adapters.amocrm.transport import AmoHttp
from adapters.errors import AuthError

NEEDS_KEYS = (
    "the code exchange needs the integration's keys: set LEADROUTER_AMOCRM_CLIENT_ID, "
    "LEADROUTER_AMOCRM_CLIENT_SECRET and LEADROUTER_AMOCRM_REDIRECT_URI (the redirect URI exactly "
    "as in the integration's settings)"
)
CHECK = (
    "A code works once and for 20 minutes; the client id, secret and redirect URI must be the integration's"
)
LONG_LIVED = (
    "LEADROUTER_AMOCRM_TOKEN (a long-lived token) is set, and it is what leadrouter uses: unset it "
    "to work with OAuth tokens instead"
)


def authorize(
    *,
    crm: dict[str, Any],
    secrets: dict[str, Any],
    engine: Engine,
    code: str,
    transport: httpx.BaseTransport | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> list[str]:
    """Exchange `code`, store the pair, make one call with it; the lines to print (no secrets)."""
    if secrets.get("amocrm_token"):
        raise AuthError(LONG_LIVED)
    if not (secrets.get("amocrm_client_id") and secrets.get("amocrm_client_secret")):
        raise AuthError(NEEDS_KEYS)
    base_url, gate, http = connection_parts(crm, engine, transport, clock, sleep)
    try:
        tokens, endpoint = oauth_tokens(crm, secrets, engine, http, base_url, gate, clock, sleep)
        try:
            tokens.authorize(lambda: endpoint.authorize(code.strip()))
        except AuthError as exc:
            raise AuthError(f"{exc}. {CHECK}") from None
        account = AmoHttp(base_url, tokens, gate, http, sleep=sleep).get("/api/v4/account") or {}
    finally:
        http.close()
    name, number = account.get("name"), account.get("id")
    lines = ["amoCRM authorized: the token pair is stored in the database; refreshes keep it current"]
    if name or number:
        lines.append(f"account: {name or '?'} (id {number or '?'})")
    if secrets.get("amocrm_refresh_token"):
        lines.append("LEADROUTER_AMOCRM_REFRESH_TOKEN is no longer needed: the stored pair replaces it")
    return lines
