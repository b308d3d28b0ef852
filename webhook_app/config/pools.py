"""Pools from the config: exact integer weights and the sticky partition (values and letter ranges)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from fractions import Fraction

from core.model import ManagerKey, Pool, ReturnPolicy, StickyOptions
from core.strategies.sticky import sticky_key
from webhook_app.config.balance import junk_credit, lead_value, tiers
from webhook_app.config.conditions import LISTED_FIELDS, is_field_path, one_string_list
from webhook_app.config.problems import Path, Reporter
from webhook_app.config.refs import nobody_available
from webhook_app.config.schema import ConfigModel, PoolModel, StickyModel

_RANGE = re.compile(r"^\s*(\w)\s*(?:[-–—]\s*(\w))?\s*$")
_CYRILLIC = set("АБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ")
_LATIN = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def integer_weights(weights: Mapping[ManagerKey, float]) -> dict[ManagerKey, int]:
    """Exact integer weights in the same ratio: 1 and 0.5 become 2 and 1."""
    if not weights:
        return {}
    smallest = Fraction(1, 10000)
    fractions = {k: max(Fraction(str(w)).limit_denominator(10000), smallest) for k, w in weights.items()}
    scale = math.lcm(*(f.denominator for f in fractions.values()))
    scaled = {k: int(f * scale) for k, f in fractions.items()}
    divisor = math.gcd(*scaled.values())
    return {k: v // divisor for k, v in scaled.items()}


def build_pool(name: str, model: PoolModel, doc: ConfigModel, report: Reporter) -> Pool:
    """One pool in core terms; weights default to each manager's own weight."""
    path: Path = ("pools", name)
    members = tuple(model.members)
    raw = {m: model.weights.get(m, doc.managers[m].weight if m in doc.managers else 1.0) for m in members}
    sticky = model.sticky or (StickyModel() if model.strategy == "sticky" else None)
    nobody = model.nobody_available
    return Pool(
        name=name,
        members=members,
        strategy=model.strategy,
        weights=integer_weights(raw),
        on_return=ReturnPolicy(model.on_return),
        nobody_available=nobody_available(nobody, (*path, "nobody_available"), doc, report)
        if nobody
        else None,
        sticky=sticky_options(sticky, (*path, "sticky"), report) if sticky else None,
        head=model.head,
        claim_user=model.claim_user,
        suggest=model.suggest or 3,
        return_after_absence=model.return_after_absence.enabled,
        return_only_untouched=model.return_after_absence.only_untouched,
        balance=model.balance,
        value=lead_value(model.value, (*path, "value"), report),
        tiers=tiers(model, path, report),
        junk=junk_credit(model.junk),
        crm_team=model.crm_team.name if model.crm_team is not None else None,
    )


def sticky_options(model: StickyModel, path: Path, report: Reporter) -> StickyOptions:
    """The partition: normalised values to members, and non-overlapping first-letter ranges."""
    if not is_field_path(model.key):
        report.error((*path, "key"), report.words["sticky_key"].format(key=model.key))
    options = StickyOptions(key=model.key)
    by_value: dict[str, ManagerKey] = {}
    for member, values in model.values.items():
        if model.key in LISTED_FIELDS and not one_string_list(values, (*path, "values", member), report):
            continue
        for i, value in enumerate(values):
            where = (*path, "values", member, i)
            norm = sticky_key(options, value)
            if not norm:
                report.error(where, report.words["empty_value"])
            elif norm in by_value:
                owner = by_value[norm]
                taken = report.words["value_taken" if owner != member else "value_twice"]
                report.error(where, taken.format(value=value, owner=owner))
            else:
                by_value[norm] = member
    return StickyOptions(key=model.key, by_value=by_value, ranges=_ranges(model, path, report))


def _ranges(model: StickyModel, path: Path, report: Reporter) -> tuple[tuple[str, str, ManagerKey], ...]:
    ranges: list[tuple[str, str, ManagerKey, str]] = []
    for member, specs in model.ranges.items():
        for i, spec in enumerate(specs):
            where = (*path, "ranges", member, i)
            parsed = letter_range(spec, report.words)
            if isinstance(parsed, str):
                report.error(where, parsed)
                continue
            first, last = parsed
            clash = next((r for r in ranges if first <= r[1] and r[0] <= last), None)
            if clash is not None:
                report.error(
                    where, report.words["range_overlap"].format(spec=spec, other=clash[3], owner=clash[2])
                )
                continue
            ranges.append((first, last, member, spec))
    return tuple((first, last, member) for first, last, member, _ in ranges)


def letter_range(spec: str, words: Mapping[str, str]) -> tuple[str, str] | str:
    """("А", "К") for "а-к" (upper case, Ё as Е), or the reason (in `words`) it is not a letter range."""
    match = _RANGE.match(spec)
    if match is None or not all(ch.isalpha() for ch in match.group(0) if ch.isalnum()):
        return words["not_letter_range"].format(spec=spec)
    first = match.group(1).upper().replace("Ё", "Е")
    last = (match.group(2) or match.group(1)).upper().replace("Ё", "Е")
    alphabet = _CYRILLIC if first in _CYRILLIC else _LATIN
    if first not in alphabet or last not in alphabet:
        return words["mixed_alphabets"].format(spec=spec)
    if first > last:
        return words["range_backwards"].format(spec=spec)
    return first, last
