"""The team sync: every few minutes (and right after a reload) read the CRM's users, store them, and
audit what changed — who joined or left a pool that follows a CRM group or department, and who can
no longer own leads. Every process folds the stored team into its policy (webhook_app/config/team.py).

A failed read changes nothing (the last good team stays in force) and never marks the CRM down: a
users list refused for want of an admin's token is the operator's to fix, and is audited once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import Connection

from adapters.errors import AdminRightsNeeded, CrmError
from adapters.storage.audit import write_audit
from adapters.storage.kv import put_value, read_value
from adapters.storage.queue import Job, complete, ensure_job, reschedule
from adapters.storage.teams import read_team, save_team
from core.kinds import AuditKind, JobKind
from core.policy import Policy
from core.ports import TeamReader
from core.team import Team, TeamChange, team_changes, with_team
from webhook_app.pipeline.context import JobContext

INTERVAL = timedelta(minutes=3)
log = logging.getLogger("leadrouter.team")


def request_team_sync(connection: Connection, crm: str, now: datetime) -> None:
    """Sync the team now (a reload: a pool may follow another group), not at the next interval."""
    ensure_job(connection, JobKind.TEAM_SYNC, crm, now, at_once=True)


def sync_team(ctx: JobContext, job: Job) -> None:
    """One sync: read every user (outside any transaction), store them, audit the changes."""
    now = ctx.clock()
    if not isinstance(ctx.crm, TeamReader):
        with ctx.engine.begin() as connection:
            complete(connection, job, ctx.worker, now)
        return
    try:
        people = ctx.crm.team()
    except AdminRightsNeeded as exc:  # the operator's to fix: worded for the reader, the CRM quoted
        _failed(ctx, job, now, exc.crm_said, admin_needed=True)
        return
    except CrmError as exc:
        _failed(ctx, job, now, f"{type(exc).__name__}: {exc}")
        return
    base = (ctx.config_policy or ctx.policy)()
    with ctx.engine.begin() as connection:
        before, _ = read_team(connection, job.crm)
        save_team(connection, job.crm, people, now)
        put_value(connection, _error_key(job.crm), {"error": None}, now)
        for change in team_changes(with_team(base, before), with_team(base, Team(tuple(people)))):
            _audit(connection, job.crm, change, with_team(base, Team(tuple(people))), now)
        reschedule(connection, job, ctx.worker, now, now + INTERVAL)
    ctx.team_synced()


def _audit(connection: Connection, crm: str, change: TeamChange, policy: Policy, now: datetime) -> None:
    def names(keys: tuple[str, ...]) -> list[str]:
        return [policy.managers[k].label if k in policy.managers else k for k in keys]

    joined, left = names(change.joined), names(change.left)
    detail: dict[str, object]
    if change.pool is None:
        message = "can no longer own leads (deactivated or fired in the CRM): " + ", ".join(left)
        if joined:
            message = "can own leads again: " + ", ".join(joined) + ("; " + message if left else "")
        elif not left:
            return
        detail = {"inactive": list(change.left), "active_again": list(change.joined), "names": left + joined}
    else:
        parts = [f"joined: {', '.join(joined)}"] if joined else []
        parts += [f"left: {', '.join(left)}"] if left else []
        message = f"pool '{change.pool}' follows the CRM team: " + "; ".join(parts)
        detail = {"pool": change.pool, "joined": list(change.joined), "left": list(change.left)}
    write_audit(connection, AuditKind.TEAM, message, at=now, crm=crm, detail=detail)
    log.info("%s", message)


def _failed(ctx: JobContext, job: Job, now: datetime, error: str, *, admin_needed: bool = False) -> None:
    """The last good team stays; the failure is audited when it is new (not every few minutes)."""
    log.warning("team sync failed: %s", error)
    with ctx.engine.begin() as connection:
        last = (read_value(connection, _error_key(job.crm)) or {}).get("error")
        if last != error:
            message = f"the CRM's users could not be read; the last team read stays in force: {error}"
            detail = {"error": error, "admin_needed": admin_needed}
            write_audit(connection, AuditKind.TEAM, message, at=now, crm=job.crm, detail=detail)
            put_value(connection, _error_key(job.crm), {"error": error}, now)
        reschedule(connection, job, ctx.worker, now, now + INTERVAL)


def _error_key(crm: str) -> str:
    return f"team:{crm}:error"
