"""Benchmark: the admin page's Today view with 300 managers and a month of decisions in SQLite.

    .venv/bin/python bench/admin.py [--managers 300] [--decisions 100000] [--repeat 20]

It writes a config of 300 managers in 10 weighted pools (office hours, some absences, pauses),
stores 100,000 assignments spread over the current month (plus their outbox rows) in a fresh
SQLite database, then renders `GET /admin` (period today, week and month) and the API's split
through the real app, logged in with a Bearer token. It prints the median and worst time of each.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from sqlalchemy import insert

from adapters.storage.tables import assignments, outbox
from webhook_app.bootstrap import build_services
from webhook_app.settings import Settings
from webhook_app.web.app import create_app

TOKEN = "bench-admin-token"


def config(managers: int) -> dict[str, object]:
    """300 managers in pools of 30, weights 1–3, office hours, a few absences."""
    people = {}
    for i in range(managers):
        person: dict[str, object] = {
            "crm_user_id": 1000 + i,
            "name": f"Менеджер {i:03d}",
            "schedule": {"mon-fri": "09:00-18:00"},
        }
        if i % 25 == 0:
            person["absences"] = [{"from": "2026-11-01", "to": "2026-12-31", "substitute": f"m{i + 1:03d}"}]
        people[f"m{i:03d}"] = person
    keys = list(people)
    pools = {
        f"pool{p:02d}": {
            "members": keys[p * 30 : (p + 1) * 30],
            "weights": {k: 1 + (j % 3) for j, k in enumerate(keys[p * 30 : (p + 1) * 30])},
            "strategy": "weighted",
        }
        for p in range(managers // 30)
    }
    return {
        "language": "ru",
        "timezone": "Europe/Moscow",
        "head_of_sales": keys[0],
        "crm": {
            "type": "amocrm",
            "base_url": "https://bench.amocrm.ru",
            "account_id": 1,
            "subdomain": "bench",
        },
        "managers": people,
        "pools": pools,
        "rules": [{"name": "all", "pool": "pool00"}],
    }


def fill(services: object, pools: dict[str, dict[str, object]], count: int, now: datetime) -> None:
    """`count` assignments over the month so far, each with three outbox rows."""
    rng = random.Random(7)
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    span = (now - start).total_seconds()
    names = list(pools)
    rows, writes = [], []
    for n in range(count):
        pool = names[n % len(names)]
        members = list(pools[pool]["members"])  # type: ignore[call-overload]
        at = start + timedelta(seconds=rng.random() * span)
        rows.append(
            {
                "id": n + 1,
                "crm": "amocrm",
                "lead_id": str(10_000_000 + n),
                "purpose": "new",
                "manager": rng.choice(members),
                "crm_user_id": 1,
                "rule": "all",
                "pool": pool,
                "strategy": "weighted",
                "route": "pool",
                "reason": "правило «all» → пул pool00",
                "decision": {"skipped": []},
                "config_version": "bench",
                "decided_at": at,
            }
        )
        for kind in ("responsible", "task", "note"):
            writes.append(
                {
                    "crm": "amocrm",
                    "lead_id": str(10_000_000 + n),
                    "kind": kind,
                    "payload": {},
                    "state": "sent",
                    "attempts": 1,
                    "next_attempt_at": at,
                    "assignment_id": n + 1,
                    "created_at": at,
                    "sent_at": at + timedelta(seconds=1),
                }
            )
    engine = services.engine  # type: ignore[attr-defined]
    with engine.begin() as connection:
        connection.execute(insert(assignments), rows)
        connection.execute(insert(outbox), writes)


def timed(client: object, url: str, repeat: int) -> tuple[float, float]:
    """Median and worst milliseconds over `repeat` requests (after one warm-up)."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    assert client.get(url, headers=headers).status_code == 200  # type: ignore[attr-defined]
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        response = client.get(url, headers=headers)  # type: ignore[attr-defined]
        times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200
    return statistics.median(times), max(times)


def main() -> None:
    """Build, fill, measure."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--managers", type=int, default=300)
    parser.add_argument("--decisions", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="leadrouter-admin-bench-"))
    document = config(args.managers)
    path = work / "config.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    settings = Settings(config=path, database_url=f"sqlite:///{work / 'bench.db'}", admin_token=TOKEN)  # type: ignore[arg-type]
    services = build_services(settings, with_crm=False)
    began = time.perf_counter()
    fill(services, document["pools"], args.decisions, datetime.now(UTC))  # type: ignore[arg-type]
    print(
        f"{args.managers} managers, {args.decisions:,} decisions stored "
        f"in {time.perf_counter() - began:.1f} s"
    )
    client = create_app(services=services).test_client()
    for url in (
        "/admin?period=today",
        "/admin?period=week",
        "/admin?period=month",
        "/api/v1/split?period=month",
    ):
        median, worst = timed(client, url, args.repeat)
        print(f"GET {url:<28} median {median:6.1f} ms  worst {worst:6.1f} ms")


if __name__ == "__main__":
    main()
