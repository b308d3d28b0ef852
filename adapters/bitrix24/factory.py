"""`build_client(crm=..., secrets=..., engine=...)`: the Bitrix24 client, as bootstrap discovers it.

Credentials (bitrix24.md §4): `bitrix24_webhook_url` (an incoming webhook) wins; otherwise an
OAuth app from `bitrix24_client_id` / `bitrix24_client_secret`, whose tokens live in our `kv`
table — put there at install (`oauth.install_tokens`) or grown from `bitrix24_refresh_token`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import Engine

from adapters.bitrix24.auth import Credentials, OAuthApp, WebhookUrl
from adapters.bitrix24.client import Bitrix24Client
from adapters.bitrix24.oauth import Exchange, TokenPair, TokenStore
from adapters.bitrix24.transport import Bucket, Transport
from adapters.errors import AuthError, NoCredentials, TransientCrmError
from adapters.http import translate_transport_errors

OAUTH_URL = "https://oauth.bitrix.info/oauth/token/"  # §4.2: client_secret only ever goes here
RATE, BURST = 2.0, 50  # §5.1: every plan but Enterprise (5/s, 250)
TIMEOUT = httpx.Timeout(65.0, connect=5.0)  # §5.1: the cloud cuts a request at 60 s


def build_client(
    *,
    crm: Mapping[str, Any],
    secrets: Mapping[str, str | None],
    engine: Engine,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
    oauth_url: str = OAUTH_URL,
    attempts: int = 5,
    lookup_clients: bool = True,
) -> Bitrix24Client:
    """The client for this portal, sharing the rate limit and the tokens through `engine`."""
    http = httpx.Client(transport=transport, timeout=TIMEOUT)
    burst = int(crm.get("burst") or BURST)
    # Headroom: requests sent in time can still reach the portal bunched up (network and thread
    # jitter), and its bucket counts arrivals; 10 % of the burst absorbs that (bitrix24.md §5.1).
    usable = max(1, burst - max(1, burst // 10)) if burst > 1 else 1
    rate = float(crm.get("rate_limit_per_second") or RATE)
    bucket = Bucket(engine, "bitrix24", rate, usable, clock=clock, sleep=sleep)
    credentials = build_credentials(crm, secrets, engine, http, oauth_url=oauth_url, clock=clock, sleep=sleep)
    rest = Transport(
        credentials=credentials, http=http, bucket=bucket, sleep=sleep, clock=clock, attempts=attempts
    )
    return Bitrix24Client(
        transport=rest,
        engine=engine,
        entity=str(crm.get("entity") or "lead"),
        batch_size=int(crm.get("batch_size") or 50),
        lookup_clients=lookup_clients,
        clock=lambda: datetime.fromtimestamp(clock(), UTC),  # one clock for the bucket, tokens and writes
    )


def build_credentials(
    crm: Mapping[str, Any],
    secrets: Mapping[str, str | None],
    engine: Engine,
    http: httpx.Client,
    *,
    oauth_url: str = OAUTH_URL,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> Credentials:
    """A webhook URL if one is set, else the OAuth app; AuthError naming what to set."""
    if secrets.get("bitrix24_webhook_url"):
        return WebhookUrl(str(secrets["bitrix24_webhook_url"]))
    client_id, client_secret = secrets.get("bitrix24_client_id"), secrets.get("bitrix24_client_secret")
    if not client_id or not client_secret:
        raise NoCredentials(
            "bitrix24",
            "Bitrix24: set LEADROUTER_BITRIX24_WEBHOOK_URL, or the app's LEADROUTER_BITRIX24_CLIENT_ID and"
            " _CLIENT_SECRET",
        )
    exchange = oauth_exchange(http, oauth_url, client_id, client_secret)
    tokens = TokenStore(
        engine=engine,
        exchange=exchange,
        seed_refresh=secrets.get("bitrix24_refresh_token"),
        clock=clock,
        sleep=sleep,
    )
    return OAuthApp(rest_url=f"{str(crm['base_url']).rstrip('/')}/rest/", tokens=tokens)


def oauth_exchange(http: httpx.Client, url: str, client_id: str, client_secret: str) -> Exchange:
    """Refresh at the OAuth server (§4.2); the answer carries a NEW refresh token."""

    def exchange(refresh_token: str) -> TokenPair:
        params = {
            "grant_type": "refresh_token",
            "client_id": client_id,
            "client_secret": client_secret,
            "refresh_token": refresh_token,
        }
        response = translate_transport_errors(lambda: http.get(url, params=params))
        try:
            body = json.loads(response.content or b"null")
        except ValueError:
            body = None
        if response.status_code >= 500 or not isinstance(body, dict):
            raise TransientCrmError(f"Bitrix24 OAuth server: HTTP {response.status_code}")
        if body.get("error") or not body.get("access_token") or not body.get("refresh_token"):
            # invalid_grant: the refresh token is spent or older than 180 days; invalid_client: wrong
            # id/secret or the app is gone (§4.2). Only the code is kept: the body may echo tokens.
            code = str(body.get("error") or "no tokens")[:40]
            raise AuthError(f"Bitrix24 OAuth refused the refresh ({code}): install the app again")
        return TokenPair(
            str(body["access_token"]), str(body["refresh_token"]), float(body.get("expires_in") or 3600)
        )

    return exchange
