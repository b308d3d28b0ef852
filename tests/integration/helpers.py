"""Shared pieces for worker tests: a settable clock, a small team, events, a worker factory."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from adapters.storage.intake import IncomingEvent, store_events
from core.model import OnAssign, TaskTemplate
from core.policy import Policy
from tests.builders import NOON, lead, manager, policy, pool, weekdays
from tests.fakes.crm import FakeCrm
from webhook_app.pipeline.context import JobContext
from webhook_app.pipeline.worker import Worker, WorkerOptions


@dataclass
class Clock:
    """A clock tests move by hand."""

    now: datetime = NOON

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def team_policy(strategy: str = "round_robin", **kw: object) -> Policy:
    """Three managers on 09–18 weekdays in one pool (weights 3:2:1 if weighted), a head; tasks, notes."""
    ms = [
        manager("ivanova", 101, name="Иванова", schedule=weekdays()),
        manager("petrov", 102, name="Петров", schedule=weekdays()),
        manager("sidorov", 103, name="Сидоров", schedule=weekdays()),
        manager("head", 100, name="Руководитель"),
    ]
    on_assign = OnAssign(task=TaskTemplate("Связаться с клиентом", 15), note=True)
    weights = {"ivanova": 3, "petrov": 2, "sidorov": 1} if strategy == "weighted" else None
    sales = pool("sales", ["ivanova", "petrov", "sidorov"], strategy, weights=weights)
    return policy(ms, [sales], head_of_sales="head", on_assign=on_assign, version="v1", **kw)


def add_lead_event(lead_id: str, crm: str = "amocrm") -> IncomingEvent:
    """A 'lead created' event as the webhook blueprint would store it."""
    return IncomingEvent(crm, f"{crm}:add:{lead_id}", "add", lead_id, {"action": "add"}, job_kind="lead")


def update_event(lead_id: str, responsible: int, stage: str = "new", n: int = 0) -> IncomingEvent:
    """A 'responsible changed' event carrying the lead's current state."""
    payload = {"action": "responsible", "responsible_user_id": str(responsible), "stage_id": stage}
    return IncomingEvent(
        "amocrm",
        f"amocrm:resp:{lead_id}:{responsible}:{stage}:{n}",
        "responsible",
        lead_id,
        payload,
        job_kind="event",
    )


def make_worker(engine: Engine, crm: FakeCrm, clock: Clock, p: Policy, name: str = "w1") -> Worker:
    """A worker wired to the fake CRM and the test clock, with deterministic jitter."""
    ctx = JobContext(engine=engine, crm=crm, policy=lambda: p, clock=clock, worker=name)
    return Worker(ctx, WorkerOptions(lease=timedelta(seconds=30)), rng=random.Random(7))


def seed_leads(crm: FakeCrm, ids: list[str], at: datetime = NOON) -> None:
    """Put leads into the fake CRM."""
    for lead_id in ids:
        crm.leads[lead_id] = lead(lead_id, at, stage="new", stage_id="new")


def post(engine: Engine, clock: Clock, *events: IncomingEvent) -> list[bool]:
    """Store events as the webhook would."""
    return store_events(engine, list(events), clock())
