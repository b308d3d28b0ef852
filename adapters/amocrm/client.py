"""The amoCRM API v4 client as the worker sees it: core.ports.CrmPort, Reconcilable, WriteChecker."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from adapters.amocrm.catalog import Catalog
from adapters.amocrm.mapping import moment
from adapters.amocrm.reads import LeadReader
from adapters.amocrm.schemas import LeadOut, embedded
from adapters.amocrm.transport import AmoHttp
from adapters.amocrm.writes import Writer
from core.model import Lead
from core.ports import ChangedLead, CrmWrite, WriteKind, WriteResult, WriteStatus

log = logging.getLogger("leadrouter.amocrm")


@dataclass
class AmoCrmClient:
    """Reads leads, writes responsibles, tasks, notes and fields, lists what changed."""

    http: AmoHttp = field(repr=False)
    catalog: Catalog = field(repr=False)
    reader: LeadReader = field(repr=False)
    writer: Writer = field(repr=False)
    base_url: str = ""
    name: str = "amocrm"

    def batch_size(self, kind: WriteKind) -> int:
        """Writes of this kind per call: the configured cap, lowered if amoCRM ever refused it."""
        return self.writer.cap

    def read_batch_size(self) -> int:
        """Leads per list call of `fetch_leads` (the worker fills whole reads in a burst)."""
        return self.reader.batch

    def fetch_lead(self, lead_id: str) -> Lead | None:
        """The lead with names, fields, contact data and client history; None when amoCRM has none."""
        return self.reader.fetch(lead_id)

    def fetch_leads(self, lead_ids: Sequence[str]) -> dict[str, Lead | None]:
        """Many leads in as few requests as possible (a list call per 125 ids), for a batched worker."""
        return self.reader.fetch_many(lead_ids)

    def write(self, writes: Sequence[CrmWrite]) -> list[WriteResult]:
        """Send writes of one kind; one result per write, in order."""
        if not writes:
            return []
        self.reader.forget([w.lead_id for w in writes])
        results = self.writer.write(writes)
        failed = [r for r in results if r.status is not WriteStatus.OK]
        if failed:
            log.warning(
                "amoCRM %s: %d of %d not written: %s",
                writes[0].kind.value,
                len(failed),
                len(results),
                failed[0].error,
            )
        return results

    def already_written(self, writes: Sequence[CrmWrite]) -> list[bool]:
        """Which of these task writes amoCRM already holds (sent before, the answer lost)."""
        return self.writer.landed(writes)

    def changed_since(self, since: datetime) -> list[ChangedLead]:
        """Leads created or updated at or after `since`, oldest change first, every page read (§1.5)."""
        # A creation sets updated_at too, so one filter on updated_at covers both.
        params: dict[str, str | int] = {
            "filter[updated_at][from]": int(since.timestamp()),
            "order[updated_at]": "asc",
            "limit": 250,
        }
        changed: dict[str, ChangedLead] = {}
        for page in self.http.pages("/api/v4/leads", params):
            for lead in embedded(page, "leads", LeadOut):
                created = moment(lead.created_at) or since
                changed[str(lead.id)] = ChangedLead(str(lead.id), created, moment(lead.updated_at) or created)
        return sorted(changed.values(), key=lambda c: (c.updated_at, c.lead_id))

    def close(self) -> None:
        """Close the HTTP connections."""
        self.http.http.close()
