"""The composition root: the only place that builds engines, config holders, CRM clients, workers."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from adapters.storage.engine import make_engine
from adapters.storage.migrate import upgrade_database
from core.model import Policy
from core.ports import CrmPort
from webhook_app.config import LoadedConfig, load_config
from webhook_app.jobs import JobContext
from webhook_app.metrics import Metrics
from webhook_app.settings import Settings, resolve_config_path
from webhook_app.worker import Worker, WorkerOptions

Clock = Callable[[], datetime]
CrmFactory = Callable[[LoadedConfig, Settings, Engine], CrmPort]
# CRM clients register here by the config's `crm.type` (the adapters' issues fill it in).
CRM_FACTORIES: dict[str, CrmFactory] = {}


def utc_now() -> datetime:
    """The real clock."""
    return datetime.now(UTC)


class ConfigHolder:
    """The config in force. `reload` swaps it only if the new file is valid; readers never see half."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self.current: LoadedConfig = load_config(path)

    def reload(self) -> LoadedConfig:
        """Load the file again; on ConfigError the running version stays and the error propagates."""
        fresh = load_config(self.path)
        with self._lock:
            self.current = fresh
        return fresh

    def policy(self) -> Policy:
        """The policy in force right now."""
        return self.current.policy


@dataclass
class Services:
    """Everything the web app and the workers share."""

    settings: Settings
    engine: Engine
    config: ConfigHolder
    clock: Clock = utc_now
    crm: CrmPort | None = None
    metrics: Metrics = field(default_factory=Metrics)

    @property
    def crm_type(self) -> str:
        """`amocrm` or `bitrix24`, from the config."""
        return str(self.config.current.crm.type)


def build_services(
    settings: Settings | None = None,
    *,
    config_path: str | None = None,
    crm: CrmPort | None = None,
    clock: Clock = utc_now,
) -> Services:
    """Wire the database (migrated to the newest schema), the config and the CRM client."""
    settings = settings or Settings()
    holder = ConfigHolder(resolve_config_path(config_path, settings))
    engine = make_engine(settings.database_url)
    upgrade_database(engine)
    services = Services(settings=settings, engine=engine, config=holder, clock=clock, crm=crm)
    if services.crm is None and services.crm_type in CRM_FACTORIES:
        services.crm = CRM_FACTORIES[services.crm_type](holder.current, settings, engine)
    services.metrics.watch_database(engine, clock)
    return services


def build_worker(services: Services, name: str | None = None, options: WorkerOptions | None = None) -> Worker:
    """A worker over the shared services; refuses clearly when no CRM client exists for the config."""
    if services.crm is None:
        raise RuntimeError(f"no CRM client available for crm.type {services.crm_type!r}")
    metrics = services.metrics
    ctx = JobContext(
        engine=services.engine,
        crm=services.crm,
        policy=services.config.policy,
        clock=services.clock,
        worker=name or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 10_000}",
        on_decision=metrics.decision_seconds.observe,
        on_write=lambda kind, outcome: metrics.crm_writes.labels(kind, outcome).inc(),
    )
    return Worker(ctx, options or WorkerOptions())
