"""Webhook bodies as both CRMs send them: bracket-keyed (key, value) pairs in wire order, urlencoded.

Shapes follow /work/shared/crm/amocrm.md §1.4 and bitrix24.md §1.4; the CRM emulators reuse them.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

Pairs = list[tuple[str, str]]

AMO_ACCOUNT_ID = "29604535"
AMO_SUBDOMAIN = "700622"
B24_TS = 1742807175


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


def amocrm_lead_payload(
    action: str,
    leads: Sequence[Mapping[str, Any] | str],
    *,
    account_id: str | None = AMO_ACCOUNT_ID,
    subdomain: str | None = AMO_SUBDOMAIN,
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


def bitrix24_event_payload(
    event: str,
    entity_id: str | None,
    *,
    application_token: str,
    domain: str = "some-domain.bitrix24.com",
    member_id: str | None = "a223c6b3710f85df22e9377d6c4f7553",
    with_tokens: bool = True,
    ts: int | str = B24_TS,
    handler_id: str | None = "707",
    fields: Mapping[str, Any] | None = None,
) -> Pairs:
    """An outbound event; `with_tokens=False` is a robot-made change or an outgoing webhook (§1.2)."""
    pairs: Pairs = [("event", event)]
    if handler_id is not None:
        pairs.append(("event_handler_id", handler_id))
    pairs += flatten("data[FIELDS]", {"ID": entity_id, **(fields or {})})
    pairs.append(("ts", str(ts)))
    auth: dict[str, str | None] = {}
    if with_tokens:
        auth |= {"access_token": "s6p6eclrvim6da22ft9ch94ekreb52lv", "expires_in": "3600", "scope": "crm"}
    auth["domain"] = domain
    auth["server_endpoint"] = "https://oauth.bitrix.info/rest/"
    if with_tokens:
        auth["status"] = "L"
    auth |= {"client_endpoint": f"https://{domain}/rest/", "member_id": member_id}
    auth["application_token"] = application_token
    return pairs + flatten("auth", auth)
