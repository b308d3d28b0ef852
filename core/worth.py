"""What a lead is worth to a pool (`value:`) and which tier it falls in (`balance: tiers`)."""

from __future__ import annotations

from core.model import Lead, LeadValue, Tier


def lead_value(lead: Lead, measure: LeadValue) -> float:
    """The lead's value by the pool's measure; never negative, 0 when it has none."""
    if measure.source == "price":
        return _number(lead.price)
    if measure.source == "field":
        return _number(lead.fields.get(measure.field or ""))
    for tier in measure.points:
        if tier.condition.matches(lead):
            return max(tier.points, 0.0)
    return max(measure.default, 0.0)


def tier_of(lead: Lead, tiers: tuple[Tier, ...]) -> str:
    """The name of the first tier the lead matches (the last tier when none does)."""
    for tier in tiers:
        if tier.condition is None or tier.condition.matches(lead):
            return tier.name
    return tiers[-1].name


def _number(raw: object) -> float:
    """A budget as a number: numbers as they are, texts like "150 000,50" read, anything else 0."""
    if isinstance(raw, bool) or raw is None:
        return 0.0
    if isinstance(raw, int | float):
        number = float(raw)
    elif isinstance(raw, str):
        text = raw.replace("\u00a0", "").replace(" ", "").replace(",", ".")
        try:
            number = float(text)
        except ValueError:
            return 0.0
    else:
        return 0.0
    return number if number > 0 and number != float("inf") else 0.0
