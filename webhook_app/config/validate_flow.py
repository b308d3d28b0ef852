"""Checks on how leads flow: rules, handoffs, and warnings about parts nothing reaches."""

from __future__ import annotations

from core.conditions import normalize_text
from core.model import StageRef, TargetKind, WeeklySchedule
from core.policy import Policy
from webhook_app.config.problems import Path, Reporter
from webhook_app.config.refs import check_manager, unknown
from webhook_app.config.schema import ConfigModel, HandoffModel

NEXT_IN_POOL = "next_in_pool"


def check_flow(doc: ConfigModel, policy: Policy, report: Reporter) -> None:
    """Rules and handoffs refer to real pools and can all be reached; warn about dead ends."""
    _rules(doc, policy, report)
    names: dict[str, int] = {}
    for i, handoff in enumerate(doc.handoffs):
        path: Path = ("handoffs", i)
        _unique(handoff.name, (*path, "name"), names, "handoff", report)
        _handoff(handoff, path, doc, report)
    if not report.has_errors_under(("handoffs",)):
        _same_stage(policy, report)
        _timings(policy, report)
    _warnings(doc, policy, report)


def _same_stage(policy: Policy, report: Reporter) -> None:
    """Two `on_stage` handoffs on one stage: the first wins, so the second could never run.
    (A loop between roles cannot spin by itself: every handoff needs a stage move made in the CRM.)"""
    seen: list[tuple[int, StageRef]] = []
    for i, handoff in enumerate(policy.handoffs):
        ref = handoff.on_stage
        if ref is None:
            continue
        for j, other in seen:
            same_pipeline = (
                ref.pipeline is None or other.pipeline is None or _same(ref.pipeline, other.pipeline)
            )
            if _same(ref.stage, other.stage) and same_pipeline:
                line = report.line_of(("handoffs", j)) or 0
                message = report.words["never_runs"].format(other=j, line=line, stage=other.stage)
                report.error(("handoffs", i, "on_stage"), message)
        seen.append((i, ref))


def _timings(policy: Policy, report: Reporter) -> None:
    """Timers that can never go off: an SLA longer than anyone's working week, decades of days."""
    week = max((_weekly_minutes(m.schedule) for m in policy.managers.values()), default=0)
    for i, handoff in enumerate(policy.handoffs):
        if handoff.unworked_minutes and handoff.unworked_minutes > week:
            message = report.words["sla_too_long"].format(minutes=handoff.unworked_minutes, week=week)
            report.error(("handoffs", i, "unworked_minutes"), message)
        if handoff.after_days and handoff.after_days > 3650:
            report.error(("handoffs", i, "after_days"), report.words["ten_years"])


def _weekly_minutes(schedule: WeeklySchedule) -> int:
    return sum(end - start for day in schedule.days for start, end in day)


def _same(a: str, b: str) -> bool:
    return normalize_text(a) == normalize_text(b)


def _unique(name: str, path: Path, seen: dict[str, int], kind: str, report: Reporter) -> None:
    line = report.line_of(path) or 0
    if name in seen:
        report.error(path, report.words[f"duplicate_{kind}"].format(name=name, line=seen[name]))
    else:
        seen[name] = line


def _rules(doc: ConfigModel, policy: Policy, report: Reporter) -> None:
    names: dict[str, int] = {}
    catch_all: tuple[str, int] | None = None
    for i, (model, rule) in enumerate(zip(doc.rules, policy.rules, strict=True)):
        path: Path = ("rules", i)
        _unique(model.name, (*path, "name"), names, "rule", report)
        if model.pool not in doc.pools:
            report.error((*path, "pool"), unknown("pool", model.pool, doc.pools, report.words))
        if catch_all is not None:
            name, line = catch_all
            report.error(path, report.words["unreachable"].format(name=name, line=line))
        elif rule.condition.is_catch_all and not report.has_errors_under((*path, "when")):
            # A condition whose parts were all rejected compiles to "always"; that is no catch-all.
            catch_all = (model.name, report.line_of(path) or 0)


def _handoff(handoff: HandoffModel, path: Path, doc: ConfigModel, report: Reporter) -> None:
    triggers = [t for t in ("on_stage", "after_days", "unworked_minutes") if getattr(handoff, t) is not None]
    if len(triggers) != 1:
        found = ", ".join(triggers) or report.words["no_trigger"]
        report.error(path, report.words["one_trigger"].format(found=found))
    if (handoff.after_days is None) != (handoff.in_stage is None):
        where = "after_days" if handoff.after_days is not None else "in_stage"
        report.error((*path, where), report.words["days_with_stage"])
    sla = handoff.unworked_minutes is not None
    for option in ("max_hops", "then"):
        if getattr(handoff, option) is not None and not sla:
            report.error((*path, option), report.words["sla_only"].format(option=option))
    if handoff.to == NEXT_IN_POOL:
        if not sla:
            report.error((*path, "to"), report.words["sla_only"].format(option=NEXT_IN_POOL))
    elif handoff.to not in doc.pools:
        report.error((*path, "to"), unknown("pool", handoff.to, doc.pools, report.words))
    for j, key in enumerate(handoff.never_move):
        check_manager(key, (*path, "never_move", j), doc, report)
    for j, name in enumerate(handoff.from_ or []):
        if name not in doc.pools:
            check_manager(name, (*path, "from", j), doc, report)
    if sla and (handoff.from_ is not None or handoff.reassign != "outside_pool"):
        option = "from" if handoff.from_ is not None else "reassign"
        report.error((*path, option), report.words["not_for_sla"].format(option=option))


def _warnings(doc: ConfigModel, policy: Policy, report: Reporter) -> None:
    if not any(rule.condition.is_catch_all for rule in policy.rules):
        report.warning(("rules",), report.words["no_catch_all"])
    if doc.head_of_sales is None and policy.nobody_available.then is None:
        report.warning(("nobody_available",), report.words["no_fallback"])
    used_managers, used_pools = _used(doc, policy)
    for key in doc.managers:
        if key not in used_managers:
            report.warning(("managers", key), report.words["unused_manager"].format(key=key))
    for name in doc.pools:
        if name not in used_pools:
            report.warning(("pools", name), report.words["unused_pool"].format(name=name))


def _used(doc: ConfigModel, policy: Policy) -> tuple[set[str], set[str]]:
    """Managers and pools something refers to."""
    managers = {doc.head_of_sales} if doc.head_of_sales else set()
    pools = {rule.pool for rule in doc.rules} | {h.to for h in doc.handoffs}
    for pool in policy.pools.values():
        managers.update(pool.members)
        managers.update(m for m in (pool.head, pool.claim_user) if m)
    for manager in policy.managers.values():
        managers.update(a.substitute for a in manager.absences if a.substitute)
    for handoff in policy.handoffs:
        managers.update(handoff.never_move)
    targets = [policy.nobody_available.then, *(h.then for h in policy.handoffs)]
    targets += [p.nobody_available.then for p in policy.pools.values() if p.nobody_available]
    for target in targets:
        if target is not None:
            (pools if target.kind is TargetKind.POOL else managers).add(target.name)
    return managers, pools
