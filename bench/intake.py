"""Intake benchmark: a load generator on loopback against `leadrouter web` with durable commits.

    .venv/bin/python bench/intake.py [--requests 4000] [--concurrency 16 64] [--rate 500 --seconds 20]

It starts `leadrouter web` (gunicorn, SQLite in WAL with synchronous=FULL, unless
LEADROUTER_DATABASE_URL names another database) on the example config, then:
  1. closed loop: N amoCRM `add_lead` POSTs (one new lead each) with C requests in flight;
  2. open loop: a fixed arrival rate for S seconds, latency measured from each request's scheduled
     start (so a stall is not hidden by the generator slowing down with the server).
It prints req/s, p50, p99 and max, and checks every acknowledged lead is in the inbox.
With `wrk` installed (Debian package `wrk`), the closed-loop phase uses it instead: a C load
generator leaves the two cores to the server, where Python's own generator would take one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx
from sqlalchemy import create_engine, func, select

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret"
ACCOUNT = "29841576"  # config.example.yaml's account id


def body(lead_id: int) -> str:
    """An amoCRM add_lead webhook body for one lead, as amoCRM encodes it."""
    prefix = "leads[add][0]"
    fields = {
        "account[subdomain]": "example",
        "account[id]": ACCOUNT,
        f"{prefix}[id]": str(lead_id),
        f"{prefix}[name]": f"Заявка с сайта #{lead_id}",
        f"{prefix}[status_id]": "142",
        f"{prefix}[price]": "150000",
        f"{prefix}[responsible_user_id]": "6102300",
        f"{prefix}[pipeline_id]": "5723341",
        f"{prefix}[date_create]": "1764670000",
        f"{prefix}[last_modified]": "1764670000",
        f"{prefix}[account_id]": ACCOUNT,
    }
    return urlencode(fields)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def report(label: str, latencies: list[float], elapsed: float, errors: int) -> str:
    """One result line."""
    ms = [x * 1000 for x in latencies]
    return (
        f"{label:<28} {len(ms) / elapsed:8.0f} req/s  p50 {statistics.median(ms):6.1f} ms  "
        f"p99 {percentile(ms, 99):6.1f} ms  max {max(ms):7.1f} ms  errors {errors}"
    )


async def closed_loop(
    url: str, start_id: int, count: int, concurrency: int
) -> tuple[list[float], float, int]:
    """`count` requests, `concurrency` in flight at any time."""
    latencies: list[float] = []
    errors = 0
    next_id = iter(range(start_id, start_id + count))
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=concurrency)) as client:

        async def worker() -> None:
            nonlocal errors
            for lead_id in next_id:
                t0 = time.perf_counter()
                response = await client.post(url, content=body(lead_id), headers=headers)
                latencies.append(time.perf_counter() - t0)
                errors += response.status_code != 200

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, time.perf_counter() - started, errors


async def open_loop(
    url: str, start_id: int, rate: float, seconds: float, warmup: float
) -> tuple[list[float], list[float], float, int]:
    """Requests at a fixed rate; each latency counts from its scheduled start.

    Returns the latencies of the first `warmup` seconds (new connections, first requests of each
    server thread) apart from the steady state's, so both can be reported.

    Raw HTTP/1.1 keep-alive on asyncio streams, not httpx: the generator shares the two cores with
    the server, and httpx's per-request cost (~1 ms) would cap the offered rate below the target.
    A request waits for a free connection (64 at most, opened as needed); that wait is latency too.
    """
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    total = int(rate * (warmup + seconds))
    first = int(rate * warmup)
    latencies: list[float] = []
    cold: list[float] = []
    errors = 0
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    slots = asyncio.Semaphore(64)
    requests = [
        _request(parts.path, host, body(start_id + i).encode()) for i in range(total)
    ]  # before the clock
    cpu = time.process_time()
    # The schedule starts once all its tasks exist: creating 10,000 of them takes a while, and
    # the first requests would otherwise count that as their latency.
    started = time.perf_counter() + 0.002 * total / 100

    async def exchange(request: bytes, reused: bool) -> bool:
        """Send one request; True on a 200. A reused connection the server closed is retried fresh."""
        reader, writer = idle.pop() if reused else await asyncio.open_connection(host, port)
        try:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
        except (OSError, asyncio.IncompleteReadError) as exc:
            writer.close()
            # gunicorn closes a keep-alive connection idle for 2 s; it never read this request.
            stale = reused and isinstance(exc, asyncio.IncompleteReadError) and not exc.partial
            return stale and await exchange(request, reused=False)
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        await reader.readexactly(length)
        if b"connection: close" in head.lower():
            writer.close()
        else:
            idle.append((reader, writer))
        return head.startswith(b"HTTP/1.1 200")

    async def one(i: int) -> None:
        nonlocal errors
        scheduled = started + i / rate
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        async with slots:
            if not await exchange(requests[i], reused=bool(idle)):
                errors += 1
        (cold if i < first else latencies).append(time.perf_counter() - scheduled)

    await asyncio.gather(*(one(i) for i in range(total)))
    for _, writer in idle:
        writer.close()
    busy = (time.process_time() - cpu) / (time.perf_counter() - started)
    print(f"  (the generator itself used {busy:.0%} of one core)")
    return cold, latencies, time.perf_counter() - started - warmup, errors


def _request(path: str, host: str, payload: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


WRK_SCRIPT = """
counter = 0
local threads = 0
setup = function(thread) threads = threads + 1; thread:set("tid", threads) end
request = function()
  counter = counter + 1
  local id = BASE + tid * 10000000 + counter
  local body = "account%5Bsubdomain%5D=example&account%5Bid%5D=ACCOUNT" ..
    "&leads%5Badd%5D%5B0%5D%5Bid%5D=" .. id ..
    "&leads%5Badd%5D%5B0%5D%5Bname%5D=Lead&leads%5Badd%5D%5B0%5D%5Bstatus_id%5D=142" ..
    "&leads%5Badd%5D%5B0%5D%5Bprice%5D=150000&leads%5Badd%5D%5B0%5D%5Bpipeline_id%5D=5723341" ..
    "&leads%5Badd%5D%5B0%5D%5Blast_modified%5D=1764670000&leads%5Badd%5D%5B0%5D%5Baccount_id%5D=ACCOUNT"
  return wrk.format("POST", nil, {["Content-Type"]="application/x-www-form-urlencoded"}, body)
end
""".replace("ACCOUNT", ACCOUNT)


def wrk_closed_loop(url: str, concurrency: int, seconds: float, workdir: Path, base: int) -> tuple[str, int]:
    """wrk's figures for one closed-loop phase, and how many requests it completed."""
    script = workdir / "post.lua"
    script.write_text(WRK_SCRIPT.replace("BASE", str(base)))  # new lead ids in every phase
    out = subprocess.run(
        ["wrk", "-t2", f"-c{concurrency}", f"-d{seconds:.0f}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures = {}
    for line in out.splitlines():
        parts = line.split()
        if parts[:1] in (["50%"], ["99%"]):
            figures[parts[0]] = parts[1]
        elif parts[:1] == ["Requests/sec:"]:
            figures["rps"] = parts[1]
        elif "requests in" in line:
            figures["count"] = parts[0]
        elif parts[:1] == ["Latency"] and len(parts) >= 4:  # not the "Latency Distribution" header
            figures["max"] = parts[3]
    label = f"wrk closed loop, {concurrency} in flight"
    line = (
        f"{label:<28} {float(figures['rps']):8.0f} req/s  p50 {figures['50%']:>8}  p99 {figures['99%']:>8}"
        f"  max {figures['max']:>8}  non-2xx {'Non-2xx' in out}"
    )
    return line, int(figures["count"])


def start_server(
    workdir: Path, port: int, workers: int, threads: int, database_url: str
) -> subprocess.Popen[bytes]:
    """`leadrouter web` in the background, once /healthz answers."""
    env = {**os.environ, "LEADROUTER_WEBHOOK_SECRET": SECRET, "LEADROUTER_DATABASE_URL": database_url}
    leadrouter = str(Path(sys.executable).parent / "leadrouter")
    config = str(ROOT / "config.example.yaml")
    command = [
        leadrouter,
        "web",
        "--config",
        config,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--threads",
        str(threads),
    ]
    server = subprocess.Popen(
        command, cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(100):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("leadrouter web did not start")


def main() -> None:
    """Run both phases and print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, nargs="*", default=[16, 64], help="closed-loop phases")
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn process")
    parser.add_argument("--warmup", type=float, default=2, help="open loop: seconds reported apart")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="leadrouter-bench-"))
    database_url = os.environ.get("LEADROUTER_DATABASE_URL", f"sqlite:///{workdir / 'bench.db'}")
    server = start_server(workdir, args.port, args.workers, args.threads, database_url)
    url = f"http://127.0.0.1:{args.port}/hooks/amocrm/{SECRET}"
    sent = 0
    try:
        backend = database_url.split(":")[0]
        print(
            f"leadrouter web: {args.workers} processes × {args.threads} threads, {backend}, "
            f"{os.cpu_count()} CPUs (generator on the same machine)"
        )
        for concurrency in args.concurrency:
            if shutil.which("wrk"):
                base = 900_000_000 + 100_000_000 * args.concurrency.index(concurrency)
                line, count = wrk_closed_loop(url, concurrency, args.seconds, workdir, base)
                sent += count
                print(line)
                continue
            lat, elapsed, errors = asyncio.run(
                closed_loop(url, 10_000_000 + sent, args.requests, concurrency)
            )
            sent += args.requests
            print(report(f"closed loop, {concurrency} in flight", lat, elapsed, errors))
        cold, lat, elapsed, errors = asyncio.run(
            open_loop(url, 10_000_000 + sent, args.rate, args.seconds, args.warmup)
        )
        sent += len(cold) + len(lat) - errors
        print(report(f"open loop, {args.rate:.0f} req/s offered", lat, elapsed, errors))
        if cold:
            print(report(f"  its first {args.warmup:g} s (warm-up)", cold, args.warmup, 0))
    finally:
        server.terminate()
        server.wait()
    from adapters.storage.tables import inbox

    with create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1)).connect() as c:
        stored = c.execute(select(func.count()).select_from(inbox)).scalar()
    print(f"acknowledged {sent}, stored {stored}, lost {max(0, sent - (stored or 0))}")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
