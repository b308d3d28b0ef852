"""Reading the YAML: values with SafeLoader semantics, plus the line of every node and duplicate keys.

PyYAML silently keeps the last of two equal mapping keys, which would make a manager written twice
vanish without a word; composing the node tree first lets us name both lines.
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path as FsPath

import yaml

from core.texts import language_in_text, texts
from webhook_app.config.errors import kind_of
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
    any reason it cannot be read becomes a ConfigError, in the file's `language` when a line says it."""
    file = str(path)
    if raw is None:
        try:
            raw = FsPath(path).read_bytes()
        except OSError as exc:
            # No text, no language: the product's default speaks.
            words = texts(None, "config")
            reason = words[_READ_FAILURES.get(exc.errno or 0, "read_other")].format(
                code=errno.errorcode.get(exc.errno or 0, type(exc).__name__)
            )
            raise ConfigError(
                [ConfigProblem(file, None, "", words["cannot_read"].format(reason=reason))]
            ) from None
    words = texts(language_in_text(raw.decode("utf-8", errors="replace")), "config")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        message = words["not_utf8"].format(offset=exc.start)
        raise ConfigError([ConfigProblem(file, None, "", message)]) from None
    return _parse(file, raw, text, words)


_READ_FAILURES = {errno.ENOENT: "read_missing", errno.EACCES: "read_denied", errno.EISDIR: "read_directory"}


def _parse(file: str, raw: bytes, text: str, words: Mapping[str, str]) -> Source:
    walker = _Walker(file, words)
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:
        # The reader checks every character before parsing and knows only the offset of a bad one.
        at = text.count("\n", 0, exc.position) + 1
        message = words["bad_character"].format(code=f"{exc.character:04x}")
        raise ConfigError([ConfigProblem(file, at, "", message)]) from None
    try:
        node = loader.get_single_node()
        if node is not None:
            walker.words = texts(_language(node), "config") if _language(node) else words
            walker.walk(node, ())
        if walker.problems:
            # Bad values (e.g. 2026-13-45) were reported with their lines; constructing would fail.
            raise ConfigError(walker.problems)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        line, message = yaml_problem(exc, words)
        raise ConfigError([ConfigProblem(file, line, "", message)]) from None
    except (yaml.YAMLError, ValueError):
        message = words["yaml_other"].format(column=1)
        raise ConfigError([ConfigProblem(file, None, "", message)]) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        message = (
            words["empty_file"] if data is None else words["not_mapping"].format(kind=kind_of(data, words))
        )
        raise ConfigError([ConfigProblem(file, 1, "", message)])
    return Source(file, data, raw, LineIndex(walker.lines), walker.duplicates)


# What PyYAML says (its problem, sometimes its context) → the catalog's plain words for it.
_YAML_PROBLEMS = (
    (r"'\\t'|tab character", "yaml_tab"),
    (r"mapping values are not allowed", "yaml_colon"),
    (r"could not find expected ':'", "yaml_no_colon"),
    (r"found unexpected end of stream", "yaml_quote"),
    (r"expected ',' or '[\]}]'|expected ':', but|unexpected end|while parsing a flow", "yaml_bracket"),
    (r"unknown escape character", "yaml_escape"),
    (r"expected <block end>|did not find expected|block sequence entries|expected <block", "yaml_indent"),
    (r"undefined alias", "yaml_alias"),
    (r"constructor for the tag|undefined tag handle", "yaml_tag"),
    (r"single document", "yaml_documents"),
    (r"cannot start any token", "yaml_character"),
)


def yaml_problem(exc: yaml.MarkedYAMLError, words: Mapping[str, str]) -> tuple[int | None, str]:
    """A YAML syntax error in plain words — what is wrong and what to write instead, PyYAML's own
    English left out — and the line it is on (the column is in the words)."""
    said = f"{exc.context or ''} {exc.problem or ''}"
    key = next((key for pattern, key in _YAML_PROBLEMS if re.search(pattern, said)), "yaml_other")
    if key == "yaml_quote" and "quoted scalar" not in said:
        key = "yaml_bracket"  # the file ended inside [ ] or { }
    mark = exc.problem_mark or exc.context_mark
    opened = exc.context_mark is not None and "flow node" not in (exc.context or "")
    if key in ("yaml_quote", "yaml_bracket") and opened:
        mark = exc.context_mark  # where the quote or bracket left open is, not where the parser gave up
    quoted = re.search(r"'([^']*)'", exc.problem or "")
    message = words[key].format(
        column=mark.column + 1 if mark is not None else 1, name=quoted.group(1) if quoted else "?"
    )
    return (mark.line + 1 if mark is not None else None), message


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

    def __init__(self, file: str, words: Mapping[str, str]) -> None:
        self.file = file
        self.words = words
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
                message = self.words["duplicate_key"].format(key=key, line=first[key])
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
        except ValueError:
            message = self.words["bad_date"].format(value=node.value)
            self.problems.append(
                ConfigProblem(self.file, node.start_mark.line + 1, format_path(path), message)
            )
