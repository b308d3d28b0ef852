"""A pool's `balance`, `value`, `tiers` and `junk` options: checked, then built in core terms."""

from __future__ import annotations

from datetime import timedelta

from core.model import JunkCredit, LeadValue, Points, StageRef, Tier
from webhook_app.config.conditions import compile_condition
from webhook_app.config.problems import Path, Reporter
from webhook_app.config.schema import JunkModel, PoolModel, ValueModel

BALANCED = ("weighted", "round_robin")  # the counting strategies a balance or a junk credit applies to


def check_balance(name: str, pool: PoolModel, report: Reporter) -> None:
    """Report misuse: a balance on a strategy without shares, tiers without `balance: tiers`, …"""
    path: Path = ("pools", name)
    counting = pool.strategy in BALANCED
    if pool.balance != "count" and not counting:
        message = report.words["balance_strategy"].format(balance=pool.balance, strategy=pool.strategy)
        report.error((*path, "balance"), message)
    if pool.balance == "tiers" and not pool.tiers:
        report.error((*path, "balance"), report.words["tiers_needed"].format())
    if pool.tiers and pool.balance != "tiers":
        report.error((*path, "tiers"), report.words["tiers_without_balance"].format(balance=pool.balance))
    _tiers(pool, path, report)
    if pool.value is not None:
        _value(pool.value, (*path, "value"), report)
    if pool.junk is not None:
        if not counting:
            report.error((*path, "junk"), report.words["junk_strategy"].format(strategy=pool.strategy))
        _junk(pool.junk, (*path, "junk"), report)


def _tiers(pool: PoolModel, path: Path, report: Reporter) -> None:
    seen: dict[str, int] = {}
    for i, tier in enumerate(pool.tiers):
        where = (*path, "tiers", i)
        if tier.name in seen:
            message = report.words["duplicate_tier"].format(name=tier.name, index=seen[tier.name])
            report.error((*where, "name"), message)
        seen.setdefault(tier.name, i)
        if tier.when is None and i != len(pool.tiers) - 1:
            report.error(where, report.words["last_tier_only"])
    if len(pool.tiers) == 1:
        report.error((*path, "tiers"), report.words["one_tier"])


def _value(model: ValueModel, path: Path, report: Reporter) -> None:
    if model.field is not None and model.tiers is not None:
        report.error(path, report.words["value_both"])
    if model.tiers is not None and not model.tiers:
        report.error((*path, "tiers"), report.words["value_tiers_empty"].format())
    if model.tiers is None and "default" in model.model_fields_set:
        report.error((*path, "default"), report.words["default_points"])


def _junk(model: JunkModel, path: Path, report: Reporter) -> None:
    if (model.stage is None) == (model.loss_reason is None):
        report.error(path, report.words["junk_one"])


def lead_value(model: ValueModel | None, path: Path, report: Reporter) -> LeadValue:
    """The pool's measure of a lead's value (the budget when the config says nothing)."""
    if model is None:
        return LeadValue()
    if model.field is not None:
        return LeadValue("field", field=model.field)
    if model.tiers is not None:
        points = tuple(
            Points(compile_condition(t.when, (*path, "tiers", i, "when"), report), t.points)
            for i, t in enumerate(model.tiers)
        )
        return LeadValue("points", points=points, default=model.default)
    return LeadValue()


def tiers(pool: PoolModel, path: Path, report: Reporter) -> tuple[Tier, ...]:
    """The pool's tiers, conditions compiled."""
    return tuple(
        Tier(
            t.name,
            compile_condition(t.when, (*path, "tiers", i, "when"), report) if t.when is not None else None,
        )
        for i, t in enumerate(pool.tiers)
    )


def junk_credit(model: JunkModel | None) -> JunkCredit | None:
    """The pool's junk credit, if any."""
    if model is None:
        return None
    stage = StageRef(model.stage.stage, model.stage.pipeline) if model.stage is not None else None
    return JunkCredit(stage, model.loss_reason, timedelta(hours=model.within_hours), model.max_per_week)
