"""An in-memory CRM port: leads to read, a log of writes, failures on demand."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from adapters.errors import TransientCrmError
from core.model import Lead
from core.ports import ChangedLead, CrmWrite, WriteKind, WriteResult, WriteStatus


@dataclass
class FakeCrm:
    """Behaves like a CRM that accepts every write unless told to fail."""

    name: str = "amocrm"
    leads: dict[str, Lead] = field(default_factory=dict)
    writes: list[CrmWrite] = field(default_factory=list)
    calls: list[tuple[WriteKind, int]] = field(default_factory=list)
    batch: int = 50
    transient_failures: int = 0  # the next N write calls fail as a whole
    refuse_leads: set[str] = field(default_factory=set)  # writes for these leads are refused for good
    fetches: int = 0
    touched: dict[str, datetime] = field(default_factory=dict)  # lead id → last change
    down: bool = False  # an outage: every read raises, every write fails as a whole, like a 503 storm
    client_owners: dict[str, int | None] = field(default_factory=dict)  # lead id → its contacts' responsible

    def batch_size(self, kind: WriteKind) -> int:
        """How many writes per call."""
        return self.batch

    def fetch_lead(self, lead_id: str) -> Lead | None:
        """The lead, with its current responsible."""
        self.fetches += 1
        self._answer()
        return self.leads.get(lead_id)

    def write(self, writes: Sequence[CrmWrite]) -> list[WriteResult]:
        """Apply writes; responsible writes change the stored lead like the CRM would."""
        self.calls.append((writes[0].kind, len(writes)))
        if self.down:
            return [WriteResult(WriteStatus.TRANSIENT, "503 Service Unavailable")] * len(writes)
        if self.transient_failures > 0:
            self.transient_failures -= 1
            return [WriteResult(WriteStatus.TRANSIENT, "503 Service Unavailable", retry_after=1.0)] * len(
                writes
            )
        results = []
        for write in writes:
            if write.lead_id in self.refuse_leads:
                results.append(WriteResult(WriteStatus.PERMANENT, "422 responsible user is inactive"))
                continue
            self.writes.append(write)
            lead = self.leads.get(write.lead_id)
            if write.kind is WriteKind.RESPONSIBLE and lead is not None:
                self.leads[write.lead_id] = replace(lead, responsible_user_id=write.user_id)
            if write.kind is WriteKind.CLIENT:
                self.client_owners[write.lead_id] = write.user_id
            results.append(WriteResult(WriteStatus.OK))
        return results

    def changed_since(self, since: datetime) -> list[ChangedLead]:
        """Leads created or touched at or after `since` (the fake keeps one timestamp per lead)."""
        self._answer()
        items = [
            ChangedLead(i, lead.created_at, self.touched.get(i, lead.created_at))
            for i, lead in self.leads.items()
        ]
        return sorted((c for c in items if c.updated_at >= since), key=lambda c: c.updated_at)

    def _answer(self) -> None:
        if self.down:
            raise TransientCrmError("503 Service Unavailable (after the client's own retries)")

    def client_writes(self) -> list[CrmWrite]:
        """The client writes made (contacts' and company's responsible), in order."""
        return [w for w in self.writes if w.kind is WriteKind.CLIENT]

    def owner_of(self, lead_id: str) -> int | None:
        """The lead's responsible as the CRM has it now."""
        return self.leads[lead_id].responsible_user_id
