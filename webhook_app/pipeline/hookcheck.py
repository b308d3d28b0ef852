"""The hook check: is our webhook in the CRM still there, enabled, subscribed to every event we need?

amoCRM switches a destination off after more than 100 failed deliveries in 2 hours (amocrm.md §1.5);
a Bitrix24 app's event bindings go when the app is updated or an admin removes them (bitrix24.md
§1.1). Either way no webhook comes any more, and only the reconciler (every 5 minutes) finds the
leads — each one late by up to 5 minutes, SLA clocks included. So a periodic job in the queue reads
the hook, re-enables or re-binds it when it is off, audits that, and records the state that
`/healthz`, `/metrics` and the admin header show.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Connection

from adapters.admin import HookKeeper
from adapters.errors import CrmError, PermanentCrmError
from adapters.storage.audit import write_audit
from adapters.storage.hookstate import (
    DOWN,
    OK,
    UNCHECKED,
    UNKNOWN,
    HookState,
    hook_state,
    last_install,
    save_hook_state,
)
from adapters.storage.queue import Job, complete, reschedule
from core.kinds import AuditKind
from webhook_app.pipeline.context import JobContext

log = logging.getLogger("leadrouter.hooks")
REMOVED = "removed by `leadrouter install --uninstall`; not checked until installed again"


def check_hook(ctx: JobContext, job: Job) -> None:
    """One check: read the hook, repair it if it is off, record and audit the outcome, come back later.
    A CRM that does not answer is the outage's business: the error goes to the worker, which waits."""
    now = ctx.clock()
    keeper = ctx.hooks
    if keeper is None:
        with ctx.engine.begin() as connection:
            complete(connection, job, ctx.worker, now)
        return
    with ctx.engine.begin() as connection:
        before = hook_state(connection, job.crm) or HookState(job.crm, UNKNOWN, now)
        install = last_install(connection, job.crm)
    if install.removed:
        after = before.checked(UNCHECKED, now, problem="", error=REMOVED)
    else:
        try:
            after = _check(keeper, before, install.public_url, now)
        except PermanentCrmError as exc:  # no admin rights, say: nothing to wait for, told in the state
            after = before.checked(UNKNOWN, now, error=f"could not read the webhook: {exc}")
        except CrmError as exc:  # the CRM is down or refuses our token: recorded, then the outage waits
            with ctx.engine.begin() as connection:
                save_hook_state(connection, before.checked(UNKNOWN, now, error=f"CRM unreachable: {exc}"))
            raise
    with ctx.engine.begin() as connection:
        save_hook_state(connection, after)
        _audit(connection, before, after, now)
        reschedule(connection, job, ctx.worker, now, now + ctx.hook_every())


def _check(keeper: HookKeeper, before: HookState, public_url: str | None, now: datetime) -> HookState:
    status = keeper.hook_status()
    if not status.checkable:
        return before.checked(UNCHECKED, now, problem="", error=status.note)
    if status.healthy:
        return before.checked(OK, now, problem="", error="")
    problem = status.problem()
    log.warning("%s webhook: %s; repairing", before.crm, problem)
    try:
        repaired = keeper.repair_hook(status, public_url)
    except CrmError as exc:
        return before.checked(DOWN, now, problem=problem, error=f"repair failed: {exc}")
    if not repaired.healthy:
        return before.checked(DOWN, now, problem=problem, error=f"still {repaired.problem()} after repair")
    return before.checked(
        OK, now, problem=problem, error="", repaired_at=now, repaired=problem, repairs=before.repairs + 1
    )


def _audit(connection: Connection, before: HookState, after: HookState, now: datetime) -> None:
    """A repair is audited every time; a hook that stays down, once (when it goes down or the reason
    changes) — a check every minute must not flood the log."""
    if after.repaired_at == now:
        write_audit(
            connection,
            AuditKind.HOOK_REPAIRED,
            f"our webhook was off ({after.repaired}); re-enabled, webhooks flow again",
            at=now,
            crm=after.crm,
            detail={"problem": after.repaired, "repairs": after.repairs},
        )
        log.warning("%s webhook repaired (%s)", after.crm, after.repaired)
    elif after.state == DOWN and (before.state != DOWN or before.error != after.error):
        write_audit(
            connection,
            AuditKind.HOOK_DOWN,
            f"our webhook is off ({after.problem}) and could not be repaired: {after.error}; "
            "leads arrive only through the reconciler until it is",
            at=now,
            crm=after.crm,
            detail={"problem": after.problem, "error": after.error},
        )
        log.error("%s webhook is off (%s): %s", after.crm, after.problem, after.error)
