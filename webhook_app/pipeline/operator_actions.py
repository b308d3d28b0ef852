"""Operator actions shared by the CLI, the admin page and the API: pause, resume, replay.

Each validates its input against the config in force, changes the database in one transaction
and writes the audit row naming who did it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from adapters.storage.audit import write_audit
from adapters.storage.outbox import replay
from adapters.storage.pausing import pause_manager, resume_manager
from core.kinds import AuditKind
from core.policy import Policy

# A pause "until" further ahead is a typo or meant "until resumed"; near year 9999 routing's
# local-time arithmetic overflows, and every new lead would fail while the pause lasts.
MAX_PAUSE = timedelta(days=3653)


class OperationError(ValueError):
    """An operator request that cannot be done as asked (unknown manager, bad time…)."""


@dataclass(frozen=True)
class Replayed:
    """What a replay did: the dead letters queued again, and the ids that were not dead letters."""

    ids: list[int]
    missing: list[int]


def pause(
    engine: Engine,
    policy: Policy,
    name: str,
    *,
    until: datetime | None,
    reason: str,
    by: str,
    now: datetime,
) -> None:
    """Pause a manager at once for every worker, optionally until a moment."""
    _known(policy, name)
    if until is not None and until <= now:
        raise OperationError(f"--until {until.isoformat()} is not in the future")
    if until is not None and until - now > MAX_PAUSE:
        raise OperationError(
            f"--until {until.isoformat()} is over 10 years ahead; leave it out to pause until resumed"
        )
    with engine.begin() as connection:
        pause_manager(connection, name, until, reason, by, now)
        until_text = f" until {until.isoformat()}" if until else ""
        write_audit(
            connection,
            AuditKind.PAUSE,
            f"{name} paused{until_text} by {by}" + (f": {reason}" if reason else ""),
            at=now,
            manager=name,
            config_version=policy.version,
            detail={"until": until.isoformat() if until else None, "reason": reason, "by": by},
        )


def resume(engine: Engine, policy: Policy, name: str, *, by: str, now: datetime) -> bool:
    """End a manager's pause; False if they were not paused (nothing is written then)."""
    _known(policy, name)
    with engine.begin() as connection:
        if not resume_manager(connection, name):
            return False
        write_audit(
            connection,
            AuditKind.RESUME,
            f"{name} resumed by {by}",
            at=now,
            manager=name,
            config_version=policy.version,
            detail={"by": by},
        )
    return True


def replay_dead_letters(engine: Engine, ids: list[int] | None, *, by: str, now: datetime) -> Replayed:
    """Queue dead letters again (all of them with `ids=None`); the worker sends them."""
    with engine.begin() as connection:
        rows = replay(connection, ids, now)
        for row in rows:
            write_audit(
                connection,
                AuditKind.REPLAY,
                f"dead letter {row.id} ({row.kind}) queued again by {by}",
                at=now,
                crm=row.crm,
                lead_id=row.lead_id,
                detail={"outbox": row.id, "by": by, "write": row.kind},
            )
    done = [row.id for row in rows]
    return Replayed(done, sorted(set(ids) - set(done)) if ids is not None else [])


def _known(policy: Policy, name: str) -> None:
    if name not in policy.managers:
        known = ", ".join(sorted(policy.managers))
        raise OperationError(f"no manager {name!r} in the config (managers: {known})")
