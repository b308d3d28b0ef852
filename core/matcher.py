"""The rule list compiled into one function: each lead field is read and normalised once per lead.

`decide` asks for the first matching rule of every lead, and a 30-rule config reads the same few
fields (region, phone, source…) over and over: calling each condition's `matches` costs a dozen
Python calls per rule. Like `dataclasses` writing `__init__`, we write the source of one function
that tests every rule in order, with each field's normalised values kept in a local variable filled
on first use. It answers exactly what the conditions' `matches` answer (tests check both on the same
leads); a condition type not known here, or an operand not modelled, is asked through `matches`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, cast

from core.conditions import (
    _TEXT_MEMO,
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
    _as_number,
    field_place,
    normalize_phone,
    normalize_text,
)

if TYPE_CHECKING:
    from core.model import Lead


class _Unmatched(enum.Enum):
    """The rules were not asked yet (asked, they may answer None: no rule matches)."""

    TOKEN = 0


UNMATCHED = _Unmatched.TOKEN


class Ruled(Protocol):
    """Anything with a condition: the matcher needs no more of a rule."""

    @property
    def condition(self) -> Condition: ...


R = TypeVar("R", bound=Ruled)

_COLLECTIONS = (list, tuple, set, frozenset)
_UNSET = object()
_known_text = _TEXT_MEMO.get  # the memo is cleared, never replaced, so this stays bound to it


def _items(value: object) -> tuple[object, ...]:
    """What a FieldTest tests: nothing for an empty field, each item of a list, else the value."""
    if value.__class__ is str:  # the common case first
        return (value,) if value else ()
    if value is None or value == "":
        return ()
    return tuple(value) if isinstance(value, _COLLECTIONS) else (value,)


def _texts(value: object) -> tuple[str, ...]:
    if isinstance(value, str):  # the common cases first: a known text is one dict lookup
        return (_known_text(value) or normalize_text(value),) if value else ()
    if value is None:
        return ()
    if value.__class__ is tuple:  # tags
        return tuple(map(normalize_text, cast(tuple[object, ...], value)))
    return tuple(map(normalize_text, _items(value)))


def _phones(value: object) -> tuple[str, ...]:
    return tuple(map(normalize_phone, _items(value)))


def _numbers(value: object) -> tuple[float | None, ...]:
    if value.__class__ is float:  # a price, as the readers make it
        return (value,)
    return tuple(map(_as_number, _items(value)))


def _prefix(values: tuple[str, ...], prefixes: tuple[str, ...]) -> bool:
    for value in values:  # noqa: SIM110 — plain loops: a generator costs more than the test here
        if value.startswith(prefixes):
            return True
    return False


def _contains(values: tuple[str, ...], needles: tuple[str, ...]) -> bool:
    for value in values:
        for needle in needles:
            if needle in value:
                return True
    return False


def _search(values: tuple[object, ...], search: Callable[[str], object]) -> bool:
    for value in values:  # noqa: SIM110
        if search(str(value)) is not None:
            return True
    return False


def _within(values: tuple[float | None, ...], cond: Range) -> bool:
    gte, gt, lte, lt = cond.gte, cond.gt, cond.lte, cond.lt
    for n in values:
        if n is None:
            continue
        if (
            (gte is None or n >= gte)
            and (gt is None or n > gt)
            and (lte is None or n <= lte)
            and (lt is None or n < lt)
        ):
            return True
    return False


# The common cases of each form spelled out in the generated code: one call per field and lead saved.
# `(_v := {read})` comes where Python evaluates first (a conditional expression tests first).
_INLINE = {
    "texts": "() if (_v := {read}) is None else "
    "(_known(_v) or _norm(_v),) if _v.__class__ is str and _v else _texts(_v)",
    "items": "() if (_v := {read}) is None else (_v,) if _v.__class__ is str and _v else _items(_v)",
    "numbers": "(_v,) if (_v := {read}).__class__ is float else _numbers(_v)",
}
_FORMS = {
    "_known": _known_text,
    "_norm": normalize_text,
    "_items": _items,
    "_texts": _texts,
    "_phones": _phones,
    "_numbers": _numbers,
}


class RuleMatcher(Generic[R]):
    """Finds the first rule whose condition matches a lead."""

    def __init__(self, rules: tuple[R, ...]) -> None:
        self.rules = rules
        self._names: dict[str, object] = {"_UNSET": _UNSET, **_HELPERS, **_FORMS}
        self._slots: dict[tuple[str, str], str] = {}
        self._fills: dict[str, str] = {}
        tests = [
            f"    if {self._expr(rule.condition)}:\n        return {i}\n" for i, rule in enumerate(rules)
        ]
        head = f"    {' = '.join(self._slots.values())} = _UNSET\n" if self._slots else ""
        self.source = "def first(lead):\n" + head + "".join(tests) + "    return -1\n"
        exec(compile(self.source, "<rules>", "exec"), self._names)
        self._first: Callable[[Lead], int] = self._names["first"]  # type: ignore[assignment]

    def first(self, lead: Lead) -> R | None:
        """The first matching rule, or None."""
        index = self._first(lead)
        return self.rules[index] if index >= 0 else None

    def first_index(self, lead: Lead) -> int:
        """The position of the first matching rule in the policy's rules; -1 when none matches."""
        return self._first(lead)

    def _const(self, value: object) -> str:
        name = f"_k{len(self._names)}"
        self._names[name] = value
        return name

    def _slot(self, form: str, test: FieldTest) -> str:
        """An expression for one form of a field's values, computed the first time it is read."""
        var = self._slots.get((form, test.path))
        if var is None:
            var = self._slots[(form, test.path)] = f"_s{len(self._slots)}"
            attribute, key = field_place(test.path)  # read inline: a getter call per field costs more
            read = f"lead.{attribute}" if key is None else f"lead.{attribute}.get({self._const(key)})"
            inline = _INLINE.get(form, f"_{form}(_v := {{read}})")
            self._fills[var] = f"({var} := {inline.format(read=read)})"
        return f"({var} if {var} is not _UNSET else {self._fills[var]})"

    def _expr(self, cond: Condition) -> str:
        kind = type(cond)
        if kind is Always:
            return "True"
        if isinstance(cond, All | AnyOf) and kind in (All, AnyOf):
            joiner, empty = (" and ", "True") if kind is All else (" or ", "False")
            return f"({joiner.join(self._expr(p) for p in cond.parts) or empty})"
        if isinstance(cond, Not) and kind is Not:
            return f"(not {self._expr(cond.part)})"
        if isinstance(cond, FieldTest) and kind in _TESTS:
            return _TESTS[kind](self, cond) or f"{self._const(cond)}.matches(lead)"
        return f"{self._const(cond)}.matches(lead)"

    def _equals(self, cond: Equals) -> str | None:
        if "" in cond.texts:
            return None  # Equals answers an empty text field through a fast path of its own
        texts = f"(not {self._const(cond.texts)}.isdisjoint({self._slot('texts', cond)}))"
        if not cond.numbers:
            return texts
        return f"({texts} or not {self._const(cond.numbers)}.isdisjoint({self._slot('numbers', cond)}))"

    def _field(self, cond: FieldTest) -> str:
        if isinstance(cond, Prefix):
            values = self._slot("phones" if cond.phone else "texts", cond)
            return f"_prefix({values}, {self._const(cond.prefixes)})"
        if isinstance(cond, Contains):
            return f"_contains({self._slot('texts', cond)}, {self._const(cond.needles)})"
        if isinstance(cond, Regex):
            return f"_search({self._slot('items', cond)}, {self._const(cond.pattern.search)})"
        if isinstance(cond, Range):
            return f"_within({self._slot('numbers', cond)}, {self._const(cond)})"
        assert isinstance(cond, Exists)
        return f"(bool({self._slot('items', cond)}) == {self._const(cond.present)})"


_HELPERS = {"_prefix": _prefix, "_contains": _contains, "_search": _search, "_within": _within}
_TESTS: dict[type, Callable[[RuleMatcher[Any], Any], str | None]] = {
    Equals: RuleMatcher._equals,
    Prefix: RuleMatcher._field,
    Contains: RuleMatcher._field,
    Regex: RuleMatcher._field,
    Range: RuleMatcher._field,
    Exists: RuleMatcher._field,
}
