"""The amoCRM gate alone, across processes: how close to 7 calls a second it sends, and the most
calls it ever lets go within one second.

    PYTHONPATH=. .venv/bin/python bench/pacing_gate.py [--processes 3] [--threads 2] [--seconds 60]
                                                        [--postgres postgresql://…]

Each process builds its own `Gate` on one database (as `worker` processes do) and its threads
call `wait()` back to back, recording the moment each call may go. No HTTP: this measures the
gate's own pace — the bound is 7 a second; by design it sends 7 per 1.15 s (6.09 a second).
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.burst_amocrm_parts import pg_schema


def one_process(url: str, threads: int, until: float, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from adapters.amocrm.gate import Gate
    from adapters.storage.engine import make_engine

    gate = Gate(make_engine(url))
    moments: list[float] = []

    def loop() -> None:
        while time.time() < until:
            gate.wait()
            moments.append(time.time())

    running = [threading.Thread(target=loop) for _ in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    out.put(moments)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--postgres", help="a PostgreSQL server (a fresh schema) instead of SQLite")
    args = parser.parse_args()
    from adapters.storage.engine import make_engine
    from adapters.storage.migrate import upgrade_database

    with tempfile.TemporaryDirectory() as tmp:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        url = pg_schema(args.postgres, schema) if args.postgres else f"sqlite:///{tmp}/gate.db"
        try:
            upgrade_database(make_engine(url))
            out: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
            start = time.time() + 2.0
            until = start + args.seconds
            procs = [
                multiprocessing.Process(target=one_process, args=(url, args.threads, until, out))
                for _ in range(args.processes)
            ]
            for p in procs:
                p.start()
            moments = sorted(m for _ in procs for m in out.get())
            for p in procs:
                p.join()
        finally:
            if args.postgres:
                pg_schema(args.postgres, schema, drop=True)
    span = moments[-1] - moments[0]
    most = max(sum(1 for u in moments if m - 1.0 < u <= m) for m in moments)
    rate = (len(moments) - 1) / span
    print(f"{args.processes} processes × {args.threads} threads, {len(moments)} calls in {span:.1f} s")
    print(f"rate {rate:.2f}/s = bound (7/s) × {7 / rate:.3f}; most within any 1 s: {most}")


if __name__ == "__main__":
    main()
