"""PHP-style bracket form fields (`leads[add][0][id]=…`) as nested dicts, and a checked reader of them.

Both CRMs post `application/x-www-form-urlencoded` bodies whose keys encode a PHP array
(amocrm.md §1.1, bitrix24.md §1.2). `parse_brackets` rebuilds the tree; `Group` reads typed
values out of it and names the exact wire key in every `MalformedWebhook` it raises.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypeAlias

from adapters.errors import MalformedWebhook

Node: TypeAlias = "str | dict[str, Node]"

MAX_PAIRS = 10_000
MAX_DEPTH = 8
_NUMBER = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,6})?")
# Past a few thousand digits int() refuses a string (CVE-2020-10735 guard); no id or timestamp is this long.
_MAX_INT_DIGITS = 18


def is_digits(text: str) -> bool:
    """True for a non-empty string of ASCII digits (`str.isdigit` also accepts '²' and '٣')."""
    return text.isascii() and text.isdigit()


def parse_brackets(
    pairs: Iterable[tuple[str, str]], *, max_pairs: int = MAX_PAIRS, max_depth: int = MAX_DEPTH
) -> dict[str, Node]:
    """Nest `(key, value)` pairs in wire order by their bracket keys; list indices stay string keys."""
    root: dict[str, Node] = {}
    for count, (key, value) in enumerate(pairs, start=1):
        if count > max_pairs:
            raise MalformedWebhook(f"more than {max_pairs} fields")
        if not isinstance(key, str) or not isinstance(value, str):
            raise MalformedWebhook("a field is not text")
        path = _split(key)
        if len(path) - 1 > max_depth:
            raise MalformedWebhook(f"{key} is nested deeper than {max_depth}")
        _insert(root, key, path, value)
    return root


def _split(key: str) -> list[str]:
    """`a[b][c]` → `['a', 'b', 'c']`; anything but a clean run of `[…]` groups is refused."""
    head, bracket, rest = key.partition("[")
    if not head:
        raise MalformedWebhook("a field has an empty name")
    if "]" in head:
        raise MalformedWebhook(f"{key} has unbalanced brackets")
    path = [head]
    while bracket:
        segment, closed, rest = rest.partition("]")
        if not closed or "[" in segment or (rest and not rest.startswith("[")):
            raise MalformedWebhook(f"{key} has unbalanced brackets")
        path.append(segment)
        bracket, rest = rest[:1], rest[1:]
    return path


def _insert(root: dict[str, Node], key: str, path: list[str], value: str) -> None:
    """Put one value at its path, refusing a key that is both a value and a group, or said twice."""
    node = root
    for segment in path[:-1]:
        child = node.setdefault(segment or _next_index(node), {})
        if isinstance(child, str):
            raise MalformedWebhook(f"{key} is used both as a value and as a group")
        node = child
    last = path[-1] or _next_index(node)
    existing = node.setdefault(last, value)
    if isinstance(existing, dict):
        raise MalformedWebhook(f"{key} is used both as a value and as a group")
    if existing != value:
        raise MalformedWebhook(f"{key} is repeated with different values")


def _next_index(node: Mapping[str, Node]) -> str:
    """The index PHP gives `name[]=…`: one past the largest numeric key so far."""
    numbers = [int(k) for k in node if is_digits(k) and len(k) <= _MAX_INT_DIGITS]
    return str(max(numbers, default=-1) + 1)


def _index_order(key: str) -> tuple[int, str, int]:
    """Numeric order of a digit string without int(), which refuses very long strings."""
    significant = key.lstrip("0")
    return len(significant), significant, len(key)


def as_list(node: Node, *, key: str = "field") -> list[Node]:
    """A dict with numeric keys as a list in index order; a scalar as a one-element list."""
    if isinstance(node, str):
        return [node]
    return [node[k] for k in _indices(node, key)]


def _indices(node: Mapping[str, Node], key: str) -> list[str]:
    """The keys of a numbered list in index order, or MalformedWebhook naming `key`."""
    if not all(is_digits(k) for k in node):
        raise MalformedWebhook(f"{key} is not a numbered list")
    return sorted(node, key=_index_order)


@dataclass(frozen=True, slots=True)
class Group:
    """One bracket group with the wire key it came from, read field by field with checks."""

    key: str
    node: Mapping[str, Node]

    def child_key(self, name: str) -> str:
        """The wire key of a child: `leads[add][0]` + `id` → `leads[add][0][id]`."""
        return f"{self.key}[{name}]" if self.key else name

    def has(self, name: str) -> bool:
        """Whether the child is present at all."""
        return name in self.node

    def group(self, name: str) -> Group:
        """A child group (empty when absent); a plain value there is malformed."""
        child = self.node.get(name, {})
        if isinstance(child, str):
            raise MalformedWebhook(f"{self.child_key(name)} is not a group")
        return Group(self.child_key(name), child)

    def items(self, name: str) -> list[tuple[str, Node]]:
        """The numbered children of `name` in index order, each with its wire key."""
        child = self.group(name)
        return [(child.child_key(k), child.node[k]) for k in _indices(child.node, child.key)]

    def text(self, name: str) -> str | None:
        """A plain value, or None when absent; a group there is malformed."""
        child = self.node.get(name)
        if isinstance(child, dict):
            raise MalformedWebhook(f"{self.child_key(name)} is not a single value")
        return child

    def ident(self, name: str) -> str | None:
        """An id of ASCII digits; empty counts as absent (both CRMs send empty strings for 'none')."""
        value = self.text(name) or None
        if value is not None and not is_digits(value):
            raise MalformedWebhook(f"{self.child_key(name)} is not a number")
        return value

    def required_ident(self, name: str) -> str:
        """An id that must be there: missing or empty is malformed."""
        value = self.ident(name)
        if value is None:
            raise MalformedWebhook(f"{self.child_key(name)} is missing")
        return value

    def integer(self, name: str) -> int | None:
        """A whole number such as a unix timestamp; empty counts as absent."""
        value = self.text(name) or None
        if value is not None and not (is_digits(value) and len(value) <= _MAX_INT_DIGITS):
            raise MalformedWebhook(f"{self.child_key(name)} is not an integer")
        return None if value is None else int(value)

    def number(self, name: str) -> float | None:
        """A decimal number such as a price; empty counts as absent, `nan`/`1e9`/`1_0` are refused."""
        value = self.text(name) or None
        if value is not None and not (value.isascii() and _NUMBER.fullmatch(value)):
            raise MalformedWebhook(f"{self.child_key(name)} is not a number")
        return None if value is None else float(value)
