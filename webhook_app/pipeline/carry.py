"""The worker as a driver of the lead lifecycle: events in, the transition's effects carried out durably.

`Carrier` runs `core.lifecycle.step` for jobs inside one transaction and collects what the effects
write — assignments with their CRM writes, timers as jobs, audit rows, lives, who holds each client —
so each table gets one statement however many jobs a batch holds. It decides nothing: every choice
is the core's. A person's change counted toward the share (`overrides.count_toward_share`) moves
pool counters in the database, so collected rows are stored before it and the state read back after.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from adapters.storage.audit import audit_row, write_audit_rows
from adapters.storage.inputs import insert_inputs
from adapters.storage.lives import (
    client_holders,
    client_row,
    life_row,
    load_lives,
    save_clients,
    save_events,
    save_lives,
)
from adapters.storage.outbox import cancel_writes, enqueue_rows, outbox_row, pending_write
from adapters.storage.queue import Job, cancel_pending, complete_many, enqueue_many, job_row, reschedule
from adapters.storage.routing import insert_assignments, load_routing_state, save_routing_state
from adapters.storage.seen import remember_rows, seen_row
from core.audit_text import AuditText
from core.decide import apply_decision
from core.decision import decision_to_dict
from core.handoff import BLOCKED, KEPT, outcome_of
from core.kinds import AuditKind
from core.lifecycle import Transition, step
from core.lifecycle_types import (
    Arrived,
    Assign,
    Cancel,
    ClientFollows,
    Event,
    LeadLife,
    Note,
    Override,
    SetTimer,
    Updated,
    Wait,
)
from core.model import Lead
from core.policy import Policy
from core.ports import CrmWrite, WriteKind
from core.reasons import Renderer
from core.state import RoutingState
from core.texts import texts
from webhook_app.pipeline.assign import Planned, plan
from webhook_app.pipeline.context import JobContext
from webhook_app.pipeline.decision_input import lead_to_json
from webhook_app.pipeline.overrides import count_override

Key = tuple[str, str]  # (crm, lead id)
_SAYS_THE_EVENT = (AuditKind.ECHO, AuditKind.STALE, AuditKind.IGNORED, AuditKind.STAGE_CHANGED)


@dataclass
class Carrier:
    """One transaction's lifecycle steps: the lives and state they read, the rows yet to store."""

    ctx: JobContext
    connection: Connection
    policy: Policy
    now: datetime
    renderer: Renderer = field(init=False)
    lives: dict[Key, LeadLife | None] = field(default_factory=dict)
    before: RoutingState | None = None
    state: RoutingState | None = None
    planned: list[Planned] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)
    timers: list[dict[str, Any]] = field(default_factory=list)
    changed: dict[Key, dict[str, Any]] = field(default_factory=dict)  # lead_lives rows
    clients: dict[Key, dict[str, Any]] = field(default_factory=dict)
    client_writes: dict[Key, dict[str, Any]] = field(default_factory=dict)  # by lead: its contacts' owner
    seen: dict[Key, dict[str, Any]] = field(default_factory=dict)
    done: list[Job] = field(default_factory=list)
    waits: list[tuple[Job, datetime]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)  # updates told, for what-if
    writing: set[Key] = field(default_factory=set)  # leads whose responsible write this transaction queued

    def __post_init__(self) -> None:
        self.renderer = Renderer(self.policy)

    def read(self, jobs: list[Job], *, routing: bool) -> None:
        """Lock and read the pools (when something may be decided), then the lives: one query each."""
        if routing and self.state is None:
            self.before = self.state = load_routing_state(self.connection, self.policy.pools, self.now)
        by_crm: dict[str, list[str]] = {}
        for job in jobs:
            if (job.crm, job.lead_id or "") not in self.lives:
                by_crm.setdefault(job.crm, []).append(job.lead_id or "")
        for crm, ids in by_crm.items():
            found = load_lives(self.connection, crm, ids)
            self.lives |= {(crm, i): found.get(i) for i in ids}

    def life(self, job: Job) -> LeadLife | None:
        """The lead's life as this transaction knows it."""
        return self.lives.get((job.crm, job.lead_id or ""))

    def arrived(self, job: Job, lead: Lead) -> Transition:
        """A new lead, its client's holder as our own record has it (the CRM's only for a new client)."""
        if self.policy.continuity.enabled and lead.client_key:
            key = lead.client_key[:120]
            # A holder this transaction set (an earlier lead of the same client in the batch) first.
            collected = self.clients.get((job.crm, key))
            holder = (
                (int(collected["crm_user_id"]), collected["seen_at"])
                if collected is not None
                else client_holders(self.connection, job.crm, [key]).get(key)
            )
            if holder is not None:
                lead = replace(lead, client_owner=holder[0], client_last_seen=holder[1])
        started = time.perf_counter()
        transition = self.feed(job, lead, Arrived(lead))
        self.ctx.on_decision(time.perf_counter() - started)
        return transition

    def feed(self, job: Job, lead: Lead | None, event: Event) -> Transition:
        """Run the lifecycle for one event of the job's lead and collect what its effects write."""
        key = (job.crm, job.lead_id or "")
        state = self.state if self.state is not None else RoutingState()
        life = self.lives.get(key)
        transition = step(life, event, self.policy, state, self.now)
        if isinstance(event, Updated) and life is not None and life.owner_user is not None:
            self.events.append(
                {
                    "crm": job.crm,
                    "lead_id": key[1],
                    "at": self.now,
                    "lead": lead_to_json(event.lead),
                    "changed_at": event.at,
                    "write_pending": event.write_pending,
                }
            )
        for effect in transition.effects:
            self._carry(job, lead, effect)
        if transition.life is not None:
            self.lives[key] = transition.life
            self.changed[key] = life_row(job.crm, transition.life, self.now)
            if lead is not None:
                self.seen[key] = seen_row(job.crm, lead, transition.life.owner_user, self.now)
        if not any(isinstance(e, Wait) for e in transition.effects):
            self.done.append(job)
        return transition

    def _carry(self, job: Job, lead: Lead | None, effect: object) -> None:
        crm, lead_id = job.crm, job.lead_id
        if isinstance(effect, Assign):
            assert lead is not None and self.state is not None
            self.planned.append(
                plan(
                    crm,
                    lead,
                    effect.decision,
                    self.policy,
                    self.now,
                    purpose=effect.purpose,
                    extra=effect.extra,
                    kind=effect.kind,
                    renderer=self.renderer,
                    before=self.state,
                )
            )
            self.audit.append(self.planned[-1].audit)
            if any(write.kind is WriteKind.RESPONSIBLE for write in self.planned[-1].writes):
                self.writing.add((crm, lead_id or ""))
            self.state = apply_decision(self.state, effect.decision, self.policy)
            if effect.purpose != "new":
                self.ctx.handed(_trigger(self.policy, effect.purpose), outcome_of(effect.decision))
        elif isinstance(effect, Wait):
            reason = self.renderer.reason(effect.decision)
            detail = decision_to_dict(effect.decision)
            self._note(job, AuditKind.WAIT, reason, detail, config_version=self.policy.version)
            if effect.decision.wait_until is not None:
                self.waits.append((job, effect.decision.wait_until))
        elif isinstance(effect, SetTimer):
            self.timers.append(job_row(effect.kind, crm, lead_id, dict(effect.data), effect.due, self.now))
        elif isinstance(effect, Note):
            # Why, in the config's language, where the core says it as data.
            message = self.renderer.step(effect.step) if effect.step is not None else effect.message
            detail = dict(effect.detail)
            if effect.kind in _SAYS_THE_EVENT:  # which event it was (action, responsible, stage…)
                detail = {**job.payload, **detail}
            self._note(job, effect.kind, message, detail, manager=effect.manager)
            if effect.kind is AuditKind.HANDOFF_BLOCKED:
                outcome = BLOCKED if "never_move" in effect.detail else KEPT
                self.ctx.handed(_trigger(self.policy, str(effect.detail.get("handoff", ""))), outcome)
        elif isinstance(effect, ClientFollows):
            row = client_row(crm, effect.client_key, effect.manager, effect.user, self.now)
            self.clients[(crm, row["client_key"])] = row
            continuity = self.policy.continuity  # no continuity, no client owner to keep in step
            if continuity.enabled and continuity.sync_client_owner and lead_id:
                write = CrmWrite(WriteKind.CLIENT, lead_id, user_id=effect.user)
                self.client_writes[(crm, lead_id)] = outbox_row(crm, write, self.now, None)
        elif isinstance(effect, Override):
            self._override(job, effect)
        elif isinstance(effect, Cancel):
            self._cancel(job, effect)

    def updated(self, job: Job, lead: Lead, payload: Mapping[str, Any]) -> Updated:
        """The lifecycle's `Updated` event: the lead as read, when the change happened (as the CRM
        says), and whether our own responsible write is still on its way (so the CRM shows the owner
        from before it) — queued in this transaction, or waiting in the outbox."""
        stamp = as_int(payload.get("updated_at"))
        at = datetime.fromtimestamp(stamp, UTC) if stamp else None
        key = (job.crm, job.lead_id or "")
        pending = key in self.writing or pending_write(
            self.connection, job.crm, key[1], WriteKind.RESPONSIBLE
        )
        return Updated(lead, at, pending)

    def _cancel(self, job: Job, effect: Cancel) -> None:
        """The lead is gone: what this transaction collected is stored first, then the lead's pending
        jobs and writes are cancelled; a new deletion is audited with what it cancelled."""
        self.store()
        key = (job.crm, job.lead_id or "")
        jobs = cancel_pending(self.connection, job.crm, job.lead_id, self.now)
        writes = cancel_writes(self.connection, job.crm, key[1])
        self.writing.discard(key)
        if effect.first:
            message = texts(self.policy.language, "audit")["lead_deleted"].format(writes=writes, jobs=jobs)
            detail = {"source": effect.source, "writes": writes, "jobs": jobs}
            self._note(job, AuditKind.DELETED, message, detail, config_version=self.policy.version)

    def _override(self, job: Job, effect: Override) -> None:
        """A person's change: audited with names; counted toward the share if the config says so."""
        counted = None
        if self.policy.count_overrides:
            self.store()
            self.save_state()
            counted = count_override(
                self.connection,
                self.policy,
                job.crm,
                job.lead_id or "",
                effect.previous_user,
                effect.user,
                self.now,
            )
            if self.state is not None:
                self.before = self.state = load_routing_state(self.connection, self.policy.pools, self.now)
        detail = {"responsible_user_id": effect.user, "previous": effect.previous, "counted": counted}
        # Stored in the config's language with names, as it is read (core/audit_text.py renders it
        # again when read, in the reader's language).
        message = AuditText(self.renderer).message(AuditKind.OVERRIDE, "", detail)
        self._note(job, AuditKind.OVERRIDE, message, detail, manager=effect.manager)

    def _note(self, job: Job, kind: AuditKind, message: str, detail: dict[str, Any], **more: Any) -> None:
        row = audit_row(kind, message, at=self.now, crm=job.crm, lead_id=job.lead_id, detail=detail, **more)
        self.audit.append(row)

    def note(self, job: Job, kind: AuditKind, message: str, **detail: Any) -> None:
        """An audit row about the job's lead outside the lifecycle (a deletion, a lead gone); job done."""
        self._note(job, kind, message, detail)
        self.done.append(job)

    def store(self) -> None:
        """Write what is collected: one statement per table, the jobs marked done in one update."""
        connection, now = self.connection, self.now
        ids = insert_assignments(connection, [p.assignment for p in self.planned])
        inputs = [
            {**p.inputs, "assignment_id": i} for p, i in zip(self.planned, ids, strict=True) if p.inputs
        ]
        insert_inputs(connection, inputs)
        writes = [
            outbox_row(str(p.assignment["crm"]), write, now, assignment_id)
            for p, assignment_id in zip(self.planned, ids, strict=True)
            for write in p.writes
        ]
        enqueue_rows(connection, [*writes, *self.client_writes.values()])
        remember_rows(connection, [*(p.seen for p in self.planned), *self.seen.values()])
        save_lives(connection, list(self.changed.values()))
        save_clients(connection, list(self.clients.values()))
        save_events(connection, self.events)
        enqueue_many(connection, self.timers)
        write_audit_rows(connection, self.audit)
        complete_many(connection, self.done, self.ctx.worker, now)
        for job, run_at in self.waits:
            reschedule(connection, job, self.ctx.worker, now, run_at)
        self.planned, self.audit, self.timers, self.done, self.waits = [], [], [], [], []
        self.changed, self.clients, self.client_writes, self.seen, self.events = {}, {}, {}, {}, []

    def save_state(self) -> None:
        """Write back the pools and loads this transaction's decisions changed."""
        if self.before is not None and self.state is not None:
            save_routing_state(self.connection, self.before, self.state, self.now)
            self.before = self.state


def as_int(value: object) -> int | None:
    """A CRM id or timestamp given as text or number, as an int (None when empty or not a number)."""
    try:
        return int(str(value)) if value not in (None, "") else None
    except ValueError:
        return None


def _trigger(policy: Policy, purpose: str) -> str:
    """What kind of handoff a purpose is, as the metrics count it: stage, after_days, sla, return."""
    if purpose.startswith("sla") or any(h.unworked_minutes and h.name == purpose for h in policy.handoffs):
        return "sla"
    if purpose == "return":
        return "return"
    handoff = next((h for h in policy.handoffs if h.name == purpose), None)
    return "stage" if handoff is not None and handoff.on_stage is not None else "after_days"
