"""At start-up: the config file on disk, or — when it is refused — the newest good stored version.

A reboot after a bad edit must not take routing down while the database still holds the version
that ran. So `serve`, `web` and `worker` start on the newest stored version that loads, and say so
loudly: an ERROR log line with the file's problems (`FILE:LINE: path: message`), an audit row
(`config`) and the refusal record (`fallback`: which file, since when, which version runs), which
the admin page, `/healthz` and `/metrics` read. With no good stored version, the refusal stands.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from adapters.storage.audit import write_audit
from adapters.storage.configs import history, record_refusal
from core.kinds import AuditKind
from core.texts import texts
from webhook_app.config import ConfigError, LoadedConfig, load_config

log = logging.getLogger("leadrouter.config")
BY = "startup"


def newest_good_version(engine: Engine) -> LoadedConfig | None:
    """The newest stored version that still loads in this release (None if there is none)."""
    for stored in history(engine):
        try:
            return load_config(stored.path, stored.source)
        except ConfigError:
            continue
    return None


def load_at_startup(
    path: Path, engine: Engine, clock: Callable[[], datetime], *, announce: bool = True
) -> tuple[LoadedConfig, ConfigError | None]:
    """The file, or the newest good stored version and the file's refusal (announced unless another
    process of this start already did); raises the refusal when nothing stored loads."""
    try:
        return load_config(path), None
    except ConfigError as refused:
        stored = fall_back(path, engine, clock, refused, announce=announce)
        if stored is None:
            raise
        return stored, refused


def fall_back(
    path: Path, engine: Engine, clock: Callable[[], datetime], refused: ConfigError, *, announce: bool
) -> LoadedConfig | None:
    """The newest good stored version to run instead of the refused file (None: there is none)."""
    stored = newest_good_version(engine)
    if stored is None:
        return None
    if announce:
        announce_fallback(path, engine, clock, refused, stored)
    else:
        words = texts(stored.policy.language, "cli")
        log.error(words["fallback_running"].format(path=path, version=stored.version))
    return stored


def announce_fallback(
    path: Path, engine: Engine, clock: Callable[[], datetime], refused: ConfigError, stored: LoadedConfig
) -> None:
    """Log, audit and record that the stored version runs because the file was refused."""
    at = clock()
    problems = [str(p) for p in refused.problems]
    words = texts(stored.policy.language, "cli")
    log.error(words["fallback_announced"].format(path=path, version=stored.version, problems=refused))
    fallback = {"file": str(path), "since": at.isoformat(), "running": stored.version}
    with engine.begin() as connection:
        record_refusal(connection, at, BY, str(refused), stored.version, fallback=fallback)
        write_audit(
            connection,
            AuditKind.CONFIG,
            f"config file {path} refused at start-up; running stored version {stored.version}",
            at=at,
            config_version=stored.version,
            detail={"file": str(path), "problems": problems, "running": stored.version, "by": BY},
        )
