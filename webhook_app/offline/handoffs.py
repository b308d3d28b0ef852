"""Handoffs in `simulate`: the file's stage rows drive the core's handoff code, in time order.

A file with stage rows is read as its deals' whole stage history, and the run does what the worker
does (webhook_app/pipeline/handoffs.py) with the same core functions: a move *into* a stage hands the deal
over (`on_stage`) and starts `after_days` clocks, cancelled if the deal has left the stage when they
ring; a lead decided through a pool is checked after the SLA's working minutes and goes to the
next member when its stage has not changed, after `max_hops` to the fallback; a lead a substitute
took goes back to its owner. Each handoff happens once per lead, like the worker's unique
assignments. Timers due after the file's last row are not run (nobody knows what happened then):
they are counted as pending.
"""

from __future__ import annotations

import dataclasses
import heapq
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from core.conditions import normalize_text
from core.decide import apply_decision, decide_for
from core.decision import Decision, Outcome, Route, Step, StepCode
from core.handoff import (
    StageMove,
    after_days,
    blocked,
    followups,
    hand_over,
    on_stage,
    outcome_of,
    reroute,
    sla,
    stop_outcome,
    working_deadline,
)
from core.model import Lead, ManagerKey
from core.policy import Handoff, Matched, Policy
from webhook_app.offline.leadevents import StageEvent
from webhook_app.offline.leadfile import Row
from webhook_app.offline.simulate import MAX_ATTEMPTS, Simulated, Simulation
from webhook_app.offline.tally import CANCELLED, IN_TIME, PENDING, Handed, HandoffTally, RowError

RETRY_WHEN_STUCK = timedelta(hours=1)  # a re-route nobody can take, and no time named: look again
Timer = tuple[datetime, int, str, str, dict[str, Any]]  # (due, order, kind, lead id, what to do)


@dataclass(slots=True)
class _Deal:
    """One lead as the CRM would show it now, with who has it and the handoffs already made."""

    lead: Lead
    owner: ManagerKey | None = None  # None until the lead is decided
    done: set[str] = field(default_factory=set)


def _place(lead: Lead) -> tuple[str, str]:
    """Where a deal is, as the config compares stages (the worker compares stage ids)."""
    return normalize_text(lead.pipeline or ""), normalize_text(lead.stage or "")


class HandoffSimulation(Simulation):
    """A run over leads and stage events that also makes the handoffs; `tally` counts them."""

    def __init__(self, policy: Policy) -> None:
        super().__init__(policy)
        self.tally = HandoffTally(policy)
        self.deals: dict[str, _Deal] = {}
        self._timers: list[Timer] = []
        self._sla_rule = sla(policy)
        self._fire: dict[str, Callable[[_Deal, datetime, dict[str, Any]], Iterator[Handed]]] = {
            "after_days": self._after_days,
            "sla": self._sla_check,
            "return": self._return,
            "retry": self._retry_handover,
        }

    def run_rows(self, items: Iterable[tuple[Row, Matched]]) -> Iterator[Simulated | Handed]:
        """Decisions and handoffs in the order they happen; timers past the last row stay pending."""
        last: datetime | None = None
        for row, matched in items:
            if isinstance(row, StageEvent):
                last = row.at
                yield from self._due(last)
                yield from self._moved(row)
                continue
            last = row.created_at
            yield from self._due(last)
            if row.id in self.deals:
                raise RowError(None, f"lead id {row.id!r} is created twice; stage rows need unique ids")
            self.deals[row.id] = _Deal(row)
            done = self._decide(row, last, 1, matched)
            if done is not None:
                yield done
        if last is not None:
            yield from self._due(last)
        while self._waiting:  # leads still waiting are decided, as without handoffs
            yield from self._retry()
        for _, _, kind, _, payload in self._timers:
            self.tally.add(self._timer_handoff(kind, payload), PENDING, None, None)
        self._timers.clear()

    def _timer_handoff(self, kind: str, payload: dict[str, Any]) -> str:
        """The handoff a timer belongs to."""
        if kind == "sla" and self._sla_rule is not None:
            return self._sla_rule.name
        return str(payload.get("handoff", kind))

    def _due(self, until: datetime) -> Iterator[Simulated | Handed]:
        """Waiting leads and handoff timers due by `until`, earliest first (a waiting lead on a tie)."""
        waiting, timers = self._waiting, self._timers
        while True:
            lead_at = waiting[0][0] if waiting else None
            timer_at = timers[0][0] if timers else None
            if lead_at is not None and lead_at <= until and (timer_at is None or lead_at <= timer_at):
                yield from self._retry()
            elif timer_at is not None and timer_at <= until:
                due, _, kind, lead_id, payload = heapq.heappop(timers)
                yield from self._fire[kind](self.deals[lead_id], due, payload)
            else:
                return

    def _later(self, due: datetime, kind: str, lead_id: str, payload: dict[str, Any]) -> None:
        self._order += 1
        heapq.heappush(self._timers, (due, self._order, kind, lead_id, payload))

    def _decide(self, lead: Lead, now: datetime, attempt: int, matched: Matched) -> Simulated | None:
        done = super()._decide(lead, now, attempt, matched)
        decision = done.decision if done is not None else None
        if decision is None or decision.outcome is not Outcome.ASSIGN:
            return done
        deal = self.deals[lead.id]
        deal.owner = decision.assignee
        where = {"place": _place(deal.lead), "stage": deal.lead.stage or ""}
        for later in followups(decision, self.policy, now):
            if later.kind == "sla":
                payload = {"pool": later.pool, "had": (later.manager,), **where}
            else:
                payload = {"owner": later.manager, "substitute": decision.assignee, **where}
            self._later(later.due, later.kind, lead.id, payload)
        return done

    def _moved(self, event: StageEvent) -> Iterator[Handed]:
        deal = self.deals.get(event.lead_id)
        if deal is None:
            raise RowError(
                event.line, f"stage row for lead {event.lead_id!r}, which has no earlier created row"
            )
        before = deal.lead
        pipeline = event.pipeline or before.pipeline
        deal.lead = dataclasses.replace(before, pipeline=pipeline, stage=event.stage)
        if deal.owner is None or _place(deal.lead) == _place(before):
            return  # the worker acts only on leads it routed, and only on a change of stage
        move = StageMove(before.pipeline, before.stage, pipeline, event.stage)
        for clock in after_days(self.policy, move):
            due = event.at + timedelta(days=clock.after_days or 0)
            self._later(due, "after_days", deal.lead.id, {"handoff": clock.name, "place": _place(deal.lead)})
        handoff = on_stage(self.policy, move)
        if handoff is not None:
            yield from self._handover(deal, handoff, "stage", event.at, _place(deal.lead), 1)

    def _handover(
        self, deal: _Deal, handoff: Handoff, kind: str, now: datetime, place: tuple[str, str], attempt: int
    ) -> Iterator[Handed]:
        if handoff.name in deal.done:
            return
        stop = blocked(handoff, deal.lead, deal.owner)
        if stop is not None:
            yield self._record(deal, now, kind, handoff.name, stop_outcome(stop), step=stop)
            return
        decision = hand_over(deal.lead, self.policy, self.state, now, handoff, deal.owner)
        if decision.outcome is Outcome.WAIT:  # the worker reschedules the job to the shift start
            payload = {"handoff": handoff.name, "kind": kind, "place": place, "attempt": attempt}
            self._again(handoff.name, decision.wait_until or now + RETRY_WHEN_STUCK, "retry", deal, payload)
            return
        deal.done.add(handoff.name)
        yield self._record(deal, now, kind, handoff.name, outcome_of(decision), decision=decision)

    def _again(self, name: str, due: datetime, kind: str, deal: _Deal, payload: dict[str, Any]) -> None:
        """Try again at `due`; after MAX_ATTEMPTS nobody will ever take it: count it as pending."""
        attempt = payload.get("attempt", 1)
        if attempt < MAX_ATTEMPTS:
            self._later(due, kind, deal.lead.id, {**payload, "attempt": attempt + 1})
        else:
            self.tally.add(name, PENDING, None, None)

    def _handoff(self, name: str) -> Handoff | None:
        return next((h for h in self.policy.handoffs if h.name == name), None)

    def _after_days(self, deal: _Deal, now: datetime, payload: dict[str, Any]) -> Iterator[Handed]:
        handoff = self._handoff(payload["handoff"])
        if handoff is None:
            return
        if _place(deal.lead) != payload["place"]:
            step = Step(
                StepCode.HANDOFF_CANCELLED, {"handoff": handoff.name, "left_stage": _stage_name(handoff)}
            )
            yield self._record(deal, now, "after_days", handoff.name, CANCELLED, step=step)
            return
        yield from self._handover(deal, handoff, "after_days", now, payload["place"], 1)

    def _retry_handover(self, deal: _Deal, now: datetime, payload: dict[str, Any]) -> Iterator[Handed]:
        handoff = self._handoff(payload["handoff"])
        if handoff is not None and _place(deal.lead) == payload["place"]:
            yield from self._handover(
                deal, handoff, payload["kind"], now, payload["place"], payload["attempt"]
            )

    def _sla_check(self, deal: _Deal, now: datetime, payload: dict[str, Any]) -> Iterator[Handed]:
        rule, had = self._sla_rule, tuple(payload["had"])
        if rule is None:
            return
        if _place(deal.lead) != payload["place"] or deal.owner != had[-1]:
            self.tally.add(rule.name, IN_TIME, None, None)  # worked on (or reassigned) in time
            return
        stop = blocked(rule, deal.lead, deal.owner)
        if stop is not None:
            yield self._record(deal, now, "sla", rule.name, stop_outcome(stop), step=stop)
            return
        decision = reroute(deal.lead, self.policy, self.state, now, rule, payload["pool"], list(had))
        if decision.outcome is not Outcome.ASSIGN or decision.assignee is None:
            self._again(rule.name, decision.wait_until or now + RETRY_WHEN_STUCK, "sla", deal, payload)
            return
        yield self._record(deal, now, "sla", rule.name, outcome_of(decision), decision=decision)
        if decision.route is Route.POOL and rule.unworked_minutes:
            due = working_deadline(self.policy.managers[decision.assignee], now, rule.unworked_minutes)
            if due is not None:
                self._later(
                    due, "sla", deal.lead.id, {**payload, "had": (*had, decision.assignee), "attempt": 1}
                )

    def _return(self, deal: _Deal, now: datetime, payload: dict[str, Any]) -> Iterator[Handed]:
        owner, substitute = payload["owner"], payload["substitute"]
        if "return" in deal.done:
            return
        if _place(deal.lead) != payload["place"] or deal.owner != substitute:
            why = {"left_stage": payload["stage"]} if _place(deal.lead) != payload["place"] else {}
            step = Step(StepCode.HANDOFF_CANCELLED, {"handoff": "return", **why})
            yield self._record(deal, now, "return", "return", CANCELLED, step=step)
            return
        steps = (Step(StepCode.RETURN, {"manager": owner}),)
        decision = decide_for(deal.lead, self.policy, now, owner, steps=steps, route=Route.RETURN)
        deal.done.add("return")
        yield self._record(deal, now, "return", "return", outcome_of(decision), decision=decision)

    def _record(
        self,
        deal: _Deal,
        now: datetime,
        kind: str,
        name: str,
        outcome: str,
        *,
        decision: Decision | None = None,
        step: Step | None = None,
    ) -> Handed:
        """Apply a handover to the run's state (as the worker's `record` does) and count it."""
        previous = deal.owner
        if decision is not None:
            self.state = apply_decision(self.state, decision, self.policy)
            self.fairness.record(decision)
            deal.owner = decision.assignee
        self.tally.add(name, outcome, previous, deal.owner if decision else None)
        return Handed(deal.lead, now, kind, name, outcome, previous, deal.owner, decision, step)


def _stage_name(handoff: Handoff) -> str:
    return handoff.in_stage.stage if handoff.in_stage is not None else ""
