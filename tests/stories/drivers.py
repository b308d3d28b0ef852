"""The ways a story runs: the lifecycle in memory (what `simulate` runs), `simulate` itself on the
story told as a lead file, and the worker on the fake CRM through the queue and the database. Each
returns the owners each lead had, in order, as the CRM showed them, and how many audit rows of each
kind the story made."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections import Counter
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from adapters.storage.audit import read_audit
from adapters.storage.engine import make_engine, reading
from adapters.storage.intake import IncomingEvent
from adapters.storage.migrate import upgrade_database
from adapters.storage.tables import jobs
from core.kinds import JobKind
from core.lifecycle_types import Assign, Note, Override
from core.model import Lead
from core.policy import Policy
from tests.fakes.crm import FakeCrm
from tests.integration.helpers import Clock, make_worker, post
from tests.stories.seeds import Arrive, LateEvent, Move, Reassign, Story, Until
from webhook_app.cli.main import main
from webhook_app.config import load_config
from webhook_app.offline.lives import Lives

Result = tuple[dict[str, list[str]], Counter[str]]


def story_policy(story: Story, tmp_path: Path) -> Policy:
    """The story's config as the product loads it."""
    path = tmp_path / "story.yaml"
    path.write_text(story.config, encoding="utf-8")
    return load_config(path).policy


def lead_of(step: Arrive) -> Lead:
    """The lead as the CRM gives it when it arrives."""
    fields = dict(step.fields)
    if "tags" in fields:
        fields["tags"] = tuple(fields["tags"])  # type: ignore[arg-type]
    return Lead(id=step.lead, created_at=step.at, **fields)  # type: ignore[arg-type]


class Timeline:
    """Each lead's owners as they change, by manager key."""

    def __init__(self, policy: Policy) -> None:
        self.policy, self.owners = policy, {}  # type: dict[str, list[str]]

    def see(self, lead_id: str, user: int | None) -> None:
        if user is None:
            return
        key = self.policy.by_user_id.get(user, str(user))
        history = self.owners.setdefault(lead_id, [])
        if not history or history[-1] != key:
            history.append(key)


def run_in_memory(story: Story, tmp_path: Path) -> Result:
    """The lifecycle carried out in memory, as `simulate` runs it."""
    policy = story_policy(story, tmp_path)
    lives, seen = Lives(policy), Timeline(policy)

    def settle(until: datetime) -> None:
        for _, lead_id, _ in lives.due(until):
            seen.see(lead_id, lives.owner_of(lead_id))

    for step in story.timeline:
        settle(step.at)
        if isinstance(step, Arrive):
            lives.arrive(lead_of(step), step.at)
        elif isinstance(step, Move):
            lives.stage(
                step.lead,
                step.at,
                stage=step.stage,
                pipeline=step.pipeline,
                closed=step.closed,
                loss_reason=step.reason,
            )
        elif isinstance(step, Reassign):
            lives.owner_changed(step.lead, policy.managers[step.manager].crm_user_id, step.at)
        elif isinstance(step, LateEvent):
            lives.owner_changed(step.lead, policy.managers[step.manager].crm_user_id, step.at, step.happened)
        if not isinstance(step, Until):
            seen.see(step.lead, lives.owner_of(step.lead))
    counts: Counter[str] = Counter()
    for happened in lives.history:
        effect = happened.effect
        if isinstance(effect, Assign | Note):
            counts[effect.kind.value] += 1
        elif isinstance(effect, Override):
            counts["override"] += 1
    return seen.owners, counts


# What `simulate`'s output shows of the audit kinds (it prints no won / lost, echo or stale lines).
SIMULATE_SHOWS = frozenset(
    {"decision", "handoff", "handoff_blocked", "handoff_cancelled", "return_skipped", "sla_ok", "override"}
)
FILE_COLUMNS = (
    "event",
    "id",
    "created_at",
    "at",
    "pipeline",
    "stage",
    "closed",
    "loss_reason",
    "owner",
    "source",
    "region",
    "tags",
    "company",
    "client",
    "price",
)


def lead_file(story: Story, path: Path) -> None:
    """The story as a lead file: a created row per arrival, a stage row per move, an owner row per
    person's change, and an until row for time that passes with nothing else happening."""
    with path.open("w", encoding="utf-8", newline="") as out:
        rows = csv.DictWriter(out, FILE_COLUMNS)
        rows.writeheader()
        for step in story.timeline:
            if isinstance(step, Arrive):
                fields = {"client" if k == "client_key" else k: v for k, v in step.fields.items()}
                if "tags" in fields:
                    fields["tags"] = ";".join(fields["tags"])  # type: ignore[arg-type]
                rows.writerow(
                    {"event": "created", "id": step.lead, "created_at": step.at.isoformat(), **fields}
                )
            elif isinstance(step, Move):
                move = {"pipeline": step.pipeline, "stage": step.stage, "closed": step.closed or ""}
                move["loss_reason"] = step.reason or ""
                rows.writerow({"event": "stage", "id": step.lead, "at": step.at.isoformat(), **move})
            elif isinstance(step, Reassign):
                rows.writerow(
                    {"event": "owner", "id": step.lead, "at": step.at.isoformat(), "owner": step.manager}
                )
            else:
                rows.writerow({"event": "until", "at": step.at.isoformat()})


def run_simulate_cli(story: Story, tmp_path: Path) -> Result:
    """`leadrouter simulate --format json` on the story told as a lead file; the owners and counts
    rebuilt from what it prints (counts only of the kinds in SIMULATE_SHOWS)."""
    if any(isinstance(step, LateEvent) for step in story.timeline):
        pytest.skip(
            "a late event is the CRM delivering a change after our own write: a lead file is the "
            "deals' history, in the order things happened, and cannot tell it"
        )
    story_policy(story, tmp_path)  # writes story.yaml, as the product reads it
    leads = tmp_path / "story.csv"
    lead_file(story, leads)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(
            ["simulate", "--config", str(tmp_path / "story.yaml"), "--leads", str(leads), "--format", "json"]
        )
    assert code == 0
    owners: dict[str, list[str]] = {}
    counts: Counter[str] = Counter()
    for line in out.getvalue().splitlines():
        record = json.loads(line)
        kind = record["type"]
        if kind == "decision":
            counts["decision"] += record["outcome"] == "assign"
            _took(owners, record["lead"], record["assignee"])
        elif kind == "handoff":
            counts[_audit_kind(record)] += 1
            _took(owners, record["lead"], record["to"])
        elif kind == "handoff_summary":
            counts["sla_ok"] += record["in_time"]
    return owners, counts


def _took(owners: dict[str, list[str]], lead_id: str, manager: str | None) -> None:
    history = owners.setdefault(lead_id, [])
    if manager is not None and (not history or history[-1] != manager):
        history.append(manager)


def _audit_kind(handoff: dict[str, Any]) -> str:
    """The audit kind of the row the worker writes for what a `handoff` line says."""
    outcome = handoff["outcome"]
    if outcome in ("handed", "to-head"):
        return "handoff"
    if outcome in ("blocked", "kept-by-exception"):
        return "handoff_blocked"
    if outcome == "cancelled":
        return "return_skipped" if handoff["kind"] == "return" else "handoff_cancelled"
    return str(outcome)  # "override": a person's change


def run_on_worker(story: Story, tmp_path: Path, engine: Engine | None = None) -> Result:
    """The worker on the fake CRM: events through the intake, timers as jobs, writes to the CRM (in
    `engine`, migrated, else a new SQLite database)."""
    policy = story_policy(story, tmp_path)
    if engine is None:
        engine = make_engine(f"sqlite:///{tmp_path / 'story.db'}")
        upgrade_database(engine)
    crm, clock = FakeCrm(), Clock(story.timeline[0].at)
    worker = make_worker(engine, crm, clock, policy)
    seen, ids = Timeline(policy), []  # type: Timeline, list[str]

    def run() -> None:
        worker.run_once()
        for lead_id in ids:
            seen.see(lead_id, crm.owner_of(lead_id))

    def settle(until: datetime) -> None:
        while (due := _next_job(engine)) is not None and due <= until:
            clock.now = max(clock.now, due)
            run()
        clock.now = until

    for step in story.timeline:
        settle(step.at)
        if isinstance(step, Arrive):
            ids.append(step.lead)
            crm.leads[step.lead] = _in_crm(lead_of(step), None, None)
            post(
                engine,
                clock,
                IncomingEvent(
                    "amocrm", f"add:{step.lead}", "add", step.lead, {"action": "add"}, JobKind.LEAD
                ),
            )
        elif isinstance(step, Move):
            lead = _in_crm(
                crm.leads[step.lead], step.pipeline, step.stage, closed=step.closed, loss_reason=step.reason
            )
            crm.leads[step.lead] = lead
            post(engine, clock, _update(lead, lead.responsible_user_id, step.at, "status"))
        elif isinstance(step, Reassign):
            user = policy.managers[step.manager].crm_user_id
            crm.leads[step.lead] = replace(crm.leads[step.lead], responsible_user_id=user)
            post(engine, clock, _update(crm.leads[step.lead], user, step.at, "responsible"))
        elif isinstance(step, LateEvent):
            user = policy.managers[step.manager].crm_user_id
            post(engine, clock, _update(crm.leads[step.lead], user, step.happened, "responsible"))
        run()
    counts = Counter(row.kind for row in read_audit(engine, limit=100_000))
    return seen.owners, counts


def _in_crm(lead: Lead, pipeline: str | None, stage: str | None, **more: Any) -> Lead:
    """The lead as the CRM holds it: stage names and a stage id."""
    stage_id = f"{pipeline}/{stage}" if stage else "new"
    return replace(lead, pipeline=pipeline, stage=stage, stage_id=stage_id, **more)


_events = iter(range(1, 10**9))


def _update(lead: Lead, user: int | None, when: datetime, action: str) -> IncomingEvent:
    """An amoCRM update webhook: it carries the lead's responsible, stage and the time of the change."""
    payload = {
        "action": action,
        "responsible_user_id": str(user) if user is not None else None,
        "stage_id": lead.stage_id,
        "pipeline_id": lead.pipeline,
        "updated_at": int(when.timestamp()),
    }
    return IncomingEvent(
        "amocrm", f"{action}:{lead.id}:{next(_events)}", action, lead.id, payload, JobKind.EVENT
    )


def _next_job(engine: Any) -> datetime | None:
    with reading(engine) as connection:
        value: datetime | None = connection.execute(
            select(func.min(jobs.c.run_at)).where(jobs.c.state == "pending")
        ).scalar()
    return value
