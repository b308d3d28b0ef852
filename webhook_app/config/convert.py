"""Building the core Policy from the validated document; the core never sees pydantic."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from core.model import ALWAYS, Absence, CrmLoad, Manager, OnAssign, StageRef, TaskTemplate, WeeklySchedule
from core.policy import Continuity, Handoff, Policy, Rule
from webhook_app.config.conditions import compile_condition
from webhook_app.config.pools import build_pool
from webhook_app.config.problems import Reporter
from webhook_app.config.refs import nobody_available, target, zone
from webhook_app.config.schedule import parse_schedule
from webhook_app.config.schema import ConfigModel, HandoffModel, ManagerModel, StageModel


def build_policy(doc: ConfigModel, version: str, report: Reporter) -> Policy:
    """The core Policy; problems found on the way (zones, schedules, conditions) go to `report`."""
    tz = zone(doc.timezone, ("timezone",), report)
    hours = doc.working_hours
    default_schedule = parse_schedule(hours, ("working_hours",), report) if hours is not None else ALWAYS
    company_holidays = frozenset(doc.holidays)
    managers = {
        key: _manager(key, model, tz, default_schedule, company_holidays, report)
        for key, model in doc.managers.items()
    }
    rules = tuple(
        Rule(rule.name, compile_condition(rule.when, ("rules", i, "when"), report), rule.pool)
        for i, rule in enumerate(doc.rules)
    )
    task = doc.on_assign.task
    return Policy(
        tz=tz,
        managers=managers,
        pools={name: build_pool(name, model, doc, report) for name, model in doc.pools.items()},
        rules=rules,
        continuity=_continuity(doc, report),
        nobody_available=nobody_available(doc.nobody_available, ("nobody_available",), doc, report),
        head_of_sales=doc.head_of_sales,
        handoffs=tuple(_handoff(i, model, doc, report) for i, model in enumerate(doc.handoffs)),
        on_assign=OnAssign(TaskTemplate(task.text, task.due_minutes) if task else None, doc.on_assign.note),
        language=doc.language,
        version=version,
        count_overrides=doc.overrides.count_toward_share,
        by_user_id={m.crm_user_id: key for key, m in managers.items()},
        crm_load=CrmLoad(doc.load.overdue_tasks, doc.load.refresh_minutes)
        if doc.load.from_ == "crm"
        else None,
        newcomer=Manager(key="", crm_user_id=0, tz=tz, schedule=default_schedule, holidays=company_holidays),
    )


def _manager(
    key: str,
    model: ManagerModel,
    default_tz: ZoneInfo,
    default_schedule: WeeklySchedule,
    company_holidays: frozenset[date],
    report: Reporter,
) -> Manager:
    path = ("managers", key)
    tz = zone(model.timezone, (*path, "timezone"), report) if model.timezone else default_tz
    own = model.schedule
    return Manager(
        key=key,
        crm_user_id=model.crm_user_id,
        tz=tz,
        name=model.name,
        weight=model.weight,
        schedule=parse_schedule(own, (*path, "schedule"), report) if own is not None else default_schedule,
        holidays=company_holidays | frozenset(model.holidays),
        absences=tuple(Absence(a.from_, a.to, a.substitute, a.reason) for a in model.absences),
        max_per_day=model.max_per_day,
        max_open=model.max_open,
        role=model.role,
        active=model.active,
    )


def _continuity(doc: ConfigModel, report: Reporter) -> Continuity:
    model = doc.continuity
    if model is None:
        return Continuity()
    unless = compile_condition(model.unless, ("continuity", "unless"), report) if model.unless else None
    return Continuity(model.enabled, model.within_days, unless, model.sync_client_owner)


def _from_members(model: HandoffModel, doc: ConfigModel) -> frozenset[str] | None:
    """`from:` as people: a pool's members, or a manager named outright (checked in validate_flow)."""
    if model.from_ is None:
        return None
    people: set[str] = set()
    for name in model.from_:
        pool = doc.pools.get(name)
        people.update(pool.members if pool is not None else [name])
    return frozenset(people)


def _stage(model: StageModel | None) -> StageRef | None:
    return StageRef(model.stage, model.pipeline) if model is not None else None


def _handoff(index: int, model: HandoffModel, doc: ConfigModel, report: Reporter) -> Handoff:
    path = ("handoffs", index)
    return Handoff(
        name=model.name,
        to=model.to,
        on_stage=_stage(model.on_stage),
        after_days=model.after_days,
        in_stage=_stage(model.in_stage),
        unworked_minutes=model.unworked_minutes,
        max_hops=model.max_hops,
        then=target(model.then, (*path, "then"), doc, report) if model.then else None,
        keep_hunter_in_field=model.keep_hunter_in_field,
        # `unless: {}` names no exception; compiling it to Always would block the handoff forever.
        unless=compile_condition(model.unless, (*path, "unless"), report) if model.unless else None,
        never_move=frozenset(model.never_move),
        from_members=_from_members(model, doc),
        reassign_always=model.reassign == "always",
    )
