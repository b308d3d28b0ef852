"""Reading leads as core Leads, in batches: at 7 requests a second, one GET per lead would make a
burst of 10,000 new leads take 24 minutes of reads alone.

`fetch_many` (the worker's batched prefetch, core.ports.BatchReader) reads up to `batch` leads
with one `filter[id][]` list call. `fetch` reads one lead; given an `upcoming` hint (which leads
will be asked for next) it reads those along with it and keeps them `ttl` seconds, each handed
out once; our own writes forget them. A lead a list call did not return (a fresh lead the list
index may not show yet) is read on its own. The worker reads in one thread and writes (which
forget) in another, so the kept copies are guarded by a lock.

Every read asks `with=contacts,loss_reason` (§2.2): the contacts find the client, and a lost lead
then names its loss reason itself (`junk: {loss_reason: …}`); a bare `loss_reason_id` is named
through the catalog's list of the account's reasons.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from adapters.amocrm.catalog import Catalog
from adapters.amocrm.clients import Clients
from adapters.amocrm.mapping import LOST, to_lead
from adapters.amocrm.schemas import LeadOut, embedded
from adapters.amocrm.transport import AmoHttp
from core.model import Lead

Upcoming = Callable[[int], Sequence[str]]
WITH = "contacts,loss_reason"  # amoCRM takes several `with` values comma-separated (§2.2)


@dataclass
class LeadReader:
    """Leads by id, with names resolved and the client looked up."""

    http: AmoHttp
    catalog: Catalog
    clients: Clients
    batch: int = 125
    ttl: float = 30.0
    upcoming: Upcoming | None = None
    clock: Callable[[], float] = time.time
    _kept: dict[str, tuple[float, Lead]] = field(default_factory=dict, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def fetch(self, lead_id: str) -> Lead | None:
        """One lead (None if amoCRM has no such lead), reading ahead when hinted."""
        if not lead_id.isascii() or not lead_id.isdigit():
            return None
        now = self.clock()
        with self._lock:
            kept = self._kept.pop(lead_id, None)
        if kept is not None and now - kept[0] < self.ttl:
            return kept[1]
        ahead = self._ahead(lead_id, now)
        if not ahead:
            return self._one(lead_id)
        found = self.leads(self._list([lead_id, *ahead]))
        with self._lock:
            for other in ahead:
                if other in found:
                    self._kept[other] = (now, found[other])
        return found.get(lead_id)

    def fetch_many(self, lead_ids: Sequence[str]) -> dict[str, Lead | None]:
        """Many leads with one list call per `batch` ids; one the list misses is read on its own."""
        wanted = [i for i in dict.fromkeys(lead_ids) if i.isascii() and i.isdigit()]
        found: dict[str, Lead | None] = dict.fromkeys((i for i in lead_ids if i not in wanted), None)
        for start in range(0, len(wanted), self.batch):
            found |= self.leads(self._list(wanted[start : start + self.batch]))
        for lead_id in wanted:
            if lead_id not in found:
                found[lead_id] = self._one(lead_id)  # deleted, or not in the list index yet
        return found

    def forget(self, lead_ids: Sequence[str]) -> None:
        """Drop kept copies of leads we just changed."""
        with self._lock:
            for lead_id in lead_ids:
                self._kept.pop(lead_id, None)

    def leads(self, raw: list[LeadOut]) -> dict[str, Lead]:
        """Core Leads for API leads, by id."""
        clients = self.clients.info(raw)
        return {
            str(lead.id): to_lead(
                lead,
                pipeline=self.catalog.pipeline(lead.pipeline_id),
                stage=self.catalog.stage(lead.pipeline_id, lead.status_id),
                client=clients[lead.id],
                loss_reason=self._named_reason(lead),
            )
            for lead in raw
        }

    def _named_reason(self, lead: LeadOut) -> str | None:
        """The name of a lost lead's reason id, looked up only when the lead did not embed it."""
        if lead.status_id != LOST or lead.loss_reason_id is None or lead.embedded.loss_reason:
            return None
        return self.catalog.loss_reason(lead.loss_reason_id)

    def _one(self, lead_id: str) -> Lead | None:
        body = self.http.get(f"/api/v4/leads/{lead_id}", {"with": WITH})  # 204 → None (§2.1)
        return self.leads([LeadOut.model_validate(body)] if body else []).get(lead_id)

    def _ahead(self, lead_id: str, now: float) -> list[str]:
        if self.upcoming is None or self.batch < 2:
            return []
        with self._lock:
            self._kept = {k: v for k, v in self._kept.items() if now - v[0] < self.ttl}
            kept = set(self._kept)
        hinted = self.upcoming(self.batch * 2)
        fresh = [
            i for i in dict.fromkeys(hinted) if i != lead_id and i not in kept and i.isascii() and i.isdigit()
        ]
        return fresh[: self.batch - 1]

    def _list(self, ids: list[str]) -> list[LeadOut]:
        params: list[tuple[str, str | int]] = [("filter[id][]", i) for i in ids]
        params += [("with", WITH), ("limit", 250)]
        found: list[LeadOut] = []
        for page in self.http.pages("/api/v4/leads", params):
            found += embedded(page, "leads", LeadOut)
        return found
