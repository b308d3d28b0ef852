"""`members: {crm_group: NAME}` / `{department: NAME}`: a pool following a CRM team, alone or with
named managers; every mistake named at its line, as with every other key."""

from __future__ import annotations

import textwrap

import pytest

from core.model import CrmLoad
from webhook_app.config import ConfigError, load_config
from webhook_app.config.summary import render_summary

HEAD = """\
language: en
crm: {type: %s, base_url: https://example.test}
head_of_sales: head
managers:
  ivanova: {crm_user_id: 1}
  head: {crm_user_id: 3}
pools:
"""
RULES = """\
rules:
  - {name: default, pool: sales}
"""


def write(tmp_path, pools: str, crm: str = "amocrm"):
    path = tmp_path / "cfg.yaml"
    path.write_text(HEAD % crm + textwrap.indent(textwrap.dedent(pools), "  ") + RULES, encoding="utf-8")
    return path


def problems(tmp_path, pools: str, crm: str = "amocrm") -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, pools, crm))
    return [str(p).split("cfg.yaml", 1)[1] for p in caught.value.problems]


def test_a_pool_follows_a_crm_group_alone_or_with_named_managers(tmp_path):
    alone = load_config(write(tmp_path, "  sales: {members: {crm_group: Отдел продаж}}\n")).policy
    assert alone.pools["sales"].members == () and alone.pools["sales"].crm_team == "Отдел продаж"
    assert alone.newcomer is not None and alone.newcomer.tz == alone.tz
    mixed = """\
      sales:
        members:
          - ivanova
          - {crm_group: Отдел продаж}
          - head
    """
    loaded = load_config(write(tmp_path, mixed))
    assert loaded.policy.pools["sales"].members == ("ivanova", "head")
    assert "+ the CRM team «Отдел продаж»" in "\n".join(render_summary(loaded))
    dept = load_config(write(tmp_path, "  sales: {members: [{department: Продажи}]}\n", "bitrix24")).policy
    assert dept.pools["sales"].crm_team == "Продажи"


def test_mistakes_in_a_crm_team_are_named_at_their_line(tmp_path):
    pools = """\
      sales:
        members:
          - {crm_grup: Отдел продаж}
    """
    assert problems(tmp_path, pools) == [
        ":10: pools.sales.members[0].crm_grup: unknown field 'crm_grup'; did you mean 'crm_group'?"
    ]
    assert problems(tmp_path, "  sales: {members: {department: Продажи}}\n") == [
        ":8: pools.sales.members.department: "
        "'department' is not an amoCRM team; write {crm_group: NAME} instead"
    ]
    assert problems(tmp_path, "  sales: {members: [{crm_group: Продажи}]}\n", "bitrix24") == [
        ":8: pools.sales.members[0].crm_group: "
        "'crm_group' is not a Bitrix24 team; write {department: NAME} instead"
    ]
    both = problems(tmp_path, "  sales: {members: {crm_group: A, department: B}}\n")
    assert both == [
        ":8: pools.sales.members: expected one of {crm_group: NAME} (amoCRM) or {department: NAME} (Bitrix24)"
    ]
    assert problems(tmp_path, "  sales: {members: [{crm_group: A}, {crm_group: B}]}\n") == [
        ":8: pools.sales: members[1]: a pool follows one CRM team; name the others' people"
    ]


def test_named_members_after_a_crm_team_keep_their_own_line_and_index(tmp_path):
    pools = """\
      sales:
        members:
          - {crm_group: Отдел продаж}
          - ivanova
          - nobody
          - ivanova
    """
    found = problems(tmp_path, pools)
    assert found[0].startswith(":12: pools.sales.members[2]: unknown manager 'nobody'")
    assert found[1] == ":13: pools.sales.members[3]: duplicate member 'ivanova' (already members[1])"


def test_a_sticky_pool_partitions_named_people_only(tmp_path):
    found = problems(tmp_path, "  sales: {strategy: sticky, members: [ivanova, {crm_group: X}]}\n")
    assert found == [
        ":8: pools.sales.members[1]: "
        "a sticky pool partitions among people named in the config, not a CRM team"
    ]


def test_load_from_the_crm_is_written_as_a_word_or_with_the_weight_of_overdue_tasks(tmp_path):
    pools = "  sales: {members: [ivanova], strategy: least_loaded}\n"
    path = write(tmp_path, pools)
    text = path.read_text(encoding="utf-8")
    assert load_config(path).policy.crm_load is None  # leads received, as before
    path.write_text(text + "load: crm\n", encoding="utf-8")
    assert load_config(path).policy.crm_load == CrmLoad(0.0, 5)
    path.write_text(text + "load: {from: crm, overdue_tasks: 0.5, refresh_minutes: 2}\n", encoding="utf-8")
    spec = load_config(path).policy.crm_load
    assert spec == CrmLoad(0.5, 2) and spec.open_of(3, 3) == 5  # 3 deals + 1.5 tasks, rounded
    path.write_text(text + "load: {from: amo, overdue_tasks: -1}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert [str(p).split("cfg.yaml", 1)[1] for p in caught.value.problems] == [
        ":11: load.from: must be 'received' or 'crm' (got 'amo')",
        ":11: load.overdue_tasks: must be greater than or equal to 0 (got -1)",
    ]
