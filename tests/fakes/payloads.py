"""Webhook bodies as both CRMs send them: bracket-keyed (key, value) pairs in wire order, urlencoded.

Shapes follow /work/shared/crm/amocrm.md §1.4 and bitrix24.md §1.4; the amoCRM encoder is the shipped
emulator's (`sandbox.amocrm.payload`), here with a test account's defaults.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sandbox.amocrm.payload import Pairs, flatten, lead_payload, urlencode
from sandbox.bitrix24.payload import bitrix24_event_payload

__all__ = ["Pairs", "amocrm_lead_payload", "bitrix24_event_payload", "flatten", "urlencode"]

AMO_ACCOUNT_ID = "29604535"
AMO_SUBDOMAIN = "700622"


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
