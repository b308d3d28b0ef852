"""What-if runs started from the page or the API: one background thread each, progress and result in
the database (kv), so whichever web process serves the next request can show them."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from adapters.storage.engine import reading
from adapters.storage.kv import prune_entries, put_value, read_entry, recent_entries
from webhook_app.config import LoadedConfig
from webhook_app.config.team import with_stored_team
from webhook_app.offline.whatif import run_whatif, whatif_json

log = logging.getLogger("leadrouter.whatif")
PREFIX = "whatif."
STALE = timedelta(seconds=60)  # a running run not heard from this long died with its process
KEEP = 20  # finished runs kept for the page
MAX_DAYS = 400
PROGRESS_EVERY = 1.0  # seconds between progress writes


def parse_days(value: object) -> int:
    """The period of a run from a form or JSON value: whole days, 1 to MAX_DAYS."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("days must be a whole number")
    try:
        days = int(value)
    except ValueError:
        raise ValueError("days must be a whole number") from None
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_DAYS}")
    return days


class Busy(Exception):
    """Another what-if is running: one at a time, so the service keeps its CPU for leads."""


def start(
    engine: Engine,
    loaded: LoadedConfig,
    actual: LoadedConfig,
    days: int,
    *,
    by: str,
    clock: Callable[[], datetime],
    name: str,
) -> tuple[str, threading.Thread]:
    """Start a replay of the last `days` days under `loaded` in a thread; returns its id and thread."""
    now = clock()
    if any(run["state"] == "running" for run in recent(engine, now)):
        raise Busy("a what-if is already running; wait for it to finish")
    run_id = secrets.token_hex(6)
    since, until = now - timedelta(days=days), now
    header = {
        "id": run_id,
        "state": "running",
        "done": 0,
        "total": None,
        "days": days,
        "config": name,
        "version": loaded.version,
        "by": by,
        "started_at": now.isoformat(),
    }
    _save(engine, run_id, header, now, prune=True)

    def work() -> None:
        last = 0.0

        def progress(done: int, total: int) -> None:
            nonlocal last
            if time.monotonic() - last >= PROGRESS_EVERY or done == total:
                last = time.monotonic()
                _save(engine, run_id, {**header, "done": done, "total": total}, clock())

        try:
            crm = str(actual.crm.type)  # pools following a CRM team replay with the team as last synced
            policy, in_force = (with_stored_team(engine, c.policy, crm) for c in (loaded, actual))
            result = run_whatif(engine, policy, in_force, since, until, on_progress=progress)
            body = whatif_json(result, policy, in_force)
            finished = {**header, "state": "done", "done": result.leads, "total": result.leads}
            _save(engine, run_id, {**finished, "finished_at": clock().isoformat(), "result": body}, clock())
        except Exception as exc:  # shown on the page; the service goes on
            log.exception("what-if %s failed", run_id)
            _save(engine, run_id, {**header, "state": "failed", "error": str(exc)}, clock())

    thread = threading.Thread(target=work, name=f"whatif-{run_id}", daemon=True)
    thread.start()
    return run_id, thread


def get(engine: Engine, run_id: str, now: datetime) -> dict[str, Any] | None:
    """One run: its state, progress and (when done) result; `lost` if its process died."""
    with reading(engine) as connection:
        row = read_entry(connection, PREFIX + run_id)
    return _aged(dict(row.value), row.updated_at, now) if row is not None else None


def recent(engine: Engine, now: datetime) -> list[dict[str, Any]]:
    """The latest runs, newest first, without their results."""
    with reading(engine) as connection:
        rows = recent_entries(connection, PREFIX, limit=KEEP)
    runs = [_aged(dict(r.value), r.updated_at, now) for r in rows]
    return [{k: v for k, v in run.items() if k != "result"} for run in runs]


def _aged(run: dict[str, Any], updated_at: datetime, now: datetime) -> dict[str, Any]:
    if run.get("state") == "running" and now - updated_at > STALE:
        return {**run, "state": "lost", "error": "the process running it stopped"}
    return run


def _save(engine: Engine, run_id: str, value: dict[str, Any], now: datetime, *, prune: bool = False) -> None:
    """Store a run's state; when starting one (`prune`), forget all but the KEEP latest others."""
    key = PREFIX + run_id
    with engine.begin() as connection:
        put_value(connection, key, value, now)
        if not prune:
            return
        prune_entries(connection, PREFIX, keep=KEEP - 1, besides=key)
