"""A person's responsible change: an override, never fought back; counted toward the new owner's
share only when `overrides.count_toward_share` says so — in the pool's counters and on the split."""

from __future__ import annotations

import pytest

from adapters.storage.audit import read_audit
from tests.web.conftest import CONFIG, CRM_EXTRA, make_stack
from tests.web.test_admin import route
from tests.web.test_hooks import amo_add, amo_responsible, seed
from webhook_app.web.admin.readmodel import split

WEIGHTED = CONFIG.replace("strategy: round_robin", "strategy: weighted")


def stack_with(tmp_path, counted: bool):
    stack = make_stack(tmp_path)
    text = WEIGHTED + ("overrides: {count_toward_share: true}\n" if counted else "")
    stack.services.config.path.write_text(text % {"crm": "amocrm", "crm_extra": CRM_EXTRA["amocrm"]}, "utf-8")
    stack.services.config.reload("test")
    return stack


def today(stack) -> dict[str, int]:
    services = stack.services
    pools = split(services.engine, services.config.policy(), stack.clock(), "today")
    return {m.manager: m.received for m in pools[0].members if m.received}


@pytest.mark.parametrize("counted", [False, True])
def test_an_override_is_recorded_never_fought_and_counted_only_when_configured(tmp_path, counted):
    stack = stack_with(tmp_path, counted)
    assert route(stack, "1") == [101]  # Иванова
    writes = len(stack.crm.writes)
    assert stack.hook(amo_responsible("1", 102)).status_code == 200  # the head gives it to Петров
    stack.worker.run_once()
    override = read_audit(stack.services.engine, lead_id="1", kinds=("override",))
    assert len(override) == 1 and len(stack.crm.writes) == writes  # recorded, not fought back
    if counted:
        assert (
            override[0].message
            == "ответственный изменён в CRM вручную: Петров; засчитано Петров в пуле «sales»"
        )
        assert today(stack) == {"petrov": 1}
        # Петров has had his share: the next lead goes to Иванова.
        assert route(stack, "2") == [101]
    else:
        assert override[0].message == "ответственный изменён в CRM вручную: Петров"
        assert today(stack) == {"ivanova": 1}
        assert route(stack, "2") == [102]


def test_a_counted_override_in_the_same_pass_as_new_leads_is_seen_by_them(tmp_path):
    stack = stack_with(tmp_path, True)
    assert route(stack, "1") == [101]
    seed(stack, "2")
    # The override and a new lead arrive together: one worker pass decides both.
    assert stack.hook(amo_responsible("1", 102)).status_code == 200
    assert stack.hook(amo_add("2")).status_code == 200
    stack.worker.run_once()
    assert stack.crm.owner_of("2") == 101
    assert today(stack) == {"petrov": 1, "ivanova": 1}
