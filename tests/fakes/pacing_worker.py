"""One worker process of the pacing burst: `python -m tests.fakes.pacing_worker CONFIG DB URL TOKEN NAME`
(built by the test's own `amo_worker`).

The real loop (claim, decide, a thread sending the outbox) with its own engine and amoCRM client,
as in production, until SIGTERM. In a process of its own, so the emulator the test runs counts the
requests' arrival without waiting for these threads to let go of the test process's interpreter.
"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from tests.integration.test_pacing_burst import amo_worker


def main() -> None:
    """Run the worker until SIGTERM."""
    parser = argparse.ArgumentParser()
    for name in ("config", "db", "url", "token", "name"):
        parser.add_argument(name)
    args = parser.parse_args()
    worker = amo_worker(args.url, args.token, args.db, Path(args.config), args.name)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    worker.run(stop)


if __name__ == "__main__":
    main()
