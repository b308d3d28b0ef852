"""A worker process for crash and concurrency tests: `python -m tests.fakes.run_worker DB CRM NAME`.

It runs the real worker loop over the shared fake CRM and exits after `idle` seconds without work.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta

from adapters.storage.engine import make_engine
from core.ports import CrmPort
from tests.fakes.shared_crm import BlindCrm, SharedFakeCrm
from tests.integration.helpers import team_policy
from webhook_app.pipeline.context import JobContext
from webhook_app.pipeline.worker import Worker, WorkerOptions

NOON_UTC = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # 12:00 in Moscow: everyone on shift


def main() -> None:
    """Run until idle, or until killed."""
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("crm")
    parser.add_argument("name")
    parser.add_argument("--strategy", default="weighted")
    parser.add_argument("--kill-on-write", type=int)
    parser.add_argument(
        "--kill-after-write", type=int, help="die right after the CRM took that call's writes"
    )
    parser.add_argument("--blind", action="store_true", help="never look in the CRM for a write tried before")
    parser.add_argument("--lease", type=float, default=2.0)
    parser.add_argument("--idle", type=float, default=3.0)
    parser.add_argument("--epoch", type=float, required=True, help="time.time() the test started at")
    args = parser.parse_args()
    engine = make_engine(args.db)
    shared = SharedFakeCrm(args.crm, kill_on_write=args.kill_on_write, kill_after_write=args.kill_after_write)
    crm: CrmPort = BlindCrm(shared) if args.blind else shared
    policy = team_policy(args.strategy)

    def clock() -> datetime:  # real time, shared by every process, anchored at a working-day noon
        return NOON_UTC + timedelta(seconds=time.time() - args.epoch)

    ctx = JobContext(engine=engine, crm=crm, policy=lambda: policy, clock=clock, worker=args.name)
    options = WorkerOptions(lease=timedelta(seconds=args.lease), claim_batch=10)
    worker = Worker(ctx, options, rng=random.Random())
    idle_since = time.monotonic()
    while time.monotonic() - idle_since < args.idle:
        if worker.run_once():
            idle_since = time.monotonic()
        else:
            time.sleep(0.05)


if __name__ == "__main__":
    main()
