"""Reading the YAML: values with SafeLoader semantics, plus the line of every node and duplicate keys.

PyYAML silently keeps the last of two equal mapping keys, which would make a manager written twice
vanish without a word; composing the node tree first lets us name both lines.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path as FsPath

import yaml

from core.texts import texts
from webhook_app.config.problems import ConfigError, ConfigProblem, LineIndex, Path, format_path

_MERGE = "tag:yaml.org,2002:merge"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"


@dataclass
class Source:
    """A parsed YAML document: its data, where each node is, and the problems seen while reading."""

    file: str
    data: dict[str, object]
    raw: bytes
    index: LineIndex
    problems: list[ConfigProblem] = field(default_factory=list)


def read_source(path: str | os.PathLike[str], raw: bytes | None = None) -> Source:
    """Read and parse a config file (or `raw`, its text from elsewhere, named by `path` in errors);
    any reason it cannot be read becomes a ConfigError."""
    file = str(path)
    if raw is None:
        try:
            raw = FsPath(path).read_bytes()
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise ConfigError([ConfigProblem(file, None, "", f"cannot read config: {reason}")]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        message = f"not UTF-8 text (bad byte at offset {exc.start})"
        raise ConfigError([ConfigProblem(file, None, "", message)]) from None
    return _parse(file, raw, text)


def _parse(file: str, raw: bytes, text: str) -> Source:
    walker = _Walker(file)
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:
        # The reader checks every character before parsing and knows only the offset of a bad one.
        at = text.count("\n", 0, exc.position) + 1
        message = f"invalid YAML: character #x{exc.character:04x} is not allowed ({exc.reason})"
        raise ConfigError([ConfigProblem(file, at, "", message)]) from None
    try:
        node = loader.get_single_node()
        if node is not None:
            walker.words = texts(_language(node), "config")
            walker.walk(node, ())
        if walker.problems:
            # Bad values (e.g. 2026-13-45) were reported with their lines; constructing would fail.
            raise ConfigError(walker.problems)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        message = "invalid YAML: " + ", ".join(t for t in (exc.context, exc.problem) if t)
        raise ConfigError([ConfigProblem(file, line, "", message)]) from None
    except (yaml.YAMLError, ValueError) as exc:
        raise ConfigError([ConfigProblem(file, None, "", f"invalid YAML: {exc}")]) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}, not a mapping"
        raise ConfigError(
            [ConfigProblem(file, 1, "", f"the config must be a YAML mapping; this file is {kind}")]
        )
    return Source(file, data, raw, LineIndex(walker.lines), walker.duplicates)


def _language(node: yaml.Node) -> str | None:
    """The top-level `language:` of a composed document, before it is constructed."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if (
                isinstance(key, yaml.ScalarNode)
                and key.value == "language"
                and isinstance(value, yaml.ScalarNode)
            ):
                return value.value if value.value in ("ru", "en") else None
    return None


class _Walker:
    """Visits the composed node tree once, recording lines and duplicate keys."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.words = texts(None, "config")
        self.lines: dict[Path, int] = {}
        self.duplicates: list[ConfigProblem] = []
        self.problems: list[ConfigProblem] = []
        self._seen: set[int] = set()

    def walk(self, node: yaml.Node, path: Path, *, merged: bool = False) -> None:
        if merged:
            self.lines.setdefault(path, node.start_mark.line + 1)
        else:
            self.lines[path] = node.start_mark.line + 1
        if id(node) in self._seen:
            return  # an alias of a node already walked: no repeat (and no endless recursion)
        self._seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            self._mapping(node, path, merged=merged)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self.walk(item, (*path, i), merged=merged)
        elif isinstance(node, yaml.ScalarNode) and node.tag == _TIMESTAMP:
            self._check_timestamp(node, path)
        elif isinstance(node, yaml.ScalarNode) and node.tag in (_INT, _FLOAT) and ":" in node.value:
            self._sexagesimal(node, path)

    def _mapping(self, node: yaml.MappingNode, path: Path, *, merged: bool) -> None:
        first: dict[str, int] = {}
        merges: list[yaml.Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merges.append(value_node)
                continue
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            line = key_node.start_mark.line + 1
            if key in first and not merged:
                message = f"duplicate key '{key}' (first at line {first[key]})"
                self.duplicates.append(ConfigProblem(self.file, line, format_path((*path, key)), message))
            first.setdefault(key, line)
            self.walk(value_node, (*path, key), merged=merged)
            if not merged:
                self.lines[(*path, key)] = line  # a key's line is where it is written, not its value
        for merge in merges:
            # Merged keys (`<<: *defaults`) live at the anchor's lines; explicit keys win.
            sources = merge.value if isinstance(merge, yaml.SequenceNode) else [merge]
            for source in sources:
                if isinstance(source, yaml.MappingNode):
                    self._seen.discard(id(source))
                    self._mapping(source, path, merged=True)

    def _sexagesimal(self, node: yaml.ScalarNode, path: Path) -> None:
        """`sat: 10:00` unquoted: YAML 1.1 reads base-60 numbers, so it would be 600. Never meant."""
        number = yaml.SafeLoader("").construct_object(node)
        key = str(path[-1]) if path else ""
        text = node.value
        if len(path) >= 2 and path[-2] in ("schedule", "working_hours"):
            hour = int(text.split(":", 1)[0]) if text.split(":", 1)[0].isdigit() else 9
            end = f"{min(hour + 6, 24):02d}:00"
            message = self.words["sexagesimal_hours"].format(text=text, number=number, key=key, end=end)
        else:
            message = self.words["sexagesimal"].format(text=text, number=number, key=key)
        self.problems.append(ConfigProblem(self.file, node.start_mark.line + 1, format_path(path), message))

    def _check_timestamp(self, node: yaml.ScalarNode, path: Path) -> None:
        try:
            yaml.SafeLoader("").construct_yaml_timestamp(node)
        except ValueError as exc:
            message = f"'{node.value}' is not a valid date ({exc})"
            self.problems.append(
                ConfigProblem(self.file, node.start_mark.line + 1, format_path(path), message)
            )
