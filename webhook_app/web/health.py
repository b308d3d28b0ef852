"""Operations endpoints: `/healthz` for probes, `/metrics` for Prometheus."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from adapters.storage.clockstep import last_step
from adapters.storage.configs import last_refusal
from adapters.storage.engine import reading
from adapters.storage.heartbeats import last_heartbeat, ping, probe_write
from adapters.storage.hookstate import DOWN, HookState, hook_states
from adapters.storage.outage import outages
from webhook_app.bootstrap import Services

bp = Blueprint("ops", __name__)
STALE_HEARTBEAT_SECONDS = 60.0
WRITE_PROBE_EVERY = timedelta(seconds=5)  # a probe that wrote fine is trusted this long (per process)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Database reachable, worker heartbeat age, config version; `?strict=1` also fails on a stale worker."""
    services: Services = current_app.extensions["leadrouter"]
    now = services.clock()
    try:
        with reading(services.engine) as connection:
            ping(connection)
            beat = last_heartbeat(connection)
            down = outages(connection)
            fallback = (last_refusal(connection) or {}).get("fallback")
            hooks = hook_states(connection)
            step = last_step(connection)
    except Exception:  # any database failure means "not healthy"; details go to the log, not out
        current_app.logger.exception("health check: database unreachable")
        return jsonify(status="error", database="unreachable"), 503
    refused = _cannot_write(services)
    if refused is not None:
        return jsonify(status="error", database="cannot write", error=refused), 503
    age = (now - beat).total_seconds() if beat is not None else None
    hooks_down = any(h.state == DOWN for h in hooks)
    stale = age is None or age > STALE_HEARTBEAT_SECONDS
    body = {
        "status": "ok" if not stale and not down and not fallback and not hooks_down else "degraded",
        "database": "ok",
        "worker_heartbeat_age_seconds": age,
        "config_version": services.config.current.version,
        "crm": [
            {
                "crm": o.crm,
                "reachable": False,
                "since": o.since.isoformat(),
                "jobs_waiting": o.jobs,
                "writes_waiting": o.writes,
            }
            for o in down
        ],
        # The config file was refused at start-up: a stored version runs until the file loads.
        "config_fallback": fallback,
        # Our webhook in each CRM as the hook check last saw it: a hook that is off and could not be
        # re-enabled means leads come only through the reconciler, minutes late.
        "hooks": [_hook(h) for h in hooks],
        # The last time the wall clock was set forward, as a worker saw it: {at, seconds, timers moved}.
        "clock_step": step,
    }
    strict = request.args.get("strict") in ("1", "true")
    return jsonify(body), 503 if strict and stale else 200


def _hook(state: HookState) -> dict[str, object]:
    return {
        "crm": state.crm,
        "state": state.state,
        "checked_at": state.checked_at.isoformat(),
        "since": state.since.isoformat() if state.since else None,
        "problem": state.problem or None,
        "error": state.error or None,
        "repaired_at": state.repaired_at.isoformat() if state.repaired_at else None,
        "repaired": state.repaired or None,
        "repairs": state.repairs,
    }


def _cannot_write(services: Services) -> str | None:
    """None if the database takes a write (a full disk or a read-only file answers reads but not
    writes); else the error's class, which names no path and no credential (the rest is logged)."""
    probes: dict[int, datetime] = current_app.extensions.setdefault("leadrouter.write_probe", {})
    now = services.clock()
    last = probes.get(id(services.engine))
    if last is not None and timedelta(0) <= now - last < WRITE_PROBE_EVERY:
        return None
    try:
        with services.engine.begin() as connection:
            probe_write(connection, now)
    except Exception as exc:
        current_app.logger.exception("health check: the database cannot write")
        probes.pop(id(services.engine), None)
        cause = getattr(exc, "orig", None) or exc  # the driver's own error, not SQLAlchemy's wrapper
        return f"{type(cause).__module__}.{type(cause).__name__}"
    probes[id(services.engine)] = now
    return None


@bp.get("/metrics")
def metrics() -> ResponseReturnValue:
    """Prometheus text format."""
    services: Services = current_app.extensions["leadrouter"]
    return Response(generate_latest(services.metrics.registry), mimetype=CONTENT_TYPE_LATEST)
