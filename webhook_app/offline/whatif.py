"""What-if: a period's stored history replayed through the lead lifecycle under another config.

Each new lead arrives at the moment it was really decided, on what that decision read (kept in
`decision_inputs`: the lead as the CRM gave it, who was paused, the pool's counters and loads); each
update the worker handled for it (`lead_events`) is told again when it was handled; timers ring in
between as the config under test sets them, so handoffs, SLA re-routes and returns happen as that
config makes them (`webhook_app/offline/whatif_replay.py`). A replay under the config that really
ran gives back what really happened; a new config shows only its own differences. Per lead, the
owner compared is its newest assignment, handoffs included, really and in the replay.

Nothing is written anywhere: no CRM call, no database write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from sqlalchemy import Engine

from adapters.storage.history import (
    RingKey,
    StoredEvent,
    StoredHandoff,
    read_events,
    read_handoffs,
    read_rings,
)
from adapters.storage.inputs import StoredDecision, count_history, read_history
from core.decision import Decision
from core.policy import Policy
from core.reasons import Renderer
from webhook_app.offline.whatif_real import (
    CONTINUITY,
    NO_RULE,
    Owners,
    actual_rule,
    replayed_rule,
)
from webhook_app.offline.whatif_replay import LifeReplay
from webhook_app.offline.whatif_result import Change, RuleHits, WhatIf, fairness_json, whatif_json

__all__ = [
    "CONTINUITY",
    "NO_RULE",
    "Change",
    "LifeReplay",
    "RuleHits",
    "WhatIf",
    "actual_rule",
    "compare",
    "fairness_json",
    "replayed_rule",
    "run_whatif",
    "whatif_json",
]
SHOWN_CHANGES = 500  # changed leads kept for display; all are counted


def compare(
    history: Iterable[StoredDecision],
    policy: Policy,
    actual_policy: Policy,
    since: datetime,
    until: datetime,
    *,
    events: Iterable[StoredEvent] = (),
    handoffs: Iterable[StoredHandoff] = (),
    rings: Mapping[RingKey, list[datetime | None]] | None = None,
    reason: Callable[[Decision], str],
    on_progress: Callable[[int], None] = lambda done: None,
) -> WhatIf:
    """Replay `history` (new leads' decisions, the updates told, the real handoffs; `rings`: when the
    worker ran each timer) under `policy` and compare it with what really happened (under
    `actual_policy`, the config in force)."""
    replay = LifeReplay(policy, actual_policy, rings)
    result = WhatIf(since, until, actual_policy.version, policy.version)
    for stored, _ in replay.run(history, events, handoffs, until):
        result.leads += 1
        result.purged += stored.purged
        if result.leads % 1000 == 0:
            on_progress(result.leads)
    on_progress(result.leads)
    for owners in replay.leads.values():
        change = _change(owners, reason)
        if change is None:
            continue
        result.waiting += change.would is None
        result.changed += 1
        if len(result.changes) < SHOWN_CHANGES:
            result.changes.append(change)
    real = replay.real
    result.actual_fairness = real.fairness.report()
    result.would_fairness = replay.result_fairness.report()
    names = list(dict.fromkeys([*(r.name for r in policy.rules), *real.rules, *replay.would_rules]))
    result.rules = [RuleHits(n, real.rules[n], replay.would_rules[n]) for n in names]
    kinds = [*(h.name for h in policy.handoffs), *real.handoffs, *replay.would_handoffs]
    result.handoffs = [
        RuleHits(n, real.handoffs[n], replay.would_handoffs[n])
        for n in dict.fromkeys(kinds)
        if real.handoffs[n] or replay.would_handoffs[n]
    ]
    return result


def _change(owners: Owners, reason: Callable[[Decision], str]) -> Change | None:
    """How the lead's owner differs, or None when the replay gives it the same one."""
    would = owners.would[-1] if owners.would else None
    if would == owners.real[-1]:
        return None
    first, last, stored = owners.first, owners.last, owners.stored
    return Change(
        crm=stored.crm,
        lead_id=stored.lead_id,
        decided_at=stored.decided_at,
        actual=owners.real[-1],
        would=would,
        actual_rule=actual_rule(stored),
        would_rule=replayed_rule(first) if first is not None else NO_RULE,
        reason=reason(last) if last is not None else "",
        actual_owners=tuple(owners.real),
        would_owners=tuple(owners.would),
    )


def run_whatif(
    engine: Engine,
    policy: Policy,
    actual_policy: Policy,
    since: datetime,
    until: datetime,
    *,
    on_progress: Callable[[int, int], None] = lambda done, total: None,
) -> WhatIf:
    """Replay the stored history of [since, until] under `policy`; progress as (done, total) leads."""
    total = count_history(engine, since, until)
    on_progress(0, total)
    return compare(
        read_history(engine, since, until),
        policy,
        actual_policy,
        since,
        until,
        events=read_events(engine, since, until),
        handoffs=read_handoffs(engine, since, until),
        rings=read_rings(engine, since, until),
        reason=Renderer(policy).reason,
        on_progress=lambda done: on_progress(done, total),
    )
