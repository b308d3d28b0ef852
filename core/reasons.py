"""Decisions rendered into one line of words, per language: the only place reasons become text."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo

from core.availability import Skip, SkipReason
from core.decision import Decision, Outcome, Route, Step, StepCode
from core.policy import Policy

TEXTS: Mapping[str, Mapping[str, str]] = {
    "ru": {
        "rule": "правило «{rule}» → пул «{pool}» ({strategy})",
        "chosen": "выбран: {who}",
        "skipped": "пропущены: {items}",
        "suggested": "кандидаты: {items}",
        "notify": "уведомлены: {items}",
        "wait": "ждём начала смены до {until}",
        "continuity_owner": "повторный клиент, его менеджер {manager}",
        "continuity_expired": "повторный клиент, но последний контакт старше {days} дн.",
        "continuity_unknown": "ответственный клиента (id {user_id}) не в конфигурации",
        "continuity_unavailable": "менеджер клиента {manager} недоступен",
        "substitute": "замещает {who}",
        "no_rule": "ни одно правило не подошло",
        "nobody_available": "в пуле «{pool}» никто не доступен",
        "wait_for_shift": "ждём смену в пуле «{pool}»",
        "wait_for_owner": "ждём владельца территории: {manager}",
        "fallback": "резерв: {target}",
        "handoff": "передача «{handoff}» от {previous}",
        "handoff_blocked": "передача «{handoff}» не выполняется: {why}",
        "handoff_cancelled": "передача «{handoff}» отменена: {why}",
        "left_stage": "сделка уже не на этапе «{stage}»",
        "reassigned": "у сделки уже другой ответственный",
        "sla_expired": "лид не взят в работу за {minutes} мин (переход {hop})",
        "return": "возврат менеджеру {manager} после отсутствия",
        "never_move": "{who} не передаёт сделки",
        "unless": "исключение ({condition})",
        "inactive": "деактивирован",
        "paused": "на паузе",
        "absent": "отсутствует",
        "holiday": "праздник",
        "off_hours": "нерабочее время",
        "capped_day": "лимит на день {count}/{limit}",
        "capped_open": "лимит открытых {count}/{limit}",
        "already_had": "уже получал этот лид",
        "until": "до {until}",
    },
    "en": {
        "rule": "rule '{rule}' → pool '{pool}' ({strategy})",
        "chosen": "chosen: {who}",
        "skipped": "skipped: {items}",
        "suggested": "suggested: {items}",
        "notify": "notified: {items}",
        "wait": "waiting for a shift until {until}",
        "continuity_owner": "repeat client, their manager is {manager}",
        "continuity_expired": "repeat client, but the last contact is older than {days} days",
        "continuity_unknown": "the client's owner (id {user_id}) is not in the config",
        "continuity_unavailable": "the client's manager {manager} is unavailable",
        "substitute": "standing in for {who}",
        "no_rule": "no rule matched",
        "nobody_available": "nobody available in pool '{pool}'",
        "wait_for_shift": "waiting for a shift in pool '{pool}'",
        "wait_for_owner": "waiting for the territory's owner: {manager}",
        "fallback": "fallback: {target}",
        "handoff": "handoff '{handoff}' from {previous}",
        "handoff_blocked": "handoff '{handoff}' not done: {why}",
        "handoff_cancelled": "handoff '{handoff}' cancelled: {why}",
        "left_stage": "the deal is no longer in stage '{stage}'",
        "reassigned": "the deal has another owner by now",
        "sla_expired": "lead not worked on within {minutes} min (hop {hop})",
        "return": "back to {manager} after the absence",
        "never_move": "{who}'s deals are never moved",
        "unless": "exception ({condition})",
        "inactive": "deactivated",
        "paused": "paused",
        "absent": "absent",
        "holiday": "holiday",
        "off_hours": "off hours",
        "capped_day": "daily cap {count}/{limit}",
        "capped_open": "open-leads cap {count}/{limit}",
        "already_had": "already had this lead",
        "until": "until {until}",
    },
}


class Renderer:
    """Turns decisions into text in one language, naming people by their display names."""

    def __init__(self, policy: Policy, language: str | None = None) -> None:
        self.policy = policy
        self.texts = TEXTS.get(language or policy.language, TEXTS["ru"])

    def name(self, key: str | None) -> str:
        """A manager's display name (the key for someone not in the config)."""
        manager = self.policy.managers.get(key or "")
        return manager.label if manager else (key or "—")

    def moment(self, value: datetime, tz: tzinfo | None = None) -> str:
        """A moment in the policy's (or a manager's) time zone, short."""
        local = value.astimezone(tz or self.policy.tz)
        return (
            local.strftime("%d.%m.%Y %H:%M")
            if self.texts is TEXTS["ru"]
            else local.strftime("%Y-%m-%d %H:%M")
        )

    def skip(self, skip: Skip) -> str:
        """One skipped candidate with the reason."""
        t = self.texts
        text = t[skip.reason.value].format(count=skip.count, limit=skip.limit)
        if skip.until is not None:
            manager = self.policy.managers.get(skip.manager)
            text += " " + t["until"].format(until=self.moment(skip.until, manager.tz if manager else None))
        return f"{self.name(skip.manager)} — {text}"

    def step(self, step: Step) -> str:
        """One reasoning step."""
        params = dict(step.params)
        if "manager" in params:
            params["manager"] = self.name(params["manager"])
        if step.code is StepCode.FALLBACK:
            target = params.get("pool") or self.name(params.get("manager"))
            return self.texts["fallback"].format(target=target)
        if step.code is StepCode.HANDOFF:
            return self.texts["handoff"].format(
                handoff=params["handoff"], previous=self.name(params["previous"])
            )
        if step.code is StepCode.HANDOFF_BLOCKED:
            why = (
                self.texts["never_move"].format(who=self.name(params["never_move"]))
                if "never_move" in params
                else self.texts["unless"].format(condition=params.get("unless", ""))
            )
            return self.texts["handoff_blocked"].format(handoff=params["handoff"], why=why)
        if step.code is StepCode.HANDOFF_CANCELLED:
            why = (
                self.texts["left_stage"].format(stage=params["left_stage"])
                if "left_stage" in params
                else self.texts["reassigned"]
            )
            return self.texts["handoff_cancelled"].format(handoff=params["handoff"], why=why)
        if step.code in (StepCode.RULE_MATCHED, StepCode.WAIT_FOR_SHIFT):
            return ""  # already said by the rule header and the closing "waiting until" part
        return self.texts[step.code.value].format(**params)

    def reason(self, decision: Decision) -> str:
        """The whole decision as one line."""
        t = self.texts
        parts = [s for s in (self.step(step) for step in decision.steps) if s]
        if decision.rule is not None and decision.pool is not None:
            parts.insert(
                0, t["rule"].format(rule=decision.rule, pool=decision.pool, strategy=decision.strategy or "")
            )
        if decision.outcome is Outcome.WAIT and decision.wait_until is not None:
            parts.append(t["wait"].format(until=self.moment(decision.wait_until)))
        else:
            parts.append(t["chosen"].format(who=self.name(decision.assignee)))
        if decision.route is Route.SUBSTITUTE and decision.skipped:
            parts.append(t["substitute"].format(who=self.name(decision.skipped[0].manager)))
        for key, items in (("suggested", decision.suggested), ("notify", decision.notify)):
            if items:
                parts.append(t[key].format(items=", ".join(self.name(k) for k in items)))
        if decision.skipped and decision.route is not Route.SUBSTITUTE:
            parts.append(t["skipped"].format(items=", ".join(self.skip(s) for s in decision.skipped)))
        return "; ".join(parts)


def reason_text(decision: Decision, policy: Policy, language: str | None = None) -> str:
    """Shortcut: render one decision in the policy's (or the given) language."""
    return Renderer(policy, language).reason(decision)


__all__ = ["TEXTS", "Renderer", "SkipReason", "reason_text"]
