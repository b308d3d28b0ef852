"""Value and tier counters live in the database like the counts: a restarted worker (a new process
reading the pools afresh) carries on exactly where the old one stopped, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from adapters.storage.tables import assignments, pool_state
from core.conditions import Range
from core.decide import apply_decision, decide
from core.model import LeadValue, Tier
from core.state import RoutingState
from tests.builders import NOON, lead
from tests.fakes.crm import FakeCrm
from tests.integration.helpers import Clock, add_lead_event, make_worker, post, team_policy

BUDGETS = [900_000.0, 20_000.0, 15_000.0, 40_000.0, 3_000.0, 250_000.0, 8_000.0, 60_000.0, 12_000.0, 5_000.0]
TIERS = (Tier("big", Range("price", gte=100_000)), Tier("small"))


def balanced(balance: str):
    base = team_policy("weighted")
    sales = base.pools["sales"]
    sales = replace(sales, balance=balance, value=LeadValue(), tiers=TIERS if balance == "tiers" else ())
    return replace(base, pools={"sales": sales})


@pytest.mark.parametrize("balance", ["value", "tiers"])
def test_a_restarted_worker_continues_the_value_and_tier_rotation_exactly(engine, balance):
    p = balanced(balance)
    crm, clock = FakeCrm(), Clock(NOON)
    expected, state = [], RoutingState()
    for i, budget in enumerate(BUDGETS):
        item = lead(f"L{i}", NOON, price=budget, stage="new", stage_id="new")
        crm.leads[item.id] = item
        decision = decide(item, p, state, NOON)
        state = apply_decision(state, decision, p)
        expected.append(decision.assignee)
    for first, last in ((0, 5), (5, len(BUDGETS))):  # a new worker for the second half: nothing in memory
        worker = make_worker(engine, crm, clock, p, name=f"w{first}")
        post(engine, clock, *(add_lead_event(f"L{i}") for i in range(first, last)))
        worker.run_once()
    with engine.connect() as connection:
        rows = connection.execute(select(assignments.c.lead_id, assignments.c.manager)).all()
        ledger = connection.execute(select(pool_state.c.ledger).where(pool_state.c.pool == "sales")).scalar()
    got = dict(rows)
    assert [got[f"L{i}"] for i in range(len(BUDGETS))] == expected
    stored = state.pool("sales")
    if balance == "value":
        assert ledger["values"] == pytest.approx(dict(stored.values)) and ledger["largest"] == 900_000.0
    else:
        assert {name: t["counts"] for name, t in ledger["tiers"].items()} == {
            name: dict(t.counts) for name, t in stored.tiers.items()
        }
