"""`POST /oauth2/access_token`: an authorization code or a refresh token for a new pair (§3).

Requests and answers here carry the client secret and tokens, so nothing of them reaches an error
message: only the status and amoCRM's short `hint` ("Token has been revoked").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from pydantic import ValidationError

from adapters.amocrm.schemas import TokenOut
from adapters.amocrm.status import problem_of
from adapters.errors import AuthError, TransientCrmError
from adapters.http import translate_transport_errors

OAUTH_TIMEOUT = 15.0  # the official SDK's timeout for OAuth calls (§4)


@dataclass(frozen=True)
class TokenPair:
    """A fresh access token with its rotated refresh token."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: int = 86400


@dataclass
class TokenEndpoint:
    """The OAuth token endpoint of one account, for one integration."""

    http: httpx.Client
    base_url: str
    client_id: str = field(repr=False)
    client_secret: str = field(repr=False)
    redirect_uri: str = ""
    before: Callable[[], None] = lambda: None  # the rate-limit gate: token calls count too

    def refresh(self, refresh_token: str) -> TokenPair:
        """Trade a refresh token (used up by this call) for a new pair."""
        return self._post({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def authorize(self, code: str) -> TokenPair:
        """Trade an authorization code (valid 20 minutes) for the first pair."""
        return self._post({"grant_type": "authorization_code", "code": code})

    def _post(self, grant: dict[str, str]) -> TokenPair:
        body = {"client_id": self.client_id, "client_secret": self.client_secret, **grant}
        if self.redirect_uri:
            body["redirect_uri"] = self.redirect_uri  # must equal the integration's setting (§3)
        self.before()
        url = f"{self.base_url}/oauth2/access_token"
        response = translate_transport_errors(lambda: self.http.post(url, json=body, timeout=OAUTH_TIMEOUT))
        status = response.status_code
        if status >= 500 or status in (408, 429, 499):
            raise TransientCrmError(f"{status}: amoCRM's token endpoint is not answering properly")
        if status >= 300:
            hint = problem_of(response).hint[:80]
            raise AuthError(f"{status}: amoCRM refused the token request" + (f" ({hint})" if hint else ""))
        try:
            out = TokenOut.model_validate_json(response.content)
        except ValidationError:
            raise AuthError(f"{status}: amoCRM's token answer is unreadable") from None
        if not out.refresh_token:
            raise AuthError(f"{status}: amoCRM's token answer has no refresh token")
        return TokenPair(out.access_token, out.refresh_token, out.expires_in)
