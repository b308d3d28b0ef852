"""The Bitrix24 REST client as the worker sees it: a CrmPort (fetch, batched writes) and Reconcilable.

Events carry only the ID (bitrix24.md §1.2), so every decision starts with a read; reads and
writes go through `batch` (≤ 50 calls per request, one request in the bucket, §3). A group of up
to 50 leads costs: one batch of `crm.<entity>.get`, plus — only for leads we have not routed yet,
the only ones a continuity decision needs — up to three batches finding the repeat client.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy import Engine

from adapters.admin import CrmUser
from adapters.bitrix24 import directory
from adapters.bitrix24.batch import MAX_COMMANDS, chunks, run_batch
from adapters.bitrix24.catalog import Catalog, FieldMeta, Stage
from adapters.bitrix24.clients import Found, find_clients
from adapters.bitrix24.landed import landed
from adapters.bitrix24.mapping import Extras, split_id, to_lead
from adapters.bitrix24.parties import write_client_owners
from adapters.bitrix24.status import is_not_found
from adapters.bitrix24.transport import Transport
from adapters.bitrix24.writes import plan, result_of_error, results
from adapters.errors import CrmError
from adapters.storage.engine import reading
from adapters.storage.seen import seen_ids
from core.model import Lead
from core.ports import ChangedLead, CrmPort, CrmWrite, Reconcilable, WriteChecker, WriteKind, WriteResult


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Bitrix24Client:
    """Bitrix24 through REST: leads or deals (`entity`), batched, paced, retried."""

    name = "bitrix24"

    def __init__(
        self,
        *,
        transport: Transport,
        engine: Engine,
        entity: str = "lead",
        batch_size: int = MAX_COMMANDS,
        lookup_clients: bool = True,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.transport, self.engine, self.entity = transport, engine, entity
        self._batch = max(1, min(batch_size, MAX_COMMANDS))
        self.lookup_clients = lookup_clients
        self.clock = clock
        self._catalogs: dict[str, Catalog] = {}

    def __repr__(self) -> str:
        return f"Bitrix24Client(entity={self.entity!r})"

    def batch_size(self, kind: WriteKind) -> int:
        """Writes per `batch` request: 50 at most (§3); 25 client writes, whose links take two
        commands each (adapters/bitrix24/parties.py)."""
        return max(1, self._batch // 2) if kind is WriteKind.CLIENT else self._batch

    def catalog(self, entity: str | None = None) -> Catalog:
        """Stage and field names of `entity` (default: the routed one)."""
        entity = entity or self.entity
        if entity not in self._catalogs:
            self._catalogs[entity] = Catalog(self.transport, entity)
        return self._catalogs[entity]

    def fetch_lead(self, lead_id: str) -> Lead | None:
        """The lead or deal "lead:ID" / "deal:ID", or None if it no longer exists."""
        return self.fetch_leads([lead_id]).get(lead_id)

    def fetch_leads(self, lead_ids: Sequence[str]) -> dict[str, Lead | None]:
        """Many leads in as few requests as possible: 50 `get` calls per batch."""
        found: dict[str, Lead | None] = {}
        valid = []
        for lead_id in dict.fromkeys(lead_ids):
            try:
                split_id(lead_id)
                valid.append(lead_id)
            except ValueError:
                found[lead_id] = None  # not an id Bitrix24 could have: nothing to fetch
        for group in chunks(valid, self._batch):
            found.update(self._fetch_group(group))
        return found

    def _fetch_group(self, lead_ids: list[str]) -> dict[str, Lead | None]:
        calls = {
            f"r{n}": (f"crm.{split_id(i)[0]}.get", {"id": split_id(i)[1]}) for n, i in enumerate(lead_ids)
        }
        outcome = run_batch(self.transport, calls)
        records = {}
        for n, lead_id in enumerate(lead_ids):
            error = outcome.errors.get(f"r{n}")
            if error is not None and not is_not_found(error):
                raise error  # a transient failure: the worker retries the job
            if error is None and isinstance(outcome.results.get(f"r{n}"), dict):
                records[lead_id] = outcome.results[f"r{n}"]
        fresh = self._unrouted(list(records)) if self.lookup_clients else set()
        clients = find_clients(self.transport, {i: records[i] for i in fresh}) if fresh else {}
        return {i: self._map(i, records[i], clients.get(i)) if i in records else None for i in lead_ids}

    def _map(self, lead_id: str, raw: dict[str, object], found: Found | None) -> Lead:
        entity = split_id(lead_id)[0]
        catalog = self.catalog(entity)
        stage = catalog.stage(str(raw.get("STATUS_ID" if entity == "lead" else "STAGE_ID") or ""))
        return to_lead(
            entity,
            raw,
            stage=stage,
            fields=catalog.fields(),
            client=found.client if found else None,
            extras=found.extras if found else Extras(),
        )

    def _unrouted(self, lead_ids: list[str]) -> set[str]:
        """Leads we never routed: only their decision can use a repeat client (continuity)."""
        with reading(self.engine) as connection:  # never takes SQLite's write lock
            seen = seen_ids(connection, self.name, lead_ids)
        return set(lead_ids) - seen

    def write(self, writes: Sequence[CrmWrite]) -> list[WriteResult]:
        """Send writes of one kind as batch commands; one result per write, in order."""
        if writes and writes[0].kind is WriteKind.CLIENT:
            return write_client_owners(self.transport, writes, self._batch)
        calls, refused = plan(writes, self._field_for, self.clock())
        try:
            outcome = run_batch(self.transport, calls, size=self._batch)
        except CrmError as exc:  # pragma: no cover - run_batch turns request failures into per-key errors
            return [result_of_error(exc)] * len(writes)
        return results(len(writes), outcome, refused)

    def already_written(self, writes: Sequence[CrmWrite]) -> list[bool]:
        """Which of these task writes the lead's timeline already holds (sent before, answer lost)."""
        return landed(self.transport, writes, self._batch)

    def _field_for(self, entity: str, name: str) -> FieldMeta | None:
        return self.catalog(entity).field_for(name)

    def changed_since(self, since: datetime) -> list[ChangedLead]:
        """Leads (or deals) with DATE_MODIFY ≥ `since`, oldest change first, every page read."""
        return directory.changed_since(self.transport, self.entity, since)

    def stages(self, entity: str | None = None) -> list[Stage]:
        """Lead statuses, or the stages of every deal funnel."""
        return self.catalog(entity).stages()

    def users(self) -> list[CrmUser]:
        """Active users with their department names."""
        return directory.users(self.transport)

    def absences(self, user_ids: Sequence[int]) -> dict[int, datetime | None]:
        """Until when each user is away by the absence chart (`im.user.list.get` `absent`), or None."""
        return directory.absences(self.transport, user_ids)


def _conforms(client: Bitrix24Client) -> tuple[CrmPort, Reconcilable, WriteChecker]:
    """A static check (mypy): the client is what the worker and the reconciler need."""
    return client, client, client
