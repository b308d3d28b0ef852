"""Pipelines, stages and lead custom fields, cached: ids in the API, names in the config (§2.8, §2.9).

Read once, then again when stale or when an id we do not know shows up (someone added a stage),
but at most once a minute, so a lead in a deleted stage cannot make us reload on every read.
The worker's reading and writing threads share one catalog: one of them reloads, the other waits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from adapters.amocrm.mapping import LOST, WON
from adapters.amocrm.schemas import FieldDef, PipelineOut, embedded
from adapters.amocrm.transport import AmoHttp

SYSTEM_STAGES = {WON: "Успешно реализовано", LOST: "Закрыто и не реализовано"}


@dataclass
class Catalog:
    """Names for pipeline, stage and field ids, and field ids for names."""

    http: AmoHttp
    clock: Callable[[], float] = time.time
    ttl: float = 600.0
    min_reload: float = 60.0
    _pipelines: dict[int, str] = field(default_factory=dict, init=False)
    _stages: dict[tuple[int, int], str] = field(default_factory=dict, init=False)
    _fields: dict[int, FieldDef] = field(default_factory=dict, init=False)
    _pipeline_list: list[PipelineOut] = field(default_factory=list, init=False)
    _by_name: dict[str, FieldDef] = field(default_factory=dict, init=False)
    _loaded: float = field(default=float("-inf"), init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def pipeline(self, pipeline_id: int | None) -> str | None:
        """The pipeline's name."""
        if pipeline_id is None:
            return None
        self._fresh(lambda: pipeline_id in self._pipelines)
        return self._pipelines.get(pipeline_id)

    def stage(self, pipeline_id: int | None, status_id: int | None) -> str | None:
        """The stage's name; won and lost are named even if the pipeline list lacks them."""
        if status_id is None:
            return None
        key = (pipeline_id or 0, status_id)
        self._fresh(lambda: key in self._stages or status_id in SYSTEM_STAGES)
        return self._stages.get(key) or SYSTEM_STAGES.get(status_id)

    def field_by_name(self, name: str) -> FieldDef | None:
        """A lead custom field by its name (case-insensitive), e.g. the hunter field of a handoff."""
        key = name.casefold().strip()
        self._fresh(lambda: key in self._by_name)
        return self._by_name.get(key)

    def field(self, field_id: int) -> FieldDef | None:
        """A lead custom field by id."""
        self._fresh(lambda: field_id in self._fields)
        return self._fields.get(field_id)

    def listing(self) -> tuple[list[PipelineOut], list[FieldDef]]:
        """Pipelines with their stages and the lead fields, read now (for `check-config --online`)."""
        self.reload()
        return list(self._pipeline_list), list(self._fields.values())

    def _fresh(self, known: Callable[[], bool]) -> None:
        if self._stale(known):
            with self._lock:
                if self._stale(known):  # the other thread may have reloaded while we waited
                    self.reload()

    def _stale(self, known: Callable[[], bool]) -> bool:
        age = self.clock() - self._loaded
        return age >= self.ttl or (not known() and age >= self.min_reload)

    def reload(self) -> None:
        """Read pipelines (with their stages) and lead fields again."""
        pipelines: list[PipelineOut] = []
        for page in self.http.pages("/api/v4/leads/pipelines", {}):
            pipelines += embedded(page, "pipelines", PipelineOut)
        fields: list[FieldDef] = []
        for page in self.http.pages("/api/v4/leads/custom_fields", {"limit": 250}):
            fields += embedded(page, "custom_fields", FieldDef)
        self._pipeline_list = pipelines
        self._pipelines = {p.id: p.name for p in pipelines}
        self._stages = {(p.id, s.id): s.name for p in pipelines for s in p.embedded.statuses}
        self._fields = {f.id: f for f in fields}
        self._by_name = {f.name.casefold().strip(): f for f in reversed(fields)}  # the first wins
        self._loaded = self.clock()
