"""A lead's whole life, in order, in the reader's words: received, decided (why, who was skipped),
written, stage moves, handoffs, SLA re-routes, returns, people's changes, won or lost.

Built from what the store keeps (`adapters.storage.readmodel.lead_rows`): the audit trail, the
assignments (each decision with its reasoning) and the outbox (each CRM write and its result).
Plain data; the page renders it, the API returns it as JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from adapters.storage.engine import reading
from adapters.storage.readmodel import LeadRows, lead_rows
from core.audit_text import AuditText
from core.policy import Policy
from core.reasons import Renderer
from core.texts import texts

# Kinds whose title says it all: their audit message is an engineer's note, not the reader's words.
_TITLE_ONLY = frozenset(
    {
        "echo",
        "stale",
        "ignored",
        "sla_ok",
        "sla_waiting",
        "duplicate",
        "reconciled",
        "lead_missing",
        "already_decided",
        "replay",
        "handoff_done",
    }
)
# What the page folds away by default: the CRM telling us of a change that the next event explains
# (a stage move, a person's change) or that changed nothing for us (our own write coming back).
_MINOR = frozenset({"echo", "stale", "ignored", "duplicate"})
_QUOTED = frozenset({"job_retry", "job_failed"})  # an error as it was raised: shown as it is
Row = Mapping[Any, Any]  # a stored row's mapping (SQLAlchemy's RowMapping)

# Order of things that happened in the same transaction (one `now`): the event that came in, what
# the lifecycle noted about it, the decision it led to, then the writes that carry the decision out.
_RANK = {"received": 0, "audit": 1, "decision": 2, "write": 3}


@dataclass
class StoryEvent:
    """One thing that happened to the lead."""

    at: str  # ISO 8601, UTC
    kind: str  # the audit kind; `decision`, `sla`, `return`, `handoff` for assignments; `write`
    title: str
    text: str = ""
    manager: str | None = None  # the manager it concerns (key), and their name
    name: str | None = None
    decision_id: int | None = None
    skipped: list[dict[str, Any]] = field(default_factory=list)  # a decision's skipped: name, why, until
    state: str | None = None  # a write's outcome: pending | sending | sent | dead
    rank: int = 1
    writes: list[dict[str, Any]] = field(default_factory=list)  # a decision's CRM writes: kind, state, text
    error: str | None = None  # what the CRM answered to a write not (yet) sent, as it said it
    minor: bool = False  # bookkeeping (an update received, our write's echo): hidden unless asked for


@dataclass
class Story:
    """A lead's events oldest first, and where it stands now."""

    lead_id: str
    events: list[StoryEvent]
    owner: str | None = None
    owner_name: str | None = None
    stage: str | None = None
    closed: str | None = None


def lead_story(engine: Engine, policy: Policy, crm: str, lead_id: str) -> Story:
    """The story of one lead of this CRM (an empty one if nothing is stored about it)."""
    with reading(engine) as connection:
        rows = lead_rows(connection, crm, lead_id)
    return build_story(rows, policy, lead_id)


def build_story(rows: LeadRows, policy: Policy, lead_id: str) -> Story:
    """The events of `rows` in order, worded in the policy's language."""
    teller = _Teller(policy)
    events = [teller.audit(row) for row in rows.audit]
    decisions = {int(row["id"]): teller.decision(row) for row in rows.assignments}
    events += decisions.values()
    for row in rows.writes:
        write = teller.write(row)
        decided = decisions.get(int(row["assignment_id"] or 0))
        if decided is None:  # a write of its own (the client's owner following the deal)
            events.append(write)
        else:  # told under the decision it carries out: what, and whether the CRM took it
            error = row["last_error"] if write.state != "sent" else None
            decided.writes.append(
                {"kind": row["kind"], "state": write.state, "text": write.text, "error": error}
            )
    events.sort(key=lambda e: (datetime.fromisoformat(e.at), e.rank))
    life = rows.life or {}
    owner = life.get("owner")
    return Story(
        lead_id,
        events,
        owner=owner,
        owner_name=teller.name(owner) if owner else None,
        stage=life.get("stage"),
        closed=life.get("closed"),
    )


class _Teller:
    """Words for each stored row."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.t = texts(policy.language, "admin")
        self.by_user = {m.crm_user_id: m.key for m in policy.managers.values()}
        self.words = AuditText(Renderer(policy))

    def name(self, key: str | None) -> str:
        """A manager's name (the key of someone no longer in the config)."""
        manager = self.policy.managers.get(key or "")
        return manager.label if manager is not None else (key or "—")

    def user(self, user_id: Any) -> str:
        """A CRM user by name when the config knows them."""
        key = self.by_user.get(_int(user_id) or -1)
        return self.name(key) if key else self.t["crm_user"].format(user=user_id)

    def audit(self, row: Row) -> StoryEvent:
        kind, detail = str(row["kind"]), dict(row["detail"] or {})
        title = self.t.get(f"ev_{kind}", self.t["ev_other"])
        action = str(detail.get("action") or detail.get("event") or "")
        # The audit's own words for the row (as `leadrouter audit` says it), unless the page says more.
        text = self.words.message(kind, str(row["message"]), detail, row["manager"])
        if kind == "received":
            text = self.event(action)
        elif kind == "stage_changed" and detail.get("stage"):
            before = detail.get("stage_before") or "—"
            text = self.t["moved_from_to"].format(before=before, after=detail["stage"])
        elif kind in ("won", "lost"):
            amount = detail.get("amount")
            text = self.t["amount"].format(amount=_money(amount)) if amount else ""
        elif kind == "override":
            text = self.t["override_to"].format(who=self.user(detail.get("responsible_user_id")))
            previous = detail.get("previous")
            if previous:
                text += "; " + self.t["override_from"].format(who=self.name(str(previous)))
        elif kind in _TITLE_ONLY:
            text = ""
        error = None
        if kind in _QUOTED:
            text, error = "", text
        manager = row["manager"]
        rank = _RANK["received"] if kind in ("received", "reconciled", "duplicate") else _RANK["audit"]
        new = action == "add" or action.upper().endswith("ADD")  # older Bitrix24 rows: the event's name
        minor = kind in _MINOR or (kind == "received" and not new)
        return StoryEvent(
            _iso(row["at"]),
            kind,
            title,
            text,
            manager=manager,
            name=self.name(manager) if manager else None,
            rank=rank,
            error=error,
            minor=minor,
        )

    def event(self, action: str) -> str:
        """What the CRM said happened, as a sentence (the adapter's `action`: add, update, …)."""
        said = self.t.get(f"event_{action.lower()}")
        return said if said is not None else self.t["event_other"].format(event=action)

    def decision(self, row: Row) -> StoryEvent:
        purpose = str(row["purpose"])
        if purpose == "new":
            kind, title = "decision", self.t["ev_decision"]
        elif purpose.startswith("sla:"):
            kind, title = "sla", self.t["ev_sla"]
        elif purpose == "return":
            kind, title = "return", self.t["ev_return"]
        else:
            words = self.t["purpose_handoff"].format(name=purpose)
            kind, title = "handoff", words[:1].upper() + words[1:]  # the handoff's own name as written
        decision = dict(row["decision"] or {})
        skipped = [
            {
                "manager": s.get("manager"),
                "name": self.name(s.get("manager")),
                "reason": self.t.get(str(s.get("reason")), str(s.get("reason"))),
                "until": s.get("until"),
            }
            for s in decision.get("skipped") or []
        ]
        manager = str(row["manager"])
        return StoryEvent(
            _iso(row["decided_at"]),
            kind,
            title,
            str(row["reason"]),
            manager=manager,
            name=self.name(manager),
            decision_id=int(row["id"]),
            skipped=skipped,
            rank=_RANK["decision"],
        )

    def write(self, row: Row) -> StoryEvent:
        kind, state = str(row["kind"]), str(row["state"])
        what = self.t.get(f"write_{kind}", kind)
        outcome = self.t.get(f"write_{state}", state)
        parts = [f"{what}: {outcome}"]
        if row["sent_at"] is not None and row["created_at"] is not None:
            seconds = (_aware(row["sent_at"]) - _aware(row["created_at"])).total_seconds()
            if seconds >= 0.1:  # a write that waited (a retry, an outage, the rate limit)
                parts.append(self.t["latency_s"].format(seconds=f"{seconds:.1f}"))
        if int(row["attempts"] or 0) > 1 or state == "dead":
            parts.append(self.t["attempts_n"].format(n=row["attempts"]))
        return StoryEvent(
            _iso(row["created_at"]),
            "write",
            self.t["ev_write"],
            " · ".join(parts),
            decision_id=row["assignment_id"],
            state=state,
            error=row["last_error"] if state != "sent" else None,
            rank=_RANK["write"],
        )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _iso(value: datetime | str) -> str:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return _aware(moment).astimezone(UTC).isoformat()


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _money(value: Any) -> str:
    try:
        return f"{float(value):,.0f}".replace(",", " ")
    except (TypeError, ValueError):
        return str(value)
