"""Resolving names in the config: time zones, managers, and fallback targets (a pool or a manager)."""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.model import NobodyAvailable, Target, TargetKind
from webhook_app.config.problems import Path, Reporter
from webhook_app.config.schema import ConfigModel, NobodyModel

UTC = ZoneInfo("UTC")


def zone(name: str, path: Path, report: Reporter) -> ZoneInfo:
    """The named time zone; an unknown name is reported and UTC stands in so checking can go on."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        report.error(path, report.words["unknown_zone"].format(name=name))
        return UTC


def unknown(kind: str, name: str, known: Collection[str], words: Mapping[str, str]) -> str:
    """The message for a name that is not defined (`kind`: manager, pool, pool_or_manager), with a
    suggestion when one is close, in the words of the file's language."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.75)
    text = words[f"unknown_{kind}"].format(name=name)
    return text + (words["did_you_mean"].format(close=close[0]) if close else "")


def check_manager(name: str, path: Path, doc: ConfigModel, report: Reporter) -> bool:
    """Report `name` unless it is a manager key; True when it is one."""
    if name in doc.managers:
        return True
    report.error(path, unknown("manager", name, doc.managers, report.words))
    return False


def target(name: str, path: Path, doc: ConfigModel, report: Reporter) -> Target | None:
    """A fallback target: a pool or a manager by name, never both and never neither."""
    is_pool, is_manager = name in doc.pools, name in doc.managers
    if is_pool and is_manager:
        report.error(path, report.words["pool_and_manager"].format(name=name))
        return None
    if is_pool:
        return Target(TargetKind.POOL, name)
    if is_manager:
        return Target(TargetKind.MANAGER, name)
    report.error(path, unknown("pool_or_manager", name, [*doc.pools, *doc.managers], report.words))
    return None


def nobody_available(model: NobodyModel, path: Path, doc: ConfigModel, report: Reporter) -> NobodyAvailable:
    """What to do when nobody in a pool can take a lead."""
    hours = model.max_wait_hours
    return NobodyAvailable(
        wait_for_shift=model.wait_for_shift,
        max_wait=timedelta(hours=hours) if hours is not None else None,
        then=target(model.then, (*path, "then"), doc, report) if model.then else None,
    )
