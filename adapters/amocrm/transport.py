"""One amoCRM API call: through the gate, with the bearer token, retried, answers mapped to errors.

Retries follow adapters/http.py (429/5xx/timeouts, never 400/422). A 401 on an OAuth token gets one
refresh and one resend, as the official SDK does (§7). `_links.next` is followed only on our own
account's host, so a forged link can never receive our token.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from adapters.amocrm.auth import TokenSource
from adapters.amocrm.gate import Deferred, Gate
from adapters.amocrm.schemas import next_href
from adapters.amocrm.status import error_for
from adapters.errors import Blocked, PermanentCrmError, RateLimited
from adapters.http import retrying, translate_transport_errors

Params = list[tuple[str, str | int]] | dict[str, str | int]
USER_AGENT = "leadrouter/0.1 (+amoCRM API v4)"
TIMEOUT = httpx.Timeout(20.0, connect=5.0)  # the official SDK's 5 s connect / 20 s request (§4)


@dataclass
class AmoHttp:
    """Calls to one account's API v4 (`base_url` like https://example.amocrm.ru)."""

    base_url: str
    auth: TokenSource
    gate: Gate
    http: httpx.Client = field(repr=False)
    attempts: int = 5
    sleep: Callable[[float], None] = time.sleep

    def get(self, path: str, params: Params | None = None) -> Any:
        """GET; the decoded body, or None for amoCRM's 204 "nothing found" (§2.1)."""
        return self.send("GET", path, params=params)

    def send(self, method: str, path: str, *, params: Params | None = None, json: Any = None) -> Any:
        """One call, retried on transient failures; the decoded body or None (204)."""
        try:
            for attempt in retrying(attempts=self.attempts, sleep=self.sleep):
                with attempt:
                    return self._once(method, path, params, json)
        except Deferred as deferred:
            raise deferred.error from None
        raise AssertionError("unreachable: tenacity reraises the last error")

    def pages(self, path: str, params: Params) -> Iterator[Any]:
        """Every page of a list, following `_links.next` (§2.1); nothing for a 204."""
        body = self.get(path, params)
        while body:
            yield body
            href = next_href(body)
            if href is None:
                return
            body = self.get(self._own(href))

    def _own(self, href: str) -> str:
        """A next link as a path on our host; a link elsewhere is refused, never followed."""
        ours, link = urlsplit(self.base_url), urlsplit(href)
        if link.netloc and (link.scheme, link.netloc) != (ours.scheme, ours.netloc):
            raise PermanentCrmError("amoCRM sent a next-page link to another host; not followed")
        return link.path + (f"?{link.query}" if link.query else "")

    def _once(self, method: str, path: str, params: Params | None, json: Any) -> Any:
        # The request (a batch of 250 is ~100 KB of JSON) is built before the gate opens, so it goes
        # the moment its slot comes: one sent late, then the next on time, may be 8 in amoCRM's second.
        request = self._build(method, path, params, json)
        token = self._token()
        response = self._send(request, token)
        if response.status_code == 401 and self.auth.can_refresh:
            token = self.auth.refreshed(token)
            request = self._build(method, path, params, json)
            self.gate.wait()
            response = self._send(request, token)
        if response.status_code < 300:
            return response.json() if response.status_code != 204 and response.content else None
        error = error_for(response, recently_limited=response.status_code == 403 and self._limited())
        if isinstance(error, RateLimited):
            self.gate.limited(error.retry_after)
            if (error.retry_after or 0.0) > self.gate.max_inline_wait:
                raise Deferred(error)
        if isinstance(error, Blocked) and response.status_code == 403:
            error.retry_after = self.gate.banned()
        raise error

    def _token(self) -> str:
        self.gate.wait()  # before the token too: an OAuth refresh is a request as well
        return self.auth.token()

    def _limited(self) -> bool:
        return self.gate.recently_limited()

    def _build(self, method: str, path: str, params: Params | None, json: Any) -> httpx.Request:
        url = f"{self.base_url}{path}"
        # Passed only when there are some: httpx would replace the query of a next-page link.
        query = httpx.QueryParams(tuple(params.items()) if isinstance(params, dict) else tuple(params or ()))
        return self.http.build_request(
            method, url, params=query or None, json=json, headers={"User-Agent": USER_AGENT}, timeout=TIMEOUT
        )

    def _send(self, request: httpx.Request, token: str) -> httpx.Response:
        request.headers["Authorization"] = f"Bearer {token}"
        return translate_transport_errors(lambda: self.http.send(request))
