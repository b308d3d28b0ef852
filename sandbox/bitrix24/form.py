"""Form fields read the way the portal's PHP reads them (`parse_str`): `a[b][]=1` nests, `[]` appends.

The emulator keeps its own reader rather than the client's, so a key the client encodes wrongly is
read here as PHP would read it, not as our own parser happens to.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def php_fields(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Nest `(key, value)` pairs by their bracket keys; `[]` takes the next index, as PHP does."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        head, _, rest = key.partition("[")
        path = [head] + ([part.rstrip("]") for part in rest.split("[")] if rest else [])
        node = root
        for depth, part in enumerate(path):
            name = str(len(node)) if part == "" and depth else part
            if depth == len(path) - 1:
                node[name] = value
                break
            child = node.get(name)
            if not isinstance(child, dict):
                child = node[name] = {}  # PHP turns a scalar met on the way into an array
            node = child
    return root
