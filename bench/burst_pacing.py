"""The pacing matrix of bench/burst_amocrm.py (`--pacing`): 429s at the rate limit's edge.

Each run starts a fresh emulator that counts requests as amoCRM does (more than 7 arriving within
any one second → 429) behind a network that delays every request by a random 0…`--jitter` s, a
fresh PostgreSQL schema (`--postgres`, else SQLite), `leadrouter web` and 1, 2 and 3 worker
processes; then the catch-up after an outage: the API answers 503 while the burst arrives and for
`--outage` seconds, then comes back to the whole backlog at once (times count from its return).
"""

from __future__ import annotations

import argparse
import collections
import math
import tempfile
import uuid
from dataclasses import dataclass
from typing import Any

from bench.burst_amocrm_parts import pg_schema
from sandbox.amocrm import AmoEmulator

MANAGERS = {504141, 504142, 504143}


@dataclass(frozen=True)
class Run:
    """What one run of the matrix measured."""

    name: str
    leads: int
    refused: int  # 429 answers
    banned: int  # 403 answers
    requests: int
    drained: float  # seconds until every lead had its responsible, task and note
    bound: float  # the fewest requests the job needs, at 7 a second
    lost: int  # leads without a manager or a note when the run ended
    two_owners: int  # leads written to two different managers


def matrix(args: argparse.Namespace, pipeline: Any, bound_requests: int) -> list[Run]:
    """The runs: 1, 2, 3 workers, then the catch-up after an outage with the most workers."""
    plan = [(f"{w} worker{'s' if w > 1 else ''}", w, 0.0) for w in (1, 2, 3) if str(w) in args.runs]
    if "catch-up" in args.runs:
        plan.append((f"catch-up after {args.outage:g} s down, 3 workers", 3, args.outage))
    runs = []
    for name, workers, outage in plan:
        run = _one(args, pipeline, bound_requests, name, workers, outage)
        print(_row(run), flush=True)
        runs.append(run)
    return runs


def _one(
    args: argparse.Namespace, pipeline: Any, bound_requests: int, name: str, workers: int, outage: float
) -> Run:
    options = argparse.Namespace(**{**vars(args), "workers": workers, "serve": False, "phases": False})
    emulator = AmoEmulator(rate=7, hook_threads=8, jitter=args.jitter)
    with tempfile.TemporaryDirectory() as workdir, emulator as emu:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        url = pg_schema(args.postgres, schema) if args.postgres else f"sqlite:///{workdir}/lr.db"
        try:
            _, written, ids = pipeline(emu, options, workdir, url, 250, 125, outage=outage)
        finally:
            if args.postgres:
                pg_schema(args.postgres, schema, drop=True)
        statuses = collections.Counter(r.status for r in emu.log)
        with emu.account.lock:
            noted = {n["entity_id"] for n in emu.account.notes}
            done = sum(emu.account.leads[i].responsible_user_id in MANAGERS and i in noted for i in ids)
        owners: dict[int, set[int]] = collections.defaultdict(set)
        for entry in emu.log:
            if entry.method == "PATCH" and entry.path == "/api/v4/leads" and entry.status < 300:
                for item in entry.body or []:
                    if item.get("responsible_user_id") in MANAGERS:
                        owners[item["id"]].add(item["responsible_user_id"])
    return Run(
        name=name,
        leads=len(ids),
        refused=statuses[429],
        banned=statuses[403],
        requests=len(emu.log),
        drained=written,
        bound=bound_requests / 7,
        lost=len(ids) - done,
        two_owners=sum(len(users) > 1 for users in owners.values()),
    )


HEADER = "| run | leads | 429 | 403 | requests | time to drain | bound | × bound | leads lost | two owners |"


def _row(run: Run) -> str:
    ratio = run.drained / run.bound if not math.isnan(run.drained) else float("nan")
    return (
        f"| {run.name} | {run.leads:,} | {run.refused} | {run.banned} | {run.requests} | {run.drained:.1f} s"
        f" | {run.bound:.1f} s | {ratio:.2f} | {run.lost} | {run.two_owners} |"
    )


def table(runs: list[Run]) -> str:
    """The matrix as the Markdown table docs/benchmarks.md shows."""
    return "\n".join([HEADER, "|" + "---|" * 10, *(_row(r) for r in runs)])
