"""`/api/v1`: the JSON API the admin page uses and scripts call; described at `/api/v1/openapi.json`."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import BadRequest

from adapters.storage.configs import history, last_refusal
from adapters.storage.engine import reading
from webhook_app.bootstrap import Services
from webhook_app.cli.common import parse_since, parse_until
from webhook_app.config import ConfigError
from webhook_app.pipeline.operator_actions import OperationError, pause, replay_dead_letters, resume
from webhook_app.web.admin import readmodel, story, whatif_runs
from webhook_app.web.admin.auth import actor, api_required
from webhook_app.web.admin.openapi import document

bp = Blueprint("api", __name__, url_prefix="/api/v1")
MAX_CONFIG_BYTES = 1_000_000
WAIT_SECONDS = 120  # `"wait": true` answers with the result when the run ends within this


def services() -> Services:
    """The shared services of this app."""
    found: Services = current_app.extensions["leadrouter"]
    return found


def bad(message: str, status: int = 400) -> ResponseReturnValue:
    """An error the caller can act on."""
    return jsonify(error=message), status


@bp.errorhandler(BadRequest)
def _bad_request(error: BadRequest) -> ResponseReturnValue:
    return bad(error.description or "bad request")


@bp.get("/openapi.json")
@api_required
def openapi() -> ResponseReturnValue:
    """The OpenAPI 3.1 document of this API."""
    return jsonify(document())


@bp.get("/split")
@api_required
def split() -> ResponseReturnValue:
    """Leads per pool and manager for today / this week / this month, against the target share."""
    period = request.args.get("period", "today")
    if period not in readmodel.PERIODS:
        return bad(f"period must be one of {', '.join(readmodel.PERIODS)}")
    s = services()
    pools = readmodel.split(s.engine, s.config.policy(), s.clock(), period)
    return jsonify(period=period, pools=readmodel.as_json(pools))


@bp.get("/managers")
@api_required
def managers() -> ResponseReturnValue:
    """Every manager with their availability right now."""
    s = services()
    return jsonify(managers=readmodel.as_json(readmodel.managers_now(s.engine, s.config.policy(), s.clock())))


@bp.post("/managers/<name>/pause")
@api_required
def pause_manager(name: str) -> ResponseReturnValue:
    """Pause a manager for every worker (optional `until`, `reason`)."""
    s = services()
    body = _body()
    now = s.clock()
    try:
        until_text = _text(body, "until")
        until = parse_until(until_text, now) if until_text else None
        reason = _text(body, "reason")[:500]
        pause(s.engine, s.config.policy(), name, until=until, reason=reason, by=actor(), now=now)
    except OperationError as exc:
        return bad(str(exc), 404 if "no manager" in str(exc) else 400)
    except ValueError as exc:
        return bad(f"until: {exc}")
    return jsonify(ok=True, manager=name, until=until.isoformat() if until else None)


@bp.post("/managers/<name>/resume")
@api_required
def resume_manager(name: str) -> ResponseReturnValue:
    """End a manager's pause."""
    s = services()
    try:
        done = resume(s.engine, s.config.policy(), name, by=actor(), now=s.clock())
    except OperationError as exc:
        return bad(str(exc), 404)
    return jsonify(ok=True, manager=name, was_paused=done)


@bp.get("/decisions")
@api_required
def decisions() -> ResponseReturnValue:
    """Decisions newest first; filters: lead, manager, pool, rule, since, until, limit, before."""
    s = services()
    now = s.clock()
    args = request.args
    try:
        since = parse_since(args["since"], now) if args.get("since") else None
        until = parse_since(args["until"], now) if args.get("until") else None
        limit = int(args.get("limit", 100))
        before = readmodel.parse_id(args["before"], "before") if args.get("before") else None
    except ValueError as exc:
        return bad(str(exc))
    if not 1 <= limit <= 1000:
        return bad("limit must be between 1 and 1000")
    rows = readmodel.decisions(
        s.engine,
        lead=args.get("lead"),
        manager=args.get("manager"),
        pool=args.get("pool"),
        rule=args.get("rule"),
        since=since,
        until=until,
        limit=limit,
        before_id=before,
    )
    return jsonify(decisions=rows)


@bp.get("/decisions/<id:assignment_id>")
@api_required
def decision(assignment_id: int) -> ResponseReturnValue:
    """One decision with its reasoning and the CRM writes it caused."""
    found = readmodel.decision_detail(services().engine, assignment_id)
    return jsonify(found) if found is not None else bad("no such decision", 404)


@bp.get("/leads/<lead_id>")
@api_required
def lead(lead_id: str) -> ResponseReturnValue:
    """A lead's story: every event oldest first, worded in the config's language."""
    s = services()
    current = s.config.current
    told = story.lead_story(s.engine, current.policy, current.crm.type, lead_id)
    if not told.events:
        return bad("nothing is recorded about this lead", 404)
    return jsonify(readmodel.as_json(told))


@bp.get("/deadletters")
@api_required
def deadletters() -> ResponseReturnValue:
    """CRM writes refused for good, with the last error."""
    return jsonify(deadletters=readmodel.dead_letters(services().engine))


@bp.post("/deadletters/<id:letter_id>/replay")
@api_required
def replay_one(letter_id: int) -> ResponseReturnValue:
    """Queue one dead letter again."""
    s = services()
    done = replay_dead_letters(s.engine, [letter_id], by=actor(), now=s.clock())
    if done.missing:
        return bad(f"{letter_id} is not a dead letter", 404)
    return jsonify(ok=True, replayed=done.ids)


@bp.post("/deadletters/replay")
@api_required
def replay_all() -> ResponseReturnValue:
    """Queue every dead letter again."""
    s = services()
    return jsonify(ok=True, replayed=replay_dead_letters(s.engine, None, by=actor(), now=s.clock()).ids)


@bp.get("/config")
@api_required
def config() -> ResponseReturnValue:
    """The version in force, the history of versions, and the last refused config."""
    s = services()
    current = s.config.current
    with reading(s.engine) as connection:
        refusal = last_refusal(connection)
    versions = [
        {
            "id": v.id,
            "version": v.version,
            "path": v.path,
            "loaded_at": v.loaded_at.isoformat(),
            "by": v.loaded_by,
        }
        for v in history(s.engine)
    ]
    loaded_at = s.config.loaded_at.isoformat() if s.config.loaded_at else None
    return jsonify(
        version=current.version,
        path=str(current.path),
        loaded_at=loaded_at,
        history=versions,
        refusal=refusal,
    )


@bp.post("/config/validate")
@api_required
def validate() -> ResponseReturnValue:
    """Check a YAML text (the request body) without putting it in force."""
    raw, name = _yaml_body()
    try:
        loaded = services().config.validate_text(raw, name)
    except ConfigError as exc:
        return jsonify(valid=False, errors=[str(p) for p in exc.problems]), 422
    return jsonify(valid=True, version=loaded.version, warnings=[str(w) for w in loaded.warnings])


@bp.post("/config/load")
@api_required
def load() -> ResponseReturnValue:
    """Validate a YAML text and put it in force for every process; refused → the running one stays."""
    raw, name = _yaml_body()
    holder = services().config
    try:
        loaded = holder.load_text(raw, actor(), name=name)
    except ConfigError as exc:
        return jsonify(loaded=False, errors=[str(p) for p in exc.problems], kept=holder.current.version), 422
    except OSError as exc:  # in force, but the file on disk could not be replaced
        warning = f"in force, but {holder.path} could not be written ({exc.strerror}): a restart would revert"
        return jsonify(loaded=True, version=holder.current.version, warning=warning)
    return jsonify(loaded=True, version=loaded.version, warnings=[str(w) for w in loaded.warnings])


@bp.post("/whatif")
@api_required
def whatif_start() -> ResponseReturnValue:
    """Replay the last `days` days of stored decisions under a config (`yaml`, else the running one)."""
    if request.content_length and request.content_length > MAX_CONFIG_BYTES:
        raise BadRequest("the request is larger than 1 MB")
    body = _body()
    s = services()
    try:
        days = whatif_runs.parse_days(body.get("days", 30))
        text = _text(body, "yaml")
        name = _text(body, "name") or ("edited.yaml" if text else str(s.config.current.path))
        loaded = s.config.validate_text(text.encode(), name) if text else s.config.current
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    except ConfigError as exc:
        return jsonify(errors=[str(p) for p in exc.problems]), 422
    try:
        run_id, thread = whatif_runs.start(
            s.engine, loaded, s.config.current, days, by=actor(), clock=s.clock, name=name
        )
    except whatif_runs.Busy as exc:
        return bad(str(exc), 409)
    if body.get("wait") is True:
        thread.join(timeout=WAIT_SECONDS)
    found = whatif_runs.get(s.engine, run_id, s.clock())
    assert found is not None
    return jsonify(found), 200 if found["state"] != "running" else 202


@bp.get("/whatif")
@api_required
def whatif_list() -> ResponseReturnValue:
    """The latest what-if runs, newest first, without their results."""
    s = services()
    return jsonify(runs=whatif_runs.recent(s.engine, s.clock()))


@bp.get("/whatif/<run_id>")
@api_required
def whatif_get(run_id: str) -> ResponseReturnValue:
    """One what-if run: progress while it runs, the comparison when done."""
    s = services()
    found = whatif_runs.get(s.engine, run_id, s.clock())
    if found is None:
        return bad(f"no what-if run {run_id}", 404)
    return jsonify(found)


@bp.get("/health")
@api_required
def health() -> ResponseReturnValue:
    """The admin header's figures: worker heartbeat, queue, dead letters, reconcile, rate limit."""
    s = services()
    return jsonify(readmodel.as_json(readmodel.health(s.engine, s.clock())))


def _body() -> dict[str, Any]:
    if request.is_json:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise BadRequest("the body must be a JSON object")
        return data
    return dict(request.form)


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key) or ""
    if not isinstance(value, str):
        raise BadRequest(f"{key} must be a string")
    _utf8(value, key)
    return value.strip()


def _utf8(value: str, key: str) -> bytes:
    # JSON may escape a lone surrogate ("\ud800"): valid JSON, but no text the store can keep.
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest(f"{key} is not valid Unicode text (a lone surrogate)") from None


def _yaml_body() -> tuple[bytes, str]:
    """The YAML text: a raw body (text/yaml, text/plain), a JSON {"yaml": …}, a form field or file."""
    name = request.args.get("name") or "edited.yaml"
    if request.content_length and request.content_length > MAX_CONFIG_BYTES:
        raise BadRequest("the config is larger than 1 MB")
    if request.is_json:
        text = _body().get("yaml")
        if not isinstance(text, str) or not text:
            raise BadRequest('the JSON body needs "yaml": the config text')
        return _utf8(text, "yaml"), name
    if request.files.get("file"):
        upload = request.files["file"]
        return upload.read(MAX_CONFIG_BYTES + 1), upload.filename or name
    if "yaml" in request.form:
        return request.form["yaml"].encode(), name
    raw = request.get_data(cache=False)
    if not raw:
        raise BadRequest('send the YAML as the body (text/yaml), as JSON {"yaml": …} or as a form field')
    return raw, name
