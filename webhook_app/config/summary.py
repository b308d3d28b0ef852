"""A one-screen, human-readable summary of a loaded config, for `leadrouter check-config`."""

from __future__ import annotations

from core.model import ALWAYS, Manager, NobodyAvailable, Pool, StageRef, Target, WeeklySchedule
from core.policy import Handoff
from webhook_app.config.loader import LoadedConfig
from webhook_app.config.schedule import DAYS


def render_summary(loaded: LoadedConfig) -> list[str]:
    """The summary lines: settings, managers, pools, rules in order, fallbacks, handoffs, warnings."""
    policy, crm = loaded.policy, loaded.crm
    lines = [
        f"{loaded.path}: OK (version {loaded.version})",
        f"language {policy.language}, time zone {policy.tz}",
        f"crm: {crm.type} {crm.base_url}" + (f" ({crm.entity}s)" if crm.type == "bitrix24" else ""),
        f"head of sales: {policy.head_of_sales or '-'}",
        "",
        f"managers ({len(policy.managers)}):",
    ]
    widths = (max(len(k) for k in policy.managers), max(len(m.label) for m in policy.managers.values()))
    lines += [f"  {_manager(m, str(policy.tz), widths)}" for m in policy.managers.values()]
    lines += ["", f"pools ({len(policy.pools)}):"]
    width = max(len(k) for k in policy.pools)
    lines += [f"  {_pool(p, width)}" for p in policy.pools.values()]
    lines += ["", "rules (first match wins):"]
    lines += [f"  {i}. {r.name}: {r.condition.describe()} → {r.pool}" for i, r in enumerate(policy.rules, 1)]
    continuity = policy.continuity
    window = f", within {continuity.within_days} days" if continuity.within_days else ""
    state = "on" + window if continuity.enabled else "off"
    if continuity.enabled and continuity.unless is not None:
        state += f", except {continuity.unless.describe()} (by the rules)"
    if continuity.enabled:
        state += ", client owner written to the CRM" if continuity.sync_client_owner else ""
    lines += ["", f"continuity: {state}"]
    lines.append(f"nobody available: {_nobody(policy.nobody_available)}")
    task = policy.on_assign.task
    task_text = f'task "{task.text}" due in {task.due_minutes} min' if task else "no task"
    lines.append(f"on assign: {task_text}, note {'on' if policy.on_assign.note else 'off'}")
    load = policy.crm_load
    if load is not None:
        tasks = f" + overdue tasks × {load.overdue_tasks:g}" if load.overdue_tasks else ""
        lines.append(f"open load: open deals in the CRM{tasks}, read every {load.refresh_minutes} min")
    if policy.handoffs:
        lines += ["", f"handoffs ({len(policy.handoffs)}):"]
        lines += [f"  {_handoff(h)}" for h in policy.handoffs]
    if loaded.warnings:
        lines += ["", f"warnings ({len(loaded.warnings)}):"]
        lines += [f"  {w}" for w in loaded.warnings]
    return lines


def schedule_text(schedule: WeeklySchedule) -> str:
    """`mon-fri 09:00-18:00; sat 10:00-14:00`, or `always`; consecutive equal days grouped."""
    if schedule == ALWAYS:
        return "always"
    groups: list[tuple[int, int]] = []
    for day in range(7):
        if groups and schedule.days[groups[-1][0]] == schedule.days[day]:
            groups[-1] = (groups[-1][0], day)
        else:
            groups.append((day, day))
    parts = []
    for first, last in groups:
        intervals = schedule.days[first]
        if intervals:
            days = DAYS[first] if first == last else f"{DAYS[first]}-{DAYS[last]}"
            parts.append(f"{days} {', '.join(f'{_hhmm(a)}-{_hhmm(b)}' for a, b in intervals)}")
    return "; ".join(parts) or "never"


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _manager(m: Manager, default_tz: str, widths: tuple[int, int]) -> str:
    parts = [
        f"{m.key:<{widths[0]}} {m.label:<{widths[1]}} id {m.crm_user_id:<8} weight {m.weight:g}",
        schedule_text(m.schedule),
    ]
    if str(m.tz) != default_tz:
        parts[-1] += f" ({m.tz})"
    if m.max_per_day is not None:
        parts.append(f"≤{m.max_per_day}/day")
    if m.max_open is not None:
        parts.append(f"≤{m.max_open} open")
    for a in m.absences:
        parts.append(
            f"away {a.start}..{a.end} ({a.reason}" + (f" → {a.substitute})" if a.substitute else ")")
        )
    if m.role:
        parts.append(f"role {m.role}")
    if not m.active:
        parts.append("INACTIVE")
    return " · ".join(parts)


def _pool(p: Pool, width: int) -> str:
    weights = set(p.weights.values())
    members = ", ".join(f"{k}×{p.weights[k]}" if len(weights) > 1 else k for k in p.members) or "-"
    parts = [f"{p.name:<{width}} {p.strategy:<12} [{members}]", f"on_return {p.on_return.label}"]
    if p.crm_team is not None:
        parts.insert(1, f"+ the CRM team «{p.crm_team}»")
    if p.sticky is not None:
        s = p.sticky
        parts.append(f"by {s.key}: {len(s.by_value)} values, {len(s.ranges)} ranges")
    if p.head:
        parts.append(f"head {p.head}")
    if p.strategy == "manual":
        parts.append(f"suggest {p.suggest}")
    if p.claim_user:
        parts.append(f"parked on {p.claim_user}")
    if p.nobody_available is not None:
        parts.append(f"nobody available: {_nobody(p.nobody_available)}")
    if p.return_after_absence:
        parts.append("return after absence" + (" (untouched leads only)" if p.return_only_untouched else ""))
    return " · ".join(parts)


def _target(target: Target | None) -> str:
    return f"{target.name} ({target.kind.value})" if target else "head of sales (or retry hourly)"


def _nobody(rule: NobodyAvailable) -> str:
    if not rule.wait_for_shift:
        return f"fall back to {_target(rule.then)}"
    limit = f" (at most {rule.max_wait.total_seconds() / 3600:g} h)" if rule.max_wait else ""
    return f"wait for the next shift{limit}, then {_target(rule.then)}"


def _stage(ref: StageRef) -> str:
    return f'"{ref.stage}"' + (f' in "{ref.pipeline}"' if ref.pipeline else "")


def _handoff(h: Handoff) -> str:
    if h.on_stage is not None:
        trigger = f"on stage {_stage(h.on_stage)}"
    elif h.after_days is not None and h.in_stage is not None:
        trigger = f"{h.after_days} days in stage {_stage(h.in_stage)}"
    else:
        trigger = f"unworked for {h.unworked_minutes} min"
    parts = [f"{h.name}: {trigger} → {h.to}"]
    if h.max_hops is not None:
        parts.append(f"at most {h.max_hops} hops")
    if h.then is not None:
        parts.append(f"then {_target(h.then)}")
    if h.keep_hunter_in_field:
        parts.append(f'hunter kept in "{h.keep_hunter_in_field}"')
    if h.unless is not None:
        parts.append(f"unless {h.unless.describe()}")
    if h.never_move:
        parts.append(f"never moves {', '.join(sorted(h.never_move))}")
    if h.from_members is not None:
        parts.append(f"only deals of {', '.join(sorted(h.from_members))}")
    if h.on_stage is not None or h.after_days is not None:
        parts.append("even from members of the pool" if h.reassign_always else "kept by members of the pool")
    return " · ".join(parts)
