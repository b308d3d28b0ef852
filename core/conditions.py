"""Rule conditions: small predicates over a lead that combine with `&`, `|`, `~` and name themselves.

A condition is compiled once from the config; `matches(lead)` is called on the hot path, so field
access is resolved to a getter up front and operands are normalised at construction.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.model import Lead

Getter = Callable[["Lead"], object]

LEAD_FIELDS = (
    "id",
    "name",
    "price",
    "pipeline",
    "stage",
    "source",
    "tags",
    "city",
    "region",
    "phone",
    "email",
    "company",
    "inn",
    "client_key",
)
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")


_TEXT_MEMO: dict[str, str] = {}
_TEXT_MEMO_SIZE = 50_000  # lead fields repeat (regions, sources, tags): remember their normal form


def normalize_text(value: object) -> str:
    """Case- and space-insensitive form used for every text comparison."""
    if isinstance(value, str):
        known = _TEXT_MEMO.get(value)
        if known is not None:
            return known
    text = " ".join(str(value).split()).casefold().replace("ё", "е")
    if isinstance(value, str):
        if len(_TEXT_MEMO) >= _TEXT_MEMO_SIZE:
            _TEXT_MEMO.clear()
        _TEXT_MEMO[value] = text
    return text


def normalize_phone(value: object) -> str:
    """Digits only, with the Russian trunk prefix 8 turned into the country code 7."""
    digits = "".join(filter(str.isdigit, str(value)))  # the same test per character, without a generator
    if digits.startswith("8") and (len(digits) == 11 or len(digits) <= 4):
        digits = "7" + digits[1:]
    return digits


def _as_number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).replace(" ", "").replace(",", "."))
    except ValueError:
        return None


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def field_place(path: str) -> tuple[str, str | None]:
    """Where a field lives: `lead.<attribute>`, then `.get(key)` unless the key is None."""
    if path.startswith("field:"):
        return "fields", path[len("field:") :]
    if path.startswith("field_id:"):
        return "field_ids", path[len("field_id:") :]
    if path.startswith("utm_"):
        return "utm", path
    if path in LEAD_FIELDS:
        return path, None
    raise ValueError(f"unknown lead field {path!r}")


def field_getter(path: str) -> Getter:
    """A function reading one field of a lead: a built-in name, `utm_*`, `field:NAME`, `field_id:ID`."""
    attribute, key = field_place(path)
    if key is None:
        return lambda lead: getattr(lead, attribute)
    return lambda lead: getattr(lead, attribute).get(key)


def _values(raw: object) -> Iterable[object]:
    if raw is None or raw == "":
        return ()
    if isinstance(raw, list | tuple | set | frozenset):
        return raw
    return (raw,)


class Condition:
    """A predicate over a lead; `&`, `|` and `~` build combined ones that describe themselves."""

    def matches(self, lead: Lead) -> bool:
        """True when the lead satisfies this condition."""
        raise NotImplementedError

    def describe(self) -> str:
        """A short human-readable form for reasons and `check-config`."""
        raise NotImplementedError

    @property
    def is_catch_all(self) -> bool:
        """True when the condition matches every lead."""
        return False

    def __and__(self, other: Condition) -> Condition:
        return All((self, other))

    def __or__(self, other: Condition) -> Condition:
        return AnyOf((self, other))

    def __invert__(self) -> Condition:
        return Not(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()}>"


class Always(Condition):
    """Matches every lead: the catch-all rule."""

    def matches(self, lead: Lead) -> bool:
        return True

    def describe(self) -> str:
        return "always"

    @property
    def is_catch_all(self) -> bool:
        return True


@dataclass(frozen=True, repr=False)
class All(Condition):
    """Every part must match."""

    parts: tuple[Condition, ...]

    def matches(self, lead: Lead) -> bool:
        for part in self.parts:  # noqa: SIM110 — a plain loop: this is the hot path of every rule
            if not part.matches(lead):
                return False
        return True

    def describe(self) -> str:
        return " & ".join(_wrap(p) for p in self.parts) or "always"

    @property
    def is_catch_all(self) -> bool:
        return all(p.is_catch_all for p in self.parts)


@dataclass(frozen=True, repr=False)
class AnyOf(Condition):
    """At least one part must match."""

    parts: tuple[Condition, ...]

    def matches(self, lead: Lead) -> bool:
        for part in self.parts:  # noqa: SIM110 — a plain loop: hot path
            if part.matches(lead):
                return True
        return False

    def describe(self) -> str:
        return " | ".join(_wrap(p) for p in self.parts) or "never"

    @property
    def is_catch_all(self) -> bool:
        return any(p.is_catch_all for p in self.parts)


@dataclass(frozen=True, repr=False)
class Not(Condition):
    """The part must not match."""

    part: Condition

    def matches(self, lead: Lead) -> bool:
        return not self.part.matches(lead)

    def describe(self) -> str:
        return f"not {_wrap(self.part)}"


def _wrap(cond: Condition) -> str:
    text = cond.describe()
    return f"({text})" if isinstance(cond, All | AnyOf) and len(cond.parts) > 1 else text


class FieldTest(Condition):
    """One operator applied to one lead field; list-valued fields match if any element does."""

    def __init__(self, path: str, symbol: str, operand_text: str) -> None:
        self.path = path
        self.get = field_getter(path)
        self.operand_text = operand_text  # as written, values joined by "|" (for words per language)
        self._label = f"{path.removeprefix('field:')} {symbol} {operand_text}"

    def test(self, value: object) -> bool:
        """The operator on one non-empty value."""
        raise NotImplementedError

    def matches(self, lead: Lead) -> bool:
        value = self.get(lead)
        if value is None or value == "":
            return False
        if isinstance(value, list | tuple | set | frozenset):
            return any(self.test(v) for v in value)
        return self.test(value)

    def describe(self) -> str:
        return self._label


class Equals(FieldTest):
    """Field equals one of the given values (text compared without case, numbers as numbers)."""

    def __init__(self, path: str, values: Iterable[object]) -> None:
        items = list(values)
        symbol = "=" if len(items) == 1 else "in"
        super().__init__(path, symbol, "|".join(str(v) for v in items))
        self.texts = frozenset(normalize_text(v) for v in items)
        self.numbers = frozenset(n for n in (_as_number(v) for v in items) if n is not None)

    def test(self, value: object) -> bool:
        if normalize_text(value) in self.texts:
            return True
        return bool(self.numbers) and _as_number(value) in self.numbers

    def matches(self, lead: Lead) -> bool:
        value = self.get(lead)
        if isinstance(value, str) and not self.numbers:  # the common case, without the generic path
            return normalize_text(value) in self.texts
        return FieldTest.matches(self, lead)


class Prefix(FieldTest):
    """Field starts with one of the prefixes; phones compare as normalised digits."""

    def __init__(self, path: str, prefixes: Iterable[object]) -> None:
        items = list(prefixes)
        super().__init__(path, "starts with", "|".join(str(p) for p in items))
        self.phone = path == "phone"
        norm = normalize_phone if self.phone else normalize_text
        self.prefixes = tuple(norm(p) for p in items)

    def test(self, value: object) -> bool:
        text = normalize_phone(value) if self.phone else normalize_text(value)
        return text.startswith(self.prefixes)


class Contains(FieldTest):
    """Field contains one of the substrings, without case."""

    def __init__(self, path: str, needles: Iterable[object]) -> None:
        items = list(needles)
        super().__init__(path, "contains", "|".join(str(n) for n in items))
        self.needles = tuple(normalize_text(n) for n in items)

    def test(self, value: object) -> bool:
        text = normalize_text(value)
        return any(n in text for n in self.needles)


class Regex(FieldTest):
    """Field matches a regular expression anywhere, without case."""

    def __init__(self, path: str, pattern: str) -> None:
        super().__init__(path, "~", f"/{pattern}/")
        self.pattern = re.compile(pattern, re.IGNORECASE)

    def test(self, value: object) -> bool:
        return self.pattern.search(str(value)) is not None


class Range(FieldTest):
    """Field is a number within the bounds (any of gte / gt / lte / lt)."""

    def __init__(
        self,
        path: str,
        *,
        gte: float | None = None,
        gt: float | None = None,
        lte: float | None = None,
        lt: float | None = None,
    ) -> None:
        bounds = [(">=", gte), (">", gt), ("<=", lte), ("<", lt)]
        text = " ".join(f"{s} {_number(v)}" for s, v in bounds if v is not None)
        FieldTest.__init__(self, path, "", text)
        self._label = f"{path.removeprefix('field:')} {text}"
        self.gte, self.gt, self.lte, self.lt = gte, gt, lte, lt

    def test(self, value: object) -> bool:
        n = _as_number(value)
        if n is None:
            return False
        return (
            (self.gte is None or n >= self.gte)
            and (self.gt is None or n > self.gt)
            and (self.lte is None or n <= self.lte)
            and (self.lt is None or n < self.lt)
        )


class Exists(FieldTest):
    """Field has (or, with False, lacks) a non-empty value."""

    def __init__(self, path: str, present: bool = True) -> None:
        super().__init__(path, "is" if present else "is not", "set")
        self.present = present

    def matches(self, lead: Lead) -> bool:
        return bool(_values(self.get(lead))) == self.present
