"""`when:` mappings compile into core conditions that match the leads they describe."""

from __future__ import annotations

from datetime import UTC, datetime

from core.conditions import Always, Condition
from core.model import Lead
from webhook_app.config.conditions import compile_condition
from webhook_app.config.problems import LineIndex, Reporter


def compile_ok(raw: object) -> Condition:
    report = Reporter("cfg.yaml", LineIndex())
    condition = compile_condition(raw, ("when",), report)
    assert report.problems == []
    return condition


def lead(**kw: object) -> Lead:
    return Lead(id="1", created_at=datetime(2026, 12, 2, tzinfo=UTC), **kw)  # type: ignore[arg-type]


def test_a_missing_or_empty_condition_matches_every_lead():
    assert isinstance(compile_ok(None), Always) and compile_ok({}).is_catch_all


def test_keys_of_one_mapping_combine_with_and():
    cond = compile_ok({"region": "Москва", "price": {"gte": 1000, "lt": 5000}})
    assert cond.matches(lead(region="москва", price=1000))
    assert not cond.matches(lead(region="Москва", price=5000))
    assert not cond.matches(lead(region="Тверь", price=2000))


def test_a_list_means_any_of_those_values():
    cond = compile_ok({"tags": ["VIP", "Ключевой"]})
    assert cond.matches(lead(tags=("опт", "VIP"))) and not cond.matches(lead(tags=("опт",)))


def test_phone_prefix_compares_digits_only():
    cond = compile_ok({"phone": {"prefix": ["+7495", "+7499"]}})
    assert cond.matches(lead(phone="8 (495) 123-45-67")) and not cond.matches(lead(phone="+7 812 000"))


def test_any_all_not_and_exists_nest():
    cond = compile_ok(
        {
            "any": [{"source": {"contains": "тендер"}}, {"name": {"regex": "44-ФЗ"}}],
            "not": {"region": {"exists": False}},
        }
    )
    assert cond.matches(lead(source="Площадка тендеров", region="Омская область"))
    assert not cond.matches(lead(source="Площадка тендеров"))
    assert not cond.matches(lead(source="site", region="Москва"))
    assert compile_ok({"all": [{"city": "Москва"}, {"price": {"gt": 0}}]}).matches(
        lead(city="Москва", price=1)
    )


def test_custom_fields_by_name_and_by_id_and_utm():
    cond = compile_ok(
        {"field": {"Форма собственности": "Госсектор"}, "field_id": {982451: "1"}, "utm_source": "yandex"}
    )
    matching = lead(
        fields={"Форма собственности": "Госсектор"}, field_ids={"982451": 1}, utm={"utm_source": "yandex"}
    )
    assert cond.matches(matching) and not cond.matches(lead(utm={"utm_source": "yandex"}))


def test_the_description_reads_like_the_yaml():
    assert compile_ok({"price": {"gte": 100}, "tags": "VIP"}).describe() == "price >= 100 & tags = VIP"


def test_every_mistake_in_a_condition_is_reported_with_its_path():
    report = Reporter("cfg.yaml", LineIndex(), "en")
    compile_condition({"any": [], "tags": {"exists": "yes"}, "price": {"gte": "много"}}, ("when",), report)
    assert [str(p) for p in report.problems] == [
        "cfg.yaml: when.any: 'any' needs a non-empty list of conditions",
        "cfg.yaml: when.tags.exists: 'exists' needs true or false",
        "cfg.yaml: when.price.gte: 'gte' needs a number, not 'много'",
    ]
