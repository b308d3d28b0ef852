"""Issue 18: every problem a config check can report reads in the file's `language`.

A corpus of broken configs, one small YAML per error or warning the checks can produce (built from
one minimal valid config), each loaded with `language: ru` and again with `language: en`. In
Russian, the expected problem is reported at its file, line and dotted path, worded by its catalog
entry, and no English is left in it: every Latin word is either something the file itself says (its
keys and values, which the reader must find) or a key, value or proper name the reader writes. In
English, the same problem reads as today's English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from string import Formatter
from typing import Any, Literal, get_args, get_origin

import pytest
from pydantic import BaseModel

from adapters.admin import CrmField, CrmInventory, CrmPipeline, CrmUser
from core.conditions import LEAD_FIELDS, UTM_FIELDS
from core.strategies import REGISTRY
from core.team import CrmPerson
from core.texts import CATALOGS, texts
from tests.english import foreign_words, latin_words
from webhook_app.cli.main import main
from webhook_app.config import ConfigError, load_config
from webhook_app.config.conditions import COMBINATORS, CUSTOM, OPERATORS
from webhook_app.config.online import check_online, resolved_teams
from webhook_app.config.problems import ConfigProblem, Reporter
from webhook_app.config.schedule import DAYS
from webhook_app.config.schema import ConfigModel
from webhook_app.config.yamlsource import read_source

BASE = """\
language: {language}
crm: {{type: amocrm, base_url: https://example.amocrm.ru}}
head_of_sales: head
managers:
  ivanova: {{crm_user_id: 1}}
  petrov: {{crm_user_id: 2}}
  head: {{crm_user_id: 3}}
pools:
  regions: {{members: [ivanova, petrov], strategy: weighted}}
rules:
  - {{name: default, pool: regions}}
"""
IVANOVA = "ivanova: {crm_user_id: 1}"
PETROV = "petrov: {crm_user_id: 2}"
REGIONS = "{members: [ivanova, petrov], strategy: weighted}"
RULE = "{name: default, pool: regions}"


def _schema_words(model: Any, seen: set[Any]) -> set[str]:
    """Every key and literal value the schema knows, as a reader writes them."""
    if model in seen:
        return set()
    seen.add(model)
    words: set[str] = set()
    if isinstance(model, type) and issubclass(model, BaseModel):
        for name, info in model.model_fields.items():
            words.add(info.alias or name)
            words |= _schema_words(info.annotation, seen)
    elif get_origin(model) is Literal:
        words |= {str(v) for v in get_args(model)}
    else:
        for arg in get_args(model):
            words |= _schema_words(arg, seen)
    return words


# What a reader writes in the file, so a message may name it as it is written.
VOCABULARY = frozenset(
    _schema_words(ConfigModel, set())
    | set(REGISTRY)
    | set(DAYS)
    | set(OPERATORS)
    | set(LEAD_FIELDS)
    | set(UTM_FIELDS)
    | set(CUSTOM)
    | set(COMBINATORS)
    | {"always", "off", "true", "false", "price", "resume", "catch_up", "catch_up_max", "next_in_pool"}
    | {"only_untouched", "Europe", "Moscow", "Asia", "Yekaterinburg"}
)


@dataclass(frozen=True)
class Case:
    """One broken config: the catalog entry it must be worded by, and where it must be reported."""

    key: str
    edits: dict[str, str] = field(default_factory=dict)  # replacements in BASE
    extra: str = ""  # lines appended to BASE
    path: str = ""
    line: int | None = None
    severity: str = "error"
    area: Literal["config", "cli"] = "config"

    def text(self, language: str) -> str:
        text = BASE.format(language=language)
        for old, new in self.edits.items():
            assert old in text, (self.key, old)
            text = text.replace(old, new, 1)
        return text + self.extra


def _pool(options: str) -> dict[str, str]:
    return {REGIONS: "{members: [ivanova, petrov], " + options + "}"}


def _when(condition: str) -> dict[str, str]:
    return {RULE: "{name: default, when: " + condition + ", pool: regions}"}


def _ivanova(options: str) -> dict[str, str]:
    return {IVANOVA: "ivanova: {crm_user_id: 1, " + options + "}"}


def _handoffs(*lines: str) -> str:
    return "handoffs:\n" + "".join(f"  - {line}\n" for line in lines)


STICKY = "strategy: sticky, sticky: "
CASES = [
    # Reading the YAML.
    Case(
        "duplicate_key",
        {"  head: {crm_user_id: 3}\n": "  head: {crm_user_id: 3}\n  ivanova: {crm_user_id: 4}\n"},
        path="managers.ivanova",
        line=8,
    ),
    Case("bad_date", extra="holidays: [2026-13-45]\n", path="holidays[0]", line=12),
    Case("bad_character", {"head_of_sales: head": "head_of_sales: he\x10ad"}, line=3),
    Case("yaml_tab", {"  petrov:": "\tpetrov:"}, line=6),
    Case("yaml_colon", {"head_of_sales: head": "head_of_sales: head: boss"}, line=3),
    Case("yaml_no_colon", {f"  {PETROV}": "  petrov\n  sidorov: {crm_user_id: 2}"}, line=7),
    Case("yaml_quote", {"head_of_sales: head": 'head_of_sales: "head'}, line=3),
    Case("yaml_bracket", {"[ivanova, petrov]": "[ivanova, petrov}"}, line=9),
    Case("yaml_escape", {"head_of_sales: head": 'head_of_sales: "he\\qad"'}, line=3),
    Case("yaml_indent", {f"  {PETROV}": f"   {PETROV}"}, line=6),
    Case("yaml_alias", {"head_of_sales: head": "head_of_sales: *boss"}, line=3),
    Case("yaml_tag", {"head_of_sales: head": "head_of_sales: !boss head"}, line=3),
    Case("yaml_documents", extra="---\nhead_of_sales: head\n", line=12),
    Case("yaml_character", {"head_of_sales: head": "head_of_sales: @head"}, line=3),
    Case(
        "sexagesimal_hours", _ivanova("schedule: {sat: 10:00}"), path="managers.ivanova.schedule.sat", line=5
    ),
    Case("sexagesimal", _ivanova("weight: 1:30"), path="managers.ivanova.weight", line=5),
    Case("decimal_comma", _ivanova("weight: 0,5"), path="managers.ivanova.weight", line=5),
    Case("date_format", _ivanova("holidays: [31.12.2026]"), path="managers.ivanova.holidays[0]", line=5),
    # The schema: types, ranges, unknown keys, shapes.
    Case(
        "unknown_field",
        {PETROV: "petrov: {crm_user_id: 2, wieght: 2}"},
        path="managers.petrov.wieght",
        line=6,
    ),
    Case(
        "secret_in_yaml", {"example.amocrm.ru}": "example.amocrm.ru, token: abc}"}, path="crm.token", line=2
    ),
    Case("missing", {PETROV: "petrov: {weight: 2}"}, path="managers.petrov.crm_user_id", line=6),
    Case(
        "key_not_text",
        {"  head: {crm_user_id: 3}\n": "  head: {crm_user_id: 3}\n  123: {crm_user_id: 4}\n"},
        path="managers.123",
        line=8,
    ),
    Case("not_empty", {f"rules:\n  - {RULE}\n": "rules: []\n"}, path="rules", line=10),
    Case(
        "must_be_mapping",
        {"crm: {type: amocrm, base_url: https://example.amocrm.ru}": "crm: amocrm"},
        path="crm",
        line=2,
    ),
    Case("must_be_list", extra="holidays: 2026-12-31\n", path="holidays", line=12),
    Case("int_type", {IVANOVA: "ivanova: {crm_user_id: abc}"}, path="managers.ivanova.crm_user_id", line=5),
    Case(
        "int_from_float",
        {IVANOVA: "ivanova: {crm_user_id: 1.5}"},
        path="managers.ivanova.crm_user_id",
        line=5,
    ),
    Case("float_type", _ivanova("weight: много"), path="managers.ivanova.weight", line=5),
    Case("bool_type", _ivanova("active: может"), path="managers.ivanova.active", line=5),
    Case("string_type", _ivanova("name: [Анна]"), path="managers.ivanova.name", line=5),
    Case("string_too_short", {RULE: '{name: "", pool: regions}'}, path="rules[0].name", line=11),
    Case("greater_than", _ivanova("weight: 0"), path="managers.ivanova.weight", line=5),
    Case(
        "greater_than_equal",
        {IVANOVA: "ivanova: {crm_user_id: 0}"},
        path="managers.ivanova.crm_user_id",
        line=5,
    ),
    Case(
        "less_than_equal",
        extra="hooks: {check_every_seconds: 5000}\n",
        path="hooks.check_every_seconds",
        line=12,
    ),
    Case("literal_error", {"type: amocrm": "type: salesforce"}, path="crm.type", line=2),
    Case("date_type", extra="holidays: [завтра]\n", path="holidays[0]", line=12),
    Case("schedule_shape", _ivanova("schedule: 5"), path="managers.ivanova.schedule", line=5),
    Case("catch_up_max", _pool("on_return: {catch_up_max: 0}"), path="pools.regions.on_return", line=9),
    Case("on_return_shape", _pool("on_return: back"), path="pools.regions.on_return", line=9),
    Case("return_shape", _pool("return_after_absence: 5"), path="pools.regions.return_after_absence", line=9),
    Case(
        "one_team",
        {"[ivanova, petrov]": "[ivanova, {crm_group: А}, {crm_group: Б}]"},
        path="pools.regions",
        line=9,
    ),
    Case("task_shape", extra="on_assign: {task: true}\n", path="on_assign.task", line=12),
    Case("value_shape", _pool("value: 5"), path="pools.regions.value", line=9),
    Case("not_http_url", {"https://example.amocrm.ru": "example.amocrm.ru"}, path="crm.base_url", line=2),
    Case(
        "team_source",
        {"[ivanova, petrov]": "[ivanova, {crm_group: А, department: Б}]"},
        path="pools.regions.members[1]",
        line=9,
    ),
    # Managers and pools.
    Case("user_id_taken", {PETROV: "petrov: {crm_user_id: 1}"}, path="managers.petrov.crm_user_id", line=6),
    Case(
        "other_crm_only",
        {"example.amocrm.ru}": "example.amocrm.ru, domain: b24.example.ru}"},
        path="crm.domain",
        line=2,
    ),
    Case(
        "batch_limit",
        {"example.amocrm.ru}": "example.amocrm.ru, batch_size: 300}"},
        path="crm.batch_size",
        line=2,
    ),
    Case(
        "absence_backwards",
        _ivanova("absences: [{from: 2026-12-10, to: 2026-12-01}]"),
        path="managers.ivanova.absences[0].to",
        line=5,
    ),
    Case(
        "self_substitute",
        _ivanova("absences: [{from: 2026-12-01, to: 2026-12-10, substitute: ivanova}]"),
        path="managers.ivanova.absences[0].substitute",
        line=5,
    ),
    Case(
        "absence_overlap",
        _ivanova("absences: [{from: 2026-12-01, to: 2026-12-10}, {from: 2026-12-05, to: 2026-12-20}]"),
        path="managers.ivanova.absences[1]",
        line=5,
    ),
    Case("unknown_strategy", {"strategy: weighted": "strategy: fair"}, path="pools.regions.strategy", line=9),
    Case("needs_member", {"[ivanova, petrov]": "[]"}, path="pools.regions.members", line=9),
    Case(
        "duplicate_member",
        {"[ivanova, petrov]": "[ivanova, petrov, ivanova]"},
        path="pools.regions.members[2]",
        line=9,
    ),
    Case(
        "strategy_option",
        _pool("strategy: weighted, sticky: {key: region}"),
        path="pools.regions.sticky",
        line=9,
    ),
    Case(
        "team_not_amocrm",
        {"[ivanova, petrov]": "[ivanova, petrov, {department: Продажи}]"},
        path="pools.regions.members[2].department",
        line=9,
    ),
    Case(
        "team_not_bitrix24",
        {
            "crm: {type: amocrm, base_url: https://example.amocrm.ru}": "crm: {type: bitrix24, "
            "base_url: https://b24.example.ru, domain: b24.example.ru}",
            "[ivanova, petrov]": "[ivanova, petrov, {crm_group: Продажи}]",
        },
        path="pools.regions.members[2].crm_group",
        line=9,
    ),
    Case(
        "sticky_team",
        {"[ivanova, petrov]": "[ivanova, {crm_group: Продажи}]", "weighted": "sticky"},
        path="pools.regions.members[1]",
        line=9,
    ),
    Case(
        "not_pool_member",
        _pool("strategy: weighted, weights: {head: 2}"),
        path="pools.regions.weights.head",
        line=9,
    ),
    Case(
        "unknown_manager",
        _pool("strategy: weighted, weights: {ghost: 2}"),
        path="pools.regions.weights.ghost",
        line=9,
    ),
    Case("claim_needs_user", {"strategy: weighted": "strategy: claim"}, path="pools.regions", line=9),
    Case(
        "manual_needs_head",
        {"head_of_sales: head\n": "", "strategy: weighted": "strategy: manual"},
        path="pools.regions",
        line=8,
    ),
    # Rules and handoffs.
    Case(
        "never_runs",
        extra=_handoffs(
            "{name: won, on_stage: Успешно, to: regions}", "{name: won2, on_stage: Успешно, to: regions}"
        ),
        path="handoffs[1].on_stage",
        line=14,
    ),
    Case(
        "sla_too_long",
        extra=_handoffs("{name: sla, unworked_minutes: 20000, to: regions}"),
        path="handoffs[0].unworked_minutes",
        line=13,
    ),
    Case(
        "ten_years",
        extra=_handoffs("{name: old, after_days: 4000, in_stage: Новый, to: regions}"),
        path="handoffs[0].after_days",
        line=13,
    ),
    Case(
        "duplicate_rule",
        {RULE: "{name: default, when: {source: сайт}, pool: regions}\n  - " + RULE},
        path="rules[1].name",
        line=12,
    ),
    Case(
        "duplicate_handoff",
        extra=_handoffs(
            "{name: won, on_stage: Успешно, to: regions}", "{name: won, on_stage: Провал, to: regions}"
        ),
        path="handoffs[1].name",
        line=14,
    ),
    Case(
        "unreachable",
        {RULE: RULE + "\n  - {name: moscow, when: {region: Москва}, pool: regions}"},
        path="rules[1]",
        line=12,
    ),
    Case("one_trigger", extra=_handoffs("{name: x, to: regions}"), path="handoffs[0]", line=13),
    Case(
        "days_with_stage",
        extra=_handoffs("{name: x, after_days: 5, to: regions}"),
        path="handoffs[0].after_days",
        line=13,
    ),
    Case(
        "sla_only",
        extra=_handoffs("{name: x, on_stage: Успешно, max_hops: 2, to: regions}"),
        path="handoffs[0].max_hops",
        line=13,
    ),
    Case(
        "not_for_sla",
        extra=_handoffs("{name: x, unworked_minutes: 30, from: regions, to: regions}"),
        path="handoffs[0].from",
        line=13,
    ),
    Case("unknown_pool", {"pool: regions}": "pool: regionz}"}, path="rules[0].pool", line=11),
    Case("no_catch_all", _when("{source: сайт}"), path="rules", line=10, severity="warning"),
    Case(
        "no_fallback",
        {"head_of_sales: head\n": "", "[ivanova, petrov]": "[ivanova, petrov, head]"},
        path="nobody_available",
        line=1,
        severity="warning",
    ),
    Case(
        "unused_manager",
        {"  head: {crm_user_id: 3}\n": "  head: {crm_user_id: 3}\n  sidorov: {crm_user_id: 4}\n"},
        path="managers.sidorov",
        line=8,
        severity="warning",
    ),
    Case(
        "unused_pool",
        {"rules:": "  spare: {members: [ivanova]}\nrules:"},
        path="pools.spare",
        line=10,
        severity="warning",
    ),
    # Schedules.
    Case(
        "day_taken",
        _ivanova('schedule: {mon-fri: "09:00-18:00", fri: "10:00-12:00"}'),
        path="managers.ivanova.schedule.fri",
        line=5,
    ),
    Case(
        "not_a_day",
        _ivanova('schedule: {monday: "09:00-18:00"}'),
        path="managers.ivanova.schedule.monday",
        line=5,
    ),
    Case(
        "not_interval",
        _ivanova('schedule: {mon-fri: "9-18"}'),
        path="managers.ivanova.schedule.mon-fri",
        line=5,
    ),
    Case(
        "bad_time",
        _ivanova('schedule: {mon-fri: "09:00-25:00"}'),
        path="managers.ivanova.schedule.mon-fri",
        line=5,
    ),
    Case(
        "empty_interval",
        _ivanova('schedule: {sat: "10:00-10:00"}'),
        path="managers.ivanova.schedule.sat",
        line=5,
    ),
    Case(
        "lunch_break",
        _ivanova('schedule: {mon-fri: "09:00-18:00, 13:00-14:00"}'),
        path="managers.ivanova.schedule.mon-fri",
        line=5,
    ),
    Case(
        "overlap",
        _ivanova('schedule: {mon-fri: "09:00-14:00, 13:00-18:00"}'),
        path="managers.ivanova.schedule.mon-fri",
        line=5,
    ),
    # Sticky pools.
    Case("sticky_key", _pool(STICKY + "{key: планета}"), path="pools.regions.sticky.key", line=9),
    Case(
        "empty_value",
        _pool(STICKY + '{key: region, values: {ivanova: [""]}}'),
        path="pools.regions.sticky.values.ivanova[0]",
        line=9,
    ),
    Case(
        "value_taken",
        _pool(STICKY + "{key: region, values: {ivanova: [Москва], petrov: [москва]}}"),
        path="pools.regions.sticky.values.petrov[0]",
        line=9,
    ),
    Case(
        "value_twice",
        _pool(STICKY + "{key: region, values: {ivanova: [Москва, москва]}}"),
        path="pools.regions.sticky.values.ivanova[1]",
        line=9,
    ),
    Case(
        "range_overlap",
        _pool(STICKY + "{ranges: {ivanova: [А-К], petrov: [Г-М]}}"),
        path="pools.regions.sticky.ranges.petrov[0]",
        line=9,
    ),
    Case(
        "not_letter_range",
        _pool(STICKY + "{ranges: {ivanova: [1-5]}}"),
        path="pools.regions.sticky.ranges.ivanova[0]",
        line=9,
    ),
    Case(
        "mixed_alphabets",
        _pool(STICKY + "{ranges: {ivanova: [А-Z]}}"),
        path="pools.regions.sticky.ranges.ivanova[0]",
        line=9,
    ),
    Case(
        "range_backwards",
        _pool(STICKY + "{ranges: {ivanova: [К-А]}}"),
        path="pools.regions.sticky.ranges.ivanova[0]",
        line=9,
    ),
    Case(
        "one_string_list",
        _when('{region: "Москва, Московская область"}'),
        path="rules[0].when.region",
        line=11,
    ),
    # Balance, value, tiers, junk.
    Case(
        "balance_strategy",
        _pool("strategy: least_loaded, balance: value"),
        path="pools.regions.balance",
        line=9,
    ),
    Case("tiers_needed", _pool("strategy: weighted, balance: tiers"), path="pools.regions.balance", line=9),
    Case(
        "tiers_without_balance",
        _pool("tiers: [{name: крупные, when: {source: сайт}}, {name: прочие}]"),
        path="pools.regions.tiers",
        line=9,
    ),
    Case(
        "junk_strategy",
        _pool("strategy: least_loaded, junk: {stage: Брак}"),
        path="pools.regions.junk",
        line=9,
    ),
    Case(
        "duplicate_tier",
        _pool("balance: tiers, tiers: [{name: а, when: {source: сайт}}, {name: а}]"),
        path="pools.regions.tiers[1].name",
        line=9,
    ),
    Case(
        "last_tier_only",
        _pool("balance: tiers, tiers: [{name: а}, {name: б, when: {source: сайт}}]"),
        path="pools.regions.tiers[0]",
        line=9,
    ),
    Case("one_tier", _pool("balance: tiers, tiers: [{name: а}]"), path="pools.regions.tiers", line=9),
    Case(
        "value_both",
        _pool("value: {field: Сумма, tiers: [{when: {source: сайт}, points: 5}]}"),
        path="pools.regions.value",
        line=9,
    ),
    Case("value_tiers_empty", _pool("value: {tiers: []}"), path="pools.regions.value.tiers", line=9),
    Case(
        "default_points",
        _pool("value: {field: Сумма, default: 2}"),
        path="pools.regions.value.default",
        line=9,
    ),
    Case("junk_one", _pool("junk: {within_hours: 2}"), path="pools.regions.junk", line=9),
    # Conditions.
    Case("when_mapping", _when("{all: [5]}"), path="rules[0].when.all[0]", line=11),
    Case("needs_conditions", _when("{any: []}"), path="rules[0].when.any", line=11),
    Case("custom_names", _when("{field: 5}"), path="rules[0].when.field", line=11),
    Case("custom_ids", _when("{field_id: 5}"), path="rules[0].when.field_id", line=11),
    Case("empty_test", _when("{region: {}}"), path="rules[0].when.region", line=11),
    Case("needs_number", _when("{price: {gte: много}}"), path="rules[0].when.price.gte", line=11),
    Case("exists_bool", _when("{tags: {exists: да}}"), path="rules[0].when.tags.exists", line=11),
    Case("regex_text", _when("{name: {regex: 5}}"), path="rules[0].when.name.regex", line=11),
    Case("bad_regex", _when('{name: {regex: "(("}}'), path="rules[0].when.name.regex", line=11),
    Case("empty_list", _when("{region: []}"), path="rules[0].when.region", line=11),
    Case("not_values", _when("{region: [{a: 1}]}"), path="rules[0].when.region", line=11),
    Case("unknown_field", _when("{regoin: Москва}"), path="rules[0].when.regoin", line=11),
    Case("unknown_operator", _when("{price: {gtee: 5}}"), path="rules[0].when.price.gtee", line=11),
    # Names.
    Case("unknown_zone", extra="timezone: Europe/Moskva\n", path="timezone", line=12),
    Case(
        "pool_and_manager",
        {"rules:": "  head: {members: [head]}\nrules:"},
        extra="nobody_available: {then: head}\n",
        path="nobody_available.then",
        line=13,
    ),
    Case(
        "unknown_pool_or_manager",
        extra="nobody_available: {then: ghost}\n",
        path="nobody_available.then",
        line=12,
    ),
]


def problems(text: str, tmp_path) -> list[ConfigProblem]:
    """Every problem `load_config` reports for `text` (errors, or the warnings of a valid file)."""
    path = tmp_path / "cfg.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        return load_config(path).warnings
    except ConfigError as refused:
        return refused.problems


def shown(problem: ConfigProblem) -> str:
    """What a person reads of a problem besides its place (a warning is marked in the file's language)."""
    return f"{problem.label}: {problem.message}" if problem.severity == "warning" else problem.message


def worded_by(message: str, template: str) -> bool:
    """Whether `message` starts as the catalog's `template` does with its placeholders filled in."""
    pattern = ""
    for literal, name, _, _ in Formatter().parse(template):
        pattern += re.escape(literal) + ("(?s:.*?)" if name is not None else "")
    return re.match(pattern, message) is not None


def allowed(text: str) -> set[str]:
    """What a message may say in Latin letters: what the file says, and what a reader writes in it."""
    return set(latin_words(text)) | VOCABULARY


def the_problem(case: Case, language: str, tmp_path) -> ConfigProblem:
    found = problems(case.text(language), tmp_path)
    template = texts(language, case.area)[case.key]
    matching = [p for p in found if worded_by(p.message, template)]
    assert matching, (case.key, [str(p) for p in found])
    return matching[0]


@pytest.mark.parametrize("case", CASES, ids=[f"{case.key}-{case.path}" for case in CASES])
def test_every_problem_is_reported_in_russian_at_its_place_and_in_english_for_english(case, tmp_path):
    problem = the_problem(case, "ru", tmp_path)
    assert (problem.file, problem.line, problem.path, problem.severity) == (
        str(tmp_path / "cfg.yaml"),
        case.line,
        case.path,
        case.severity,
    )
    text = case.text("ru")
    everything = problems(text, tmp_path)
    assert {str(p): foreign_words(shown(p), allowed(text)) for p in everything} == {
        str(p): [] for p in everything
    }
    english = the_problem(case, "en", tmp_path)
    assert (english.line, english.path) == (problem.line, problem.path)
    assert english.message != problem.message and foreign_words(english.message, allowed(case.text("en")))


def test_the_corpus_covers_every_config_text_a_check_can_produce():
    # Every entry of the `config` catalog is a problem (or a part of one) a check produces; each
    # whole message has a case above, the parts are exercised through them.
    parts = {
        "prefix_error",
        "prefix_warning",
        "did_you_mean",
        "expected_one_of",
        "got",
        "or",
        "no_trigger",
        "kind_empty",
        "kind_text",
        "kind_number",
        "kind_bool",
        "kind_list",
        "kind_mapping",
        "kind_date",
        "kind_other",
        "read_missing",
        "read_denied",
        "read_directory",
        "read_other",
    }
    unreachable = {"less_than", "schema_other", "yaml_other"}  # no field has `lt`; guards for the unforeseen
    special = {"cannot_read", "not_utf8", "empty_file", "not_mapping"}  # below: no language to read
    online = {key for key in CATALOGS["ru"]["config"] if key.startswith("online_")}  # test_check_online_…
    covered = {case.key for case in CASES} | parts | unreachable | special | online
    assert set(CATALOGS["ru"]["config"]) - covered == set()


def test_no_text_of_a_config_problem_or_a_run_banner_is_english():
    # The catalog itself, placeholders left out: what a reader sees beside what they wrote.
    new_cli = ("online_", "serve_", "worker_", "gunicorn_", "hup_", "sandbox_", "fallback_", "config_")
    texts_ru = dict(CATALOGS["ru"]["config"]) | {
        k: v for k, v in CATALOGS["ru"]["cli"].items() if k.startswith(new_cli)
    }
    commands = {
        "Authorization",
        "Bearer",
        "H",
        "split",
        "hooks",
        "admin",
        "api",
        "v1",
        "crm_group",
        "department",
    }
    english = {
        key: foreign_words(_without_placeholders(text), VOCABULARY | commands)
        for key, text in texts_ru.items()
    }
    assert {key: words for key, words in english.items() if words} == {}


def _without_placeholders(template: str) -> str:
    return "".join(literal for literal, _, _, _ in Formatter().parse(template))


@pytest.mark.parametrize("language", ["ru", "en"])
def test_a_file_that_cannot_be_read_or_is_no_mapping_is_answered_in_the_default_or_its_language(
    tmp_path, language
):
    def refused(path) -> ConfigProblem:
        with pytest.raises(ConfigError) as caught:
            load_config(path)
        [problem] = caught.value.problems
        return problem

    words = texts(language, "config")
    broken = tmp_path / "broken.yaml"
    # Not UTF-8, yet a line says the language: the answer is in it.
    broken.write_bytes(f"language: {language}\nhead_of_sales: ".encode() + b"\xff\xfe\n")
    assert refused(broken).message == words["not_utf8"].format(offset=len(f"language: {language}\n") + 15)
    # A YAML syntax error: the tolerant line scan finds `language:` too.
    broken.write_text(f"language: {language}\nmanagers: [\n", encoding="utf-8")
    assert worded_by(refused(broken).message, words["yaml_bracket"])
    # No text or no language in it: the product's default, Russian.
    russian = texts("ru", "config")
    missing = refused(tmp_path / "nope.yaml")
    assert missing.message == russian["cannot_read"].format(reason=russian["read_missing"])
    assert refused(tmp_path).message == russian["cannot_read"].format(reason=russian["read_directory"])
    broken.write_text("", encoding="utf-8")
    assert (refused(broken).line, refused(broken).message) == (1, russian["empty_file"])
    broken.write_text("- a\n- b\n", encoding="utf-8")
    assert refused(broken).message == russian["not_mapping"].format(kind=russian["kind_list"])
    for problem in (missing, refused(broken)):
        assert foreign_words(problem.message, VOCABULARY) == []


def test_check_config_prints_the_russian_problems_with_file_line_and_path(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    case = next(c for c in CASES if c.key == "absence_overlap")
    (tmp_path / "cfg.yaml").write_text(case.text("ru"), encoding="utf-8")
    assert main(["check-config", "cfg.yaml"]) == 1
    assert capsys.readouterr().err == (
        "cfg.yaml:5: managers.ivanova.absences[1]: пересекается с absences[0] (2026-12-01..2026-12-10); "
        "объедините их в одно отсутствие или поправьте даты\n"
    )


def test_the_detector_catches_english_and_lets_the_files_own_words_through():
    # A guard on the guard: today's English fails it; Russian naming what the file says passes.
    text = CASES[0].text("ru")
    assert foreign_words("unknown time zone 'Europe/Moscow'", allowed(text)) == ["unknown", "time", "zone"]
    assert foreign_words("must be greater than 0 (got 0)", allowed(text)) == [
        "must",
        "be",
        "greater",
        "than",
        "got",
    ]
    assert foreign_words("«petrov» уже есть в members[0]; уберите повтор", allowed(text)) == []
    assert not worded_by("совсем другое", texts("ru", "config")["absence_overlap"])


ONLINE = """\
language: {language}
crm: {{type: amocrm, base_url: https://example.amocrm.ru}}
head_of_sales: head
managers:
  ivanova: {{crm_user_id: 1, name: Иванова Анна}}
  petrov: {{crm_user_id: 2}}
  head: {{crm_user_id: 404}}
pools:
  regions: {{members: [ivanova, petrov, {{crm_group: Отдел продж}}], strategy: weighted,
            junk: {{loss_reason: Спам}}}}
rules:
  - {{name: vip, when: {{field: {{Тип: Госсектр}}, field_id: {{"77": x}}, pipeline: Сервис}}, pool: regions}}
  - {{name: default, pool: regions}}
handoffs:
  - {{name: won, on_stage: {{stage: Договор, pipeline: Продажи}}, keep_hunter_in_field: Хантр, to: regions}}
  - {{name: late, after_days: 5, in_stage: Архив, to: regions}}
"""


def _inventory(*, pipelines: bool = True) -> CrmInventory:
    return CrmInventory(
        pipelines=(CrmPipeline("Продажи", ("Новый", "Договор подписан", "Спам")),) if pipelines else (),
        fields=(CrmField("5", "Тип", ("Госсектор", "Частный")), CrmField("6", "Хантер")),
        users=(CrmUser(11, "Иванова Анна"), CrmUser(2, "Петров", active=False)),
        team=(CrmPerson(11, "Иванова Анна", teams=("Отдел продаж",)),),
        loss_reasons=() if pipelines else ("Дубль", "Спамм"),
    )


@pytest.mark.parametrize("pipelines", [True, False], ids=["pipelines", "no pipelines"])
def test_check_online_names_what_the_crm_lacks_in_the_files_language(tmp_path, pipelines):
    found = {}
    for language in ("ru", "en"):
        path = tmp_path / f"{language}.yaml"
        path.write_text(ONLINE.format(language=language), encoding="utf-8")
        loaded = load_config(path)
        report = Reporter(str(path), read_source(path).index, loaded.policy.language)
        check_online(loaded.document, _inventory(pipelines=pipelines), report)
        found[language] = report.errors
    text = ONLINE.format(language="ru")
    assert [(p.line, p.path) for p in found["ru"]] == [(p.line, p.path) for p in found["en"]]
    assert {p.path: foreign_words(p.message, allowed(text)) for p in found["ru"]} == {
        p.path: [] for p in found["ru"]
    }
    assert all(foreign_words(p.message, allowed(text)) for p in found["en"])
    russian = {p.path: p.message for p in found["ru"]}
    assert russian["managers.ivanova.crm_user_id"] == (
        "в CRM нет пользователя с номером 1; у «Иванова Анна» номер 11; поправьте crm_user_id "
        "(список выводит leadrouter users)"
    )
    assert russian["managers.petrov.crm_user_id"].startswith("пользователь CRM 2 (Петров) деактивирован")
    assert russian["pools.regions.members[2]"] == (
        "в CRM не найдено: группа пользователей amoCRM «Отдел продж» (в такой команде никого нет); "
        "может быть, «Отдел продаж»?"
    )
    assert russian["rules[0].when.field.Тип"] == (
        "в CRM не найдено: значение поля «Тип» «Госсектр»; может быть, «Госсектор»?"
    )
    assert russian["rules[0].when.field_id.77"] == "в CRM не найдено: номер дополнительного поля «77»"
    assert russian["handoffs[0].keep_hunter_in_field"].startswith(
        "в CRM не найдено: дополнительное поле «Хантр»"
    )
    if pipelines:
        assert russian["rules[0].when.pipeline"] == "в CRM не найдено: воронка «Сервис»"
        assert russian["handoffs[0].on_stage.stage"] == (
            "в CRM не найдено: этап «Договор» в воронке «Продажи»; может быть, «Договор подписан»?"
        )
        assert russian["handoffs[1].in_stage.stage"] == "в CRM не найдено: этап «Архив»"
        assert russian["pools.regions.junk.loss_reason"] == (
            "в CRM не найдено: причина отказа «Спам» — CRM не знает ни одной причины (amoCRM: её "
            "собственные причины отказа; Bitrix24: поле-список «Причина отказа»); есть этап «Спам»: "
            "напишите junk: {stage: Спам}"
        )
    else:
        assert russian["rules[0].when.pipeline"] == (
            "воронка «Сервис»: у лидов этой CRM воронок нет; уберите pipeline"
        )
        assert russian["handoffs[0].on_stage.pipeline"].startswith("воронка «Продажи»: у лидов")
        assert russian["pools.regions.junk.loss_reason"] == (
            "в CRM не найдено: причина отказа «Спам»; может быть, «Спамм»?"
        )


def test_check_online_lists_pools_following_a_team_in_the_files_language(tmp_path):
    path = tmp_path / "team.yaml"
    text = ONLINE.format(language="ru").replace(
        "[ivanova, petrov, {crm_group: Отдел продж}], strategy: weighted", "{crm_group: Пустой отдел}"
    )
    path.write_text(text, encoding="utf-8")
    team = (CrmPerson(2, "Петров", active=False, teams=("Пустой отдел",)),)
    inventory = CrmInventory(pipelines=(), fields=(), users=(), team=team)
    policy = load_config(path).policy
    assert resolved_teams(policy, inventory, texts("ru", "cli")) == [
        "  regions ← «Пустой отдел»: никого (не могут быть ответственными: petrov)"
    ]
    assert resolved_teams(policy, inventory, texts("en", "cli")) == [
        "  regions ← «Пустой отдел»: nobody (cannot own leads: petrov)"
    ]
