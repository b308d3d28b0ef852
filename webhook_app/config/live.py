"""The config in force, the same in every process, changed without a restart.

The newest row of `config_versions` is the config in force. A reload (SIGHUP, `leadrouter reload`,
the admin page) validates the new text first and only then records it; every process polls the
newest id every few seconds and loads that text, so web processes and workers on other hosts follow
within seconds. At start-up the file on disk wins when it differs from the newest recorded version:
it is what the operator deployed; when it is refused there, the newest good stored version runs
instead (`startup`). An invalid text never replaces the running config; the refusal is kept
(`last_error`, and in the database) for the page, the log and the metrics.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from adapters.storage.configs import newest, newest_id, record_refusal, record_version, settle_fallback
from core.policy import Policy
from core.texts import language_in_text, texts
from webhook_app.config import ConfigError, LoadedConfig, load_config
from webhook_app.config.startup import load_at_startup
from webhook_app.config.team import TeamFollower
from webhook_app.pipeline.team_sync import request_team_sync

log = logging.getLogger("leadrouter.config")
POLL_SECONDS = 2.0


class ConfigHolder:
    """The config in force. A reload swaps it only if the new text is valid; readers never see half."""

    def __init__(
        self,
        path: Path,
        engine: Engine,
        clock: Callable[[], datetime],
        *,
        poll_seconds: float = POLL_SECONDS,
        announce_fallback: bool = True,
    ) -> None:
        self.path = path
        self.engine, self.clock = engine, clock
        self.poll_seconds = poll_seconds
        self._lock = threading.Lock()
        # A refused file falls back on the newest good stored version (see `startup`).
        self.current, refused = load_at_startup(path, engine, clock, announce=announce_fallback)
        self.version_id: int | None = None
        self.loaded_at: datetime | None = clock()
        self.last_error = str(refused) if refused else None  # the last refusal, until a load succeeds
        self._checked = 0.0
        self.team = TeamFollower(engine, poll_seconds)
        self._publish_startup(from_file=refused is None)

    def policy(self) -> Policy:
        """The policy in force right now, with the CRM's team as last synced folded in (looking for
        a newer version of either first, at most every few seconds)."""
        self.sync()
        return self.team.apply(self.current.policy, str(self.current.crm.type))

    def config_policy(self) -> Policy:
        """The policy of the config alone, without the CRM's team (what the file says)."""
        self.sync()
        return self.current.policy

    def reload(self, by: str = "sighup") -> LoadedConfig:
        """Load the file again and put it in force; on ConfigError the running version stays."""
        try:
            fresh = load_config(self.path)
        except ConfigError as exc:
            self._refused(exc, by)
            raise
        if fresh.version == self.current.version:
            self._file_loads_again()
            return self.current  # nothing changed: no new version in the history
        return self._put_in_force(fresh, by)

    def load_text(self, raw: bytes, by: str, *, name: str | None = None) -> LoadedConfig:
        """Validate an edited or uploaded text, put it in force and write it to the config file.

        The file is replaced atomically so a restart keeps this version; if it cannot be written
        (read-only deployment), the version is still in force and the error says so.
        """
        label = name or str(self.path)
        try:
            fresh = load_config(label, raw)
        except ConfigError as exc:
            self._refused(exc, by)
            raise
        loaded = self._put_in_force(dataclasses.replace(fresh, path=self.path), by)
        _write_atomically(self.path, raw)
        return loaded

    def validate_text(self, raw: bytes, name: str | None = None) -> LoadedConfig:
        """Check a text without putting it in force (raises ConfigError)."""
        return load_config(name or str(self.path), raw)

    def sync(self, *, force: bool = False) -> bool:
        """Follow the newest recorded version if another process put one in force; True if it changed."""
        now = time.monotonic()
        if not force and now - self._checked < self.poll_seconds:
            return False
        self._checked = now
        newest_known = newest_id(self.engine)
        if newest_known is None or newest_known == self.version_id:
            return False
        with self.engine.connect() as connection:
            row = newest(connection)
        if row is None:
            return False
        if row.version == self.current.version:
            self.version_id = row.id
            return False
        try:
            fresh = load_config(row.path, row.source)
        except ConfigError as exc:  # valid where it was recorded, not here (another release?)
            self._refused(exc, f"sync of version {row.version}")
            self.version_id = row.id  # do not retry the same text every few seconds
            return False
        with self._lock:
            self.current, self.version_id = fresh, row.id
            self.loaded_at = row.loaded_at
        log.info(_words(fresh)["config_in_force"].format(version=fresh.version, by=row.loaded_by))
        return True

    def _publish_startup(self, *, from_file: bool) -> None:
        with self.engine.begin() as connection:
            if from_file:
                settle_fallback(connection, self.clock())
            row = newest(connection)
            if row is not None and row.version == self.current.version:
                self.version_id = row.id
                self.loaded_at = row.loaded_at
                return
            self.version_id = record_version(
                connection, self.current.version, str(self.path), self.current.raw, self.clock(), "startup"
            )

    def _put_in_force(self, fresh: LoadedConfig, by: str) -> LoadedConfig:
        with self.engine.begin() as connection:
            version_id = record_version(
                connection, fresh.version, str(fresh.path), fresh.raw, self.clock(), by
            )
            settle_fallback(connection, self.clock())
            request_team_sync(connection, str(fresh.crm.type), self.clock())  # a pool may follow another team
        with self._lock:
            self.current, self.version_id = fresh, version_id
            self.loaded_at = self.clock()
            self.last_error = None
        log.info(_words(fresh)["config_in_force"].format(version=fresh.version, by=by))
        return fresh

    def _file_loads_again(self) -> None:
        with self._lock:
            self.last_error = None
        with self.engine.begin() as connection:
            settle_fallback(connection, self.clock())
            request_team_sync(connection, str(self.current.crm.type), self.clock())

    def _refused(self, exc: ConfigError, by: str) -> None:
        self.last_error = str(exc)
        words = _words(self.current)
        log.error(words["config_refused_kept"].format(version=self.current.version, problems=exc))
        with self.engine.begin() as connection:
            record_refusal(connection, self.clock(), by, str(exc), self.current.version)


def _write_atomically(path: Path, raw: bytes) -> None:
    """Replace the file in one step (a crash leaves the old or the new text, never half)."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(raw)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _words(loaded: LoadedConfig) -> Mapping[str, str]:
    """The command line's words in a config's language, for what the reloads log."""
    return texts(loaded.policy.language, "cli")


def _language_of_file(path: Path) -> str | None:
    """The `language:` a (maybe broken) config file names, or None (then the default speaks)."""
    try:
        return language_in_text(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None


def reload_file(
    path: Path, engine: Engine, clock: Callable[[], datetime], by: str, *, log_refusal: bool = True
) -> LoadedConfig:
    """Validate the file and put it in force for every process (SIGHUP to gunicorn's master,
    `leadrouter reload`); a refused file is recorded and raised, the running version stays.
    `log_refusal=False` when the caller prints the problems itself (the CLI: once, not twice)."""
    try:
        fresh = load_config(path)
    except ConfigError as exc:
        with engine.begin() as connection:
            kept = newest(connection)
            record_refusal(connection, clock(), by, str(exc), kept.version if kept else "")
        if log_refusal:
            words = texts(_language_of_file(path), "cli")
            log.error(words["config_refused_stays"].format(problems=exc))
        raise
    with engine.begin() as connection:
        row = newest(connection)
        if row is None or row.version != fresh.version:
            record_version(connection, fresh.version, str(path), fresh.raw, clock(), by)
        settle_fallback(connection, clock())
        request_team_sync(connection, str(fresh.crm.type), clock())  # `reload` re-reads the team too
    log.info(_words(fresh)["config_in_force"].format(version=fresh.version, by=by))
    return fresh
