"""Decisions rendered into one line of words, per language: the only place reasons become text.

The words are the `reason` area of the catalogs in `core/texts/`."""

from __future__ import annotations

from datetime import datetime, tzinfo

from core.availability import Skip, SkipReason
from core.condition_text import condition_text
from core.decision import Decision, Outcome, Route, Step, StepCode
from core.policy import Policy
from core.texts import texts


class Renderer:
    """Turns decisions into text in one language, naming people by their display names."""

    def __init__(self, policy: Policy, language: str | None = None) -> None:
        self.policy = policy
        self.language = language or policy.language
        self.texts = texts(self.language, "reason")

    def name(self, key: str | None) -> str:
        """A manager's display name (the key for someone not in the config)."""
        manager = self.policy.managers.get(key or "")
        return manager.label if manager else (key or "—")

    def user(self, user_id: object) -> str:
        """A CRM user by name: the manager with that id, else the id, said to be unknown to us."""
        try:
            key = self.policy.by_user_id.get(int(str(user_id)))
        except ValueError:
            key = None
        if key is not None:
            return self.name(key)
        if user_id in (None, "", 0, "0"):
            return self.texts["nobody"]
        return self.texts["unknown_user"].format(user_id=user_id)

    def strategy(self, name: str | None) -> str:
        """A strategy in words (`по очереди`), never its identifier."""
        return self.texts.get(f"strategy_{name}", name or "")

    def key_field(self, path: str) -> str:
        """The sticky key's field in words: region, company, INN, or a custom field by name."""
        word = self.texts.get(f"key_{path}")
        if word is not None:
            return word
        return self.texts["key_field"].format(name=path.split(":", 1)[-1])

    def sticky(self, decision: Decision) -> str:
        """Which key decided a sticky pool's lead, how its owner was found, and who stood in."""
        detail = decision.detail
        by, field = detail.get("by"), self.key_field(detail.get("key_field", "company"))
        if by == "no_key":
            return self.texts["sticky_no_key"].format(field=field)
        if by not in ("value", "range", "hash"):
            return ""
        owner = self.name(detail.get("owner"))
        parts = [self.texts[f"sticky_{by}"].format(field=field, value=detail.get("value", ""), owner=owner)]
        how = detail.get("how")
        if how in ("substitute", "next"):
            parts.append(self.texts[f"sticky_{how}"].format(owner=owner))
        return "; ".join(parts)

    def moment(self, value: datetime, tz: tzinfo | None = None) -> str:
        """A moment in the policy's (or a manager's) time zone, short."""
        local = value.astimezone(tz or self.policy.tz)
        return local.strftime(self.texts["time_format"])

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
            return self.texts["handoff_blocked"].format(handoff=params["handoff"], why=self._kept(params))
        if step.code is StepCode.RETURN_SKIPPED:
            why = self.texts[f"return_{params.get('why', 'moved_on')}"]
            return self.texts["return_skipped"].format(manager=params["manager"], why=why)
        if step.code is StepCode.HANDOFF_CANCELLED:
            why = (
                self.texts["left_stage"].format(stage=params["left_stage"])
                if "left_stage" in params
                else self.texts["reassigned"]
            )
            return self.texts["handoff_cancelled"].format(handoff=params["handoff"], why=why)
        if step.code is StepCode.CONTINUITY_UNLESS and self.policy.continuity.unless is not None:
            condition = condition_text(self.policy.continuity.unless, self.language)
            return self.texts["continuity_unless"].format(condition=condition)
        if step.code in (StepCode.RULE_MATCHED, StepCode.WAIT_FOR_SHIFT):
            return ""  # already said by the rule header and the closing "waiting until" part
        return self.texts[step.code.value].format(**params)

    def _kept(self, params: dict[str, str]) -> str:
        """Why a handoff kept the deal with its owner."""
        t = self.texts
        if "never_move" in params:
            return t["never_move"].format(who=self.name(params["never_move"]))
        if "in_pool" in params:
            return t["in_pool"].format(who=self.name(params.get("owner")), pool=params["in_pool"])
        if "not_from" in params:
            members = ", ".join(self.name(key) for key in params["not_from"].split(", ") if key)
            return t["not_from"].format(who=self.name(params.get("owner")), members=members)
        handoff = next((h for h in self.policy.handoffs if h.name == params.get("handoff")), None)
        if handoff is not None and handoff.unless is not None:  # the condition in words, not its formula
            return t["unless"].format(condition=condition_text(handoff.unless, self.language))
        return t["unless"].format(condition=params.get("unless", ""))

    def reason(self, decision: Decision) -> str:
        """The whole decision as one line."""
        t = self.texts
        parts = [s for s in (self.step(step) for step in decision.steps) if s]
        if decision.rule is not None and decision.pool is not None:
            header = t["rule"].format(
                rule=decision.rule, pool=decision.pool, strategy=self.strategy(decision.strategy)
            )
            parts.insert(0, header)
        if decision.strategy == "sticky":  # which key decided it, just before who was chosen
            said = self.sticky(decision)
            if said:
                parts.append(said)
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


__all__ = ["Renderer", "SkipReason", "reason_text"]
