"""Figures: count, value and tier balance side by side on the same 10,000 leads.

    .venv/bin/python bench/value_balance.py                 # 10,000 leads, seed 2026
    .venv/bin/python bench/value_balance.py --leads 100000 --sigma 2 --seed 7

Leads with log-normal budgets (median 50,000 ₽, σ = 1.5 by default: a few leads are worth as much
as hundreds of others) go into one weighted pool of five managers with weights 1, 2, 3, 0.5 and
1.5, everyone available, once per balance: `count`, `value` (the budget) and `tiers` (≥ 500,000 ₽,
≥ 100,000 ₽, the rest). The pool's config goes through `load_config` and each lead through the real
`decide`; the figures are the product's own (`core.fairness`, as `simulate` prints them):

- worst count deviation: the most any member was ahead or behind their share of leads, at any prefix;
- worst value deviation: the same for value, in units of the largest single lead;
- Jain's index on value per weight: 1 when value is exactly proportional to the weights.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.decide import apply_decision, decide  # noqa: E402
from core.fairness import FairnessTracker, PoolFairness  # noqa: E402
from core.model import Lead  # noqa: E402
from core.state import RoutingState  # noqa: E402
from webhook_app.config import load_config  # noqa: E402

WEIGHTS = {"m1": 1, "m2": 2, "m3": 3, "m4": 0.5, "m5": 1.5}
CONFIG = """\
crm: {type: amocrm, base_url: https://bench.example.amocrm.ru}
managers:
%(managers)s
pools:
  sales:
    strategy: weighted
    members: [%(members)s]
    weights: {%(weights)s}
%(balance)s
rules:
  - {name: all, pool: sales}
"""
BALANCES = {
    "count": "    balance: count",
    "value": "    balance: value\n    value: price",
    "tiers": "    balance: tiers\n    tiers:\n      - {name: big, when: {price: {gte: 500000}}}\n"
    "      - {name: mid, when: {price: {gte: 100000}}}\n      - {name: small}",
}


def config_text(balance: str) -> str:
    """The pool's config with one balance."""
    managers = "\n".join(f"  {k}: {{crm_user_id: {i}, name: Менеджер {i}}}" for i, k in enumerate(WEIGHTS, 1))
    return CONFIG % {
        "managers": managers,
        "members": ", ".join(WEIGHTS),
        "weights": ", ".join(f"{k}: {w}" for k, w in WEIGHTS.items()),
        "balance": BALANCES[balance],
    }


def make_leads(count: int, sigma: float, seed: int) -> list[Lead]:
    """Leads a minute apart with log-normal budgets, whole roubles."""
    rng = random.Random(seed)
    start = datetime(2026, 6, 29, 9, tzinfo=UTC)
    return [
        Lead(
            str(i),
            start + timedelta(minutes=i),
            price=float(round(rng.lognormvariate(math.log(50_000), sigma))),
        )
        for i in range(count)
    ]


def run(balance: str, leads: list[Lead], tmp: Path) -> tuple[PoolFairness, float]:
    """The pool's figures after every lead, and the seconds the decisions took."""
    path = tmp / f"{balance}.yaml"
    path.write_text(config_text(balance), encoding="utf-8")
    policy = load_config(path).policy
    tracker, state = FairnessTracker(policy), RoutingState()
    began = time.perf_counter()
    for lead in leads:
        decision = decide(lead, policy, state, lead.created_at)
        state = apply_decision(state, decision, policy)
        tracker.record(decision, lead)
    return tracker.report()[0], time.perf_counter() - began


def main() -> None:
    """Run the three balances on the same leads and print the table (Markdown)."""
    parser = argparse.ArgumentParser(description="count, value and tier balance side by side")
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--sigma", type=float, default=1.5, help="of the budgets' logarithm")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    leads = make_leads(args.leads, args.sigma, args.seed)
    budgets = sorted(lead.price or 0.0 for lead in leads)
    print(
        f"{len(leads):,} leads, budgets: median {budgets[len(budgets) // 2]:,.0f}, "
        f"mean {sum(budgets) / len(budgets):,.0f}, largest {budgets[-1]:,.0f}; weights {WEIGHTS}\n"
    )
    print("| balance | worst count deviation (leads) | worst value deviation (largest leads) "
          "| Jain's index, value per weight | leads per member | decisions/s |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory(prefix="leadrouter-value-") as tmp:
        for balance in BALANCES:
            pool, seconds = run(balance, leads, Path(tmp))
            received = " / ".join(str(m.received) for m in pool.members)
            print(
                f"| {balance} | {pool.max_deviation:.2f} | {pool.max_value_deviation:.2f} "
                f"| {pool.value_jain:.4f} | {received} | {len(leads) / seconds:,.0f} |"
            )


if __name__ == "__main__":
    main()
