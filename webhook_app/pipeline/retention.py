"""Retention: what-if inputs (decisions' inputs, the updates told) and personal data are kept only as
long as the config says."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timedelta

from sqlalchemy import Engine

from adapters.storage.audit import write_audit
from adapters.storage.inputs import Purged, purge
from core.kinds import AuditKind
from webhook_app.config import LoadedConfig
from webhook_app.pipeline.decision_input import without_personal

log = logging.getLogger("leadrouter.retention")
EVERY = timedelta(hours=1)


def purge_now(engine: Engine, loaded: LoadedConfig, now: datetime) -> Purged:
    """One retention pass under the config's `retention`; audited when it removed anything."""
    settings = loaded.document.retention
    done = purge(
        engine,
        now,
        inputs_before=now - timedelta(days=settings.decision_inputs_days),
        personal_before=now - timedelta(days=settings.personal_data_days),
        blank=without_personal,
    )
    if any(asdict(done).values()):
        message = (
            f"retention: {done.inputs_deleted} decision inputs and {done.events_deleted} lead events "
            f"deleted, personal data blanked in {done.inputs_blanked} inputs, {done.events_blanked} "
            f"lead events and {done.webhooks_blanked} webhook bodies"
        )
        log.info(message)
        with engine.begin() as connection:
            write_audit(connection, AuditKind.RETENTION, message, at=now, detail=asdict(done))
    return done


class RetentionSchedule:
    """Runs `purge_now` at most once per EVERY from a worker's loop."""

    def __init__(self, engine: Engine, loaded: Callable[[], LoadedConfig]) -> None:
        self.engine, self.loaded = engine, loaded
        self.last: datetime | None = None

    def __call__(self, now: datetime) -> None:
        """Purge if the last pass is an hour old (or there was none in this process)."""
        if self.last is not None and now - self.last < EVERY:
            return
        self.last = now
        try:
            purge_now(self.engine, self.loaded(), now)
        except Exception:  # a failed pass is retried next hour; the worker's own work goes on
            log.exception("retention pass failed")
