"""`check-config --online`: every name the config gives the CRM, resolved against what the CRM has.

Pipelines and stages (handoffs' `on_stage` / `in_stage`, `pipeline` / `stage` values in conditions),
custom fields by name and id (conditions, sticky keys, `keep_hunter_in_field`) and the values a
condition expects of a list field, a junk credit's loss reason (amoCRM's own reasons, or the list
field named «Причина отказа»), and every manager's `crm_user_id`, which must also be a user
who can own leads. Names compare as the router compares them: stages and list values without case,
field names exactly. Each problem goes on the line of the YAML node that names it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Any

from adapters.admin import CrmField, CrmInventory
from adapters.aliases import ALIASES
from core.conditions import normalize_text
from core.policy import Policy
from core.team import Team, with_team
from webhook_app.config.problems import Path, Reporter
from webhook_app.config.schema import ConfigModel, StageModel

EQUALITY = ("equals", "in")  # the operators whose operands are values the field must be able to hold


def check_online(doc: ConfigModel, crm: CrmInventory, report: Reporter) -> None:
    """Report every name in `doc` that `crm` does not have, and managers who cannot own leads."""
    _users(doc, crm, report)
    _teams(doc, crm, report)
    for i, handoff in enumerate(doc.handoffs):
        for key in ("on_stage", "in_stage"):
            stage = getattr(handoff, key)
            if stage is not None:
                _stage_ref(stage, ("handoffs", i, key), crm, report)
        if handoff.keep_hunter_in_field:
            _hunter_field(handoff.keep_hunter_in_field, ("handoffs", i, "keep_hunter_in_field"), crm, report)
        _condition(handoff.unless, ("handoffs", i, "unless"), crm, report)
    for i, rule in enumerate(doc.rules):
        _condition(rule.when, ("rules", i, "when"), crm, report)
    for name, pool in doc.pools.items():
        if pool.junk is not None and pool.junk.stage is not None:
            _stage_ref(pool.junk.stage, ("pools", name, "junk", "stage"), crm, report)
        if pool.junk is not None and pool.junk.loss_reason is not None:
            _loss_reason(pool.junk.loss_reason, ("pools", name, "junk", "loss_reason"), crm, report)
        if pool.value is not None and pool.value.field is not None:
            _field("field", pool.value.field, [], ("pools", name, "value", "field"), crm, report)
        if pool.sticky is not None and pool.sticky.key.startswith(("field:", "field_id:")):
            kind, _, key = pool.sticky.key.partition(":")
            _field(kind, key, [], ("pools", name, "sticky", "key"), crm, report)


def _users(doc: ConfigModel, crm: CrmInventory, report: Reporter) -> None:
    users = {user.id: user for user in crm.users}
    for key, manager in doc.managers.items():
        path = ("managers", key, "crm_user_id")
        user = users.get(manager.crm_user_id)
        if user is None:
            namesake = next((u for u in crm.users if manager.name and _same(u.name, manager.name)), None)
            words = report.words
            hint = words["online_namesake"].format(name=namesake.name, id=namesake.id) if namesake else ""
            report.error(path, words["online_no_user"].format(id=manager.crm_user_id, hint=hint))
        elif not user.active and manager.active:
            report.error(path, report.words["online_inactive"].format(id=user.id, name=user.name))


def _teams(doc: ConfigModel, crm: CrmInventory, report: Reporter) -> None:
    """A pool's CRM team must exist: an amoCRM group, a Bitrix24 department someone is in."""
    known = sorted({team for person in crm.team for team in person.teams})
    words = report.words
    what = words["online_group" if doc.crm.type == "amocrm" else "online_department"]
    for name, pool in doc.pools.items():
        team = pool.crm_team
        if team is None or team.name in known:
            continue
        path: Path = ("pools", name, "members") if team.at is None else ("pools", name, "members", team.at)
        nobody = words["online_nobody_in"]
        report.error(path, _unknown(what, team.name, known, words, where=nobody, every=True))


def resolved_teams(policy: Policy, crm: CrmInventory, words: Mapping[str, str]) -> list[str]:
    """Each pool following a CRM team, with the members it has now (as a team sync would find them);
    `words`: the `cli` catalog of the config's language."""
    folded = with_team(policy, Team(crm.team))
    lines = []
    for name, pool in folded.pools.items():
        if pool.crm_team is None:
            continue
        members = [folded.managers[k] for k in pool.members]
        names = ", ".join(m.label for m in members if m.active) or words["online_nobody"]
        out = [
            m.label
            for m in folded.managers.values()
            if not m.active and m.crm_user_id in _team_ids(crm, pool.crm_team)
        ]
        line = f"  {name} ← «{pool.crm_team}»: {names}"
        lines.append(line + (f" ({words['online_cannot_own'].format(names=', '.join(out))})" if out else ""))
    return lines


def _team_ids(crm: CrmInventory, team: str) -> set[int]:
    return {p.user_id for p in crm.team if team in p.teams}


def _stage_ref(stage: StageModel, path: Path, crm: CrmInventory, report: Reporter) -> None:
    if stage.pipeline is not None:
        pipeline = next((p for p in crm.pipelines if p.name and _same(p.name, stage.pipeline)), None)
        if pipeline is None:
            report.error((*path, "pipeline"), _unknown_pipeline(stage.pipeline, crm, report.words))
            return
        if not any(_same(s, stage.stage) for s in pipeline.stages):
            words = report.words
            where = words["online_in_pipeline"].format(pipeline=pipeline.name)
            message = _unknown(words["online_stage"], stage.stage, pipeline.stages, words, where=where)
            report.error((*path, "stage"), message)
        return
    _any_stage(stage.stage, (*path, "stage"), crm, report)


def _any_stage(stage: str, path: Path, crm: CrmInventory, report: Reporter) -> None:
    every = [s for p in crm.pipelines for s in p.stages]
    if not any(_same(s, stage) for s in every):
        report.error(path, _unknown(report.words["online_stage"], stage, every, report.words))


def _unknown_pipeline(name: str, crm: CrmInventory, words: Mapping[str, str]) -> str:
    names = [p.name for p in crm.pipelines if p.name]
    if not names:
        return words["online_no_pipelines"].format(name=name)
    return _unknown(words["online_pipeline"], name, names, words)


def _loss_reason(reason: str, path: Path, crm: CrmInventory, report: Reporter) -> None:
    """A loss reason the CRM can give: one of its own, or a value of a field named for it (as the
    adapters read it, adapters/aliases.py); a free-text field of that name may hold anything."""
    fields = [f for f in crm.fields if normalize_text(f.name) in ALIASES["loss_reason"]]
    if any(not f.choices for f in fields):
        return
    known = [*crm.loss_reasons, *(choice for f in fields for choice in f.choices)]
    if any(_same(known_reason, reason) for known_reason in known):
        return
    words = report.words
    if known:
        report.error(path, _unknown(words["online_loss_reason"], reason, known, words, every=True))
        return
    stage = next((s for p in crm.pipelines for s in p.stages if _same(s, reason)), None)
    hint = words["online_reason_is_stage"].format(stage=stage) if stage else ""
    report.error(path, words["online_no_reasons"].format(name=reason, hint=hint))


def _hunter_field(name: str, path: Path, crm: CrmInventory, report: Reporter) -> None:
    # The writers find this field by name without case (amoCRM) or by label or UF_ id (Bitrix24).
    if not any(f.id == name or _same(f.name, name) for f in crm.fields):
        report.error(
            path, _unknown(report.words["online_field"], name, [f.name for f in crm.fields], report.words)
        )


def _condition(raw: object, path: Path, crm: CrmInventory, report: Reporter) -> None:
    for where, key, name, test in references(raw, path):
        values = equal_values(test)
        if key == "pipeline":
            names = [p.name for p in crm.pipelines if p.name]
            for value in values:
                if not any(_same(n, value) for n in names):
                    report.error(where, _unknown_pipeline(str(value), crm, report.words))
        elif key == "stage":
            for value in values:
                _any_stage(str(value), where, crm, report)
        else:
            _field(key, name, values, where, crm, report)


def references(raw: object, path: Path) -> Iterator[tuple[Path, str, str, object]]:
    """(path, key, custom field name or id, test) for pipeline, stage and custom field tests."""
    if not isinstance(raw, dict):
        return
    for key, value in raw.items():
        where = (*path, str(key))
        if key in ("all", "any") and isinstance(value, list):
            for i, item in enumerate(value):
                yield from references(item, (*where, i))
        elif key == "not":
            yield from references(value, where)
        elif key in ("field", "field_id") and isinstance(value, dict):
            for name, test in value.items():
                yield (*where, str(name)), str(key), str(name), test
        elif key in ("pipeline", "stage"):
            yield where, str(key), "", value


def equal_values(test: object) -> list[Any]:
    """The values a test compares the field with for equality (a value, a list, equals / in)."""
    if isinstance(test, dict):
        return [v for op in EQUALITY if op in test for v in equal_values(test[op])]
    return list(test) if isinstance(test, list) else [test]


def _field(kind: str, key: str, values: list[Any], path: Path, crm: CrmInventory, report: Reporter) -> None:
    found = _find_field(kind, key, crm.fields)
    if found is None:
        known = [f.id for f in crm.fields] if kind == "field_id" else [f.name for f in crm.fields]
        words = report.words
        what = words["online_field_id" if kind == "field_id" else "online_field"]
        report.error(path, _unknown(what, key, known, words))
        return
    if found.choices:
        what = report.words["online_choice"].format(field=found.name)
        for value in values:
            if not any(_same(choice, value) for choice in found.choices):
                report.error(path, _unknown(what, str(value), found.choices, report.words, every=True))


def _find_field(kind: str, key: str, fields: tuple[CrmField, ...]) -> CrmField | None:
    if kind == "field_id":
        return next((f for f in fields if f.id == key), None)
    return next((f for f in fields if f.name == key), None)  # the lead's fields are keyed exactly


def _same(a: object, b: object) -> bool:
    return normalize_text(a) == normalize_text(b)


def _unknown(
    what: str, name: str, known: Any, words: Mapping[str, str], *, where: str = "", every: bool = False
) -> str:
    """`unknown … 'name'` with the closest known name, or (`every`) the whole short list, in `words`."""
    names = [str(n) for n in known]
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    if not close:
        close = [n for n in names if _same(n, name)]  # the same but for case or spaces
    text = words["online_unknown"].format(what=what, name=name, where=where)
    if close:
        return text + words["did_you_mean"].format(close=close[0])
    return text + (words["expected_one_of"].format(valid=", ".join(names)) if every and names else "")
