"""Webhook bodies as both CRMs send them: bracket-keyed (key, value) pairs in wire order, urlencoded.

Shapes follow /work/shared/crm/amocrm.md §1.4 and bitrix24.md §1.4; the amoCRM encoder is the shipped
emulator's (`sandbox.amocrm.payload`), here with a test account's defaults.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sandbox.amocrm.payload import Pairs, flatten, lead_payload, urlencode

__all__ = ["Pairs", "amocrm_lead_payload", "bitrix24_event_payload", "flatten", "urlencode"]

AMO_ACCOUNT_ID = "29604535"
AMO_SUBDOMAIN = "700622"
B24_TS = 1742807175


def amocrm_lead_payload(
    action: str,
    leads: Sequence[Mapping[str, Any] | str],
    *,
    account_id: str | None = AMO_ACCOUNT_ID,
    subdomain: str | None = AMO_SUBDOMAIN,
    extra: Pairs | None = None,
) -> Pairs:
    """An amoCRM account webhook (the emulator's encoder) from a test account by default."""
    return lead_payload(action, leads, account_id=account_id, subdomain=subdomain, extra=extra)


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
