"""The hook check in the real worker, against the amoCRM emulator: a disabled or deleted webhook is
noticed within one period, re-enabled, audited and recorded; a hook that cannot be repaired is
audited once; the check never dies (issue 19, item 3)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from adapters.amocrm.admin import build_admin
from adapters.storage.audit import read_audit
from adapters.storage.hookstate import hook_state, record_install, record_uninstall
from adapters.storage.queue import FAILED
from adapters.storage.tables import jobs
from core.kinds import JobKind
from sandbox.amocrm import AmoEmulator
from tests.fakes.crm import FakeCrm
from tests.integration.helpers import Clock, make_worker, team_policy

SECRET = "check-Secret-31"
PUBLIC = "https://router.example.ru"
OURS = f"{PUBLIC}/hooks/amocrm/{SECRET}"


@pytest.fixture
def emu() -> Iterator[AmoEmulator]:
    with AmoEmulator(rate=None, hook_threads=1) as emulator:
        yield emulator


def setup(engine, emu, token: str | None = None):
    clock = Clock()
    worker = make_worker(engine, FakeCrm(), clock, team_policy())
    crm = {"type": "amocrm", "base_url": emu.url, "rate_limit_per_second": 1000}
    secrets = {"amocrm_token": token or emu.admin_token(), "webhook_secret": SECRET}
    worker.ctx.hooks = build_admin(crm=crm, secrets=secrets, engine=engine)
    worker.keep_reconciling(clock())  # queues the hook check, as every worker loop does
    return worker, clock


def check(worker, clock, minutes: float = 1) -> None:
    """One period later: the check is due and runs."""
    clock.advance(minutes=minutes)
    worker.run_once()


def installed(engine, emu, clock) -> None:
    emu.subscribe(OURS, ["add_lead", "update_lead", "status_lead", "responsible_lead", "delete_lead"])
    with engine.begin() as connection:
        record_install(connection, "amocrm", PUBLIC, clock())


def state(engine):
    with engine.connect() as connection:
        return hook_state(connection, "amocrm")


def test_a_healthy_hook_is_recorded_ok_and_nothing_is_audited(engine, emu):
    worker, clock = setup(engine, emu)
    installed(engine, emu, clock)
    worker.run_once()
    now = state(engine)
    assert (now.state, now.checked_at, now.repairs) == ("ok", clock(), 0)
    assert read_audit(engine, kinds=("hook_repaired", "hook_down")) == []


def test_a_disabled_hook_is_re_enabled_within_one_period_and_audited(engine, emu):
    worker, clock = setup(engine, emu)
    installed(engine, emu, clock)
    worker.run_once()
    emu.account.webhooks[OURS].disabled = True  # more than 100 failed deliveries in 2 hours
    check(worker, clock, minutes=0.5)
    assert emu.account.webhooks[OURS].disabled  # not due yet: the period is a minute
    check(worker, clock, minutes=0.5)
    assert not emu.account.webhooks[OURS].disabled
    now = state(engine)
    assert (now.state, now.repaired_at, now.repaired, now.repairs) == (
        "ok",
        clock(),
        "the webhook is disabled",
        1,
    )
    (entry,) = read_audit(engine, kinds=("hook_repaired",))
    assert entry.crm == "amocrm" and "re-enabled" in entry.message and SECRET not in entry.message


def test_a_deleted_hook_is_registered_again_at_the_url_install_recorded(engine, emu):
    worker, clock = setup(engine, emu)
    installed(engine, emu, clock)
    del emu.account.webhooks[OURS]  # an admin deleted it in the UI
    worker.run_once()
    assert OURS in emu.account.webhooks and state(engine).repairs == 1


def test_a_hook_that_cannot_be_repaired_is_down_and_audited_once(engine, emu):
    worker, clock = setup(engine, emu)  # no hook, and `install` never recorded a URL
    worker.run_once()
    check(worker, clock)
    check(worker, clock)
    now = state(engine)
    assert now.state == "down" and now.since == clock() - timedelta(minutes=2)
    assert "leadrouter install" in now.error and now.problem == "no webhook of ours is registered"
    (entry,) = read_audit(engine, kinds=("hook_down",))
    assert "could not be repaired" in entry.message
    with engine.begin() as connection:  # someone runs `leadrouter install` at last
        record_install(connection, "amocrm", PUBLIC, clock())
    check(worker, clock)
    assert (state(engine).state, state(engine).since) == ("ok", None)


def test_an_uninstalled_hook_is_left_alone(engine, emu):
    worker, clock = setup(engine, emu)
    with engine.begin() as connection:
        record_install(connection, "amocrm", PUBLIC, clock())
        record_uninstall(connection, "amocrm", clock())
    worker.run_once()
    assert emu.account.webhooks == {} and state(engine).state == "unchecked"


def test_without_admin_rights_the_state_is_unknown_and_the_crm_is_not_called_down(engine, emu):
    worker, _ = setup(engine, emu, token=emu.tokens.long_lived(504141))
    worker.run_once()
    now = state(engine)
    assert now.state == "unknown" and "rights" in now.error
    assert read_audit(engine, kinds=("crm_down",)) == []


def test_a_crm_outage_makes_the_check_wait_never_fail(engine, emu):
    worker, clock = setup(engine, emu)
    installed(engine, emu, clock)
    worker.ctx.hooks.http.attempts = 1  # no in-call retries: the worker's own waiting is under test
    emu.faults.fail_next = 10_000  # every call answers 503
    for _ in range(10):
        check(worker, clock)
    with engine.connect() as connection:
        kinds = connection.execute(select(jobs.c.state).where(jobs.c.kind == JobKind.HOOK_CHECK)).scalars()
        assert list(kinds) == ["pending"]
    assert state(engine).state == "unknown" and read_audit(engine, kinds=("crm_down",))
    emu.faults.fail_next = 0
    emu.account.webhooks[OURS].disabled = True
    check(worker, clock)
    assert not emu.account.webhooks[OURS].disabled and state(engine).state == "ok"


def test_the_check_can_never_die_a_lost_job_is_queued_again(engine, emu):
    worker, clock = setup(engine, emu)
    installed(engine, emu, clock)
    worker.run_once()
    with engine.begin() as connection:  # as if it had failed for good in an earlier version
        connection.execute(update(jobs).where(jobs.c.kind == JobKind.HOOK_CHECK).values(state=FAILED))
    emu.account.webhooks[OURS].disabled = True
    clock.advance(seconds=worker.options.reconcile_check)
    worker.keep_reconciling(clock())
    worker.run_once()
    assert not emu.account.webhooks[OURS].disabled


def test_the_period_comes_from_the_config(engine, emu):
    worker, clock = setup(engine, emu)
    installed(engine, emu, clock)
    worker.ctx.hook_every = lambda: timedelta(minutes=5)
    worker.run_once()
    emu.account.webhooks[OURS].disabled = True
    check(worker, clock, minutes=4)
    assert emu.account.webhooks[OURS].disabled
    check(worker, clock, minutes=1)
    assert not emu.account.webhooks[OURS].disabled


def test_a_worker_that_starts_checks_at_once_not_a_period_later(engine, emu):
    worker, clock = setup(engine, emu)
    installed(engine, emu, clock)
    worker.run_once()  # checked; the next check is due in a minute
    emu.account.webhooks[OURS].disabled = True  # failed deliveries while the service restarted
    restarted = make_worker(engine, FakeCrm(), clock, team_policy(), name="w2")
    restarted.ctx.hooks = worker.ctx.hooks
    restarted.keep_reconciling(clock())
    restarted.run_once()
    assert not emu.account.webhooks[OURS].disabled and state(engine).repairs == 1
