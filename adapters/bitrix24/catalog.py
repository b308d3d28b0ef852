"""Names behind Bitrix24's codes: lead and deal stages, deal funnels, custom (UF_) fields; cached.

Stages come from `crm.status.list` (`ENTITY_ID` STATUS for leads, DEAL_STAGE / DEAL_STAGE_<n> for
deal funnels), funnels from `crm.category.list?entityTypeId=2`, custom fields from
`crm.lead.fields` / `crm.deal.fields` (bitrix24.md §2.2, §2.3). All three come in one batch,
i.e. one request, and are kept for `ttl` seconds; an unknown stage reloads early (at most once a
minute), since portals add stages while we run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from adapters.bitrix24.batch import run_batch
from adapters.bitrix24.transport import Transport


@dataclass(frozen=True, slots=True)
class Stage:
    """A lead status or a deal stage, with its funnel for deals."""

    stage_id: str
    name: str
    pipeline_id: str | None = None
    pipeline: str | None = None
    semantics: str | None = None  # None (in progress), "S" success, "F" failure


@dataclass(frozen=True, slots=True)
class FieldMeta:
    """A custom field: its UF_ id, the label people know it by, and list items (id → text)."""

    id: str
    label: str
    type: str = "string"
    multiple: bool = False
    items: dict[str, str] = field(default_factory=dict)


class Catalog:
    """Stage and field names for one entity (`lead` or `deal`), loaded lazily, refreshed by age."""

    def __init__(
        self,
        transport: Transport,
        entity: str,
        *,
        ttl: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._transport, self._entity, self._ttl, self._clock = transport, entity, ttl, clock
        self._loaded_at: float | None = None
        self._stages: dict[str, Stage] = {}
        self._fields: dict[str, FieldMeta] = {}

    def stage(self, stage_id: str | None) -> Stage | None:
        """The stage behind a STATUS_ID / STAGE_ID, reloading once if it is new to us."""
        if not stage_id:
            return None
        self._ensure()
        if stage_id not in self._stages and self._age() > 60.0:
            self._load()
        return self._stages.get(stage_id)

    def stages(self) -> list[Stage]:
        """Every stage of this entity (deals: of every funnel), in the portal's order."""
        self._ensure()
        return list(self._stages.values())

    def fields(self) -> dict[str, FieldMeta]:
        """Custom fields by UF_ id."""
        self._ensure()
        return self._fields

    def field_for(self, name: str) -> FieldMeta | None:
        """A custom field by its UF_ id or by its label (case-insensitive)."""
        fields = self.fields()
        if name in fields:
            return fields[name]
        wanted = name.casefold()
        return next((f for f in fields.values() if f.label.casefold() == wanted), None)

    def _age(self) -> float:
        return float("inf") if self._loaded_at is None else self._clock() - self._loaded_at

    def _ensure(self) -> None:
        if self._age() > self._ttl:
            self._load()

    def _load(self) -> None:
        calls: dict[str, tuple[str, dict[str, Any]]] = {
            "statuses": ("crm.status.list", {"order": {"SORT": "ASC"}}),
            "fields": (f"crm.{self._entity}.fields", {}),
        }
        if self._entity == "deal":
            calls["funnels"] = ("crm.category.list", {"entityTypeId": 2})
        outcome = run_batch(self._transport, calls)
        for key in calls:
            if key in outcome.errors:
                raise outcome.errors[key]
        statuses = list(outcome.results["statuses"] or [])
        start = outcome.nexts.get("statuses")
        while start:  # crm.status.list pages like any list (§2.4) on portals with many stages
            body = self._transport.call("crm.status.list", {"order": {"SORT": "ASC"}, "start": start})
            statuses += list(body.get("result") or [])
            start = int(body["next"]) if body.get("next") else None
        funnels = _funnels(outcome.results.get("funnels"))
        self._stages = _stages(statuses, self._entity, funnels)
        self._fields = _fields(outcome.results["fields"])
        self._loaded_at = self._clock()


def _funnels(result: Any) -> dict[str, str]:
    """crm.category.list → `{"categories": [{"id": 0, "name": "General", ...}]}` (§2.3)."""
    items = result.get("categories", []) if isinstance(result, dict) else []
    return {str(c.get("id")): str(c.get("name") or "") for c in items if isinstance(c, dict)}


def _stages(statuses: list[Any], entity: str, funnels: dict[str, str]) -> dict[str, Stage]:
    stages: dict[str, Stage] = {}
    for item in statuses:
        if not isinstance(item, dict):
            continue
        kind = str(item.get("ENTITY_ID") or "")
        if entity == "lead" and kind != "STATUS":
            continue
        if entity == "deal" and kind != "DEAL_STAGE" and not kind.startswith("DEAL_STAGE_"):
            continue
        funnel = str(item.get("CATEGORY_ID") or 0) if entity == "deal" else None
        stage_id = str(item.get("STATUS_ID") or "")
        semantics = item.get("SEMANTICS") or None
        stages[stage_id] = Stage(
            stage_id,
            str(item.get("NAME") or stage_id),
            funnel,
            funnels.get(funnel) if funnel else None,
            semantics,
        )
    return stages


def _fields(result: Any) -> dict[str, FieldMeta]:
    """UF_ fields of crm.<entity>.fields; their label is listLabel / formLabel, `title` is the code."""
    fields: dict[str, FieldMeta] = {}
    for fid, meta in (result or {}).items() if isinstance(result, dict) else ():
        if not fid.startswith("UF_") or not isinstance(meta, dict):
            continue
        label = (
            meta.get("listLabel")
            or meta.get("formLabel")
            or meta.get("filterLabel")
            or meta.get("title")
            or fid
        )
        items = {
            str(i.get("ID")): str(i.get("VALUE")) for i in meta.get("items") or [] if isinstance(i, dict)
        }
        fields[fid] = FieldMeta(
            fid, str(label), str(meta.get("type") or "string"), bool(meta.get("isMultiple")), items
        )
    return fields
