"""The kinds of jobs in the queue and of rows in the audit log: one name each, stored as text."""

from __future__ import annotations

import enum


class JobKind(enum.StrEnum):
    """What a queued job does when it is due."""

    LEAD = "lead"  # a new lead to route
    EVENT = "event"  # an update of a lead we know: echo, a person's change, a stage move, a deletion
    RECONCILE = "reconcile"  # poll the CRM for what a lost webhook hid
    STAGE = "stage"  # a move into a handoff stage
    AFTER_DAYS = "after_days"  # N days in a stage passed
    SLA = "sla"  # is the lead worked on yet?
    RETURN = "return"  # the owner is back from an absence
    HOOK_CHECK = "hook_check"  # is our webhook in the CRM still there and enabled? repair it if not


class AuditKind(enum.StrEnum):
    """What an audit row records."""

    RECEIVED = "received"
    DUPLICATE = "duplicate"
    RECONCILED = "reconciled"
    DECISION = "decision"
    WAIT = "wait"
    ALREADY_DECIDED = "already_decided"
    LEAD_MISSING = "lead_missing"
    DELETED = "deleted"
    IGNORED = "ignored"
    ECHO = "echo"
    STALE = "stale"  # a late responsible-change event from before our last write
    OVERRIDE = "override"
    STAGE_CHANGED = "stage_changed"
    HANDOFF = "handoff"
    HANDOFF_BLOCKED = "handoff_blocked"
    HANDOFF_CANCELLED = "handoff_cancelled"
    HANDOFF_DONE = "handoff_done"
    SLA_OK = "sla_ok"
    SLA_WAITING = "sla_waiting"
    RETURN_SKIPPED = "return_skipped"
    WON = "won"
    LOST = "lost"
    CRM_WRITE = "crm_write"
    CRM_RETRY = "crm_retry"
    DEAD_LETTER = "dead_letter"
    REPLAY = "replay"
    CRM_DOWN = "crm_down"  # the CRM stopped answering: work waits for it
    CRM_BACK = "crm_back"  # it answers again: what waited is due now
    JOB_RETRY = "job_retry"
    JOB_FAILED = "job_failed"
    PAUSE = "pause"
    RESUME = "resume"
    CONFIG = "config"
    RETENTION = "retention"
    RESTORED = "restored"  # a lead recorded deleted came back (amoCRM's restore from the trash)
    WRITE_CANCELLED = "write_cancelled"  # the CRM refused a write because the lead is gone
    CLOCK_STEP = "clock_step"  # the wall clock jumped ahead of elapsed time: timers moved with it
    HOOK_REPAIRED = "hook_repaired"  # our webhook was disabled or missing in the CRM; re-enabled
    HOOK_DOWN = "hook_down"  # our webhook is disabled or missing and could not be repaired
