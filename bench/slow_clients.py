"""Webhook latency while slow clients hold connections open: the figure behind the asyncio front.

    .venv/bin/python bench/slow_clients.py [--slow 50] [--requests 300] [--workers 1] [--threads 8]

It starts `leadrouter web` (SQLite, WAL, synchronous=FULL; `--workers 1 --threads 8` is what
`leadrouter serve` runs) on the example config and posts amoCRM `add_lead` webhooks one after the
other, a new lead each, on one keep-alive connection: first with no other client, then with `--slow`
connections open that carry no secret — half stuck in their headers, half in a body they promised
but never finish, each sent one more byte every half second. It prints p50, p99 and max of each
phase, the count of requests that failed or took over 10 s, and the server's CPU time per webhook
(its processes' user + system time over the phase, from /proc: a figure the machine's load moves
far less than the latencies).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.intake import SECRET, body, percentile, start_server  # noqa: E402
from tests.e2e.slow_clients import slow_connections  # noqa: E402
from tests.e2e.test_amocrm_e2e import free_port  # noqa: E402

HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


def server_cpu(pid: int) -> float:
    """CPU seconds used so far by the server: gunicorn's master and its worker processes (Linux)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    total = 0
    for process in [pid, *map(int, children)]:
        fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def phase(url: str, first_id: int, count: int) -> tuple[list[float], int]:
    """`count` webhooks one at a time: their latencies, and how many failed or timed out."""
    latencies, failed = [], 0
    with httpx.Client(timeout=10) as client:
        for lead_id in range(first_id, first_id + count):
            started = time.perf_counter()
            try:
                answer = client.post(url, content=body(lead_id), headers=HEADERS)
                failed += answer.status_code != 200
            except httpx.TransportError:
                failed += 1
            latencies.append(time.perf_counter() - started)
    return latencies, failed


def healthz(base: str) -> str:
    """/healthz's status, or what went wrong within 10 s."""
    try:
        return str(httpx.get(f"{base}/healthz", timeout=10).status_code)
    except httpx.TransportError as exc:
        return type(exc).__name__


def line(label: str, latencies: list[float], failed: int, cpu: float) -> str:
    """One result line: latencies, failures, and the server's CPU time per webhook."""
    ms = [x * 1000 for x in latencies]
    return (
        f"{label:<26} p50 {statistics.median(ms):7.1f} ms  p99 {percentile(ms, 99):7.1f} ms  "
        f"max {max(ms):7.1f} ms  failed or > 10 s: {failed}  server CPU {cpu * 1000 / len(ms):.2f} ms each"
    )


def main() -> None:
    """Both phases, then the figures."""
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--slow", type=int, default=50, help="slow connections held open")
    parser.add_argument("--requests", type=int, default=300, help="webhooks per phase")
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per process")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        workdir, port = Path(directory), free_port()
        server = start_server(workdir, port, args.workers, args.threads, f"sqlite:///{workdir / 'bench.db'}")
        base = f"http://127.0.0.1:{port}"
        url = f"{base}/hooks/amocrm/{SECRET}"
        try:
            print(f"leadrouter web: {args.workers} process(es) × {args.threads} threads, sqlite")
            phase(url, 1, 50)  # warm up: first requests of each thread, the first connection
            cpu = server_cpu(server.pid)
            quiet, failed = phase(url, 100, args.requests)
            print(line("no other client", quiet, failed, server_cpu(server.pid) - cpu))
            with slow_connections(base, args.slow) as opened:
                cpu = server_cpu(server.pid)
                slowed, failed = phase(url, 1_000_000, args.requests)
                used = server_cpu(server.pid) - cpu
                health = healthz(base)
            print(line(f"{opened} slow connections open", slowed, failed, used) + f"  /healthz {health}")
        finally:
            server.terminate()
            server.wait(30)


if __name__ == "__main__":
    main()
