"""Turning pydantic's validation errors into ConfigProblems with our paths and plain messages."""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Collection, Mapping
from itertools import pairwise
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from webhook_app.config.problems import Path, PathPart, Reporter

_SECRET_WORDS = ("token", "secret", "password", "api_key", "apikey")


_DOTTED_DATE = re.compile(r"^\s*(\d{1,2})[./](\d{1,2})[./](\d{4})\s*$")


def report_validation_error(
    exc: ValidationError,
    data: object,
    root: type[BaseModel],
    report: Reporter,
    *,
    skip: Collection[Path] = (),
) -> None:
    """Record every error of one pydantic validation, each at its path in the document; errors at
    `skip` (already explained, like a decimal comma's two halves) are left out."""
    for error in exc.errors():
        path = _path(data, error["loc"])
        if path in skip:
            continue
        report.error(path, _date_advice(error, report) or _message(error, path, root, report.words))


def decimal_commas(data: object, report: Reporter, path: Path = ()) -> set[Path]:
    """Find `weight: 0,5` in flow mappings — YAML reads it as `weight: 0` and a key `5` with no
    value — and report each once, saying to write 0.5; the paths of both halves are returned."""
    found: set[Path] = set()
    if isinstance(data, Mapping):
        items = list(data.items())
        for (key, value), (after, empty) in pairwise(items):
            if (
                isinstance(value, int)
                and not isinstance(value, bool)
                and isinstance(after, int)
                and not isinstance(after, bool)
                and empty is None
            ):
                where = (*path, str(key))
                report.error(
                    where,
                    report.words["decimal_comma"].format(
                        value=f"{value},{after}",
                        whole=value,
                        fraction=after,
                        key=key,
                        dotted=f"{value}.{after}",
                    ),
                )
                found |= {where, (*path, str(after))}
        for key, value in items:
            found |= decimal_commas(value, report, (*path, str(key)))
    elif isinstance(data, list):
        for i, item in enumerate(data):
            found |= decimal_commas(item, report, (*path, i))
    return found


def _date_advice(error: ErrorDetails, report: Reporter) -> str | None:
    """`01.12.2026` where a date is expected: say to write 2026-12-01."""
    value = error.get("input")
    if not error["type"].startswith(("date_", "datetime_")) or not isinstance(value, str):
        return None
    match = _DOTTED_DATE.match(value)
    if match is None:
        return None
    day, month, year = match.groups()
    return report.words["date_format"].format(value=value, iso=f"{year}-{int(month):02d}-{int(day):02d}")


def _path(data: object, loc: tuple[int | str, ...]) -> Path:
    """The error's location as a document path: dict keys as written, list indexes as ints."""
    path: list[PathPart] = []
    node: object = data
    for part in loc:
        if part == "[key]":
            continue  # pydantic marks errors in a dict key itself; the key is already in the path
        if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
        elif isinstance(node, Mapping):
            match = next((k for k in node if str(k) == str(part)), None)
            path.append(str(part))
            node = node[match] if match is not None else None
        else:
            path.append(part)
            node = None
    return tuple(path)


def _message(error: ErrorDetails, path: Path, root: type[BaseModel], words: Mapping[str, str]) -> str:
    kind, msg = error["type"], error["msg"]
    if kind == "extra_forbidden":
        return _unknown_field(str(path[-1]), _field_names(root, path[:-1]), words)
    if kind == "missing":
        return words["missing"]
    if "[key]" in error["loc"]:
        return f"a key must be text; quote it: '{error['input']}'"
    if kind == "too_short":
        return "must not be empty"
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    if kind in ("model_type", "dict_type"):
        return f"must be a mapping, not {_kind(error['input'])}"
    if kind == "list_type":
        return f"must be a list, not {_kind(error['input'])}"
    text = msg.replace("Input should be", "must be", 1)
    value = error["input"]
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        text += f" (got {value!r})"
    return text


def _kind(value: object) -> str:
    if value is None:
        return "empty"
    return {str: "text", int: "a number", float: "a number", bool: "true/false", list: "a list"}.get(
        type(value), f"a {type(value).__name__}"
    )


def _unknown_field(name: str, valid: list[str], words: Mapping[str, str]) -> str:
    text = words["unknown_field"].format(name=name)
    if any(word in name.lower() for word in _SECRET_WORDS) and name not in valid:
        return words["secret_in_yaml"].format(name=name)
    close = difflib.get_close_matches(name, valid, n=1, cutoff=0.75)
    if close:
        return text + words["did_you_mean"].format(close=close[0])
    return text + words["expected_one_of"].format(valid=", ".join(valid)) if valid else text


def _field_names(root: type[BaseModel], path: Path) -> list[str]:
    """The keys allowed in the model found at `path` (empty if the path leaves the models)."""
    current: Any = root
    for part in path:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            fields = {f.alias or n: f.annotation for n, f in current.model_fields.items()}
            current = fields.get(str(part))
        elif get_origin(current) in (dict, list):
            current = get_args(current)[-1]
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or n for n, f in current.model_fields.items()]
    return []


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated[...] and `X | None` down to X."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            rest = [a for a in get_args(annotation) if a is not type(None)]
            annotation = rest[0] if len(rest) == 1 else annotation
            if len(rest) != 1:
                return annotation
        else:
            return annotation
