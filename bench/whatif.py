"""Benchmark: a what-if over 100,000 stored leads' lives (target < 30 s on a quiet box).

    .venv/bin/python bench/whatif.py [--decisions 100000] [--managers 300] [--days 30]

It writes the admin benchmark's config (300 managers in 10 weighted pools, office hours, some
absences) with one rule per city, a stage handoff to the last pool and a 30-minute SLA, then runs
`--decisions` leads' lives over the last `--days` days through the core's lifecycle in memory
(`Lives`): ten minutes after each new lead its deal moves — qualified (handed over) for a third, to
negotiations for most — and one in ten is never touched, so its SLA re-routes it. Everything is
stored as the worker stores it — each assignment, each new lead's input (the lead, pauses, the
pool's counters, its members' loads), each update told — in a fresh SQLite database. Then:

1. the replay under the same config, which must give back every owner (0 changed), handoffs and SLA
   re-routes included;
2. `leadrouter simulate --config NEW.yaml --from-history 30d --compare` as a user runs it, in a
   subprocess, where NEW.yaml moves ten managers out of their pools and changes weights.

It prints the time of each and the figures of the comparison.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.storage.inputs import insert_inputs
from adapters.storage.lives import save_events
from adapters.storage.routing import insert_assignments
from bench.admin import config
from core.lifecycle_types import Assign
from core.model import Lead
from core.reasons import Renderer
from core.state import Pause, RoutingState
from webhook_app.bootstrap import build_services
from webhook_app.config import load_config
from webhook_app.offline.lives import Lives
from webhook_app.offline.whatif import run_whatif
from webhook_app.pipeline.assign import plan
from webhook_app.pipeline.decision_input import lead_to_json
from webhook_app.settings import Settings

MSK = ZoneInfo("Europe/Moscow")
CITIES = [f"Город {i}" for i in range(10)]
PIPELINE = "Продажи"


def with_city_rules(document: dict[str, object]) -> dict[str, object]:
    """One rule per pool: leads from city N go to pool N."""
    pools = list(document["pools"])  # type: ignore[call-overload]
    document["rules"] = [
        {"name": f"city-{i}", "when": {"city": CITIES[i]}, "pool": pools[i]} for i in range(10)
    ]
    document["continuity"] = {"enabled": True, "within_days": 90}  # repeat clients back to their manager
    document["handoffs"] = [
        {"name": "qualified", "on_stage": {"pipeline": PIPELINE, "stage": "Квалифицирован"}, "to": pools[9]},
        {"name": "sla", "unworked_minutes": 30, "to": "next_in_pool", "max_hops": 1, "then": "m000"},
    ]
    return document


def changed(document: dict[str, object]) -> dict[str, object]:
    """Ten managers leave their pools; everyone's weight in pool00 becomes 1."""
    pools = document["pools"]  # type: ignore[assignment]
    for i, pool in enumerate(pools.values()):  # type: ignore[attr-defined]
        pool["members"] = pool["members"][1:] if i < 10 else pool["members"]
        pool["weights"] = {k: w for k, w in pool["weights"].items() if k in pool["members"]}
    pools["pool00"]["weights"] = {}  # type: ignore[index]
    return document


def working_moments(count: int, days: int, now: datetime, rng: random.Random) -> list[datetime]:
    """`count` moments in office hours (Mon–Fri 09–18 Moscow) over the last `days` days, sorted."""
    out: list[datetime] = []
    start = now - timedelta(days=days)
    while len(out) < count:
        at = start + timedelta(seconds=rng.random() * days * 86400)
        local = at.astimezone(MSK)
        if local.weekday() < 5 and 9 <= local.hour < 18 and at < now - timedelta(hours=2):
            out.append(at)
    return sorted(out)


def timeline(count: int, days: int, now: datetime) -> list[tuple[datetime, int, str, Lead | str]]:
    """New leads in office hours; ten minutes after each, its deal moves — qualified (a handoff) for
    a third, to negotiations for most; one in ten is never touched (its SLA re-routes it)."""
    rng = random.Random(11)
    items: list[tuple[datetime, int, str, Lead | str]] = []
    for n, at in enumerate(working_moments(count, days, now, rng)):
        client = f"c{rng.randrange(count // 3)}"
        lead = Lead(
            id=str(20_000_000 + n),
            created_at=at,
            name=f"Клиент {client}",
            phone=f"+7916{rng.randrange(10**7):07d}",
            city=rng.choice(CITIES),
            price=float(rng.randrange(1, 500) * 1000),
            client_key=client,
            pipeline=PIPELINE,
            stage="Новый",
        )
        items.append((at, n, "arrive", lead))
        roll = rng.random()
        if roll < 0.9:
            stage = "Квалифицирован" if roll < 0.3 else "Переговоры"
            items.append((at + timedelta(minutes=10), n, stage, lead.id))
    return sorted(items, key=lambda item: (item[0], item[1]))


def history(services: object, path: Path, count: int, days: int, now: datetime) -> int:
    """Run `count` leads' lives through the core's lifecycle in memory and store what the worker
    stores: each assignment (handoffs and SLA re-routes too), each new lead's input, each update."""
    policy = load_config(path).policy
    renderer = Renderer(policy)
    read: list[RoutingState] = [RoutingState()]

    def reading(state: RoutingState, _: datetime) -> RoutingState:
        read[0] = state  # what the next decision reads: stored with a new lead's input
        return state

    lives = Lives(policy, reading=reading)
    pausers = [k for k in policy.managers][5::40]
    planned, events = [], []

    def stored() -> None:
        for happened in lives.history:
            effect = happened.effect
            if isinstance(effect, Assign):
                new = effect.purpose == "new"
                lead = happened.event.lead if new else lives.leads[happened.lead_id]  # type: ignore[union-attr]
                before = read[0] if new else None
                planned.append(
                    plan(
                        "amocrm",
                        lead,
                        effect.decision,
                        policy,
                        happened.at,
                        purpose=effect.purpose,
                        kind=effect.kind,
                        renderer=renderer,
                        before=before,
                    )
                )
        lives.history.clear()

    for n, (at, _, kind, item) in enumerate(timeline(count, days, now)):
        for _ in lives.due(at):
            stored()
        if isinstance(item, Lead):
            if n % 1000 == 0:  # someone goes to lunch now and then
                paused = {
                    k: Pause(at + timedelta(hours=1), "обед") for k in random.Random(n).sample(pausers, 2)
                }
                lives.state = replace(lives.state, paused=paused)
            lives.arrive(item, at)
        elif item in lives.lives:
            lead = replace(lives.leads[item], stage=kind)
            events.append(
                {
                    "crm": "amocrm",
                    "lead_id": item,
                    "at": at,
                    "lead": lead_to_json(lead),
                    "changed_at": at,
                    "write_pending": False,
                }
            )
            lives.stage(item, at, stage=kind)
        stored()
    for _ in lives.due(now):
        stored()
    engine = services.engine  # type: ignore[attr-defined]
    with engine.begin() as connection:
        ids = insert_assignments(connection, [p.assignment for p in planned])
        rows = [{**p.inputs, "assignment_id": i} for p, i in zip(planned, ids, strict=True) if p.inputs]
        insert_inputs(connection, rows)
        save_events(connection, events)
    return len(planned) - len(rows)


def main() -> None:
    """Build, fill, replay, compare."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--decisions", type=int, default=100_000)
    parser.add_argument("--managers", type=int, default=300)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="leadrouter-whatif-bench-"))
    document = with_city_rules(config(args.managers))
    path, new_path = work / "config.yaml", work / "new.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    new_path.write_text(yaml.safe_dump(changed(document), allow_unicode=True), encoding="utf-8")
    url = f"sqlite:///{work / 'bench.db'}"
    services = build_services(Settings(config=path, database_url=url), with_crm=False)  # type: ignore[arg-type]
    now = datetime.now(UTC)
    began = time.perf_counter()
    handed = history(services, path, args.decisions, args.days, now)
    took = time.perf_counter() - began
    print(f"{args.decisions:,} leads' lives stored ({handed:,} handoffs) in {took:.1f} s ({work})")

    policy = services.config.policy()
    began = time.perf_counter()
    same = run_whatif(services.engine, policy, policy, now - timedelta(days=args.days + 1), now)
    took = time.perf_counter() - began
    print(f"replay under the same config: {same.leads:,} leads in {took:.1f} s, changed {same.changed}")
    print("  handoffs really / replayed:", ", ".join(f"{h.rule} {h.actual}/{h.would}" for h in same.handoffs))

    env = {**os.environ, "LEADROUTER_DATABASE_URL": url}
    command = [sys.executable, "-m", "webhook_app.cli.main", "simulate", "--config", str(new_path)]
    command += ["--from-history", f"{args.days + 1}d", "--compare", "--no-leads", "--no-progress"]
    began = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    took = time.perf_counter() - began
    print(f"`leadrouter simulate --from-history {args.days + 1}d --compare` with a new config: {took:.1f} s")
    print(done.stdout.splitlines()[0])


if __name__ == "__main__":
    main()
