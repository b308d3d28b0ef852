"""What stands before every emulated API call: tokens, the rate limit and its ban, injected faults.

Tokens (§3): long-lived ones never expire unless told; OAuth access tokens live `expires_in`
seconds of emulated time; a refresh token works once, its second use is answered 401 "Token has
been revoked"; an authorization code lives 20 minutes. Rate (§4): more than `rate` requests arriving
within any one second → 429 with `retry_after` (after an optional, seeded network jitter);
`ban_after` 429s within a minute → 403 on everything.
"""

from __future__ import annotations

import base64
import json
import random
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from sandbox.amocrm.state import Clock

ACCESS_LIFETIME = 86400
CODE_LIFETIME = 20 * 60


def _jwt(claims: dict[str, object]) -> str:
    """A token shaped like amoCRM's JWTs (§3: `api_domain`, `exp` claims); the signature is noise."""

    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'typ': 'JWT', 'alg': 'RS256'})}.{part(claims)}.{secrets.token_urlsafe(32)}"


@dataclass
class Tokens:
    """Issued tokens and the OAuth integration's keys."""

    clock: Clock
    client_id: str = "emulated-client-id"
    client_secret: str = "emulated-client-secret"
    redirect_uri: str = "https://leadrouter.example/oauth"
    access: dict[str, tuple[int, float]] = field(default_factory=dict)  # token → (user, expires at)
    refresh: dict[str, tuple[int, bool]] = field(default_factory=dict)  # token → (user, used)
    codes: dict[str, tuple[int, float]] = field(default_factory=dict)
    refresh_calls: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def long_lived(self, user_id: int, lifetime: float = 5 * 365 * 86400) -> str:
        token = _jwt(
            {"sub": user_id, "api_domain": "api-a.amocrm.ru", "exp": int(self.clock.now() + lifetime)}
        )
        self.access[token] = (user_id, self.clock.now() + lifetime)
        return token

    def refresh_token(self, user_id: int) -> str:
        """A refresh token as if the integration had been authorised by this user."""
        token = secrets.token_urlsafe(48)
        self.refresh[token] = (user_id, False)
        return token

    def code(self, user_id: int) -> str:
        value = secrets.token_urlsafe(24)
        self.codes[value] = (user_id, self.clock.now() + CODE_LIFETIME)
        return value

    def user_of(self, token: str) -> int | None:
        """The user behind a valid access token, None if unknown or expired (emulated time)."""
        found = self.access.get(token)
        return found[0] if found and found[1] > self.clock.now() else None

    def revoke_all(self) -> None:
        """The admin switched the integration off: every token stops working (§3)."""
        self.access.clear()
        self.refresh.clear()

    def grant(self, body: dict[str, str]) -> tuple[int, dict[str, object]]:
        """POST /oauth2/access_token: (status, body)."""
        if (body.get("client_id"), body.get("client_secret")) != (self.client_id, self.client_secret):
            return 401, _oauth_problem("Client authentication failed")
        if body.get("redirect_uri", self.redirect_uri) != self.redirect_uri:
            return 400, _oauth_problem("redirect_uri mismatch")
        with self.lock:
            user = self._redeem(body)
            if isinstance(user, str):
                return 401 if "revoked" in user else 400, _oauth_problem(user)
            access = _jwt(
                {"sub": user, "api_domain": "api-a.amocrm.ru", "exp": int(self.clock.now()) + ACCESS_LIFETIME}
            )
            self.access[access] = (user, self.clock.now() + ACCESS_LIFETIME)
            rotated = self.refresh_token(user)
        pair = {"token_type": "Bearer", "expires_in": ACCESS_LIFETIME, "server_time": int(self.clock.now())}
        return 200, pair | {"access_token": access, "refresh_token": rotated}

    def _redeem(self, body: dict[str, str]) -> int | str:
        grant = body.get("grant_type")
        if grant == "refresh_token":
            self.refresh_calls += 1
            found = self.refresh.get(body.get("refresh_token", ""))
            if found is None or found[1]:
                return "Token has been revoked"
            self.refresh[body["refresh_token"]] = (found[0], True)
            return found[0]
        if grant == "authorization_code":
            code = self.codes.pop(body.get("code", ""), None)
            if code is None or code[1] < self.clock.now():
                return "Authorization code has expired"
            return code[0]
        return "Unsupported grant type"


def _oauth_problem(hint: str) -> dict[str, object]:
    return {
        "hint": hint,
        "title": "Некорректный запрос",
        "type": "https://developers.amocrm.ru/v3/errors/OAuthProblemJson",
        "status": 401 if "revoked" in hint else 400,
        "detail": "В запросе отсутствует ряд параметров или параметры невалидны",
    }


@dataclass
class Limiter:
    """More than `rate` requests within any one second of arrival → 429; repeated 429s → a ban.

    amoCRM counts requests as they reach it (§4: "no more than 7 requests per second"), so the
    window slides over *arrival* times and is a whole second: a client that spaces its calls exactly
    1/7 s apart sees the eighth land inside the first one's second as soon as the network delays the
    first a little more than the eighth. `jitter` models that network: each request waits a random
    0…`jitter` seconds (seeded: runs repeat) before it arrives and is counted. A refused request is
    not counted ([U] whether amoCRM counts it; not counting it is the lenient reading, so a client
    that passes here does not lean on it).
    """

    rate: int | None = 7
    window: float = 1.0
    retry_after: int = 1
    ban_after: int = 20
    ban_seconds: float = 60.0
    html_429: bool = False
    jitter: float = 0.0
    seed: int = 7
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    recent: deque[float] = field(default_factory=deque)
    refusals: deque[float] = field(default_factory=deque)
    banned_until: float = 0.0
    limited: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def arrive(self) -> str | None:
        """The request crosses the network (up to `jitter`), then is counted: see `check`."""
        if self.jitter > 0:
            with self.lock:
                delay = self._rng.uniform(0.0, self.jitter)
            self.sleep(delay)
        return self.check()

    def check(self) -> str | None:
        """Count a request arriving now: None to serve it, "429" or "403" to refuse it."""
        with self.lock:
            now = self.clock()
            if now < self.banned_until:
                return "403"
            while self.recent and self.recent[0] <= now - self.window:
                self.recent.popleft()
            if self.rate is None or len(self.recent) < self.rate:
                self.recent.append(now)
                return None
            self.limited += 1
            self.refusals.append(now)
            while self.refusals and self.refusals[0] <= now - 60:
                self.refusals.popleft()
            if len(self.refusals) >= self.ban_after:
                self.banned_until = now + self.ban_seconds
            return "429"

    def unban(self) -> None:
        with self.lock:
            self.banned_until = 0.0
            self.refusals.clear()


@dataclass
class Faults:
    """Trouble on demand: latency, bursts of 5xx, lost and repeated webhooks."""

    latency: float = 0.0
    fail_next: int = 0
    fail_status: int = 503
    drop_hooks: float = 0.0  # share of webhook deliveries silently lost
    duplicate_hooks: float = 0.0  # share delivered twice (a retry after a slow 2xx)
    hook_delay: float = 0.0  # seconds each webhook waits before it is sent
    down: bool = False  # an outage: every API call is answered `fail_status` before it is counted
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def failure(self) -> int | None:
        with self.lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return self.fail_status
        return None

    def roll(self, share: float) -> bool:
        with self.lock:
            return share > 0 and self.rng.random() < share
