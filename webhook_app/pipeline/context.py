"""What every job handler is given (`JobContext`) and the audit line it writes about its lead."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine

from adapters.admin import HookKeeper
from adapters.storage.audit import write_audit
from adapters.storage.queue import Job
from core.kinds import AuditKind
from core.model import Lead
from core.policy import Policy
from core.ports import CrmPort


@dataclass
class JobContext:
    """What a handler needs: the database, the CRM, the config in force, the clock, who we are."""

    engine: Engine
    crm: CrmPort
    policy: Callable[[], Policy]
    clock: Callable[[], datetime]
    worker: str
    on_decision: Callable[[float], None] = lambda seconds: None
    on_write: Callable[[str, str], None] = lambda kind, outcome: None
    on_handoff: Callable[[str, str], None] = lambda kind, outcome: None
    prefetched: dict[str, Lead | None] = field(default_factory=dict)
    handoffs: list[tuple[str, str]] = field(default_factory=list)  # this job's, reported once committed
    hooks: HookKeeper | None = None  # reads and repairs our webhook in the CRM (the hook check)
    hook_every: Callable[[], timedelta] = lambda: timedelta(minutes=1)  # how often the check runs

    def handed(self, kind: str, outcome: str) -> None:
        """Note a handoff's outcome; the worker reports it when the job's transaction has committed."""
        self.handoffs.append((kind, outcome))

    def fetch(self, lead_id: str) -> Lead | None:
        """The lead: from this round's batched prefetch if there, else one read through the CRM."""
        if lead_id in self.prefetched:
            return self.prefetched.pop(lead_id)  # served once: a later job reads fresh data
        return self.crm.fetch_lead(lead_id)


def note(
    connection: Connection, job: Job, kind: AuditKind, message: str, now: datetime, **detail: Any
) -> None:
    """An audit row about this job's lead."""
    write_audit(connection, kind, message, at=now, crm=job.crm, lead_id=job.lead_id, detail=detail)
