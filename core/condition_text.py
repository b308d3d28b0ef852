"""Conditions (`when:`, `unless:`) in words of a language, for `check-config` and reasons.

`Condition.describe()` is the compact, language-neutral form used in logs; this is what a head of
sales reads: «регион = Москва или Московская область и не воронка = Гарантия и сервис».
"""

from __future__ import annotations

from collections.abc import Mapping

from core.conditions import (
    All,
    Always,
    AnyOf,
    Condition,
    Contains,
    Equals,
    Exists,
    FieldTest,
    Not,
    Prefix,
    Range,
    Regex,
)
from core.texts import texts


def condition_text(cond: Condition, language: str | None) -> str:
    """The condition in words of `language`."""
    return _text(cond, texts(language, "reason"))


def _text(cond: Condition, w: Mapping[str, str]) -> str:
    if isinstance(cond, Always):
        return w["cond_always"]
    if isinstance(cond, All | AnyOf):
        joint = w["cond_and"] if isinstance(cond, All) else w["cond_or"]
        empty = w["cond_always"] if isinstance(cond, All) else w["cond_never"]
        return joint.join(_wrapped(part, w) for part in cond.parts) or empty
    if isinstance(cond, Not):
        return w["cond_not"].format(what=_wrapped(cond.part, w))
    if isinstance(cond, FieldTest):
        return _test(cond, w)
    return cond.describe()


def _wrapped(cond: Condition, w: Mapping[str, str]) -> str:
    text = _text(cond, w)
    return f"({text})" if isinstance(cond, All | AnyOf) and len(cond.parts) > 1 else text


def field_word(path: str, w: Mapping[str, str]) -> str:
    """A lead field in words: `регион`, `источник`, a custom field by its name."""
    if path.startswith("field_id:"):
        return w["cond_field_number"].format(id=path[9:])
    if path.startswith("field:"):
        return f"«{path[6:]}»" if w["cond_or"] == " или " else f"“{path[6:]}”"
    return w.get(f"cond_field_{path}", path)


def _test(cond: FieldTest, w: Mapping[str, str]) -> str:
    field = field_word(cond.path, w)
    items = cond.operand_text.split("|")
    values = ", ".join(items)
    if isinstance(cond, Equals):
        return f"{field} = {values}" if len(items) == 1 else w["cond_in"].format(field=field, values=values)
    if isinstance(cond, Prefix):
        return w["cond_prefix"].format(field=field, values=values)
    if isinstance(cond, Contains):
        return w["cond_contains"].format(field=field, values=values)
    if isinstance(cond, Exists):
        return w["cond_set" if cond.present else "cond_not_set"].format(field=field)
    if isinstance(cond, Regex):
        return w["cond_regex"].format(field=field, pattern=cond.operand_text)
    if isinstance(cond, Range):
        return f"{field} {cond.operand_text}"
    return cond.describe()


__all__ = ["condition_text", "field_word"]
