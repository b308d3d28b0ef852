"""The composition root: the only place that builds engines, config holders, CRM clients, workers."""

from __future__ import annotations

import importlib
import os
import socket
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from types import ModuleType
from typing import Any

from pydantic import SecretStr
from sqlalchemy import Engine

from adapters.admin import HookKeeper
from adapters.storage.engine import make_engine
from adapters.storage.migrate import upgrade_database
from core.ports import CrmPort, WriteKind
from webhook_app.clock import Clock, utc_now
from webhook_app.config import LoadedConfig
from webhook_app.config.live import ConfigHolder
from webhook_app.pipeline.context import JobContext
from webhook_app.pipeline.metrics import Metrics
from webhook_app.pipeline.retention import RetentionSchedule
from webhook_app.pipeline.worker import Worker, WorkerOptions
from webhook_app.settings import Settings, resolve_config_path
from webhook_app.web.group_commit import IntakeBatcher


def crm_module(crm_type: str, name: str) -> ModuleType | None:
    """`adapters.<crm_type>.<name>` if this version ships it (each CRM package brings its own)."""
    try:
        return importlib.import_module(f"adapters.{crm_type}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"adapters.{crm_type}.{name}":
            raise
        return None


def crm_arguments(loaded: LoadedConfig, settings: Settings, engine: Engine) -> dict[str, Any]:
    """What every adapter factory gets: the `crm:` section, the secrets in clear, our database."""
    return {
        "crm": loaded.crm.model_dump(),
        "secrets": crm_secrets(settings, loaded.crm.type),
        "engine": engine,
    }


def crm_secrets(settings: Settings, crm_type: str) -> dict[str, str | None]:
    """The secrets a CRM's adapter may read, in clear: its own (`<crm>_…`) and the webhook secret."""
    return {
        name: value.get_secret_value() if isinstance(value, SecretStr) else None
        for name, value in settings
        if name.startswith(crm_type) or name == "webhook_secret"
    }


def build_crm(loaded: LoadedConfig, settings: Settings, engine: Engine) -> CrmPort | None:
    """The CRM client for the config (`adapters.<type>.factory.build_client`), if shipped."""
    module = crm_module(loaded.crm.type, "factory")
    if module is None:
        return None
    client: CrmPort = module.build_client(**crm_arguments(loaded, settings, engine))
    return client


def build_hook_keeper(loaded: LoadedConfig, settings: Settings, engine: Engine) -> HookKeeper | None:
    """What reads and repairs our webhook in the CRM (the adapter's admin client), if shipped."""
    module = crm_module(loaded.crm.type, "admin")
    if module is None:
        return None
    keeper: HookKeeper = module.build_admin(**crm_arguments(loaded, settings, engine))
    return keeper


@dataclass
class Services:
    """Everything the web app and the workers share."""

    settings: Settings
    engine: Engine
    config: ConfigHolder
    clock: Clock = utc_now
    crm: CrmPort | None = None
    hooks: HookKeeper | None = None  # the hook check's; built with the CRM client from the config
    metrics: Metrics = field(default_factory=Metrics)
    intake: IntakeBatcher = field(init=False)

    def __post_init__(self) -> None:
        self.intake = IntakeBatcher(self.engine, self.clock)

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
    with_crm: bool = True,
    announce_fallback: bool = True,
) -> Services:
    """Wire the database (migrated to the newest schema), the config and (unless not needed, as in
    a web-only process) the CRM client; `announce_fallback=False` where the command's own start-up
    check already announced that a refused file falls back on a stored version."""
    settings = settings or Settings()
    path = resolve_config_path(config_path, settings)
    engine = make_engine(settings.database_url)
    upgrade_database(engine)
    holder = ConfigHolder(path, engine, clock, announce_fallback=announce_fallback)
    services = Services(settings=settings, engine=engine, config=holder, clock=clock, crm=crm)
    if services.crm is None and with_crm:
        services.crm = build_crm(holder.current, settings, engine)
        if services.crm is not None:
            services.hooks = build_hook_keeper(holder.current, settings, engine)
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
        on_handoff=lambda kind, outcome: metrics.handoffs.labels(kind, outcome).inc(),
        hooks=services.hooks,
        hook_every=lambda: timedelta(seconds=services.config.current.document.hooks.check_every_seconds),
    )
    if options is None:
        options = worker_options(services.crm)
    holder = services.config
    return Worker(ctx, options, maintenance=RetentionSchedule(services.engine, lambda: holder.current))


def worker_options(crm: CrmPort) -> WorkerOptions:
    """The worker's batch sizes for this CRM: a pass decides at least a full write batch (amoCRM:
    250 leads a PATCH) so write batches fill, and reads go in whole list calls while a burst lasts."""
    read_batch = getattr(crm, "read_batch_size", None)
    return WorkerOptions(
        claim_batch=max(50, crm.batch_size(WriteKind.RESPONSIBLE)),
        read_batch=int(read_batch()) if callable(read_batch) else 0,
    )
