"""A one-screen, human-readable summary of a loaded config, for `leadrouter check-config`.

In the config's `language` (the catalogs' `summary` area), people by name, strategies in words;
pool, rule and handoff names are the config's own and stay as written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from core.condition_text import condition_text
from core.conditions import Condition
from core.model import ALWAYS, Manager, NobodyAvailable, Pool, StageRef, Target, TargetKind, WeeklySchedule
from core.policy import Handoff
from core.reasons import Renderer
from core.texts import texts
from webhook_app.config.loader import LoadedConfig
from webhook_app.config.problems import ConfigProblem
from webhook_app.config.schedule import DAYS
from webhook_app.textwidth import ljust, width

CRM_NAMES = {"amocrm": "amoCRM", "bitrix24": "Bitrix24"}


class _Summary:
    """The words of one summary: the `summary` catalog and a renderer for names and strategies."""

    def __init__(self, loaded: LoadedConfig) -> None:
        self.loaded, self.policy = loaded, loaded.policy
        self.w: Mapping[str, str] = texts(self.policy.language, "summary")
        self.render = Renderer(self.policy)

    def lines(self) -> list[str]:
        loaded, policy, crm, w = self.loaded, self.policy, self.loaded.crm, self.w
        entity = (
            (w["crm_deals"] if crm.entity == "deal" else w["crm_leads"]) if crm.type == "bitrix24" else ""
        )
        head = self.render.name(policy.head_of_sales) if policy.head_of_sales else "—"
        lines = [
            w["ok"].format(path=loaded.path, version=loaded.version),
            w["language"].format(tz=policy.tz),
            w["crm"].format(crm=CRM_NAMES.get(crm.type, crm.type), url=crm.base_url) + entity,
            w["head"].format(head=head),
            "",
            w["managers"].format(count=len(policy.managers)),
        ]
        name_width = max(width(m.label) for m in policy.managers.values())
        lines += [f"  {self._manager(m, name_width)}" for m in policy.managers.values()]
        lines += ["", w["pools"].format(count=len(policy.pools))]
        pool_width = max(width(k) for k in policy.pools)
        lines += [f"  {self._pool(p, pool_width)}" for p in policy.pools.values()]
        lines += ["", w["rules"]]
        lines += [
            f"  {i}. {r.name}: {self._cond(r.condition)} → {r.pool}" for i, r in enumerate(policy.rules, 1)
        ]
        lines += ["", w["continuity"].format(state=self._continuity())]
        lines.append(w["nobody"].format(what=self._nobody(policy.nobody_available)))
        task = policy.on_assign.task
        task_text = w["task"].format(text=task.text, minutes=task.due_minutes) if task else w["no_task"]
        note = w["note_on"] if policy.on_assign.note else w["note_off"]
        lines.append(w["on_assign"].format(task=task_text, note=note))
        if policy.handoffs:
            lines += ["", w["handoffs"].format(count=len(policy.handoffs))]
            lines += [f"  {self._handoff(h)}" for h in policy.handoffs]
        if loaded.warnings:
            lines += ["", w["warnings"].format(count=len(loaded.warnings))]
            # Under their heading, without the English "warning:" each one carries on its own.
            lines += [f"  {_where(warning)}{warning.message}" for warning in loaded.warnings]
        return lines

    def _cond(self, condition: Condition) -> str:
        return condition_text(condition, self.policy.language)

    def _continuity(self) -> str:
        w, continuity = self.w, self.policy.continuity
        if not continuity.enabled:
            return w["continuity_off"]
        state = w["continuity_on"]
        if continuity.within_days:
            state += w["within_days"].format(days=continuity.within_days)
        if continuity.unless is not None:
            state += w["continuity_unless"].format(condition=self._cond(continuity.unless))
        if continuity.sync_client_owner:
            state += w["sync_owner"]
        return state

    def _manager(self, m: Manager, name_width: int) -> str:
        w = self.w
        parts = [
            f"{ljust(m.label, name_width)}  ({m.key}, id {m.crm_user_id})",
            w["weight"].format(weight=f"{m.weight:g}"),
            schedule_text(m.schedule, self.policy.language),
        ]
        if str(m.tz) != str(self.policy.tz):
            parts[-1] += f" ({m.tz})"
        if m.max_per_day is not None:
            parts.append(w["per_day"].format(count=m.max_per_day))
        if m.max_open is not None:
            parts.append(w["open"].format(count=m.max_open))
        for a in m.absences:
            substitute = (
                w["away_substitute"].format(who=self.render.name(a.substitute)) if a.substitute else ""
            )
            reason = w.get(a.reason, a.reason)
            parts.append(w["away"].format(start=a.start, end=a.end, reason=reason, substitute=substitute))
        if m.role:
            parts.append(w["role"].format(role=m.role))
        if not m.active:
            parts.append(w["inactive"])
        return " · ".join(parts)

    def _names(self, keys: Iterable[str]) -> str:
        return ", ".join(self.render.name(k) for k in keys) or "—"

    def _pool(self, p: Pool, pool_width: int) -> str:
        w = self.w
        weights = set(p.weights.values())
        members = ", ".join(
            f"{self.render.name(k)}×{p.weights[k]}" if len(weights) > 1 else self.render.name(k)
            for k in p.members
        )
        parts = [f"{ljust(p.name, pool_width)}  {self.render.strategy(p.strategy)}: {members or '—'}"]
        parts.append(_on_return(p, w))
        if p.sticky is not None:
            s = p.sticky
            field = self.render.key_field(s.key)
            parts.append(w["by_key"].format(field=field, values=len(s.by_value), ranges=len(s.ranges)))
        if p.head:
            parts.append(w["pool_head"].format(head=self.render.name(p.head)))
        if p.strategy == "manual":
            parts.append(w["suggest"].format(count=p.suggest))
        if p.claim_user:
            parts.append(w["parked"].format(who=self.render.name(p.claim_user)))
        if p.nobody_available is not None:
            parts.append(w["nobody_in_pool"].format(what=self._nobody(p.nobody_available)))
        if p.return_after_absence:
            parts.append(w["return_after_absence"] + (w["untouched_only"] if p.return_only_untouched else ""))
        return " · ".join(parts)

    def _target(self, target: Target | None) -> str:
        if target is None:
            return self.w["target_default"]
        if target.kind is TargetKind.POOL:
            return self.w["target_pool"].format(name=target.name)
        return self.render.name(target.name)

    def _nobody(self, rule: NobodyAvailable) -> str:
        w = self.w
        if not rule.wait_for_shift:
            return w["fall_back"].format(target=self._target(rule.then))
        hours = f"{rule.max_wait.total_seconds() / 3600:g}" if rule.max_wait else ""
        limit = w["wait_limit"].format(hours=hours) if rule.max_wait else ""
        return w["wait_shift"].format(limit=limit, target=self._target(rule.then))

    def _stage(self, ref: StageRef) -> str:
        if ref.pipeline:
            return self.w["stage_in"].format(stage=ref.stage, pipeline=ref.pipeline)
        return f"«{ref.stage}»" if self.policy.language == "ru" else f"“{ref.stage}”"

    def _handoff(self, h: Handoff) -> str:
        w = self.w
        if h.on_stage is not None:
            trigger = w["on_stage"].format(stage=self._stage(h.on_stage))
        elif h.after_days is not None and h.in_stage is not None:
            trigger = w["after_days"].format(days=h.after_days, stage=self._stage(h.in_stage))
        else:
            trigger = w["unworked"].format(minutes=h.unworked_minutes)
        to = w["next_in_pool"] if h.to == "next_in_pool" else w["target_pool"].format(name=h.to)
        parts = [f"{h.name}: {trigger} → {to}"]
        if h.max_hops is not None:
            parts.append(w["max_hops"].format(count=h.max_hops))
        if h.then is not None:
            parts.append(w["then"].format(target=self._target(h.then)))
        if h.keep_hunter_in_field:
            parts.append(w["hunter_kept"].format(field=h.keep_hunter_in_field))
        if h.unless is not None:
            parts.append(w["unless"].format(condition=self._cond(h.unless)))
        if h.never_move:
            parts.append(w["never_moves"].format(who=self._names(sorted(h.never_move))))
        if h.from_members is not None:
            parts.append(w["only_from"].format(who=self._names(sorted(h.from_members))))
        if h.on_stage is not None or h.after_days is not None:
            parts.append(w["reassign_always"] if h.reassign_always else w["kept_by_pool"])
        return " · ".join(parts)


def _on_return(p: Pool, w: Mapping[str, str]) -> str:
    label = p.on_return.label
    if label == "resume":
        return w["on_return_resume"]
    if label == "catch_up":
        return w["on_return_catch_up"]
    return w["on_return_catch_up_max"].format(count=label.rsplit(" ", 1)[-1])


def _where(problem: ConfigProblem) -> str:
    place = f"{problem.file}:{problem.line}" if problem.line is not None else problem.file
    return f"{place}: {problem.path}: " if problem.path else f"{place}: "


def render_summary(loaded: LoadedConfig) -> list[str]:
    """The summary lines: settings, managers, pools, rules in order, fallbacks, handoffs, warnings."""
    return _Summary(loaded).lines()


def schedule_text(schedule: WeeklySchedule, language: str | None = None) -> str:
    """`пн-пт 09:00-18:00; сб 10:00-14:00` (`mon-fri …` in English), or `круглосуточно`."""
    w = texts(language, "summary")
    names = w["days"].split(",") if language is not None else list(DAYS)
    if schedule == ALWAYS:
        return w["always"] if language is not None else "always"
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
            days = names[first] if first == last else f"{names[first]}-{names[last]}"
            parts.append(f"{days} {', '.join(f'{_hhmm(a)}-{_hhmm(b)}' for a, b in intervals)}")
    return "; ".join(parts) or (w["never"] if language is not None else "never")


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
