"""Operations endpoints: `/healthz` for probes, `/metrics` for Prometheus."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from adapters.storage.configs import last_refusal
from adapters.storage.engine import reading
from adapters.storage.heartbeats import last_heartbeat, ping
from adapters.storage.outage import outages
from webhook_app.bootstrap import Services

bp = Blueprint("ops", __name__)
STALE_HEARTBEAT_SECONDS = 60.0


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
    except Exception:  # any database failure means "not healthy"; details go to the log, not out
        current_app.logger.exception("health check: database unreachable")
        return jsonify(status="error", database="unreachable"), 503
    age = (now - beat).total_seconds() if beat is not None else None
    stale = age is None or age > STALE_HEARTBEAT_SECONDS
    body = {
        "status": "ok" if not stale and not down and not fallback else "degraded",
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
    }
    strict = request.args.get("strict") in ("1", "true")
    return jsonify(body), 503 if strict and stale else 200


@bp.get("/metrics")
def metrics() -> ResponseReturnValue:
    """Prometheus text format."""
    services: Services = current_app.extensions["leadrouter"]
    return Response(generate_latest(services.metrics.registry), mimetype=CONTENT_TYPE_LATEST)
