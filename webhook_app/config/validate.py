"""Semantic checks the schema cannot express: references between sections, uniqueness, overlaps."""

from __future__ import annotations

from datetime import date

from core.policy import Policy
from core.strategies import REGISTRY
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
            report.error(
                (*path, "crm_user_id"), f"crm_user_id {manager.crm_user_id} is already used by '{owner}'"
            )
        _absences(key, manager, doc, report)
    for name, pool in doc.pools.items():
        _pool(name, pool, doc, report)
    check_flow(doc, policy, report)


def _crm(crm: CrmModel, report: Reporter) -> None:
    other = "bitrix24" if crm.type == "amocrm" else "amocrm"
    for name in _CRM_ONLY[other]:
        if name in crm.model_fields_set:
            report.error(("crm", name), f"'{name}' is for {other} only; this config is for {crm.type}")
    limit = _MAX_BATCH[crm.type]
    if crm.batch_size is not None and crm.batch_size > limit:
        report.error(("crm", "batch_size"), f"{crm.type} accepts at most {limit} per batch")


def _absences(key: str, manager: ManagerModel, doc: ConfigModel, report: Reporter) -> None:
    seen: list[tuple[int, date, date]] = []
    for i, absence in enumerate(manager.absences):
        path: Path = ("managers", key, "absences", i)
        start, end = absence.from_, absence.to
        if end < start:
            report.error((*path, "to"), f"'to' {end} is before 'from' {start}")
            continue
        sub = absence.substitute
        if sub == key:
            report.error((*path, "substitute"), "a manager cannot substitute for themself")
        elif sub is not None:
            check_manager(sub, (*path, "substitute"), doc, report)
        for j, first, last in seen:
            if start <= last and first <= end:
                report.error(path, f"overlaps absences[{j}] ({first}..{last})")
                break
        seen.append((i, start, end))


def _pool(name: str, pool: PoolModel, doc: ConfigModel, report: Reporter) -> None:
    path: Path = ("pools", name)
    strategy = REGISTRY.get(pool.strategy)
    if strategy is None:
        valid = ", ".join(sorted(REGISTRY))
        report.error((*path, "strategy"), f"unknown strategy '{pool.strategy}'; expected one of: {valid}")
    elif strategy.needs_members and not pool.members:
        report.error((*path, "members"), f"a {pool.strategy} pool needs at least one member")
    first: dict[str, int] = {}
    for i, member in enumerate(pool.members):
        if member in first:
            report.error(
                (*path, "members", i), f"duplicate member '{member}' (already members[{first[member]}])"
            )
        elif check_manager(member, (*path, "members", i), doc, report):
            first[member] = i
    for member in pool.weights:
        _member_of(member, (*path, "weights", member), name, pool, doc, report)
    if pool.sticky is not None:
        for member in (*pool.sticky.values, *pool.sticky.ranges):
            section = "values" if member in pool.sticky.values else "ranges"
            _member_of(member, (*path, "sticky", section, member), name, pool, doc, report)
    for option, owner in _POOL_OPTIONS.items():
        if option in pool.model_fields_set and pool.strategy != owner:
            message = f"'{option}' only applies to strategy {owner} (this pool is {pool.strategy})"
            report.error((*path, option), message)
    _heads(name, pool, doc, report)


def _member_of(
    member: str, path: Path, name: str, pool: PoolModel, doc: ConfigModel, report: Reporter
) -> None:
    if member not in pool.members:
        known = member in doc.managers
        report.error(
            path,
            f"'{member}' is not a member of pool '{name}'"
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
        report.error(path, "a claim pool needs claim_user: the shared CRM user leads wait on")
    if pool.strategy == "manual" and pool.head is None and doc.head_of_sales is None:
        report.error(path, "a manual pool needs a head: set head here or head_of_sales at the top")
