"""One worker process of the pacing burst: `python -m tests.fakes.pacing_worker CONFIG DB URL TOKEN NAME`.

The real loop (claim, decide, a thread sending the outbox) with its own engine and amoCRM client,
as in production, until SIGTERM. In a process of its own, so the emulator the test runs counts the
requests' arrival without waiting for these threads to let go of the test process's interpreter.
"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from adapters.amocrm.factory import build_client
from adapters.storage.engine import make_engine
from webhook_app.bootstrap import build_services, build_worker
from webhook_app.settings import Settings


def main() -> None:
    """Run the worker until SIGTERM."""
    parser = argparse.ArgumentParser()
    for name in ("config", "db", "url", "token", "name"):
        parser.add_argument(name)
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--rate", type=float, required=True)
    args = parser.parse_args()
    from tests.integration.test_pacing_burst import options  # the test's own worker options

    section = {"type": "amocrm", "base_url": args.url, "batch_size": args.batch}
    section |= {"rate_limit_per_second": args.rate}
    client = build_client(
        crm=section, secrets={"amocrm_token": args.token}, engine=make_engine(args.db), read_batch=args.batch
    )
    settings = Settings(config=Path(args.config), database_url=args.db)  # type: ignore[arg-type]
    worker = build_worker(build_services(settings, crm=client), args.name, options())
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    worker.run(stop)


if __name__ == "__main__":
    main()
