"""A burst of new amoCRM leads against the emulator enforcing amoCRM's 7 requests/s.

    .venv/bin/python bench/burst_amocrm.py [--leads 10000] [--workers 1] [--claim-batch 250]
                                           [--serve] [--one-per-lead] [--client-only] [--phases]
                                           [--postgres postgresql://…] [--jitter 0.05]
    .venv/bin/python bench/burst_amocrm.py --pacing [--jitter 0.05] [--outage 60] [--postgres …]

N leads are created in the emulator at once; each announces itself with its own `add_lead`
webhook POSTed to our intake (`leadrouter web`; `leadrouter serve` as shipped with --serve), and
our own writes echo back as `responsible_lead` + `update_lead`, as amoCRM sends them. Workers
(`--workers` processes running the real worker loop, `--claim-batch` leads per pass) route the
leads and write responsible, task and note. Printed: time until every lead has its responsible
and until every note is written, requests by endpoint, 429s and 403s, and the rate-limit bound
(the fewest requests that can do the job, at 7 per second). `--one-per-lead` sends one lead per
request and reads without read-ahead (the baseline); `--client-only` drives the amoCRM client
alone (read every lead, write all three kinds) to show the adapter's own distance to the bound;
`--phases` stores every webhook before any worker starts, to time intake and routing apart.
The emulator counts requests on arrival behind a network that delays each by 0…`--jitter` s;
`--pacing` runs the matrix of bench/burst_pacing.py (1, 2, 3 workers and a catch-up).
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.burst_amocrm_parts import CONFIG, client_only, free_port, pg_schema, run_worker, wait_healthy  # noqa: E402
from sandbox.amocrm import AmoEmulator  # noqa: E402

SECRET = "bench-hook-secret"
MANAGERS = {504141, 504142, 504143}
EVENTS = ["add_lead", "update_lead", "status_lead", "responsible_lead", "delete_lead"]  # as `install`


def bound(leads: int, batch: int, read_batch: int) -> int:
    """The fewest requests that can route `leads`: reads, then responsible, task and note writes."""
    return -(-leads // read_batch) + 3 * -(-leads // batch) + 2  # + pipelines and custom fields, once


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--serve", action="store_true", help="`leadrouter serve` as shipped (one process)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--claim-batch", type=int, default=250)
    parser.add_argument("--one-per-lead", action="store_true")
    parser.add_argument("--client-only", action="store_true")
    parser.add_argument("--phases", action="store_true", help="all webhooks first, then start the workers")
    parser.add_argument("--postgres", help="run on this PostgreSQL server (a fresh schema) instead of SQLite")
    parser.add_argument("--pacing", action="store_true", help="1, 2, 3 workers, a catch-up")
    parser.add_argument("--jitter", type=float, default=0.05, help="network delay 0…s per request")
    parser.add_argument("--outage", type=float, default=60.0, help="seconds the CRM is down (--pacing)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="give up on a run after this many s")
    parser.add_argument("--runs", default="1,2,3,catch-up", help="which runs of --pacing, comma-separated")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--read-batch", type=int, default=125, help=argparse.SUPPRESS)
    args = parser.parse_args()
    # SIGTERM ends the run through its `finally`s: the workers stopped, the PostgreSQL schema dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.worker:
        return run_worker(args.claim_batch, args.read_batch)
    batch, read_batch = (1, 1) if args.one_per_lead else (250, 125)
    if args.pacing:
        from bench.burst_pacing import matrix, table

        print(table(matrix(args, pipeline, bound(args.leads, batch, read_batch))))
        return None
    emulator = AmoEmulator(rate=7, hook_threads=8, jitter=args.jitter)
    with tempfile.TemporaryDirectory() as workdir, emulator as emu:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        url = pg_schema(args.postgres, schema) if args.postgres else f"sqlite:///{workdir}/lr.db"
        try:
            if args.client_only:
                elapsed = client_only(emu, url, args.leads, batch, read_batch)
                summary(emu, args, batch, read_batch, None, elapsed)
            else:
                assigned, written, _ = pipeline(emu, args, workdir, url, batch, read_batch)
                summary(emu, args, batch, read_batch, assigned, written)
        finally:
            if args.postgres:
                pg_schema(args.postgres, schema, drop=True)


def pipeline(
    emu: AmoEmulator,
    args: argparse.Namespace,
    workdir: str,
    url: str,
    batch: int,
    read: int,
    outage: float = 0.0,
) -> tuple[float | None, float, list[int]]:
    """Route the burst; (all assigned after, all written after, the lead ids). With `outage`, the
    API is down while the leads arrive and for `outage` seconds; times count from its return."""
    config = Path(workdir) / "config.yaml"
    config.write_text(CONFIG % {"url": emu.url, "account": emu.account.id, "batch": batch}, encoding="utf-8")
    env = os.environ | {
        "LEADROUTER_CONFIG": str(config),
        "LEADROUTER_DATABASE_URL": url,
        "LEADROUTER_WEBHOOK_SECRET": SECRET,
        "LEADROUTER_AMOCRM_TOKEN": emu.admin_token(),
        "PYTHONPATH": str(ROOT),
    }
    port, leadrouter = free_port(), str(Path(sys.executable).parent / "leadrouter")
    quiet = {"env": env, "cwd": workdir, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    command = [leadrouter, "serve" if args.serve else "web", "--port", str(port), "--workers", "2"]
    processes = [subprocess.Popen(command, **quiet)]  # type: ignore[call-overload]
    try:
        wait_healthy(f"http://127.0.0.1:{port}")
        worker = [sys.executable, __file__, "--worker", "--claim-batch", str(args.claim_batch)]
        worker += ["--read-batch", str(read)]
        workers = [] if args.serve else [worker] * args.workers
        if not args.phases:
            processes += [subprocess.Popen(w, **quiet) for w in workers]  # type: ignore[call-overload]
        emu.subscribe(f"http://127.0.0.1:{port}/hooks/amocrm/{SECRET}", EVENTS)
        time.sleep(2.0)  # the workers start, and the reconciler takes its first look
        emu.log.clear()
        started = time.monotonic()
        emu.faults.down = outage > 0
        leads = emu.create_leads(args.leads)
        if outage:  # every webhook stored while the CRM is down, then the outage lasts on
            emu.hooks.wait(timeout=3600)
            time.sleep(max(0.0, outage - (time.monotonic() - started)))
            emu.faults.down = False
            emu.log.clear()  # the 503s of the outage are not the catch-up's
            started = time.monotonic()
        if args.phases:  # intake first, with no worker competing; then routing alone
            emu.hooks.wait(timeout=3600)
            print(f"intake: {args.leads} add_lead webhooks stored in {time.monotonic() - started:.1f} s")
            processes += [subprocess.Popen(w, **quiet) for w in workers]  # type: ignore[call-overload]
            started = time.monotonic()
        assigned_at = written_at = None
        deadline = started + args.timeout
        while written_at is None and time.monotonic() < deadline:
            time.sleep(0.5)
            with emu.account.lock:
                assigned = sum(emu.account.leads[lead.id].responsible_user_id in MANAGERS for lead in leads)
                noted = len({n["entity_id"] for n in emu.account.notes})
            if assigned_at is None and assigned == len(leads):
                assigned_at = time.monotonic() - started
            if noted == len(leads):
                written_at = time.monotonic() - started
        written = written_at if written_at is not None else float("nan")  # the timeout ran out
        return assigned_at, written, [lead.id for lead in leads]
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def summary(
    emu: AmoEmulator, args: argparse.Namespace, batch: int, read: int, assigned: float | None, written: float
) -> None:
    calls = collections.Counter((r.method, re.sub(r"/\d+", "/{id}", r.path)) for r in emu.log)
    statuses = collections.Counter(r.status for r in emu.log)
    minimum, baseline = bound(args.leads, batch, read), bound(args.leads, 1, 1)
    mode = "client only" if args.client_only else "serve" if args.serve else f"{args.workers} worker(s)"
    mode += "" if args.client_only or args.serve else f", claim batch {args.claim_batch}"
    print(
        f"leads {args.leads}  ({mode}; write batch {batch}, read batch {read}; load {os.getloadavg()[0]:.1f})"
    )
    if assigned is not None:
        print(f"all assigned after   {assigned:8.1f} s")
    print(f"all written after    {written:8.1f} s")
    print(f"requests made        {len(emu.log):8d}   (minimum {minimum}: {minimum / 7:.1f} s at 7/s)")
    print(f"429 received         {statuses[429]:8d}   403 received {statuses[403]}")
    print(f"time / bound         {written / (minimum / 7):8.2f} x")
    for (method, path), count in sorted(calls.items(), key=lambda kv: -kv[1]):
        print(f"  {count:6d}  {method:6s} {path}")
    print(f"one request per lead and write: at least {baseline} requests = {baseline / 7:.0f} s at 7/s")
    print(f"speed-up over that bound: {baseline / 7 / written:.0f}x")


if __name__ == "__main__":
    main()
