"""Semantic checks the schema cannot express: references between sections, uniqueness, overlaps."""

from __future__ import annotations

from datetime import date

from core.policy import Policy
from core.strategies import REGISTRY
from webhook_app.config.balance import check_balance
from webhook_app.config.problems import Path, Reporter
from webhook_app.config.refs import check_manager, unknown
from webhook_app.config.schema import ConfigModel, CrmModel, ManagerModel, PoolModel
from webhook_app.config.validate_flow import check_flow

_CRM_ONLY = {
    "amocrm": ("account_id", "subdomain"),
    "bitrix24": ("domain", "member_id", "entity", "burst"),
}
_MAX_BATCH = {"amocrm": 250, "bitrix24": 50}  # amoCRM: leads per PATCH; Bitrix24: calls per batch
_POOL_OPTIONS = {"sticky": "sticky", "head": "manual", "suggest": "manual", "claim_user": "claim"}


def check_document(doc: ConfigModel, policy: Policy, report: Reporter) -> None:
    """Report every semantic error and warning in a document that passed the schema."""
    _crm(doc.crm, report)
    if doc.head_of_sales is not None:
        check_manager(doc.head_of_sales, ("head_of_sales",), doc, report)
    users: dict[int, str] = {}
    for key, manager in doc.managers.items():
        path: Path = ("managers", key)
        owner = users.setdefault(manager.crm_user_id, key)
        if owner != key:
            message = report.words["user_id_taken"].format(id=manager.crm_user_id, owner=owner)
            report.error((*path, "crm_user_id"), message)
        _absences(key, manager, doc, report)
    for name, pool in doc.pools.items():
        _pool(name, pool, doc, report)
    check_flow(doc, policy, report)


def _crm(crm: CrmModel, report: Reporter) -> None:
    other = "bitrix24" if crm.type == "amocrm" else "amocrm"
    for name in _CRM_ONLY[other]:
        if name in crm.model_fields_set:
            message = report.words["other_crm_only"].format(name=name, other=other, crm=crm.type)
            report.error(("crm", name), message)
    limit = _MAX_BATCH[crm.type]
    if crm.batch_size is not None and crm.batch_size > limit:
        report.error(("crm", "batch_size"), report.words["batch_limit"].format(crm=crm.type, limit=limit))


def _absences(key: str, manager: ManagerModel, doc: ConfigModel, report: Reporter) -> None:
    seen: list[tuple[int, date, date]] = []
    for i, absence in enumerate(manager.absences):
        path: Path = ("managers", key, "absences", i)
        start, end = absence.from_, absence.to
        if end < start:
            report.error((*path, "to"), report.words["absence_backwards"].format(end=end, start=start))
            continue
        sub = absence.substitute
        if sub == key:
            report.error((*path, "substitute"), report.words["self_substitute"])
        elif sub is not None:
            check_manager(sub, (*path, "substitute"), doc, report)
        for j, first, last in seen:
            if start <= last and first <= end:
                report.error(path, report.words["absence_overlap"].format(other=j, first=first, last=last))
                break
        seen.append((i, start, end))


def _pool(name: str, pool: PoolModel, doc: ConfigModel, report: Reporter) -> None:
    path: Path = ("pools", name)
    strategy = REGISTRY.get(pool.strategy)
    if strategy is None:
        valid = ", ".join(sorted(REGISTRY))
        message = report.words["unknown_strategy"].format(name=pool.strategy, valid=valid)
        report.error((*path, "strategy"), message)
    elif strategy.needs_members and not pool.members and pool.crm_team is None:
        report.error((*path, "members"), report.words["needs_member"].format(strategy=pool.strategy))
    _crm_team(pool, path, doc, report)
    first: dict[str, int] = {}
    for i, member in enumerate(pool.members):
        at = _written_at(pool, i)
        if member in first:
            message = report.words["duplicate_member"].format(member=member, index=first[member])
            report.error((*path, "members", at), message)
        elif check_manager(member, (*path, "members", at), doc, report):
            first[member] = at
    for member in pool.weights:
        _member_of(member, (*path, "weights", member), name, pool, doc, report)
    if pool.sticky is not None:
        for member in (*pool.sticky.values, *pool.sticky.ranges):
            section = "values" if member in pool.sticky.values else "ranges"
            _member_of(member, (*path, "sticky", section, member), name, pool, doc, report)
    for option, owner in _POOL_OPTIONS.items():
        if option in pool.model_fields_set and pool.strategy != owner:
            message = report.words["strategy_option"].format(
                option=option, owner=owner, strategy=pool.strategy
            )
            report.error((*path, option), message)
    _heads(name, pool, doc, report)
    check_balance(name, pool, report)


_TEAM_KEY = {"amocrm": "crm_group", "bitrix24": "department"}


def _crm_team(pool: PoolModel, path: Path, doc: ConfigModel, report: Reporter) -> None:
    """A pool's CRM team must be of the config's CRM: amoCRM has groups, Bitrix24 departments."""
    team = pool.crm_team
    if team is None:
        return
    where: Path = (*path, "members") if team.at is None else (*path, "members", team.at)
    wanted = _TEAM_KEY[doc.crm.type]
    used = "crm_group" if team.crm_group is not None else "department"
    if used != wanted:
        report.error((*where, used), report.words[f"team_not_{doc.crm.type}"].format(used=used))
    if pool.strategy == "sticky":
        report.error(where, report.words["sticky_team"])


def _written_at(pool: PoolModel, index: int) -> int:
    """Where the `index`-th named member is written (a CRM team's mapping among them is not counted)."""
    team = pool.crm_team
    return index + 1 if team is not None and team.at is not None and index >= team.at else index


def _member_of(
    member: str, path: Path, name: str, pool: PoolModel, doc: ConfigModel, report: Reporter
) -> None:
    if member not in pool.members:
        known = member in doc.managers
        report.error(
            path,
            report.words["not_pool_member"].format(member=member, pool=name)
            if known
            else unknown("manager", member, doc.managers, report.words),
        )


def _heads(name: str, pool: PoolModel, doc: ConfigModel, report: Reporter) -> None:
    path: Path = ("pools", name)
    if pool.head is not None:
        check_manager(pool.head, (*path, "head"), doc, report)
    if pool.claim_user is not None:
        check_manager(pool.claim_user, (*path, "claim_user"), doc, report)
    if pool.strategy == "claim" and pool.claim_user is None:
        report.error(path, report.words["claim_needs_user"])
    if pool.strategy == "manual" and pool.head is None and doc.head_of_sales is None:
        report.error(path, report.words["manual_needs_head"])
