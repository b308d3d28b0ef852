"""Workers killed with SIGKILL right after the CRM took their writes: duplicate tasks, two owners.

    .venv/bin/python bench/crash_tasks.py [--db URL] [--leads 1000] [--rounds 12] [--blind]

Each round starts two worker processes on one database (the split `worker`s of a deployment) over a
CRM kept in its own SQLite file; one dies right after the CRM took its second write call (its
first tasks), the other after a random one of its first six (before the worker recorded the
answer). A last worker drains the rest. It prints the leads, the kills, the tasks a lead got beyond
its first, the leads given two different owners, the leads without a task and the writes never
sent. `--blind` runs workers that never look in the CRM for a task tried before (the behaviour
before issue 19). Without `--db` it uses a fresh SQLite file; a PostgreSQL URL must point to an
empty database or schema.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.storage.engine import make_engine  # noqa: E402
from adapters.storage.migrate import upgrade_database  # noqa: E402
from tests.fakes.crash_loop import crash_loop  # noqa: E402


def main() -> None:
    """Run once and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--leads", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=12, help="rounds of two workers killed")
    parser.add_argument("--blind", action="store_true", help="workers never look in the CRM first")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'lr.db'}"
        engine = make_engine(url)
        upgrade_database(engine)
        figures = crash_loop(engine, url, Path(tmp), leads=args.leads, rounds=args.rounds, blind=args.blind)
        engine.dispose()
    print(f"{engine.dialect.name}{' (blind)' if args.blind else ''}: {figures.line()}")


if __name__ == "__main__":
    main()
