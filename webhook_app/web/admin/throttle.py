"""One throttle on wrong admin tokens for every way in (the login form and Bearer), in every process.

Failures are counted in the database per client address, each with a fingerprint of the token
presented (an HMAC under a key derived from the admin token: the database never holds anything a
guess could be checked against). An address is refused (429) for the rest of the window once it
has presented `DISTINCT_ALLOWED` different wrong tokens — it is guessing — and a token that has
failed `REPEATS_ALLOWED` times from it is refused without being compared. So a script retrying a
stale token slows only itself and never locks out the people behind the same address.

The client address is the connection's, unless that is one of `LEADROUTER_TRUSTED_PROXIES`
(addresses or CIDRs): then `X-Forwarded-For` is read from the right, past every trusted hop.
Behind a reverse proxy, set it; otherwise everyone behind the proxy shares one address.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections import Counter
from datetime import timedelta
from functools import cache

from sqlalchemy import Engine

from adapters.storage.throttle import recent_failures, record_failure
from webhook_app.clock import Clock

DISTINCT_ALLOWED = 5  # different wrong tokens per address…
REPEATS_ALLOWED = 5  # …or the same wrong token this many times…
WINDOW = timedelta(seconds=60)  # …within this window, then refused until it has passed

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Throttle:
    """Wrong tokens per client address, shared by every process through the database."""

    def __init__(self, engine: Engine, clock: Clock, key: bytes) -> None:
        self.engine, self.clock, self.key = engine, clock, key

    def fingerprint(self, token: str) -> str:
        """What is stored of a presented token: useless to anyone without the admin token."""
        return hmac.new(self.key, token.encode(), hashlib.sha256).hexdigest()[:16]

    def blocked(self, address: str, token: str | None = None) -> bool:
        """True while this address is refused (or this token from it, when one is presented)."""
        failures = recent_failures(self.engine, address, self.clock() - WINDOW)
        prints = Counter(f.fingerprint for f in failures)
        if len(prints) >= DISTINCT_ALLOWED:
            return True
        return token is not None and prints[self.fingerprint(token)] >= REPEATS_ALLOWED

    def failed(self, address: str, token: str) -> None:
        """Count one wrong token from this address."""
        record_failure(self.engine, address, self.fingerprint(token), self.clock(), WINDOW)


@cache
def trusted_networks(setting: str) -> tuple[Network, ...]:
    """`LEADROUTER_TRUSTED_PROXIES` parsed: comma-separated addresses or CIDRs (ValueError if bad)."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in setting.split(",") if part.strip()
    )


def client_address(remote: str | None, forwarded_for: str | None, trusted: tuple[Network, ...]) -> str:
    """The client's address: the connection's, or — from trusted proxies only — the nearest address in
    `X-Forwarded-For` that is not itself a trusted proxy."""
    client = remote or "?"
    if not trusted or not forwarded_for:
        return client
    for hop in reversed([part.strip() for part in forwarded_for.split(",")]):
        if not _is_trusted(client, trusted):
            break
        try:
            client = str(ipaddress.ip_address(hop))
        except ValueError:
            break  # a forged or broken entry: the last trusted hop stays the client
    return client


def _is_trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in trusted)
