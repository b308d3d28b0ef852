"""Custom fields with the usual names that stand in for what a CRM record has no field of its own for.

amoCRM leads have no city, region or INN at all, and Bitrix24 deals no address; companies keep
them in custom fields named «Город», «Регион», «ИНН». Both CRMs' mappings read them the same way:
on the record first, then on its company. Bitrix24 deals have no loss reason either: portals keep
it in a field named «Причина отказа» (amoCRM has its own, and reads such a field only without it).
"""

from __future__ import annotations

from collections.abc import Mapping

ALIASES = {
    "city": ("город", "city"),
    "region": ("регион", "region", "область"),
    "inn": ("инн", "inn"),
    "source": ("источник", "source", "источник лида"),
    "loss_reason": (
        "причина отказа",
        "причина проигрыша",
        "причина провала",
        "причина потери",
        "причина закрытия",
        "loss reason",
        "lost reason",
    ),
}


def by_alias(what: str, *sources: Mapping[str, object] | None) -> str | None:
    """The first value of a custom field named as `what` usually is, in `sources` in order."""
    names = ALIASES[what]
    for fields in sources:
        for name, value in (fields or {}).items():
            if name.casefold().strip() in names and value is not None:
                first = value[0] if isinstance(value, tuple | list) and value else value
                return str(first) if first not in (None, "", [], ()) else None
    return None
