"""What we write into the CRM for a decision: responsible, a task, a note with the reason."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.decision import Decision, Outcome
from core.policy import Policy
from core.ports import CrmWrite, WriteKind
from core.texts import texts

NOTE_PREFIX = "leadrouter: "


def writes_for(decision: Decision, policy: Policy, now: datetime, reason: str) -> list[CrmWrite]:
    """The CRM writes that carry out an assignment, in the order they should land."""
    if decision.outcome is not Outcome.ASSIGN or decision.assignee is None:
        return []
    lead_id = decision.lead_id
    owner = policy.managers[decision.assignee].crm_user_id
    writes = [CrmWrite(WriteKind.RESPONSIBLE, lead_id, user_id=owner)]
    template = policy.on_assign.task
    due = now + timedelta(minutes=template.due_minutes if template else 15)
    words = texts(policy.language, "task")
    if decision.notify:  # claim: everyone available is asked to take it
        text = words["claim"]
        for key in decision.notify:
            writes.append(CrmWrite(WriteKind.TASK, lead_id, policy.managers[key].crm_user_id, text, due))
    elif decision.suggested:  # manual: the head distributes, with our suggestions
        names = ", ".join(policy.managers[k].label for k in decision.suggested)
        text = words["manual"].format(names=names)
        writes.append(CrmWrite(WriteKind.TASK, lead_id, owner, text, due))
    elif template is not None:
        writes.append(CrmWrite(WriteKind.TASK, lead_id, owner, template.text, due))
    if policy.on_assign.note:
        writes.append(CrmWrite(WriteKind.NOTE, lead_id, text=NOTE_PREFIX + reason))
    return writes
