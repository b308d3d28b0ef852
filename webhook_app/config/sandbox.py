"""What `leadrouter sandbox` runs: the user's config pointed at the bundled emulator of its own CRM
(amoCRM or Bitrix24, by `crm.type`) and made to route at any hour, and the account or portal the
emulator must hold for that config.

The user's file is never edited: the derived YAML is written to the sandbox's directory, with a
header listing every difference, and the console prints the same list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from core.texts import texts
from sandbox.company import Layout, Person
from webhook_app.config.online import equal_values, references
from webhook_app.config.problems import language_of
from webhook_app.config.schema import ConfigModel

DEFAULT_ACCOUNT = 29841576
DEFAULT_SUBDOMAIN = "example"


@dataclass(frozen=True)
class SandboxConfig:
    """The YAML to run, and what differs from the user's file."""

    text: str
    changes: list[str]


def derive(
    raw: bytes, *, source: str, base_url: str, sla_minutes: int, words: Mapping[str, str] | None = None
) -> SandboxConfig:
    """The sandbox's version of a valid config file (`raw`, named `source` in the header); what
    differs is said in `words` (the `cli` catalog; the config's own language when not given)."""
    data: dict[str, Any] = yaml.safe_load(raw)
    said = words or texts(language_of(data), "cli")
    changes = [_crm(data, base_url, said)]
    if _always(data):
        changes.append(said["sandbox_change_always"])
    for handoff in data.get("handoffs") or []:
        minutes = handoff.get("unworked_minutes")
        if isinstance(minutes, int) and minutes > sla_minutes:
            handoff["unworked_minutes"] = sla_minutes
            changes.append(
                said["sandbox_change_sla"].format(name=handoff.get("name"), before=minutes, after=sla_minutes)
            )
    header = [
        *said["sandbox_header"].format(source=source).splitlines(),
        *(f"#   - {change}" for change in changes),
    ]
    body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    return SandboxConfig("\n".join(header) + "\n\n" + body, changes)


def _crm(data: dict[str, Any], base_url: str, words: Mapping[str, str]) -> str:
    """Point the config at the emulator of its own CRM; nothing else of `crm` changes."""
    crm = dict(data.get("crm") or {})
    if crm.get("type") == "bitrix24":
        data["crm"] = crm | {"base_url": base_url}
        return words["sandbox_change_bitrix24"].format(url=base_url, portal=crm.get("domain"))
    crm.setdefault("account_id", DEFAULT_ACCOUNT)
    data["crm"] = crm | {"base_url": base_url}
    return words["sandbox_change_amocrm"].format(url=base_url)


def _always(data: dict[str, Any]) -> bool:
    """Make every schedule `always` and drop holidays; True if anything changed."""
    changed = bool(data.pop("holidays", None))
    if data.get("working_hours") not in (None, "always"):
        data["working_hours"] = "always"
        changed = True
    for manager in (data.get("managers") or {}).values():
        if not isinstance(manager, dict):
            continue
        changed |= bool(manager.pop("holidays", None))
        if manager.get("schedule") not in (None, "always"):
            manager["schedule"] = "always"
            changed = True
    return changed


def layout(doc: ConfigModel) -> Layout:
    """The users, pipelines, stages and fields the config names, for the emulated account."""
    crm = doc.crm
    is_amo = crm.type == "amocrm"
    teams = {
        member: pool.crm_team.name
        for pool in doc.pools.values()
        if pool.crm_team is not None
        for member in pool.members
    }  # the emulated account puts the people named beside a CRM team in that group
    people = tuple(
        Person(m.crm_user_id, m.name or key, m.active, teams.get(key) or m.role or "")
        for key, m in doc.managers.items()
    )
    stages: list[tuple[str | None, str]] = []
    pipelines: list[str] = []
    fields: list[tuple[str, tuple[str, ...]]] = []
    field_ids: list[str] = []
    id_values: list[tuple[str, tuple[str, ...]]] = []
    conditions: list[object] = [rule.when for rule in doc.rules]
    for handoff in doc.handoffs:
        for stage in (handoff.on_stage, handoff.in_stage):
            if stage is not None:
                stages.append((stage.pipeline, stage.stage))
        if handoff.keep_hunter_in_field:
            fields.append((handoff.keep_hunter_in_field, ()))
        conditions.append(handoff.unless)
    for condition in conditions:
        for _, key, name, test in references(condition, ()):
            values = tuple(str(v) for v in equal_values(test))
            if key == "pipeline":
                pipelines += values
            elif key == "stage":
                stages += [(None, value) for value in values]
            elif key == "field":
                fields.append((name, values))  # values a condition expects: the choices of a list
            else:
                field_ids.append(name)
                id_values.append((name, values))
    reasons: list[str] = []
    for pool in doc.pools.values():
        kind, _, name = pool.sticky.key.partition(":") if pool.sticky else ("", "", "")
        if kind == "field":
            fields.append((name, ()))
        elif kind == "field_id":
            field_ids.append(name)
        if pool.junk is not None and pool.junk.stage is not None:
            stages.append((pool.junk.stage.pipeline, pool.junk.stage.stage))
        if pool.junk is not None and pool.junk.loss_reason:
            reasons.append(pool.junk.loss_reason)
        if pool.value is not None and pool.value.field is not None:
            fields.append((pool.value.field, ()))
    return Layout(
        account_id=(crm.account_id if is_amo else None) or DEFAULT_ACCOUNT,
        subdomain=(crm.subdomain if is_amo else None) or DEFAULT_SUBDOMAIN,
        people=people,
        stages=tuple(stages),
        pipelines=tuple(pipelines),
        fields=tuple(fields),
        field_ids=tuple(field_ids),
        id_values=tuple(id_values),
        loss_reasons=tuple(reasons),
    )
