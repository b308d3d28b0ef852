"""`leadrouter --help` and usage errors in the config's language, decided before any config is loaded.

Help is printed before a command reads its config, so the language comes from a cheap look: the
`--config` on the command line (anywhere), else LEADROUTER_CONFIG (or `.env`'s), and in that file only
its top-level `language:` line, the tolerant scan that words even a broken file's problems. No file,
or none naming a language: Russian, the product's default.

argparse has English words of its own ("usage:", "options", "the following arguments are required");
`HelpParser` says each from the `help` catalog the supported ways: the group titles, our own `-h`, the
"usage: " prefix through its formatter, and the usage errors mapped by pattern in `error`.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

from core.texts import language_in_text, texts

Words = Mapping[str, str]
CONFIG_VARIABLE = "LEADROUTER_CONFIG"


def help_language(argv: Sequence[str]) -> str | None:
    """The `language:` of the config a command line would use, or None (Russian) when none says it."""
    path = config_in_argv(argv) or _configured_path()
    if path is None:
        return None
    try:
        return language_in_text(Path(path).read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None


def config_in_argv(argv: Sequence[str]) -> str | None:
    """The last `--config FILE` (or `--config=FILE`) of a command line, before or after the command:
    the one the command uses (a command's own `--config` wins over the top level's)."""
    found = None
    for at, word in enumerate(argv):
        if word == "--config" and at + 1 < len(argv):
            found = argv[at + 1]
        elif word.startswith("--config="):
            found = word.removeprefix("--config=")
    return found or None


def _configured_path() -> Path | None:
    """LEADROUTER_CONFIG, as the commands resolve it (Settings: the environment, then `.env`); None if
    unset. Settings costs pydantic's import, a good part of a second: only asked when needed."""
    value = os.environ.get(CONFIG_VARIABLE)
    if value:  # the usual case; the environment comes before `.env` for Settings too
        return Path(value)
    spelled_otherwise = any(key.upper() == CONFIG_VARIABLE for key in os.environ)  # it ignores case
    if not spelled_otherwise and not Path(".env").is_file():
        return None
    from pydantic import ValidationError

    from webhook_app.settings import Settings

    try:
        return Settings().config
    except ValidationError:
        return None  # a bad setting is the command's to report, not the help's


def parser_class(language: str | None) -> type[HelpParser]:
    """An argument parser class speaking `language`; its subcommands' parsers are of it too."""
    return _PARSERS.get(language, _PARSERS[None])


class UsageFormatter(argparse.HelpFormatter):
    """argparse's formatter with the "usage: " prefix in our words."""

    def __init__(self, prog: str, usage_prefix: str) -> None:
        super().__init__(prog)
        self.usage_prefix = usage_prefix

    def add_usage(
        self,
        usage: str | None,
        actions: Any,
        groups: Any,
        prefix: str | None = None,
    ) -> None:
        """The usage line, under our prefix unless a caller gives one."""
        super().add_usage(usage, actions, groups, self.usage_prefix if prefix is None else prefix)


class HelpParser(argparse.ArgumentParser):
    """An ArgumentParser whose help and usage errors are in `words` (a `help` catalog)."""

    words: Words = texts(None, "help")

    def __init__(self, **kwargs: Any) -> None:
        kwargs.update(add_help=False, formatter_class=self._formatter)
        super().__init__(**kwargs)
        # The titles argparse gave its two default groups, in our words.
        self._positionals.title = self.words["positionals"]
        self._optionals.title = self.words["options"]
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help=self.words["help"])

    def _formatter(self, *, prog: str) -> argparse.HelpFormatter:
        return UsageFormatter(prog, self.words["usage"])

    def error(self, message: str) -> NoReturn:
        """A usage error in our words, after the usage line; exit status 2, as argparse's."""
        self.print_usage(sys.stderr)
        said = self.words["error"].format(prog=self.prog, message=usage_error(message, self.words))
        self.exit(2, said + "\n")


class _RussianParser(HelpParser):
    words = texts("ru", "help")


class _EnglishParser(HelpParser):
    words = texts("en", "help")


_PARSERS: Mapping[str | None, type[HelpParser]] = {
    None: _RussianParser,
    "ru": _RussianParser,
    "en": _EnglishParser,
}

# argparse's usage errors (Python 3.11+) → the catalog's words; the names in them are kept.
_ARGUMENT = re.compile(r"argument (?P<name>\S+): (?P<problem>.*)", re.DOTALL)
_PROBLEMS = (
    (re.compile(r"the following arguments are required: (?P<names>.*)", re.DOTALL), "required"),
    (re.compile(r"one of the arguments (?P<names>.*) is required", re.DOTALL), "one_required"),
    (re.compile(r"not allowed with argument (?P<other>.*)", re.DOTALL), "not_allowed"),
    (re.compile(r"unrecognized arguments: (?P<words>.*)", re.DOTALL), "unrecognized"),
    (
        re.compile(r"invalid choice: (?P<value>.*?) \(choose from (?P<choices>.*)\)", re.DOTALL),
        "invalid_choice",
    ),
    (re.compile(r"expected one argument"), "expected_one"),
    (re.compile(r"expected at most one argument"), "expected_at_most_one"),
    (re.compile(r"expected at least one argument"), "expected_at_least_one"),
    (re.compile(r"invalid (?P<type>\S+) value: (?P<value>.*)", re.DOTALL), "invalid_type"),
    (re.compile(r"ambiguous option: (?P<option>\S+) could match (?P<matches>.*)", re.DOTALL), "ambiguous"),
    (re.compile(r"ignored explicit argument (?P<value>.*)", re.DOTALL), "ignored_value"),
)


def usage_error(message: str, words: Words) -> str:
    """argparse's usage error `message` in `words`; a message we do not know passes through as it is."""
    about = _ARGUMENT.fullmatch(message)
    if about is None:
        return _problem(message, words)
    return words["argument"].format(name=about["name"], problem=_problem(about["problem"], words))


def _problem(text: str, words: Words) -> str:
    for pattern, key in _PROBLEMS:
        found = pattern.fullmatch(text)
        if found is not None:
            fields = found.groupdict()
            if "type" in fields:  # argparse names the type function: int, float
                fields["type"] = words.get(f"type_{fields['type']}", fields["type"])
            return words[key].format(**fields)
    return text
