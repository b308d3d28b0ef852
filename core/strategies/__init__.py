"""Distribution strategies, one module each, found by name in `REGISTRY`."""

from core.strategies import claim, least_loaded, manual, round_robin, sticky, weighted
from core.strategies.base import REGISTRY, Choice, PoolView, Strategy

__all__ = [
    "REGISTRY",
    "Choice",
    "PoolView",
    "Strategy",
    "claim",
    "least_loaded",
    "manual",
    "round_robin",
    "sticky",
    "weighted",
]
