"""What the sandbox's lead stream prints, in the config's language (the sandbox stands alone, so its
few lines carry their own two catalogs)."""

from __future__ import annotations

STREAM: dict[str, dict[str, str]] = {
    "ru": {
        "lead": "лид",
        "deal": "сделка",
        "new": "+ {what} {id}  {name}  ·  {person}, {where}  ·  {budget}  ·  {source}{again}",
        "no_region": "регион не указан",
        "repeat_contact": ", повторный клиент",
        "repeat_phone": ", повторный клиент (новый контакт, тот же телефон)",
        "moved": "→ {what} {id}  на этапе «{stage}» — {name}",
    },
    "en": {
        "lead": "lead",
        "deal": "deal",
        "new": "+ {what} {id}  {name}  ·  {person}, {where}  ·  {budget}  ·  {source}{again}",
        "no_region": "no region",
        "repeat_contact": ", repeat client",
        "repeat_phone": ", repeat client (new contact, same phone)",
        "moved": "→ {what} {id}  moved to «{stage}» by {name}",
    },
}


def stream_words(language: str | None) -> dict[str, str]:
    """The stream's words for a config's language (Russian, the product's default, for any other)."""
    return STREAM.get(language or "ru", STREAM["ru"])
