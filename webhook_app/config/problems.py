"""Configuration problems: what is wrong, where (file, line, dotted path), and how bad."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from core.texts import texts

PathPart = str | int
Path = tuple[PathPart, ...]


def format_path(path: Iterable[PathPart]) -> str:
    """Dots between mapping keys and [i] for list items: `pools.regions.members[1]`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


@dataclass(frozen=True)
class ConfigProblem:
    """One error or warning found in a config file."""

    file: str
    line: int | None
    path: str
    message: str
    severity: str = "error"
    label: str = "warning"  # how a warning is marked, in the file's language

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        what = f"{self.label}: {self.message}" if self.severity == "warning" else self.message
        return f"{where}: {self.path}: {what}" if self.path else f"{where}: {what}"


class ConfigError(Exception):
    """A config that cannot be used; `problems` lists every error found."""

    def __init__(self, problems: Iterable[ConfigProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class LineIndex:
    """Maps a path in the document to the line (1-based) where that node is written."""

    def __init__(self, lines: Mapping[Path, int] | None = None) -> None:
        self.lines: dict[Path, int] = dict(lines or {})

    def line_of(self, path: Path) -> int | None:
        """The line of the deepest prefix of `path` that exists in the file."""
        for size in range(len(path), -1, -1):
            line = self.lines.get(path[:size])
            if line is not None:
                return line
        return None


def language_of(data: object) -> str | None:
    """The `language` a config document asks for, if it names one we have (to word its problems)."""
    language = data.get("language") if isinstance(data, Mapping) else None
    return language if language in ("ru", "en") else None


class Reporter:
    """Collects problems for one file, placing each on the line of its path."""

    def __init__(self, file: str, index: LineIndex, language: str | None = None) -> None:
        self.file = file
        self.index = index
        self.problems: list[ConfigProblem] = []
        self.words = texts(language, "config")  # every problem, in the file's language

    def error(self, path: Path, message: str) -> None:
        """Record an error at `path`."""
        self.problems.append(self._problem(path, message, "error"))

    def warning(self, path: Path, message: str) -> None:
        """Record a warning at `path`."""
        self.problems.append(self._problem(path, message, "warning"))

    def add(self, problems: Iterable[ConfigProblem]) -> None:
        """Record problems found elsewhere (for instance while reading the YAML)."""
        self.problems.extend(problems)

    def line_of(self, path: Path) -> int | None:
        """The line where `path` (or its deepest existing prefix) is written."""
        return self.index.line_of(path)

    def has_errors_under(self, path: Path) -> bool:
        """True when an error was already recorded at `path` or inside it."""
        prefix = format_path(path)
        return any(p.path == prefix or p.path.startswith((prefix + ".", prefix + "[")) for p in self.errors)

    @property
    def errors(self) -> list[ConfigProblem]:
        """The problems that make the config unusable."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[ConfigProblem]:
        """The problems worth knowing about that do not stop the config."""
        return [p for p in self.problems if p.severity == "warning"]

    def _problem(self, path: Path, message: str, severity: str) -> ConfigProblem:
        label = self.words["prefix_warning"]
        return ConfigProblem(self.file, self.line_of(path), format_path(path), message, severity, label)
