"""Turning pydantic's validation errors into ConfigProblems with our paths and plain messages."""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Collection, Mapping
from datetime import date
from itertools import pairwise
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from webhook_app.config.problems import Path, PathPart, Reporter
from webhook_app.config.shorthands import SHAPES

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
        if part == "crm_team" and isinstance(node, Mapping) and "crm_team" not in node:
            at, node = _team_entry(node, path)  # taken out of `members` by the schema: point there
            if at is not None and isinstance(node, list):
                path.append(at)
                node = node[at]
            continue
        if isinstance(node, list) and path[-1:] == ["members"] and isinstance(part, int):
            part = _raw_member_index(node, part)
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


def _team_entry(pool: Mapping[Any, Any], path: list[PathPart]) -> tuple[int | None, object]:
    """Where a pool's CRM team is written: `members` itself, or its mapping item in the list."""
    members = pool.get("members")
    path.append("members")
    if isinstance(members, list):
        at = next((i for i, item in enumerate(members) if isinstance(item, Mapping)), None)
        return at, members
    return None, members


def _raw_member_index(members: list[Any], index: int) -> int:
    """The index as written of the `index`-th named member (a CRM team's mapping is not counted)."""
    named = [i for i, item in enumerate(members) if not isinstance(item, Mapping)]
    return named[index] if 0 <= index < len(named) else index


# Pydantic's error types, each worded by one key of the `config` catalog (what is wrong and what to
# write instead); a type not listed gets `schema_other`. Limits (`ge`, `gt`, …) come in `ctx`.
_TYPE_WORDS = {
    "int_type": "int_type",
    "int_parsing": "int_type",
    "int_from_float": "int_from_float",
    "float_type": "float_type",
    "float_parsing": "float_type",
    "bool_type": "bool_type",
    "bool_parsing": "bool_type",
    "string_type": "string_type",
    "string_too_short": "string_too_short",
    "too_short": "not_empty",
}
_LIMITS = {"greater_than": "gt", "greater_than_equal": "ge", "less_than": "lt", "less_than_equal": "le"}


def _message(error: ErrorDetails, path: Path, root: type[BaseModel], words: Mapping[str, str]) -> str:
    kind = error["type"]
    context: dict[str, Any] = dict(error.get("ctx") or {})
    if kind == "extra_forbidden":
        if "crm_team" in error["loc"]:  # a CRM team written among a pool's members
            return _unknown_field(str(path[-1]), ["crm_group", "department"], words)
        return _unknown_field(str(path[-1]), _field_names(root, path[:-1]), words)
    if kind == "missing":
        return words["missing"]
    if "[key]" in error["loc"]:
        return words["key_not_text"].format(value=error["input"])
    if kind in SHAPES:  # our own refusals (shorthands, validators), worded in the catalog
        return words[kind].format(**context)
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return words["must_be_mapping"].format(kind=kind_of(error["input"], words))
    if kind == "list_type":
        return words["must_be_list"].format(kind=kind_of(error["input"], words))
    if kind in _LIMITS:
        limit = context[_LIMITS[kind]]  # `gt=0` on a float field comes as 0.0: say 0, as written
        text = words[kind].format(
            limit=int(limit) if isinstance(limit, float) and limit.is_integer() else limit
        )
    elif kind == "literal_error":
        text = words["literal_error"].format(expected=_choices(str(context.get("expected", "")), words))
    elif kind.startswith(("date_", "datetime_")):
        text = words["date_type"]
    else:
        text = words[_TYPE_WORDS.get(kind, "schema_other")]
    value = error["input"]
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        text += words["got"].format(value=repr(value))
    return text


def _choices(expected: str, words: Mapping[str, str]) -> str:
    """Pydantic's `'a', 'b' or 'c'` with the file's word for "or"."""
    values = [f"'{v}'" for v in re.findall(r"'([^']*)'", expected)]
    if len(values) < 2:
        return ", ".join(values)
    return ", ".join(values[:-1]) + words["or"] + values[-1]


def kind_of(value: object, words: Mapping[str, str]) -> str:
    """What a value is, in words: empty, text, a number, true/false, a list, a mapping."""
    if value is None:
        return words["kind_empty"]
    kinds = {str: "kind_text", int: "kind_number", float: "kind_number", bool: "kind_bool", list: "kind_list"}
    if isinstance(value, date):
        return words["kind_date"]
    return words[kinds.get(type(value), "kind_mapping" if isinstance(value, Mapping) else "kind_other")]


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
