"""What the core needs from the outside world, in core terms (never raw CRM JSON)."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from core.model import Lead, UserId


class WriteKind(enum.Enum):
    """The kinds of CRM writes we make."""

    RESPONSIBLE = "responsible"
    TASK = "task"
    NOTE = "note"
    FIELD = "field"
    CLIENT = "client"  # the contacts and company of this lead get `user_id` as responsible


@dataclass(frozen=True, slots=True)
class CrmWrite:
    """One write to the CRM about one lead."""

    kind: WriteKind
    lead_id: str
    user_id: UserId | None = None
    text: str = ""
    due: datetime | None = None
    field_name: str | None = None
    field_value: str | None = None


class WriteStatus(enum.Enum):
    """How a write ended: done, worth retrying, or refused for good."""

    OK = "ok"
    TRANSIENT = "transient"
    PERMANENT = "permanent"
    GONE = "gone"  # refused because the lead no longer exists in the CRM: the lead is recorded deleted


@dataclass(frozen=True, slots=True)
class WriteResult:
    """The outcome of one write; `error` is safe to log (no secrets)."""

    status: WriteStatus
    error: str = ""
    retry_after: float | None = None
    detail: dict[str, str] = field(default_factory=dict)


class CrmPort(Protocol):
    """A CRM as the worker sees it: read a lead, write batches of changes."""

    name: str

    def batch_size(self, kind: WriteKind) -> int:
        """How many writes of this kind fit in one call."""
        ...

    def fetch_lead(self, lead_id: str) -> Lead | None:
        """The lead as the core needs it, or None if it no longer exists."""
        ...

    def write(self, writes: Sequence[CrmWrite]) -> list[WriteResult]:
        """Send writes of one kind; one result per write, in order."""
        ...


@dataclass(frozen=True, slots=True)
class ChangedLead:
    """A lead (or deal) the CRM reports as created or changed since a watermark."""

    lead_id: str
    created_at: datetime
    updated_at: datetime


@runtime_checkable
class Reconcilable(Protocol):
    """A CRM that can list what changed, so a lost webhook never means a lost lead."""

    def changed_since(self, since: datetime) -> list[ChangedLead]:
        """Leads created or updated at or after `since`, oldest first (every page read)."""
        ...


@runtime_checkable
class BatchReader(Protocol):
    """A CRM that reads many leads in one call (Bitrix24 `batch`): the worker prefetches with it."""

    def fetch_leads(self, lead_ids: Sequence[str]) -> dict[str, Lead | None]:
        """The leads by id (None for those that no longer exist)."""
        ...


@runtime_checkable
class WriteChecker(Protocol):
    """A CRM that can tell whether writes already landed: a task sent before a crash (or a timeout)
    whose answer we never recorded is looked for there instead of being sent a second time."""

    def already_written(self, writes: Sequence[CrmWrite]) -> list[bool]:
        """For task writes of one kind: whether the CRM already holds each (same lead, responsible,
        text and deadline). Raises `CrmError` when it cannot tell; nothing is then sent."""
        ...
