"""`quick_init`: frozen slotted dataclasses built at the cost of mutable ones.

A frozen dataclass's `__init__` sets each field through `object.__setattr__`, a generic call that
costs about as much per field as a whole mutable instance; a lead, a decision and the states built
for every lead add up to a tenth of a decision. The slots' own descriptors set a field for half of
that. The instances are the same: same fields, defaults and factories, equality, hash, and still
frozen (assigning a field raises `FrozenInstanceError`), since only `__init__` changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, fields
from typing import TypeVar, cast

T = TypeVar("T")


class _Factory:
    """The default of a field with a default factory, shown as `dataclasses` shows it."""

    def __repr__(self) -> str:
        return "<factory>"


_UNSET = _Factory()


def quick_init(cls: type[T]) -> type[T]:
    """Give a frozen `slots=True` dataclass an `__init__` that writes its slots directly."""
    assert "__slots__" in cls.__dict__ and not hasattr(cls, "__post_init__"), cls
    names: dict[str, object] = {"_UNSET": _UNSET}
    params: list[str] = []
    lines: list[str] = []
    for i, f in enumerate(fields(cls)):  # type: ignore[arg-type]
        assert not f.kw_only, f
        names[f"_set{i}"] = cls.__dict__[f.name].__set__  # the slot's member descriptor
        if f.default is not MISSING:
            names[f"_default{i}"] = f.default
            value = f.name if f.init else f"_default{i}"
            if f.init:
                params.append(f"{f.name}=_default{i}")
        elif f.default_factory is not MISSING:
            names[f"_factory{i}"] = f.default_factory
            value = f"_factory{i}() if {f.name} is _UNSET else {f.name}" if f.init else f"_factory{i}()"
            if f.init:
                params.append(f"{f.name}=_UNSET")
        elif f.init:
            params.append(f.name)
            value = f.name
        else:
            continue
        lines.append(f"    _set{i}(self, {value})\n")
    source = f"def __init__(self, {', '.join(params)}):\n" + ("".join(lines) or "    pass\n")
    exec(source, names)
    init = cast(Callable[..., None], names["__init__"])
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    setattr(cls, "__init__", init)  # noqa: B010 — mypy forbids assigning a method
    return cls
