"""How a request to Bitrix24 is authorised: an incoming webhook URL, or an OAuth app's tokens (§4).

Both hold secrets: the webhook URL *is* the credential (`/rest/<user>/<secret>/`), and OAuth tokens
are bearer tokens. Neither ever appears in a repr, a log line or an error message; the transport
only names the REST method it called.
"""

from __future__ import annotations

from typing import Protocol
from urllib.parse import urlsplit

from adapters.bitrix24.oauth import TokenStore
from adapters.errors import AuthError


class Credentials(Protocol):
    """Where a method is called and with what proof; `refresh` after a 401 `expired_token`."""

    can_refresh: bool

    def request(self, method: str) -> tuple[str, dict[str, str]]:
        """The URL for `method` and the auth params to add to its body."""
        ...

    def refresh(self, rejected: dict[str, str]) -> None:
        """Get a newer token after Bitrix24 refused the one in `rejected`; AuthError if impossible."""
        ...


class WebhookUrl:
    """An incoming webhook (§4.1): `https://<portal>/rest/<user_id>/<secret>/<method>.json`."""

    can_refresh = False

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or "/rest/" not in parts.path + "/":
            raise AuthError(
                "LEADROUTER_BITRIX24_WEBHOOK_URL is not a https://<portal>/rest/<user>/<secret>/ URL"
            )
        self._base = url if url.endswith("/") else url + "/"

    def __repr__(self) -> str:
        return "WebhookUrl(***)"

    @property
    def host(self) -> str:
        """The portal's host name (not secret)."""
        return urlsplit(self._base).netloc

    def request(self, method: str) -> tuple[str, dict[str, str]]:
        """The method under the webhook's base; the secret is in the path, nothing in the body."""
        return f"{self._base}{method}.json", {}

    def refresh(self, rejected: dict[str, str]) -> None:
        """A webhook has nothing to refresh (§4.1: an expired or edited webhook needs a new URL)."""
        raise AuthError(
            "Bitrix24 refused the incoming webhook URL (deleted, expired or edited): issue a new one"
        )


class OAuthApp:
    """A local or Market app (§4.2): `auth=<access_token>` on `<portal>/rest/<method>.json`."""

    can_refresh = True

    def __init__(self, *, rest_url: str, tokens: TokenStore) -> None:
        self._rest = rest_url if rest_url.endswith("/") else rest_url + "/"
        self._tokens = tokens

    def __repr__(self) -> str:
        return "OAuthApp(***)"

    def request(self, method: str) -> tuple[str, dict[str, str]]:
        """The method on the portal's REST endpoint, the access token as the `auth` param (§2.1)."""
        return f"{self._rest}{method}.json", {"auth": self._tokens.access()}

    def refresh(self, rejected: dict[str, str]) -> None:
        """Refresh once for all processes (§4.2: on 401 expired_token, refresh, then retry)."""
        self._tokens.refresh(rejected.get("auth", ""))
