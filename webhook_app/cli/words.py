"""The words of the command line: the config's language and names for commands that read the database.

`audit`, `deadletters` and `report` work from the database, but what they print is read by people:
in the config's `language`, with managers by name. They take the config from `--config` (or
LEADROUTER_CONFIG) when given; without one they speak Russian, the product's default, and name
managers by key (there are no names to give).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from datetime import UTC

from adapters.errors import AdapterError, NoCredentials
from core.audit_text import AuditText
from core.policy import Policy
from core.reasons import Renderer
from core.texts import texts
from webhook_app.config import ConfigError, load_config
from webhook_app.settings import Settings

_NO_POLICY = Policy(tz=UTC, managers={}, pools={}, rules=())


def policy_for(args: argparse.Namespace) -> Policy:
    """The config named by `--config` or LEADROUTER_CONFIG, or an empty one (Russian, no names)."""
    path = getattr(args, "config", None) or Settings().config
    if path is None:
        return _NO_POLICY
    try:
        return load_config(path).policy
    except ConfigError:
        return _NO_POLICY  # the database is still worth reading; check-config says what is wrong


class CliWords:
    """One command's words: the CLI catalog, a reason renderer and audit words, in one language."""

    def __init__(self, policy: Policy, language: str | None = None) -> None:
        self.policy = policy
        self.language = language or policy.language
        self.cli: Mapping[str, str] = texts(self.language, "cli")
        self.render = Renderer(policy, self.language)
        self.audit = AuditText(self.render, self.language)

    def __getitem__(self, key: str) -> str:
        return self.cli[key]

    def columns(self, keys: tuple[str, ...]) -> list[str]:
        """Column headings for `col_*` keys."""
        return [self.cli[f"col_{key}"] for key in keys]


def crm_refusal(words: Mapping[str, str] | CliWords, exc: AdapterError) -> str:
    """What a CRM adapter's refusal says to a person: missing credentials worded in the CLI's
    language (what to set and where), anything else as the adapter said it (its messages are safe)."""
    if isinstance(exc, NoCredentials):
        return words[f"no_credentials_{exc.crm}"]
    return str(exc)


def words_for(args: argparse.Namespace) -> CliWords:
    """The words of a command run with `args`."""
    return CliWords(policy_for(args))
