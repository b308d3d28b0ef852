"""Audit rows rendered into words when they are read, in the reader's language, people by name.

An audit row keeps its data (`kind`, `detail`, the manager's key) and a technical message written
when it happened. The words a person reads are made here, from the data, with the catalogs' `audit`
area: so the CLI's `audit` and the admin pages say the same thing, in the config's language, with
managers' names and CRM users we do not know said to be so («пользователь 6102352 (не из
конфигурации)»). Decisions and handoff steps were rendered by `core/reasons.py` when they were
made (in the config's language), so their stored message is their text. A row whose data lacks
what its words need (written by an older version) shows its stored message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from core.kinds import AuditKind
from core.reasons import Renderer
from core.texts import texts

# Rows whose stored message is already words in the config's language (core/reasons.py).
RENDERED_WHEN_MADE = frozenset(
    {
        AuditKind.DECISION,
        AuditKind.WAIT,
        AuditKind.HANDOFF,
        AuditKind.HANDOFF_BLOCKED,
        AuditKind.HANDOFF_CANCELLED,
        AuditKind.RETURN_SKIPPED,
    }
)
# Rows whose words need nothing from the row.
_FIXED = frozenset(
    {
        AuditKind.DUPLICATE,
        AuditKind.ALREADY_DECIDED,
        AuditKind.LEAD_MISSING,
        AuditKind.IGNORED,
        AuditKind.ECHO,
        AuditKind.SLA_OK,
        AuditKind.SLA_WAITING,
        AuditKind.WON,
        AuditKind.LOST,
    }
)
_RETRY_IN = re.compile(r"retry in (\d+)\s*s")
_QUOTED = re.compile(r"'([^']*)'")
_SECONDS = re.compile(r"after (\d+) s")


class AuditText:
    """Words for audit rows in one language; people named through a `Renderer` of the config."""

    def __init__(self, renderer: Renderer, language: str | None = None) -> None:
        self.renderer = renderer
        self.words = texts(language or renderer.policy.language, "audit")

    def kind(self, kind: str) -> str:
        """What a row records, in words (its kind's identifier if it has none)."""
        return self.words.get(f"kind_{kind}", kind)

    def event(self, event: object) -> str:
        """What the CRM said happened (`add`, `update`, …, as the adapter named it) in words."""
        name = str(event or "")
        return self.words.get(f"event_{name}", name)

    def write(self, write: object) -> str:
        """A CRM write's kind (`responsible`, `task`…) in words."""
        return self.words.get(f"write_{write}", str(write or ""))

    def manager(self, key: str | None) -> str:
        """A manager's name for the audit's manager column (empty for none)."""
        return self.renderer.name(key) if key else ""

    def message(
        self, kind: str, message: str, detail: Mapping[str, Any] | None, manager: str | None = None
    ) -> str:
        """The row's message in words (`manager`: the row's manager key, for pauses)."""
        try:
            code = AuditKind(kind)
        except ValueError:
            return message
        if code in RENDERED_WHEN_MADE:
            return message
        if code in _FIXED:
            return self.words[code.value]
        try:
            return self._from_data(code, message, detail or {}, manager)
        except (KeyError, ValueError, TypeError, AttributeError):
            return message  # an older row without the data its words need

    def _from_data(self, code: AuditKind, message: str, d: Mapping[str, Any], manager: str | None) -> str:
        w, r = self.words, self.renderer
        if code is AuditKind.RECEIVED:
            return w["received"].format(event=self.event(d.get("action") or d["event"]))
        if code is AuditKind.OVERRIDE:
            text = w["override"].format(who=r.user(d["responsible_user_id"]))
            counted = d.get("counted")
            if counted:
                to = r.name(counted["to"]) if counted.get("to") else r.texts["nobody"]
                text += w["override_counted"].format(to=to, pool=counted["pool"])
            return text
        if code is AuditKind.STALE:
            return w["stale"].format(who=r.user(d["user"]))
        if code is AuditKind.STAGE_CHANGED:
            return w["stage_changed"].format(before=d["stage_before"] or "—", stage=d["stage"])
        if code is AuditKind.HANDOFF_DONE:
            return w["handoff_done"].format(handoff=d.get("handoff") or _QUOTED.findall(message)[0])
        if code is AuditKind.CRM_WRITE:
            return w["crm_write"].format(what=self.write(d["write"]))
        if code is AuditKind.CRM_RETRY:
            seconds = d["retry_in"] if "retry_in" in d else _RETRY_IN.findall(message)[0]
            return w["crm_retry"].format(what=self.write(d["write"]), seconds=seconds, error=d["error"])
        if code is AuditKind.DEAD_LETTER:
            return w["dead_letter"].format(what=self.write(d["write"]), error=d["error"])
        if code is AuditKind.REPLAY:
            what = self.write(d.get("write") or message.split("(", 1)[1].split(")", 1)[0])
            return w["replay"].format(id=d["outbox"], what=what, by=d["by"])
        if code is AuditKind.PAUSE:
            who = r.name(manager or message.split(" paused", 1)[0])
            moment = r.moment(datetime.fromisoformat(d["until"])) if d.get("until") else ""
            until = w["pause_until"].format(until=moment) if moment else ""
            reason = f": {d['reason']}" if d.get("reason") else ""
            return w["pause"].format(who=who, until=until, by=d["by"], reason=reason)
        if code is AuditKind.RESUME:
            who = r.name(manager or message.split(" resumed", 1)[0])
            return w["resume"].format(who=who, by=d["by"])
        if code is AuditKind.RECONCILED:
            return w["reconciled"].format(missed=d.get("missed", message.split(" ", 1)[0]))
        if code is AuditKind.CRM_BACK:
            seconds = d["seconds"] if "seconds" in d else _SECONDS.findall(message)[0]
            return w["crm_back"].format(seconds=seconds)
        if code is AuditKind.DELETED:  # with what it cancelled, when the worker recorded the deletion
            if "writes" in d:
                return w["lead_deleted"].format(writes=d["writes"], jobs=d["jobs"])
            return w["deleted"]
        if code is AuditKind.CLOCK_STEP:
            return w["clock_step"].format(seconds=round(float(d["seconds"])), timers=d["timers"])
        if code is AuditKind.WRITE_CANCELLED:
            return w["write_cancelled"].format(what=self.write(d["write"]), error=d["error"])
        if code is AuditKind.HOOK_REPAIRED:
            return w["hook_repaired"].format(repairs=d["repairs"])
        if code is AuditKind.HOOK_DOWN:
            return w["hook_down"].format(error=d["error"])
        if code in (AuditKind.JUNK_CREDIT, AuditKind.JUNK_REFUSED):
            who = r.name(manager) if manager else r.texts["nobody"]
            return w[code.value].format(
                who=who, why=d["why"], pool=d["pool"], used=d["credits"], max=d["max_per_week"]
            )
        if code is AuditKind.RESTORED:
            return w["restored"]
        if code is AuditKind.TEAM:
            return self._team(d)
        if code is AuditKind.OWNER_REFUSED and "write" in d:  # the outbox's row, not the lifecycle's
            return w["owner_refused"].format(who=r.user(d["user"]))
        if code is AuditKind.RETENTION:
            return w["retention"].format(inputs=d["inputs_deleted"], events=d["events_deleted"])
        if code in (AuditKind.JOB_RETRY, AuditKind.JOB_FAILED, AuditKind.CRM_DOWN):
            error = message.removeprefix("waiting for the CRM: ")
            if code is AuditKind.CRM_DOWN:
                error = d.get("error") or message.split("(", 1)[1].rsplit(")", 1)[0]
            return w[code.value].format(error=error)
        return message

    def _team(self, d: Mapping[str, Any]) -> str:
        """A team sync's change: a pool's joined and left, who can no longer own leads, or a failed read."""
        w = self.words

        def names(keys: Any) -> str:
            return ", ".join(self.renderer.name(k) for k in keys)

        if d.get("error"):
            return w["team_failed_admin" if d.get("admin_needed") else "team_failed"].format(error=d["error"])
        if "pool" in d:
            changes = [w["team_joined"].format(names=names(d["joined"]))] if d["joined"] else []
            changes += [w["team_left"].format(names=names(d["left"]))] if d["left"] else []
            return w["team_pool"].format(pool=d["pool"], changes="; ".join(changes))
        if not d["inactive"]:
            raise KeyError("inactive")  # someone can own leads again: the stored message says it
        return w["team_inactive"].format(names=names(d["inactive"]))


__all__ = ["RENDERED_WHEN_MADE", "AuditText"]
