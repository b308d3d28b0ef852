"""The OpenAPI 3.1 document of `/api/v1`, written out by hand: the API is small and this is its contract."""

from __future__ import annotations

from typing import Any

from webhook_app.web.admin.readmodel import MAX_ID

STR = {"type": "string"}
NSTR = {"type": ["string", "null"]}
INT = {"type": "integer"}
NINT = {"type": ["integer", "null"]}
NUM = {"type": "number"}
NNUM = {"type": ["number", "null"]}
ROW_ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
ERROR = {"type": "object", "required": ["error"], "properties": {"error": STR}}


def _obj(required: list[str], **props: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": props}


def _array(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


SHARE = _obj(
    ["manager", "name", "weight", "received", "target", "deviation"],
    manager=STR,
    name=STR,
    weight=INT,
    received=INT,
    target={**NNUM, "description": "null in a pool that does not share by weight (by_key)"},
    deviation=NNUM,
)
POOL = _obj(
    ["pool", "strategy", "total", "members", "by_key"],
    pool=STR,
    strategy=STR,
    total=INT,
    members=_array(SHARE),
    by_key={"type": "boolean", "description": "sticky, manual or claim: counts by member, no target"},
)
MANAGER = _obj(
    ["manager", "name", "state", "paused"],
    manager=STR,
    name=STR,
    state=STR,
    until=NSTR,
    substitute=NSTR,
    count=NINT,
    limit=NINT,
    reason=STR,
    paused={"type": "boolean"},
)
DECISION = _obj(
    ["id", "crm", "lead_id", "purpose", "manager", "route", "reason", "config_version", "decided_at"],
    id=INT,
    crm=STR,
    lead_id=STR,
    purpose=STR,
    manager=STR,
    rule=NSTR,
    pool=NSTR,
    strategy=NSTR,
    route=STR,
    reason=STR,
    config_version=STR,
    decided_at=STR,
)
WRITE = _obj(
    ["id", "kind", "state", "attempts"],
    id=INT,
    kind=STR,
    state=STR,
    attempts=INT,
    last_error=NSTR,
    latency_seconds=NNUM,
)
DETAIL = {
    **DECISION,
    "properties": {**DECISION["properties"], "decision": {"type": "object"}, "writes": _array(WRITE)},
}
STORY_EVENT = _obj(
    ["at", "kind", "title", "text"],
    at={**STR, "description": "ISO 8601, UTC"},
    kind={**STR, "description": "an audit kind; decision, sla, return, handoff (assignments); write"},
    title=STR,
    text=STR,
    manager=NSTR,
    name=NSTR,
    decision_id=NINT,
    skipped=_array({"type": "object"}),
    state={**NSTR, "description": "a write's outcome: pending, sending, sent, dead"},
    rank=INT,
    writes=_array({"type": "object"}),
    error={**NSTR, "description": "what the CRM or a failed job said, quoted as it is"},
    minor={"type": "boolean", "description": "bookkeeping the page folds away by default"},
)
STORY = _obj(
    ["lead_id", "events"],
    lead_id=STR,
    events=_array(STORY_EVENT),
    owner=NSTR,
    owner_name=NSTR,
    stage=NSTR,
    closed=NSTR,
)
DEAD = _obj(
    ["id", "crm", "lead_id", "kind", "attempts", "created_at"],
    id=INT,
    crm=STR,
    lead_id=STR,
    kind=STR,
    attempts=INT,
    last_error=NSTR,
    created_at=STR,
)
HEALTH = _obj(
    ["queue_depth", "dead_letters", "stale"],
    heartbeat_age=NNUM,
    queue_depth=INT,
    queue_due={**INT, "description": "jobs due now or running"},
    queue_later={**INT, "description": "timers set for later (SLA checks, returns, waits for a shift)"},
    oldest_due_age=NNUM,
    dead_letters=INT,
    last_reconcile=NSTR,
    rate_backlog=NNUM,
    last_crm_call_age=NNUM,
    stale=_array(STR),
    outage={
        "type": ["object", "null"],
        "description": "the CRM fails us: since when, and the jobs and writes waiting for it",
        "required": ["crm", "since", "jobs", "writes"],
        "properties": {"crm": STR, "since": STR, "jobs": INT, "writes": INT},
    },
    hooks=_array(
        _obj(
            ["crm", "state", "checked_at", "repairs"],
            crm=STR,
            state={"type": "string", "enum": ["ok", "down", "unknown", "unchecked"]},
            checked_at=STR,
            problem=STR,
            error=STR,
            since=NSTR,
            repaired_at=NSTR,
            repaired=STR,
            repairs=INT,
        )
    ),
    hook_repaired=_array(STR),
    config_fallback={
        "type": ["object", "null"],
        "description": "the config file was refused at start-up: the stored version that runs instead",
    },
)
VERSION = _obj(
    ["id", "version", "path", "loaded_at", "by"], id=INT, version=STR, path=STR, loaded_at=STR, by=STR
)
CONFIG = _obj(
    ["version", "path", "history"],
    version=STR,
    path=STR,
    loaded_at=NSTR,
    history=_array(VERSION),
    refusal={"type": ["object", "null"]},
)
VALID = _obj(["valid"], valid={"type": "boolean"}, version=STR, warnings=_array(STR), errors=_array(STR))
LOADED = _obj(
    ["loaded"],
    loaded={"type": "boolean"},
    version=STR,
    warnings=_array(STR),
    errors=_array(STR),
    kept=STR,
    warning=STR,
)
YAML_BODY = {
    "required": True,
    "content": {
        "text/yaml": {"schema": STR},
        "application/json": {"schema": _obj(["yaml"], yaml=STR)},
    },
}
PAUSE_BODY = {
    "required": False,
    "content": {"application/json": {"schema": _obj([], until=STR, reason=STR)}},
}

FAIR_MEMBER = _obj(
    ["manager", "name", "weight", "received"],
    manager=STR,
    name=STR,
    weight=INT,
    received=INT,
    target=NNUM,
    deviation=NNUM,
)
FAIR_POOL = _obj(
    ["pool", "strategy", "leads", "members"],
    pool=STR,
    strategy=STR,
    leads=INT,
    max_deviation=NNUM,
    members=_array(FAIR_MEMBER),
)
CHANGE = _obj(
    ["lead_id", "decided_at", "actual", "would", "actual_rule", "would_rule", "reason"],
    crm=STR,
    lead_id=STR,
    decided_at=STR,
    actual=STR,
    actual_name=STR,
    would=NSTR,
    would_name=NSTR,
    actual_rule=STR,
    would_rule=STR,
    reason=STR,
    actual_owners=_array(STR),  # the lead's assignments in order (handoffs), really and in the replay
    would_owners=_array(STR),
)
WHATIF_RESULT = _obj(
    ["leads", "changed", "changes", "rules", "actual_fairness", "would_fairness"],
    since=STR,
    until=STR,
    actual_version=STR,
    new_version=STR,
    leads=INT,
    changed=INT,
    waiting=INT,
    purged=INT,
    changes=_array(CHANGE),
    rules=_array(_obj(["rule", "actual", "would"], rule=STR, actual=INT, would=INT)),
    handoffs=_array(_obj(["handoff", "actual", "would"], handoff=STR, actual=INT, would=INT)),
    actual_fairness=_array(FAIR_POOL),
    would_fairness=_array(FAIR_POOL),
)
WHATIF_RUN = _obj(
    ["id", "state", "done", "days", "config", "version", "started_at"],
    id=STR,
    state={"enum": ["running", "done", "failed", "lost"]},
    done=INT,
    total=NINT,
    days=INT,
    config=STR,
    version=STR,
    by=STR,
    started_at=STR,
    finished_at=STR,
    error=STR,
    result=WHATIF_RESULT,
)
WHATIF_BODY = {
    "required": False,
    "content": {
        "application/json": {
            "schema": _obj(
                [],
                days={"type": "integer", "minimum": 1, "maximum": 400},
                yaml=STR,
                name=STR,
                wait={"type": "boolean"},
            )
        }
    },
}


def _response(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _op(
    summary: str, ok: dict[str, Any], *, params: list[dict[str, Any]] | None = None, **extra: Any
) -> dict[str, Any]:
    responses = {
        "200": _response(ok),
        "400": _response(ERROR, "Bad input, with the reason"),
        "401": _response(ERROR, "No or wrong token"),
        "429": _response(ERROR, "Too many wrong tokens"),
        **extra.pop("responses", {}),
    }
    return {"summary": summary, "parameters": params or [], "responses": responses, **extra}


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or STR,
    }


def _path(name: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema or STR}


NOT_FOUND = {"404": _response(ERROR, "No such item")}
REFUSED = {"422": _response(LOADED, "The YAML has errors (FILE:LINE: path: message)")}


def document() -> dict[str, Any]:
    """The whole document."""
    period = _query("period", "today (default), week or month", {"enum": ["today", "week", "month"]})
    name = _query("name", "the file name that errors are reported with (default edited.yaml)")
    return {
        "openapi": "3.1.0",
        "info": {"title": "leadrouter admin API", "version": "1"},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/split": {
                "get": _op(
                    "Leads per pool and manager against the target share",
                    _obj(["period", "pools"], period=STR, pools=_array(POOL)),
                    params=[period],
                )
            },
            "/api/v1/managers": {
                "get": _op(
                    "Managers and their availability now", _obj(["managers"], managers=_array(MANAGER))
                )
            },
            "/api/v1/managers/{name}/pause": {
                "post": _op(
                    "Pause a manager for every worker",
                    _obj(["ok", "manager"], ok={"type": "boolean"}, manager=STR, until=NSTR),
                    params=[_path("name")],
                    requestBody=PAUSE_BODY,
                    responses=NOT_FOUND,
                )
            },
            "/api/v1/managers/{name}/resume": {
                "post": _op(
                    "End a manager's pause",
                    _obj(
                        ["ok", "manager", "was_paused"],
                        ok={"type": "boolean"},
                        manager=STR,
                        was_paused={"type": "boolean"},
                    ),
                    params=[_path("name")],
                    responses=NOT_FOUND,
                )
            },
            "/api/v1/decisions": {
                "get": _op(
                    "Decisions, newest first",
                    _obj(["decisions"], decisions=_array(DECISION)),
                    params=[
                        _query("lead", "lead id"),
                        _query("manager", "manager key"),
                        _query("pool", "pool name"),
                        _query("rule", "rule name"),
                        _query("since", "ISO time or 24h / 7d back"),
                        _query("until", "ISO time or 24h / 7d back"),
                        _query(
                            "limit",
                            "1–1000 (default 100)",
                            {"type": "integer", "minimum": 1, "maximum": 1000},
                        ),
                        _query("before", "page back: decisions with a smaller id", ROW_ID),
                    ],
                )
            },
            "/api/v1/decisions/{id}": {
                "get": _op(
                    "One decision with its reasoning and CRM writes",
                    DETAIL,
                    params=[_path("id", ROW_ID)],
                    responses=NOT_FOUND,
                )
            },
            "/api/v1/leads/{lead_id}": {
                "get": _op(
                    "A lead's story: received, decided, written, stage moves, handoffs, won or lost",
                    STORY,
                    params=[_path("lead_id")],
                    responses=NOT_FOUND,
                )
            },
            "/api/v1/deadletters": {
                "get": _op("CRM writes refused for good", _obj(["deadletters"], deadletters=_array(DEAD)))
            },
            "/api/v1/deadletters/{id}/replay": {
                "post": _op(
                    "Queue one dead letter again",
                    _obj(["ok", "replayed"], ok={"type": "boolean"}, replayed=_array(INT)),
                    params=[_path("id", ROW_ID)],
                    responses=NOT_FOUND,
                )
            },
            "/api/v1/deadletters/replay": {
                "post": _op(
                    "Queue every dead letter again",
                    _obj(["ok", "replayed"], ok={"type": "boolean"}, replayed=_array(INT)),
                )
            },
            "/api/v1/config": {"get": _op("The config in force, its history, the last refusal", CONFIG)},
            "/api/v1/config/validate": {
                "post": _op(
                    "Check a YAML without putting it in force",
                    VALID,
                    params=[name],
                    requestBody=YAML_BODY,
                    responses={"422": _response(VALID, "The YAML has errors")},
                )
            },
            "/api/v1/config/load": {
                "post": _op(
                    "Validate a YAML and put it in force everywhere",
                    LOADED,
                    params=[name],
                    requestBody=YAML_BODY,
                    responses=REFUSED,
                )
            },
            "/api/v1/whatif": {
                "post": _op(
                    "Replay the last N days of stored decisions under a config (the running one, or "
                    "`yaml`); 202 while it runs, 200 with the result when `wait` saw it finish",
                    WHATIF_RUN,
                    requestBody=WHATIF_BODY,
                    responses={
                        "202": _response(WHATIF_RUN, "Started; poll /api/v1/whatif/{id}"),
                        "409": _response(ERROR, "Another what-if is running"),
                        "422": _response(_obj(["errors"], errors=_array(STR)), "The YAML has errors"),
                    },
                ),
                "get": _op(
                    "The latest what-if runs, without results", _obj(["runs"], runs=_array(WHATIF_RUN))
                ),
            },
            "/api/v1/whatif/{id}": {
                "get": _op(
                    "One what-if run: progress, then the comparison",
                    WHATIF_RUN,
                    params=[_path("id")],
                    responses=NOT_FOUND,
                )
            },
            "/api/v1/health": {
                "get": _op("Worker heartbeat, queue, dead letters, reconcile, rate limit, webhooks", HEALTH)
            },
            "/api/v1/openapi.json": {"get": _op("This document", {"type": "object"})},
        },
    }
