"""Compiling `when:` / `unless:` mappings into core.conditions objects, reporting every mistake.

Keys of one mapping combine with AND; a key is a lead field, `field` / `field_id` (custom fields by
name / id) or a combinator (`all`, `any`, `not`). A test is a value, a list (any of), or operators.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from core.conditions import (
    LEAD_FIELDS,
    UTM_FIELDS,
    All,
    Always,
    AnyOf,
    Condition,
    Contains,
    Equals,
    Exists,
    Not,
    Prefix,
    Range,
    Regex,
)
from webhook_app.config.problems import Path, Reporter

FIELDS = (*LEAD_FIELDS, *UTM_FIELDS)
CUSTOM = ("field", "field_id")
COMBINATORS = ("all", "any", "not")
OPERATORS = ("equals", "in", "prefix", "contains", "regex", "gte", "gt", "lte", "lt", "exists")
_BOUNDS = ("gte", "gt", "lte", "lt")
Scalar = str | int | float | date


def is_field_path(path: str) -> bool:
    """True for a lead field a condition or a sticky key may read."""
    return path in FIELDS or (path.startswith(("field:", "field_id:")) and len(path.split(":", 1)[1]) > 0)


def compile_condition(raw: object, path: Path, report: Reporter) -> Condition:
    """The condition for a `when` mapping; missing or `{}` matches every lead."""
    if raw is None or raw == {}:
        return Always()
    if not isinstance(raw, dict):
        report.error(path, report.words["when_mapping"].format())
        return Always()
    parts: list[Condition] = []
    for key, value in raw.items():
        parts += _entry(str(key), value, (*path, str(key)), report)
    return parts[0] if len(parts) == 1 else All(tuple(parts))


def _entry(key: str, value: object, path: Path, report: Reporter) -> list[Condition]:
    if key in ("all", "any"):
        if not isinstance(value, list) or not value:
            report.error(path, report.words["needs_conditions"].format(key=key))
            return []
        parts = tuple(compile_condition(item, (*path, i), report) for i, item in enumerate(value))
        return [All(parts) if key == "all" else AnyOf(parts)]
    if key == "not":
        return [Not(compile_condition(value, path, report))]
    if key in CUSTOM:
        if not isinstance(value, dict) or not value:
            report.error(
                path, report.words["custom_ids" if key == "field_id" else "custom_names"].format(key=key)
            )
            return []
        prefix = "field:" if key == "field" else "field_id:"
        return [
            c
            for name, test in value.items()
            for c in _test(f"{prefix}{name}", test, (*path, str(name)), report)
        ]
    if key in FIELDS:
        return _test(key, value, path, report)
    valid = ", ".join((*FIELDS, *CUSTOM, *COMBINATORS))
    report.error(
        path,
        report.words["unknown_field"].format(name=key) + report.words["expected_one_of"].format(valid=valid),
    )
    return []


def _test(field: str, value: object, path: Path, report: Reporter) -> list[Condition]:
    if isinstance(value, dict):
        if not value:
            report.error(path, report.words["empty_test"].format())
            return []
        return _operators(field, value, path, report)
    values = _scalars(value, path, report)
    if field in LISTED_FIELDS and not one_string_list(values, path, report):
        return []
    return [Equals(field, values)] if values else []


# Fields whose values never hold a comma: "Москва, Московская область" there is a list written as text.
LISTED_FIELDS = ("region", "city")


def one_string_list(values: Sequence[object], path: Path, report: Reporter) -> bool:
    """False (and an error saying to write a list) when a value is several values in one text."""
    for value in values:
        if isinstance(value, str) and "," in value:
            items = ", ".join(part.strip() for part in value.split(",") if part.strip())
            report.error(path, report.words["one_string_list"].format(value=value, items=items))
            return False
    return True


def _operators(field: str, ops: dict[object, object], path: Path, report: Reporter) -> list[Condition]:
    result: list[Condition] = []
    bounds: dict[str, float] = {}
    for op_key, operand in ops.items():
        op, where = str(op_key), (*path, str(op_key))
        if op in ("equals", "in"):
            values = _scalars(operand, where, report)
            if field in LISTED_FIELDS and not one_string_list(values, where, report):
                continue
            result += [Equals(field, values)] if values else []
        elif op in ("prefix", "contains"):
            values = _scalars(operand, where, report)
            result += [(Prefix if op == "prefix" else Contains)(field, values)] if values else []
        elif op == "regex":
            result += _regex(field, operand, where, report)
        elif op in _BOUNDS:
            if isinstance(operand, int | float) and not isinstance(operand, bool):
                bounds[op] = float(operand)
            else:
                report.error(where, report.words["needs_number"].format(op=op, value=repr(operand)))
        elif op == "exists":
            if isinstance(operand, bool):
                result.append(Exists(field, operand))
            else:
                report.error(where, report.words["exists_bool"])
        else:
            valid = report.words["expected_one_of"].format(valid=", ".join(OPERATORS))
            report.error(where, report.words["unknown_operator"].format(name=op) + valid)
    if bounds:
        result.append(Range(field, **bounds))
    return result


def _regex(field: str, pattern: object, path: Path, report: Reporter) -> list[Condition]:
    if not isinstance(pattern, str):
        report.error(path, report.words["regex_text"])
        return []
    try:
        re.compile(pattern)
    except re.error as exc:
        report.error(path, report.words["bad_regex"].format(pattern=pattern, position=(exc.pos or 0) + 1))
        return []
    return [Regex(field, pattern)]


def _scalars(value: object, path: Path, report: Reporter) -> list[Scalar]:
    items = value if isinstance(value, list) else [value]
    if not items:
        report.error(path, report.words["empty_list"])
        return []
    good = [v for v in items if isinstance(v, Scalar) and v != ""]
    if len(good) != len(items):
        report.error(path, report.words["not_values"].format())
        return []
    return good
