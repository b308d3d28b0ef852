"""Outbound event bodies as Bitrix24 sends them: bracket-keyed pairs in wire order (bitrix24.md §1.4)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.amocrm.payload import Pairs, flatten

B24_TS = 1742807175


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
