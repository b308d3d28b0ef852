"""`simulate` over a file with event rows: a driver of the lead lifecycle, deciding nothing itself.

A file with `stage` (or `owner`, `until`) rows is read as its deals' whole history. Its rows go to
`Lives` in time order — a created row arrives, a stage row moves the deal, an owner row is a
person's change — and the timers due before each row ring first, so the handoffs are exactly the
ones `core.lifecycle.step` makes for the worker (docs/configuration.md, "The lead's whole life").
What happened (`Lives.history`) is turned into what `simulate` prints: a `Simulated` per new
lead's decision, a `Handed` per handoff that came due, and the counts of `HandoffTally`. Leads
still waiting for a shift after the last row are decided at their shift; the other timers due
after it are not run (nobody knows what happened then): they are counted as pending.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping

from core.decision import Decision, Route
from core.fairness import FairnessTracker
from core.handoff import outcome_of, sla, stop_outcome
from core.handoff_steps import sla_settled
from core.kinds import AuditKind, JobKind
from core.lifecycle_types import Assign, Note, Override, SetTimer, Wait
from core.model import ManagerKey
from core.policy import Matched, Policy
from webhook_app.offline.leadevents import OwnerEvent, StageEvent, UntilEvent
from webhook_app.offline.leadfile import Row, row_time
from webhook_app.offline.lives import MAX_WAITS, Happened, Lives
from webhook_app.offline.rowproblem import RowProblem
from webhook_app.offline.simulate import Simulated
from webhook_app.offline.tally import (
    CANCELLED,
    IN_TIME,
    OVERRIDE,
    OWNER,
    PENDING,
    Handed,
    HandoffTally,
    RowError,
)

NEW = "new"  # the purpose of a new lead's decision; every other purpose is a handoff
RETURN = "return"  # the purpose, handoff name and kind of a return after an absence


_COUNTED = (AuditKind.HANDOFF_BLOCKED, AuditKind.HANDOFF_CANCELLED, AuditKind.RETURN_SKIPPED)


class HandoffSimulation:
    """A run over leads and event rows through the lifecycle; `tally` counts the handoffs."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.lives = Lives(policy)
        self.fairness = FairnessTracker(policy)
        self.tally = HandoffTally(policy)
        self.waited = 0  # leads that waited for a shift at least once
        self.routes: Counter[str] = Counter()  # new leads' final decisions by route ("wait": never assigned)
        self._sla = sla(policy)
        self._handoffs = {h.name: h for h in policy.handoffs}
        self._holders: dict[str, ManagerKey | None] = {}  # who holds each lead (before an effect)
        self._stages: dict[str, str] = {}  # a substitute's lead → its stage when the return was set

    def run_rows(self, items: Iterable[tuple[Row, Matched]]) -> Iterator[Simulated | Handed]:
        """Decisions and handoffs in the order they happen; timers past the last row stay pending."""
        lives = self.lives
        for row, _ in items:
            at = row_time(row)
            for _ in lives.due(at):
                yield from self._report()
            if isinstance(row, UntilEvent):
                continue
            if isinstance(row, StageEvent):
                self._known(row.lead_id, row.line, "stage")
                changes: dict[str, object] = {"stage": row.stage}
                if row.pipeline:  # else the lead's own
                    changes["pipeline"] = row.pipeline
                if row.closed is not None:
                    changes["closed"] = row.closed
                changes["loss_reason"] = row.loss_reason  # as the CRM shows the deal now: none when open
                lives.stage(row.lead_id, at, **changes)
            elif isinstance(row, OwnerEvent):
                self._known(row.lead_id, row.line, "owner")
                lives.owner_changed(row.lead_id, row.user, at)
            else:
                if row.id in lives.leads:
                    raise RowError(None, RowProblem("created_twice", id=row.id))
                lives.arrive(row, at)
            yield from self._report()
        for _ in lives.waiting():  # leads still waiting are decided, as without event rows
            yield from self._report()
        for _, kind, lead_id, data in lives.pending():
            # An SLA timer whose lead was worked on (or changed hands) in the file is settled: in time,
            # however late it would ring; only what nobody knows yet is "after the file".
            life, lead = lives.lives.get(lead_id), lives.leads.get(lead_id)
            settled = (
                kind == JobKind.SLA.value
                and life is not None
                and lead is not None
                and sla_settled(life, data, lead)
            )
            self.tally.add(self._timer_handoff(kind, data), IN_TIME if settled else PENDING, None, None)

    def _known(self, lead_id: str, line: int, kind: str) -> None:
        if lead_id not in self.lives.leads:
            raise RowError(line, RowProblem(f"{kind}_unknown_lead", id=lead_id))

    def _report(self) -> Iterator[Simulated | Handed]:
        """What the events fed so far did, as `simulate` prints it (the history is then let go)."""
        history = self.lives.history
        for happened in history:
            yield from self._happened(happened)
        history.clear()

    def _happened(self, happened: Happened) -> Iterator[Simulated | Handed]:
        effect, lead_id = happened.effect, happened.lead_id
        if isinstance(effect, Assign):
            yield self._assigned(happened, effect.decision, effect.purpose)
        elif isinstance(effect, Wait):
            waits = self.lives.waits[lead_id]
            decision = effect.decision
            if decision.wait_until is not None and waits < MAX_WAITS:  # `Lives` routes it again then
                if waits == 1:
                    self.waited += 1
                return
            self.routes["wait"] += 1
            yield Simulated(self.lives.leads[lead_id], decision)
        elif isinstance(effect, Override):
            previous = self._holders.get(lead_id)
            self._holders[lead_id] = effect.manager
            lead = self.lives.leads[lead_id]
            yield Handed(lead, happened.at, OWNER, OWNER, OVERRIDE, previous, effect.manager)
        elif isinstance(effect, SetTimer) and effect.kind is JobKind.RETURN:
            self._stages[lead_id] = self.lives.leads[lead_id].stage or ""
        elif isinstance(effect, Note):
            self.fairness.noted(effect)
            yield from self._noted(happened, effect)

    def _assigned(self, happened: Happened, decision: Decision, purpose: str) -> Simulated | Handed:
        """A decision recorded: a new lead's (`Simulated`), or a handoff's (`Handed`)."""
        lead_id = happened.lead_id
        self.fairness.record(decision, self.lives.leads[lead_id])
        previous = self._holders.get(lead_id)
        self._holders[lead_id] = decision.assignee
        if purpose == NEW:
            self.routes[decision.route.value if decision.route is not None else Route.POOL.value] += 1
            return Simulated(self.lives.leads[lead_id], decision)
        if purpose == RETURN:
            name = RETURN
        elif purpose.startswith("sla:"):
            name = self._sla.name if self._sla is not None else "sla"
        else:
            name = purpose
        outcome = outcome_of(decision)
        self.tally.add(name, outcome, previous, decision.assignee)
        lead, kind = self.lives.leads[lead_id], self._kind(name)
        return Handed(lead, happened.at, kind, name, outcome, previous, decision.assignee, decision)

    def _noted(self, happened: Happened, note: Note) -> Iterator[Handed]:
        """The notes `simulate` counts: a handoff kept, cancelled, or found worked on in time."""
        lead_id, detail = happened.lead_id, note.detail
        if note.kind is AuditKind.SLA_OK and self._sla is not None:
            self.tally.add(self._sla.name, IN_TIME, None, None)
            return
        if note.step is None or note.kind not in _COUNTED:
            return
        step = note.step
        if note.kind is AuditKind.HANDOFF_BLOCKED:
            name, outcome = (
                str(detail.get("handoff", self._sla.name if self._sla else "")),
                stop_outcome(step),
            )
        elif note.kind is AuditKind.HANDOFF_CANCELLED:
            name, outcome = str(detail.get("handoff", "")), CANCELLED
        else:
            name, outcome = RETURN, CANCELLED
        owner, lead = self._holders.get(lead_id), self.lives.leads[lead_id]
        self.tally.add(name, outcome, owner, None)
        yield Handed(lead, happened.at, self._kind(name), name, outcome, owner, owner, step=step)

    def _kind(self, name: str) -> str:
        return self.tally.kinds.get(name, RETURN if name == RETURN else "stage")

    def _timer_handoff(self, kind: str, data: Mapping[str, str]) -> str:
        """The handoff a pending timer belongs to."""
        if kind == JobKind.SLA.value and self._sla is not None:
            return self._sla.name
        if kind == JobKind.RETURN.value:
            return RETURN
        return data.get("handoff", kind)
