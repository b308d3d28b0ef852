"""The text catalogs (core/texts/): every language says everything, with the same placeholders."""

from __future__ import annotations

from string import Formatter
from typing import get_args

from core.texts import CATALOGS, DEFAULT_LANGUAGE, Catalog, catalog, texts
from webhook_app.config.schema import ConfigModel


def keys(words: Catalog) -> set[str]:
    """Every key of a catalog as `area.key`."""
    return {f"{area}.{key}" for area, entries in words.items() for key in entries}


def placeholders(text: str) -> set[str]:
    """The `{names}` a text is formatted with."""
    return {name for _, name, _, _ in Formatter().parse(text) if name is not None}


def test_every_language_has_the_same_keys():
    every = set().union(*(keys(words) for words in CATALOGS.values()))
    missing = {
        language: sorted(every - keys(words)) for language, words in CATALOGS.items() if every - keys(words)
    }
    assert missing == {}, f"keys missing, per language: {missing}"


def test_every_text_has_the_same_placeholders_in_every_language():
    default = CATALOGS[DEFAULT_LANGUAGE]
    differ = [
        f"{language} {area}.{key}: {placeholders(text)} != {placeholders(default[area][key])}"
        for language, words in CATALOGS.items()
        for area, entries in words.items()
        for key, text in entries.items()
        if key in default.get(area, {}) and placeholders(text) != placeholders(default[area][key])
    ]
    assert differ == []


def test_every_language_the_config_allows_has_a_catalog_and_ru_is_the_default():
    allowed = get_args(ConfigModel.model_fields["language"].annotation)
    assert set(allowed) == set(CATALOGS)
    assert DEFAULT_LANGUAGE == ConfigModel.model_fields["language"].default == "ru"


def test_an_unknown_language_gets_the_russian_catalog():
    assert catalog("de") is CATALOGS["ru"]
    assert catalog(None) is CATALOGS["ru"]
    assert texts("de", "whatif") is CATALOGS["ru"]["whatif"]


def test_a_known_language_gets_its_own_catalog():
    assert catalog("en") is CATALOGS["en"]
    assert texts("en", "admin")["today"] == "Today"
    assert texts("ru", "admin")["today"] == "Сегодня"
