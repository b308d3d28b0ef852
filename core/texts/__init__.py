"""Every word people read, one catalog per language (`ru.py`, `en.py`), looked up here.

A catalog maps an area (who reads it: `reason`, `admin`, `simulate`, `whatif`, `task`, `audit` (the
audit log when read), `cli` (the commands), `summary` (`check-config`), `config` (every problem a
config check reports), `leadfile` (problems with `simulate`'s lead files), `help` (`--help` and usage
errors)) to its words.
One fallback rule: a language we have no catalog for gets Russian, the product's default (the config
only allows ru and en, so this is a guard, not a feature). A missing key cannot happen: every catalog
has the same keys with the same `{placeholders}` (tests/unit/test_texts.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal

from core.texts import en, ru

Area = Literal[
    "reason", "admin", "simulate", "whatif", "task", "audit", "cli", "summary", "config", "leadfile", "help"
]
Catalog = Mapping[str, Mapping[str, str]]

DEFAULT_LANGUAGE = "ru"
CATALOGS: Mapping[str, Catalog] = {"ru": ru.CATALOG, "en": en.CATALOG}


def catalog(language: str | None) -> Catalog:
    """Every area's words in a language (Russian when it is unknown or not given)."""
    return CATALOGS.get(language or DEFAULT_LANGUAGE, CATALOGS[DEFAULT_LANGUAGE])


def texts(language: str | None, area: Area) -> Mapping[str, str]:
    """One area's words in a language (Russian when it is unknown or not given)."""
    return catalog(language)[area]


_LANGUAGE_LINE = re.compile(r"""^language:[ \t]*["']?(ru|en)["']?[ \t]*(?:#.*)?$""", re.MULTILINE)


def language_in_text(text: str) -> str | None:
    """The `language: ru|en` written at the top level of a text that may not parse as YAML (a line
    scan), so that even a broken file is answered in its language; None when no line says it."""
    match = _LANGUAGE_LINE.search(text)
    return match.group(1) if match else None


__all__ = ["CATALOGS", "DEFAULT_LANGUAGE", "Area", "Catalog", "catalog", "language_in_text", "texts"]
