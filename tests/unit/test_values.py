"""`quick_init` builds the same frozen values as the dataclass's own `__init__`."""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass, field

import pytest

from core.values import quick_init


@dataclass(frozen=True, slots=True)
class Plain:
    name: str
    count: int = 0
    tags: tuple[str, ...] = ()
    extra: dict[str, int] = field(default_factory=dict)


@quick_init
@dataclass(frozen=True, slots=True)
class Quick:
    name: str
    count: int = 0
    tags: tuple[str, ...] = ()
    extra: dict[str, int] = field(default_factory=dict)


def fields_of(value: object) -> tuple[object, ...]:
    return dataclasses.astuple(value)  # type: ignore[call-overload]


def test_quick_values_hold_what_the_dataclass_init_would_set():
    assert fields_of(Quick("a")) == fields_of(Plain("a")) == ("a", 0, (), {})
    assert fields_of(Quick("a", 2, ("x",), {"k": 1})) == fields_of(Plain("a", 2, ("x",), {"k": 1}))
    assert fields_of(Quick(name="a", extra={"k": 1})) == fields_of(Plain(name="a", extra={"k": 1}))


def test_each_value_gets_its_own_default_factory_result():
    assert Quick("a").extra is not Quick("b").extra


def test_quick_values_stay_frozen_comparable_and_readable():
    value = Quick("a", 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        value.count = 2  # type: ignore[misc]
    assert value == Quick("a", 1) and value != Quick("a", 2)
    assert repr(value) == repr(Plain("a", 1)).replace("Plain", "Quick")


def test_the_signature_is_the_dataclass_signature():
    quick = inspect.signature(Quick.__init__).parameters
    plain = inspect.signature(Plain.__init__).parameters
    assert list(quick) == list(plain)
    assert [p.default for p in quick.values()][:4] == [p.default for p in plain.values()][:4]
    with pytest.raises(TypeError):
        Quick()  # type: ignore[call-arg]
