"""Pipelines, stages, lead custom fields and loss reasons, cached: ids in the API, names in the
config (§2.2, §2.8, §2.9).

Read once, then again when stale or when an id we do not know shows up (someone added a stage),
but at most once a minute, so a lead in a deleted stage cannot make us reload on every read.
The worker's reading and writing threads share one catalog: one of them reloads, the other waits.
Loss reasons (`GET /api/v4/leads/loss_reasons`) are read apart and only when first needed: a lead
read `with=loss_reason` names its reason itself, the list only fills in a bare `loss_reason_id`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from adapters.amocrm.mapping import LOST, WON
from adapters.amocrm.schemas import FieldDef, Named, PipelineOut, embedded
from adapters.amocrm.transport import AmoHttp
from adapters.errors import PermanentCrmError

log = logging.getLogger("leadrouter.amocrm")
Part = Literal["pipelines", "reasons"]  # pipelines, stages and fields are read together; reasons apart
SYSTEM_STAGES = {WON: "Успешно реализовано", LOST: "Закрыто и не реализовано"}


@dataclass
class Catalog:
    """Names for pipeline, stage, field and loss reason ids, and field ids for names."""

    http: AmoHttp
    clock: Callable[[], float] = time.time
    ttl: float = 600.0
    min_reload: float = 60.0
    _pipelines: dict[int, str] = field(default_factory=dict, init=False)
    _stages: dict[tuple[int, int], str] = field(default_factory=dict, init=False)
    _fields: dict[int, FieldDef] = field(default_factory=dict, init=False)
    _pipeline_list: list[PipelineOut] = field(default_factory=list, init=False)
    _by_name: dict[str, FieldDef] = field(default_factory=dict, init=False)
    _reasons: dict[int, str] = field(default_factory=dict, init=False)
    _loaded: float = field(default=float("-inf"), init=False)
    _reasons_loaded: float = field(default=float("-inf"), init=False)
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

    def loss_reason(self, reason_id: int | None) -> str | None:
        """A loss reason's name by its id (None for none, or one the account does not list)."""
        if reason_id is None:
            return None
        self._fresh(lambda: reason_id in self._reasons, part="reasons")
        return self._reasons.get(reason_id)

    def loss_reasons(self) -> list[str]:
        """The account's loss reasons by name, read now (for `check-config --online`)."""
        with self._lock:
            self._reload_reasons()
        return list(self._reasons.values())

    def listing(self) -> tuple[list[PipelineOut], list[FieldDef]]:
        """Pipelines with their stages and the lead fields, read now (for `check-config --online`)."""
        self.reload()
        return list(self._pipeline_list), list(self._fields.values())

    def _fresh(self, known: Callable[[], bool], part: Part = "pipelines") -> None:
        if self._stale(known, part):
            with self._lock:
                if not self._stale(known, part):  # the other thread reloaded while we waited
                    return
                if part == "reasons":
                    self._reload_reasons()
                else:
                    self.reload()

    def _stale(self, known: Callable[[], bool], part: Part) -> bool:
        age = self.clock() - (self._reasons_loaded if part == "reasons" else self._loaded)
        return age >= self.ttl or (not known() and age >= self.min_reload)

    def _reload_reasons(self) -> None:
        """Read the account's loss reasons again; an account that refuses the list (an older API, a
        user without the right) leaves reasons unnamed rather than failing the lead's read."""
        reasons: list[Named] = []
        try:
            for page in self.http.pages("/api/v4/leads/loss_reasons", {"limit": 250}):
                reasons += embedded(page, "loss_reasons", Named)
        except PermanentCrmError as exc:
            log.warning("amoCRM refused the list of loss reasons (%s); they stay unnamed", exc)
        self._reasons = {r.id: r.name for r in reasons if r.id is not None and r.name}
        self._reasons_loaded = self.clock()

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
