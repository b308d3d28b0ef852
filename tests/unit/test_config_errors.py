"""Every kind of mistake is reported as `FILE:LINE: path: message`, all of them at once."""

from __future__ import annotations

import textwrap

import pytest

from webhook_app.config import ConfigError, load_config

BASE = """\
crm: {type: amocrm, base_url: https://example.amocrm.ru}
head_of_sales: head
managers:
  ivanova: {crm_user_id: 1}
  petrov: {crm_user_id: 2}
  head: {crm_user_id: 3}
pools:
  regions: {members: [ivanova, petrov], strategy: weighted}
rules:
  - {name: default, pool: regions}
"""


@pytest.fixture
def errors(tmp_path, monkeypatch):
    """Load a config written as cfg.yaml (in `language`; None: naming none) and return its problems as
    printed lines."""
    monkeypatch.chdir(tmp_path)

    def run(text: str, language: str | None = "en") -> list[str]:
        # English by default, the last line (no line number moves): the wording these tests quote.
        # Russian, the default of a file naming no language, is swept in test_config_in_russian.py.
        text = textwrap.dedent(text)
        if language is not None:
            text = text.rstrip("\n") + f"\nlanguage: {language}\n"
        (tmp_path / "cfg.yaml").write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError) as caught:
            load_config("cfg.yaml")
        assert str(caught.value) == "\n".join(str(p) for p in caught.value.problems)
        return [str(p) for p in caught.value.problems]

    return run


def test_the_base_config_is_valid(tmp_path):
    (tmp_path / "cfg.yaml").write_text(BASE, encoding="utf-8")
    assert load_config(tmp_path / "cfg.yaml").warnings == []


def test_a_duplicate_manager_key_names_both_lines(errors):
    text = BASE.replace(
        "  head: {crm_user_id: 3}\n", "  head: {crm_user_id: 3}\n  ivanova: {crm_user_id: 4}\n"
    )
    assert errors(text) == ["cfg.yaml:7: managers.ivanova: duplicate key 'ivanova' (first at line 4)"]


def test_a_duplicate_pool_key_is_an_error(errors):
    text = BASE.replace("rules:", "  regions: {members: [head]}\nrules:")
    assert errors(text) == ["cfg.yaml:9: pools.regions: duplicate key 'regions' (first at line 8)"]


def test_a_typo_in_a_field_is_named_with_a_suggestion(errors):
    text = BASE.replace("petrov: {crm_user_id: 2}", "petrov: {crm_user_id: 2, wieght: 2}")
    assert errors(text, language=None) == [
        "cfg.yaml:5: managers.petrov.wieght: неизвестное поле «wieght»; может быть, «weight»?"
    ]


def test_every_schema_error_is_collected_not_just_the_first(errors):
    text = BASE.replace("{crm_user_id: 1}", "{crm_user_id: 0}").replace("{crm_user_id: 2}", "{weight: 0}")
    assert errors(text) == [
        "cfg.yaml:4: managers.ivanova.crm_user_id: must be greater than or equal to 1 (got 0)",
        "cfg.yaml:5: managers.petrov.crm_user_id: required field is missing",
        "cfg.yaml:5: managers.petrov.weight: must be greater than 0 (got 0)",
    ]


def test_a_pool_weight_of_zero_is_refused(errors):
    text = BASE.replace("strategy: weighted}", "strategy: weighted, weights: {petrov: 0}}")
    assert errors(text) == ["cfg.yaml:8: pools.regions.weights.petrov: must be greater than 0 (got 0)"]


def test_an_unknown_pool_member_is_named_with_its_index(errors):
    text = BASE.replace("[ivanova, petrov]", "[ivanova, petrova]")
    assert errors(text, language=None) == [
        "cfg.yaml:8: pools.regions.members[1]: неизвестный менеджер «petrova»; может быть, «petrov»?"
    ]


def test_a_duplicate_pool_member_is_an_error(errors):
    text = BASE.replace("[ivanova, petrov]", "[ivanova, petrov, ivanova]")
    assert errors(text) == [
        "cfg.yaml:8: pools.regions.members[2]: duplicate member 'ivanova' (already members[0])"
    ]


def test_an_unknown_strategy_lists_the_valid_ones(errors):
    text = BASE.replace("strategy: weighted", "strategy: fair")
    expected = "expected one of: claim, least_loaded, manual, round_robin, sticky, weighted"
    assert errors(text) == [f"cfg.yaml:8: pools.regions.strategy: unknown strategy 'fair'; {expected}"]


def test_a_duplicate_crm_user_id_is_an_error(errors):
    text = BASE.replace("{crm_user_id: 2}", "{crm_user_id: 1}")
    assert errors(text) == [
        "cfg.yaml:5: managers.petrov.crm_user_id: crm_user_id 1 is already used by 'ivanova'"
    ]


ABSENCES = BASE.replace(
    "  petrov: {crm_user_id: 2}\n",
    """\
  petrov:
    crm_user_id: 2
    absences:
      - {from: 2026-12-01, to: 2026-12-14, substitute: ivanova}
      - {from: 2026-12-10, to: 2026-12-20, substitute: ivanova}
""",
)


def test_overlapping_absences_of_one_manager_are_an_error(errors):
    assert errors(ABSENCES) == [
        "cfg.yaml:9: managers.petrov.absences[1]: overlaps absences[0] (2026-12-01..2026-12-14)"
    ]


def test_an_absence_ending_before_it_starts_is_an_error(errors):
    text = ABSENCES.replace("{from: 2026-12-10, to: 2026-12-20", "{from: 2026-12-30, to: 2026-12-20")
    assert errors(text) == [
        "cfg.yaml:9: managers.petrov.absences[1].to: 'to' 2026-12-20 is before 'from' 2026-12-30"
    ]


def test_a_manager_cannot_substitute_for_themself(errors):
    text = ABSENCES.replace("2026-12-20, substitute: ivanova", "2027-01-20, substitute: petrov").replace(
        "2026-12-10", "2027-01-10"
    )
    assert errors(text) == [
        "cfg.yaml:9: managers.petrov.absences[1].substitute: a manager cannot substitute for themself"
    ]


def test_an_unknown_substitute_is_an_error(errors):
    text = ABSENCES.replace("2026-12-14, substitute: ivanova", "2026-12-14, substitute: sidorov")
    assert (
        errors(text, language=None)[0]
        == "cfg.yaml:8: managers.petrov.absences[0].substitute: неизвестный менеджер «sidorov»"
    )


def test_a_rule_after_a_catch_all_is_unreachable(errors):
    text = BASE + "  - {name: vip, when: {price: {gte: 1000000}}, pool: regions}\n"
    assert errors(text) == [
        "cfg.yaml:11: rules[1]: unreachable: rule 'default' (line 10) above matches every lead"
    ]


def test_duplicate_rule_names_are_an_error(errors):
    text = BASE.replace("rules:\n", "rules:\n  - {name: default, when: {city: Москва}, pool: regions}\n")
    assert errors(text) == ["cfg.yaml:11: rules[1].name: duplicate rule name 'default' (first at line 10)"]


def test_an_unknown_pool_in_a_rule_is_an_error(errors):
    text = BASE.replace("{name: default, pool: regions}", "{name: default, pool: region}")
    assert errors(text, language=None) == [
        "cfg.yaml:10: rules[0].pool: неизвестный пул «region»; может быть, «regions»?"
    ]


def test_an_unknown_condition_operator_lists_the_valid_ones(errors):
    text = BASE.replace(
        "rules:\n", "rules:\n  - name: vip\n    when: {price: {gte: 5, gtee: 1}}\n    pool: regions\n"
    )
    ops = "equals, in, prefix, contains, regex, gte, gt, lte, lt, exists"
    assert errors(text, language=None) == [
        f"cfg.yaml:11: rules[0].when.price.gtee: неизвестный оператор «gtee»; допустимы: {ops}"
    ]


def test_an_unknown_lead_field_in_a_condition_is_an_error(errors):
    text = BASE.replace("rules:\n", "rules:\n  - {name: x, when: {regoin: Москва}, pool: regions}\n")
    (line,) = errors(text, language=None)
    assert line.startswith(
        "cfg.yaml:10: rules[0].when.regoin: неизвестное поле «regoin»; допустимы: id, name"
    )


def test_an_invalid_regex_is_an_error(errors):
    text = BASE.replace("rules:\n", "rules:\n  - {name: x, when: {name: {regex: '(('}}, pool: regions}\n")
    (line,) = errors(text)
    assert line.startswith("cfg.yaml:10: rules[0].when.name.regex: invalid regular expression /((/")


def test_an_unknown_time_zone_is_an_error(errors):
    text = BASE.replace("{crm_user_id: 2}", "{crm_user_id: 2, timezone: Europe/Moskva}")
    assert errors(text) == [
        "cfg.yaml:5: managers.petrov.timezone: "
        "unknown time zone 'Europe/Moskva' (use an IANA name like Europe/Moscow)"
    ]


def test_a_malformed_schedule_is_named(errors):
    text = BASE.replace("{crm_user_id: 2}", '{crm_user_id: 2, schedule: {mon-fri: "9-18"}}')
    assert errors(text) == [
        "cfg.yaml:5: managers.petrov.schedule.mon-fri: '9-18' is not HH:MM-HH:MM (or off)"
    ]


def test_an_empty_interval_is_an_error(errors):
    text = BASE.replace("{crm_user_id: 2}", '{crm_user_id: 2, schedule: {sat: "10:00-10:00"}}')
    assert errors(text) == [
        "cfg.yaml:5: managers.petrov.schedule.sat: '10:00-10:00' is empty: start equals end"
    ]


def test_sticky_options_on_a_weighted_pool_are_an_error(errors):
    text = BASE.replace("strategy: weighted}", "strategy: weighted, sticky: {key: region}}")
    assert errors(text) == [
        "cfg.yaml:8: pools.regions.sticky: 'sticky' only applies to strategy sticky (this pool is weighted)"
    ]


def test_a_claim_pool_without_claim_user_is_an_error(errors):
    text = BASE.replace("strategy: weighted", "strategy: claim")
    assert errors(text) == [
        "cfg.yaml:8: pools.regions: a claim pool needs claim_user: the shared CRM user leads wait on"
    ]


def test_a_manual_pool_without_any_head_is_an_error(errors):
    text = BASE.replace("head_of_sales: head\n", "").replace("strategy: weighted", "strategy: manual")
    assert errors(text) == [
        "cfg.yaml:7: pools.regions: a manual pool needs a head: set head here or head_of_sales at the top"
    ]


def test_overlapping_sticky_ranges_are_an_error(errors):
    text = BASE.replace(
        "strategy: weighted}", "strategy: sticky, sticky: {ranges: {ivanova: А-К, petrov: [Ё-Я]}}}"
    )
    assert errors(text) == [
        "cfg.yaml:8: pools.regions.sticky.ranges.petrov[0]: 'Ё-Я' overlaps 'А-К' of 'ivanova'"
    ]


def test_a_sticky_value_given_to_two_members_is_an_error(errors):
    text = BASE.replace(
        "strategy: weighted}",
        "strategy: sticky, sticky: {key: region, values: {ivanova: [Москва], petrov: [МОСКВА]}}}",
    )
    assert errors(text) == [
        "cfg.yaml:8: pools.regions.sticky.values.petrov[0]: 'МОСКВА' is already given to 'ivanova'"
    ]


def test_a_fallback_name_that_is_both_a_pool_and_a_manager_is_an_error(errors):
    text = BASE.replace("head: {crm_user_id: 3}", "head: {crm_user_id: 3}\n  regions: {crm_user_id: 4}")
    text += "nobody_available: {then: regions}\n"
    (line,) = errors(text)
    assert line == (
        "cfg.yaml:12: nobody_available.then: 'regions' is both a pool and a manager; "
        "rename one so the fallback is clear"
    )


def test_an_unknown_head_of_sales_is_an_error(errors):
    text = BASE.replace("head_of_sales: head", "head_of_sales: boss")
    assert errors(text, language=None) == ["cfg.yaml:2: head_of_sales: неизвестный менеджер «boss»"]


def test_a_handoff_needs_exactly_one_trigger_and_a_known_pool(errors):
    text = BASE + "handoffs:\n  - {name: won, on_stage: Won, unworked_minutes: 5, to: farmers}\n"
    assert errors(text) == [
        "cfg.yaml:12: handoffs[0]: needs exactly one trigger: on_stage, after_days or unworked_minutes "
        "(found: on_stage, unworked_minutes)",
        "cfg.yaml:12: handoffs[0].to: unknown pool 'farmers'",
    ]


def test_next_in_pool_and_max_hops_belong_to_sla_handoffs_only(errors):
    text = BASE + "handoffs:\n  - {name: won, on_stage: Won, to: next_in_pool, max_hops: 2}\n"
    assert errors(text) == [
        "cfg.yaml:12: handoffs[0].max_hops: 'max_hops' only applies to an SLA handoff (unworked_minutes)",
        "cfg.yaml:12: handoffs[0].to: 'next_in_pool' only applies to an SLA handoff (unworked_minutes)",
    ]


def test_duplicate_handoff_names_and_unknown_never_move_are_errors(errors):
    text = BASE + (
        "handoffs:\n"
        "  - {name: won, on_stage: Won, to: regions}\n"
        "  - {name: won, after_days: 30, in_stage: Won, to: regions, never_move: [boss]}\n"
    )
    assert errors(text) == [
        "cfg.yaml:13: handoffs[1].name: duplicate handoff name 'won' (first at line 12)",
        "cfg.yaml:13: handoffs[1].never_move[0]: unknown manager 'boss'",
    ]


def test_a_secret_in_the_yaml_is_refused_without_echoing_it(errors):
    text = BASE.replace("https://example.amocrm.ru}", "https://example.amocrm.ru, token: s3cr3t-value}")
    (line,) = errors(text, language=None)
    assert line.startswith("cfg.yaml:1: crm.token: неизвестное поле «token»: секреты задаются в окружении")
    assert "s3cr3t-value" not in line


def test_a_yaml_syntax_error_names_its_line(errors):
    text = BASE.replace("  petrov: {crm_user_id: 2}", "  petrov: {crm_user_id: 2")
    (line,) = errors(text)
    # The line of the brace left open, and the column of that brace.
    assert line == (
        "cfg.yaml:5: invalid YAML at column 11: a [ ] or { } list is not closed or lacks a comma "
        "between its items"
    )


def test_a_control_character_names_its_line(errors):
    # PyYAML's reader refuses it before parsing; it used to escape as a bare ReaderError (a 500 in the API).
    text = BASE.replace("  petrov: {crm_user_id: 2}", "  petrov: {crm_user_id: 2}\x10")
    assert errors(text) == [
        "cfg.yaml:5: invalid YAML: character #x0010 is not allowed (special characters are not allowed)"
    ]


def test_an_impossible_date_names_its_line(errors):
    text = BASE + "holidays: [2026-01-01, 2026-13-45]\n"
    (line,) = errors(text)
    assert line.startswith("cfg.yaml:11: holidays[1]: '2026-13-45' is not a valid date")


def test_a_root_that_is_not_a_mapping_is_refused(errors):
    # No mapping, no `language:`: the product's default, Russian.
    assert errors("- a\n- b\n", language=None) == [
        "cfg.yaml:1: конфигурация состоит из разделов вида «ключ: значение» (crm:, managers:, pools:, "
        "rules:), а в файле список"
    ]


def test_a_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "nope.yaml")
    (problem,) = caught.value.problems
    assert problem.line is None
    assert str(problem).endswith(": не удалось прочитать конфигурацию: такого файла нет; проверьте путь")


def test_warnings_do_not_stop_the_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = BASE.replace("head_of_sales: head\n", "").replace(
        "{name: default,", "{name: default, when: {city: X},"
    )
    text += "  - {name: moscow, when: {city: Москва}, pool: regions}\n"
    text = text.replace("pools:\n", "pools:\n  spare: {members: [ivanova]}\n")
    (tmp_path / "cfg.yaml").write_text(text, encoding="utf-8")
    warnings = [str(w) for w in load_config("cfg.yaml").warnings]
    assert warnings == [
        "cfg.yaml:1: nobody_available: предупреждение: нет ни head_of_sales, ни nobody_available.then: "
        "лид, который никто не может взять, перепроверяется каждый час",
        "cfg.yaml:5: managers.head: предупреждение: «head» не входит ни в один пул и нигде не используется",
        "cfg.yaml:7: pools.spare: предупреждение: "
        "ни одно правило и ни одна передача не направляют лиды в пул «spare»",
        "cfg.yaml:9: rules: предупреждение: "
        "нет правила для всех лидов: лид, не подошедший ни одному правилу, уходит в резерв",
    ]


def test_two_handoffs_on_one_stage_are_refused_because_the_second_never_runs(errors):
    text = BASE + (
        "handoffs:\n"
        "  - {name: a, on_stage: {pipeline: Продажи, stage: Договор подписан}, to: regions}\n"
        "  - {name: b, on_stage: договор подписан, to: regions}\n"
    )
    assert errors(text) == [
        "cfg.yaml:13: handoffs[1].on_stage: never runs: handoffs[0] (line 12) already fires on stage "
        "'Договор подписан'"
    ]


def test_an_sla_longer_than_any_working_week_is_an_impossible_timing(errors):
    text = BASE.replace(
        "head: {crm_user_id: 3}", 'head: {crm_user_id: 3, schedule: {mon-fri: "09:00-18:00"}}'
    )
    text = text.replace(
        "ivanova: {crm_user_id: 1}", 'ivanova: {crm_user_id: 1, schedule: {mon: "09:00-10:00"}}'
    )
    text = text.replace(
        "petrov: {crm_user_id: 2}", 'petrov: {crm_user_id: 2, schedule: {mon: "09:00-10:00"}}'
    )
    text += "handoffs:\n  - {name: sla, unworked_minutes: 3000, to: next_in_pool}\n"
    assert errors(text) == [
        "cfg.yaml:12: handoffs[0].unworked_minutes: impossible timing: 3000 working minutes is longer than "
        "the longest working week in the config (2700 min); the SLA would never expire"
    ]
