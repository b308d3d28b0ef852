"""`/admin`: server-rendered pages for the head of sales and the operator (Jinja2, no front-end build)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from adapters.storage.configs import get_version, history, last_refusal
from adapters.storage.engine import reading
from core.texts import texts
from webhook_app.cli.common import parse_since, parse_until
from webhook_app.config import ConfigError
from webhook_app.pipeline.operator_actions import OperationError, pause, replay_dead_letters, resume
from webhook_app.web.admin import readmodel, story, whatif_runs
from webhook_app.web.admin.api import services
from webhook_app.web.admin.auth import actor, admin_required, csrf_token, local_admin_path, log_in
from webhook_app.web.admin.svg import share_chart

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")


def render(template: str, **values: Any) -> str:
    """A page with what every page needs: the words, the CSRF token, the header's health."""
    s = services()
    language = s.config.current.policy.language
    return render_template(
        f"admin/{template}",
        t=texts(language, "admin"),
        language=language,
        csrf=csrf_token(),
        health=readmodel.health(s.engine, s.clock()),
        version=s.config.current.version,
        **values,
    )


def _words() -> Mapping[str, str]:
    """The admin page's words in the config's language."""
    return texts(services().config.current.policy.language, "admin")


@bp.app_template_filter("local")
def local_time(value: str | datetime | None, seconds: bool = False) -> str:
    """A stored moment (UTC) in the company's time zone, as the reasons and notes give it."""
    if not value:
        return ""
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        local = moment.astimezone(services().config.current.policy.tz)
    except (ValueError, OverflowError):
        return str(value)
    return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


@bp.app_template_filter("who")
def who(key: str | None) -> str:
    """A manager's name, as people know them («Кузнецова Мария», not `kuznetsova`)."""
    if not key:
        return ""
    manager = services().config.current.policy.managers.get(key)
    return manager.label if manager is not None else key


@bp.app_template_filter("words")
def words(value: str | None, prefix: str) -> str:
    """A stored identifier (a strategy, route, write kind or outcome) in the reader's words."""
    if not value:
        return ""
    catalog = texts(services().config.current.policy.language, "admin")
    return catalog.get(f"{prefix}_{value}", value)


@bp.app_template_filter("actor")
def actor_words(value: str | None) -> str:
    """Who did it, as stored (`admin (web, 10.0.0.5)`, `startup`, `sighup`), in the reader's words."""
    if not value:
        return ""
    catalog = _words()
    found = re.fullmatch(r"admin \((web|api), (.*)\)", value)
    if found:
        return catalog[f"by_admin_{found.group(1)}"].format(address=found.group(2))
    key = {"startup": "by_startup", "sighup": "by_sighup"}.get(value)
    return catalog[key] if key else value


@bp.app_template_filter("purpose")
def purpose_words(value: str | None) -> str:
    """What an assignment was for: a new lead, an SLA hop, a return, a named handoff."""
    catalog = texts(services().config.current.policy.language, "admin")
    if not value or value == "new":
        return catalog["purpose_new"]
    if value.startswith("sla:"):
        return catalog["purpose_sla"].format(hop=value.partition(":")[2])
    if value == "return":
        return catalog["purpose_return"]
    return catalog["purpose_handoff"].format(name=value)


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """The token form; a right token starts a cookie session."""
    status = 200
    if request.method == "POST":
        right = log_in(request.form.get("token", ""))
        if right:
            target = request.args.get("next") or ""
            return redirect(target if local_admin_path(target) else url_for("admin.today"))
        status = 401 if right is False else 429  # throttled: the token was not even compared
    language = services().config.current.policy.language
    failed = status != 200
    page = render_template("admin/login.html", t=texts(language, "admin"), language=language, failed=failed)
    return page, status


@bp.post("/logout")
@admin_required
def logout() -> ResponseReturnValue:
    """End the cookie session."""
    from flask import session

    session.clear()
    return redirect(url_for("admin.login"))


@bp.get("")
@bp.get("/")
@admin_required
def today() -> ResponseReturnValue:
    """The landing view: the split, the fairness chart, who is available now, with pause controls."""
    s = services()
    period = request.args.get("period", "today")
    if period not in readmodel.PERIODS:
        period = "today"
    policy = s.config.policy()
    now = s.clock()
    by_period = readmodel.splits(s.engine, policy, now)
    pools = by_period[period]
    charts = {p.pool: Markup(share_chart(p.members, p.pool)) for p in pools}
    # Every period's figures per pool and member, for the table's today / week / month columns.
    figures = {
        (split.pool, m.manager, name): m
        for name, splits in by_period.items()
        for split in splits
        for m in split.members
    }
    managers = readmodel.managers_now(s.engine, policy, now)
    later = readmodel.scheduled(s.engine, now)
    return render(
        "today.html",
        period=period,
        pools=pools,
        charts=charts,
        figures=figures,
        managers=managers,
        later=later,
    )


@bp.post("/managers/<name>/pause")
@admin_required
def pause_manager(name: str) -> ResponseReturnValue:
    """The page's pause control."""
    s = services()
    now = s.clock()
    try:
        until_text = _people_until(request.form.get("until", ""))
        until = parse_until(until_text, now) if until_text else None
        reason = request.form.get("reason", "").strip()[:500]
        pause(s.engine, s.config.policy(), name, until=until, reason=reason, by=actor(), now=now)
    except (OperationError, ValueError) as exc:
        flash(str(exc), "error")
    return redirect(url_for("admin.today"))


_RUSSIAN_UNITS = {"м": "m", "мин": "m", "ч": "h", "д": "d", "дн": "d", "н": "w", "нед": "w"}


def _people_until(text: str) -> str:
    """A moment in a form (the pause's "until", the decisions' "since") as people write it: `2ч` /
    `3д` as well as `2h` / `3d`, and a date and time without a zone in the company's time zone (the
    page shows times in it), not UTC."""
    text = text.strip()
    found = re.fullmatch(r"(\d+)\s*([а-яё]+)\.?", text, re.IGNORECASE)
    if found and found.group(2).lower() in _RUSSIAN_UNITS:
        return found.group(1) + _RUSSIAN_UNITS[found.group(2).lower()]
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=services().config.current.policy.tz)
    return moment.isoformat()


@bp.post("/managers/<name>/resume")
@admin_required
def resume_manager(name: str) -> ResponseReturnValue:
    """The page's resume control."""
    s = services()
    try:
        resume(s.engine, s.config.policy(), name, by=actor(), now=s.clock())
    except OperationError as exc:
        flash(str(exc), "error")
    return redirect(url_for("admin.today"))


@bp.get("/decisions")
@admin_required
def decisions() -> ResponseReturnValue:
    """Decisions newest first, filtered by lead, manager, pool, rule and period."""
    s = services()
    args = request.args
    filters = {k: args.get(k, "").strip() for k in ("lead", "manager", "pool", "rule", "since")}
    error = None
    try:
        since = parse_since(_people_until(filters["since"]), s.clock()) if filters["since"] else None
        before = readmodel.parse_id(args["before"], "before") if args.get("before") else None
    except ValueError as exc:
        since, before, error = None, None, str(exc)
    rows = readmodel.decisions(
        s.engine,
        lead=filters["lead"] or None,
        manager=filters["manager"] or None,
        pool=filters["pool"] or None,
        rule=filters["rule"] or None,
        since=since,
        before_id=before,
        limit=100,
    )
    older = rows[-1]["id"] if len(rows) == 100 else None
    policy = s.config.policy()
    # Filters by name, as people know them: the managers and pools of the config in force.
    choices = {
        "manager": sorted(((m.key, m.label) for m in policy.managers.values()), key=lambda c: c[1]),
        "pool": [(name, name) for name in policy.pools],
    }
    return render("decisions.html", rows=rows, filters=filters, error=error, older=older, choices=choices)


@bp.get("/decisions/<id:assignment_id>")
@admin_required
def decision(assignment_id: int) -> ResponseReturnValue:
    """One decision: the full reason, every skipped candidate, the CRM writes, a link to the lead."""
    s = services()
    found = readmodel.decision_detail(s.engine, assignment_id)
    if found is None:
        return render("message.html", message=_words()["no_decision"].format(id=assignment_id)), 404
    return render("decision.html", d=found, crm_link=_crm_link(found["lead_id"]))


@bp.get("/leads/<lead_id>")
@admin_required
def lead(lead_id: str) -> ResponseReturnValue:
    """A lead's whole story on one page, oldest first, with names and local times."""
    s = services()
    current = s.config.current
    told = story.lead_story(s.engine, current.policy, current.crm.type, lead_id)
    status = 200 if told.events else 404
    everything = request.args.get("all") == "1"
    shown = [e for e in told.events if everything or not e.minor]
    hidden = len(told.events) - len(shown)
    page = render(
        "lead.html",
        story=told,
        shown=shown,
        hidden=hidden,
        everything=everything,
        crm_link=_crm_link(lead_id),
    )
    return page, status


def _crm_link(lead_id: str) -> str | None:
    crm = services().config.current.crm
    if crm.type == "amocrm" and crm.subdomain:
        return f"https://{crm.subdomain}.amocrm.ru/leads/detail/{lead_id}"
    if crm.type == "bitrix24" and getattr(crm, "domain", None):
        entity, _, number = lead_id.partition(":")
        return f"https://{crm.domain}/crm/{entity}/details/{number}/" if number else None
    return None


@bp.get("/deadletters")
@admin_required
def deadletters() -> ResponseReturnValue:
    """Dead letters with the last error; replay one or all."""
    return render("deadletters.html", rows=readmodel.dead_letters(services().engine))


@bp.post("/deadletters/<id:letter_id>/replay")
@admin_required
def replay_one(letter_id: int) -> ResponseReturnValue:
    """Queue one dead letter again."""
    s = services()
    done = replay_dead_letters(s.engine, [letter_id], by=actor(), now=s.clock())
    said = _words()
    ids = ", ".join(str(i) for i in done.ids)
    flash(said["replayed"].format(ids=ids) if done.ids else said["not_dead"].format(id=letter_id), "info")
    return redirect(url_for("admin.deadletters"))


@bp.post("/deadletters/replay")
@admin_required
def replay_all() -> ResponseReturnValue:
    """Queue every dead letter again."""
    s = services()
    done = replay_dead_letters(s.engine, None, by=actor(), now=s.clock())
    flash(_words()["replayed_count"].format(count=len(done.ids)), "info")
    return redirect(url_for("admin.deadletters"))


@bp.route("/config", methods=["GET", "POST"])
@admin_required
def config() -> ResponseReturnValue:
    """The version in force, its history with diffs, and validate-and-load of an edited YAML."""
    s = services()
    holder = s.config
    result: dict[str, Any] | None = None
    text = holder.current.raw.decode("utf-8", errors="replace")
    status = 200
    if request.method == "POST":
        raw, name, _ = _posted_yaml()
        text = raw.decode("utf-8", errors="replace")
        try:
            if request.form.get("action") == "load":
                loaded = holder.load_text(raw, actor(), name=name)
                result = {"ok": True, "loaded": True, "version": loaded.version}
            else:
                loaded = holder.validate_text(raw, name)
                result = {"ok": True, "loaded": False, "version": loaded.version}
            result["warnings"] = [str(w) for w in loaded.warnings]
        except ConfigError as exc:
            result = {"ok": False, "errors": [str(p) for p in exc.problems]}
            status = 422
        except OSError as exc:
            result = {"ok": True, "loaded": True, "version": holder.current.version, "warnings": [str(exc)]}
    with reading(s.engine) as connection:
        refusal = last_refusal(connection)
    versions = history(s.engine)
    diff = _diff(request.args.get("a"), request.args.get("b"))
    page = render(
        "config.html",
        current=holder.current,
        loaded_at=holder.loaded_at,
        versions=versions,
        refusal=refusal,
        result=result,
        text=text,
        diff=diff,
    )
    return page, status


def _posted_yaml() -> tuple[bytes, str, bool]:
    """The YAML a form sent: an uploaded file (named by it) or the editor's text; and if uploaded."""
    upload = request.files.get("file")
    if upload and upload.filename:
        return upload.read(1_000_001), upload.filename, True
    return request.form.get("yaml", "").encode(), "edited.yaml", False


def _diff(a: str | None, b: str | None) -> list[str] | None:
    if not (a and b and a.isdigit() and b.isdigit()):
        return None
    engine = services().engine
    old, new = get_version(engine, int(a)), get_version(engine, int(b))
    if old is None or new is None:
        return None
    lines = difflib.unified_diff(
        old.source.decode("utf-8", "replace").splitlines(),
        new.source.decode("utf-8", "replace").splitlines(),
        f"{old.version} ({old.loaded_at:%Y-%m-%d %H:%M})",
        f"{new.version} ({new.loaded_at:%Y-%m-%d %H:%M})",
        lineterm="",
    )
    return list(lines)


@bp.route("/whatif", methods=["GET", "POST"])
@admin_required
def whatif() -> ResponseReturnValue:
    """Start a what-if on the running or an edited config; the latest runs."""
    s = services()
    holder = s.config
    text = holder.current.raw.decode("utf-8", errors="replace")
    days, errors, status = 30, None, 200
    if request.method == "POST":
        raw, name, uploaded = _posted_yaml()
        edited = uploaded or request.form.get("config") == "edited"
        text = raw.decode("utf-8", errors="replace") if edited else text
        try:
            days = whatif_runs.parse_days(request.form.get("days", "30"))
            if edited:
                loaded = holder.validate_text(raw, name)
            else:
                loaded, name = holder.current, str(holder.current.path)
            run_id, _ = whatif_runs.start(
                s.engine, loaded, holder.current, days, by=actor(), clock=s.clock, name=name
            )
            return redirect(url_for("admin.whatif_run", run_id=run_id))
        except ConfigError as exc:
            errors, status = [str(p) for p in exc.problems], 422
        except (ValueError, whatif_runs.Busy) as exc:
            flash(str(exc), "error")
            status = 400
    runs = whatif_runs.recent(s.engine, s.clock())
    return render("whatif.html", text=text, days=days, errors=errors, runs=runs), status


@bp.get("/whatif/<run_id>")
@admin_required
def whatif_run(run_id: str) -> ResponseReturnValue:
    """One run: a progress bar that refreshes itself, then who would have got what."""
    s = services()
    run = whatif_runs.get(s.engine, run_id, s.clock())
    if run is None:
        return render("message.html", message=_words()["no_whatif"].format(id=run_id)), 404
    result = run.get("result")
    actual = (result or {}).get("actual_fairness", [])
    actual_by_pool = {pool["pool"]: {m["manager"]: m["received"] for m in pool["members"]} for pool in actual}
    would = {
        (pool["pool"], m["manager"])
        for pool in (result or {}).get("would_fairness", [])
        for m in pool["members"]
    }
    # Who had leads in a pool the new config takes them out of: shown with nothing in the new column.
    gone = {
        pool["pool"]: [
            m for m in pool["members"] if m["received"] and (pool["pool"], m["manager"]) not in would
        ]
        for pool in actual
    }
    words = texts(s.config.current.policy.language, "simulate")
    handoffs = (result or {}).get("handoffs") or []
    handed = " → ".join(dict.fromkeys(str(sum(h[side] for h in handoffs)) for side in ("actual", "would")))
    titles = {"title": words["handoffs"].format(handovers=handed), "name": words["handoff_name"]}
    return render(
        "whatif_run.html",
        run=run,
        result=result,
        actual_by_pool=actual_by_pool,
        gone=gone,
        handoff=titles,
        by_key=readmodel.BY_KEY,  # pools without a target share: counts only
    )
