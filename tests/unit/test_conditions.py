from __future__ import annotations

import pytest

from core.conditions import (
    Always,
    Contains,
    Equals,
    Exists,
    Prefix,
    Range,
    Regex,
    field_getter,
    normalize_phone,
)
from tests.builders import lead


def test_equals_ignores_case_spaces_and_yo():
    cond = Equals("region", ["Москва"])
    assert cond.matches(lead(region="  москва "))
    assert Equals("city", ["Королёв"]).matches(lead(city="КОРОЛЕВ"))
    assert not cond.matches(lead(region="Тверь"))


def test_equals_compares_numbers_as_numbers():
    assert Equals("price", [1000000]).matches(lead(price=1_000_000.0))
    assert Equals("field:ИНН", ["7701"]).matches(lead(fields={"ИНН": 7701}))


def test_in_matches_any_of_the_values_and_any_tag():
    cond = Equals("tags", ["VIP", "горячий"])
    assert cond.matches(lead(tags=("новый", "vip")))
    assert not cond.matches(lead(tags=("новый",)))
    assert not cond.matches(lead(tags=()))


@pytest.mark.parametrize("phone", ["+7 (495) 123-45-67", "84951234567", "7-495-1234567"])
def test_phone_prefix_compares_normalised_digits(phone):
    assert Prefix("phone", ["+7495", "8499"]).matches(lead(phone=phone))


def test_phone_prefix_rejects_other_codes():
    assert not Prefix("phone", ["+7495"]).matches(lead(phone="+7 812 123-45-67"))
    assert normalize_phone("8 (812) 000-00-00") == "78120000000"


def test_text_prefix_and_contains_ignore_case():
    assert Prefix("company", ["ооо"]).matches(lead(company="ООО Ромашка"))
    assert Contains("name", ["тендер", "госзакуп"]).matches(lead(name="Заявка: ГОСЗАКУПКА №5"))
    assert not Contains("name", ["тендер"]).matches(lead(name=None))


def test_regex_searches_anywhere_without_case():
    cond = Regex("email", r"@(gov|mos)\.ru$")
    assert cond.matches(lead(email="Ivan@MOS.ru"))
    assert not cond.matches(lead(email="ivan@mail.ru"))


def test_range_bounds_are_inclusive_or_strict_as_written():
    cond = Range("price", gte=100, lt=200)
    assert cond.matches(lead(price=100)) and cond.matches(lead(price=199.99))
    assert not cond.matches(lead(price=200)) and not cond.matches(lead(price=None))
    assert Range("field:Бюджет", gt=5).matches(lead(fields={"Бюджет": "1 000,5"}))


def test_range_ignores_values_that_are_not_numbers():
    assert not Range("field:x", gte=0).matches(lead(fields={"x": "много"}))


def test_exists_checks_presence_or_absence():
    assert Exists("region").matches(lead(region="Урал"))
    assert not Exists("region").matches(lead(region=""))
    assert Exists("region", present=False).matches(lead())
    assert Exists("field_id:55").matches(lead(field_ids={"55": ["a"]}))
    assert not Exists("tags").matches(lead(tags=()))


def test_utm_fields_are_read_from_the_utm_map():
    assert Equals("utm_source", ["yandex"]).matches(lead(utm={"utm_source": "Yandex"}))


def test_combinators_compose_and_name_themselves():
    vip = Range("price", gte=1_000_000) | Equals("tags", ["VIP"])
    moscow = Equals("region", ["Москва"])
    cond = vip & ~moscow
    assert cond.matches(lead(price=2e6, region="Урал"))
    assert not cond.matches(lead(price=2e6, region="Москва"))
    assert not cond.matches(lead(price=10, region="Урал"))
    assert cond.describe() == "(price >= 1000000 | tags = VIP) & not region = Москва"


def test_catch_all_is_detected_through_combinators():
    assert Always().is_catch_all
    assert (Always() | Equals("city", ["x"])).is_catch_all
    assert not (Always() & Equals("city", ["x"])).is_catch_all


def test_unknown_field_is_refused():
    with pytest.raises(ValueError, match="unknown lead field"):
        field_getter("budget")
