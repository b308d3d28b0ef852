"""Build the amoCRM client from the config's `crm:` section, the secrets and our database."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import Engine

from adapters.amocrm.auth import LongLivedToken, OAuthTokens, TokenSource
from adapters.amocrm.catalog import Catalog
from adapters.amocrm.client import AmoCrmClient
from adapters.amocrm.clients import Clients
from adapters.amocrm.gate import Gate
from adapters.amocrm.oauth import TokenEndpoint
from adapters.amocrm.reads import LeadReader, Upcoming
from adapters.amocrm.transport import AmoHttp
from adapters.amocrm.writes import MAX_BATCH, Writer
from adapters.errors import NoCredentials

DEFAULT_RATE = 7.0  # requests per second per account (§4)
NO_CREDENTIALS = (
    "amoCRM needs LEADROUTER_AMOCRM_TOKEN (a long-lived token) or LEADROUTER_AMOCRM_CLIENT_ID and "
    "LEADROUTER_AMOCRM_CLIENT_SECRET (OAuth: then `leadrouter auth --code CODE` once, or "
    "LEADROUTER_AMOCRM_REFRESH_TOKEN)"
)


def build_http(
    *,
    crm: dict[str, Any],
    secrets: dict[str, Any],
    engine: Engine,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
    attempts: int = 5,
    max_inline_wait: float = 10.0,
) -> AmoHttp:
    """The rate-limited, authenticated HTTP layer for one account."""
    base_url, gate, http = connection_parts(crm, engine, transport, clock, sleep, max_inline_wait)
    auth = _auth(crm, secrets, engine, http, base_url, gate, clock, sleep)
    return AmoHttp(base_url, auth, gate, http, attempts=attempts, sleep=sleep)


def connection_parts(
    crm: dict[str, Any],
    engine: Engine,
    transport: httpx.BaseTransport | None,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    max_inline_wait: float = 10.0,
) -> tuple[str, Gate, httpx.Client]:
    """The account's base URL, its shared rate gate and an HTTP client (the caller closes it)."""
    base_url = str(crm["base_url"]).rstrip("/")
    rate = float(crm.get("rate_limit_per_second") or DEFAULT_RATE)
    gate = Gate(engine, "amocrm", rate, clock=clock, sleep=sleep, max_inline_wait=max_inline_wait)
    return base_url, gate, httpx.Client(transport=transport, follow_redirects=False)


def _auth(
    crm: dict[str, Any],
    secrets: dict[str, Any],
    engine: Engine,
    http: httpx.Client,
    base_url: str,
    gate: Gate,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> TokenSource:
    if secrets.get("amocrm_token"):
        return LongLivedToken(str(secrets["amocrm_token"]))
    tokens, _ = oauth_tokens(crm, secrets, engine, http, base_url, gate, clock, sleep)
    return tokens


def oauth_tokens(
    crm: dict[str, Any],
    secrets: dict[str, Any],
    engine: Engine,
    http: httpx.Client,
    base_url: str,
    gate: Gate,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[OAuthTokens, TokenEndpoint]:
    """The OAuth token store (seeded by LEADROUTER_AMOCRM_REFRESH_TOKEN if set) and the token endpoint."""
    client_id, client_secret = secrets.get("amocrm_client_id"), secrets.get("amocrm_client_secret")
    if not (client_id and client_secret):
        raise NoCredentials("amocrm", NO_CREDENTIALS)
    refresh = secrets.get("amocrm_refresh_token")
    redirect = secrets.get("amocrm_redirect_uri") or crm.get("redirect_uri") or ""
    endpoint = TokenEndpoint(http, base_url, str(client_id), str(client_secret), str(redirect), gate.wait)
    tokens = OAuthTokens(
        engine=engine,
        refresh_token=str(refresh) if refresh else None,
        exchange=endpoint.refresh,
        clock=clock,
        sleep=sleep,
    )
    return tokens, endpoint


def build_client(
    *,
    crm: dict[str, Any],
    secrets: dict[str, Any],
    engine: Engine,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
    attempts: int = 5,
    max_inline_wait: float = 10.0,
    read_batch: int = 125,  # ids per list call: two calls per 250, the URL stays near 4 KB
    upcoming: Upcoming | None = None,
    search_phones: bool = True,
) -> AmoCrmClient:
    """The amoCRM client for this config; `upcoming` names leads to read ahead (see reads.py)."""
    http = build_http(
        crm=crm,
        secrets=secrets,
        engine=engine,
        transport=transport,
        sleep=sleep,
        clock=clock,
        attempts=attempts,
        max_inline_wait=max_inline_wait,
    )
    catalog = Catalog(http, clock=clock)
    clients = Clients(http, batch=read_batch, search_phones=search_phones)
    reader = LeadReader(http, catalog, clients, batch=read_batch, upcoming=upcoming, clock=clock)
    # Above amoCRM's documented 250 the first batch gets a 422 and the writer halves its cap.
    writer = Writer(http, catalog, cap=int(crm.get("batch_size") or MAX_BATCH), clock=clock)
    return AmoCrmClient(http, catalog, reader, writer, base_url=http.base_url)
