"""Account webhook bodies as amoCRM sends them: bracket-keyed (key, value) pairs in wire order (§1.4)."""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

Pairs = list[tuple[str, str]]


def flatten(prefix: str, value: Any) -> Pairs:
    """PHP `http_build_query` keys: dicts by key, lists by index, None dropped, numbers as text."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [pair for k, v in value.items() for pair in flatten(f"{prefix}[{k}]", v)]
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [pair for i, v in enumerate(value) for pair in flatten(f"{prefix}[{i}]", v)]
    return [(prefix, str(value))]


def urlencode(pairs: Pairs) -> str:
    """The form body on the wire (brackets percent-encoded, as PHP and werkzeug expect)."""
    return urllib.parse.urlencode(pairs)


def lead_payload(
    action: str,
    leads: Sequence[Mapping[str, Any] | str],
    *,
    account_id: str | None,
    subdomain: str | None,
    extra: Pairs | None = None,
) -> Pairs:
    """An account webhook: `account[...]` first, then `leads[<action>][N][...]` (a str lead = bare id)."""
    pairs: Pairs = []
    if subdomain is not None:
        pairs.append(("account[subdomain]", subdomain))
    if account_id is not None:
        pairs.append(("account[id]", account_id))
    if subdomain is not None:
        pairs.append(("account[_links][self]", f"https://{subdomain}.amocrm.ru"))
    for index, lead in enumerate(leads):
        pairs += flatten(f"leads[{action}][{index}]", lead)
    return pairs + (extra or [])
