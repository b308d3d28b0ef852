"""Benchmark: decisions per second of the pure core, and `simulate` on 1,000,000 leads end to end.

    .venv/bin/python bench/decide.py                 # 1,000,000-lead simulate, then 200,000 decisions
    .venv/bin/python bench/decide.py --leads 50000 --simulate 100000
    .venv/bin/python bench/decide.py --balance value  # every weighted and round_robin pool by value
    .venv/bin/python bench/decide.py --simulate 0 --leads 20000 --compare   # count vs value vs tiers,
                                                  # same leads, interleaved: the ratio survives a busy box

Both parts use the same seeded data: the 50-manager, 30-rule config of bench/config.py (loaded
through `load_config`) and leads from bench/make_leads.py. The simulate part runs the real command
in a child process (`leadrouter simulate --no-leads --no-progress`), so its time includes start-up,
reading the CSV, deciding and the fairness table; its peak RSS is that process's, and the process
it forks to read the file ahead is reported beside it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.config import yaml_text  # noqa: E402
from core.decide import apply_decision, decide  # noqa: E402
from core.state import RoutingState  # noqa: E402
from webhook_app.config import load_config  # noqa: E402
from webhook_app.offline.leadfile import LeadFile  # noqa: E402

START = date(2026, 6, 29)
SEED = 2026


def write_leads(path: Path, count: int) -> float:
    """Generate `count` seeded leads (about 700 a day, at most a year) as CSV; seconds taken.

    It runs in a child process: a child's peak RSS on Linux includes what its parent held when it
    forked, so this process stays small until the simulate child has been measured.
    """
    began = time.perf_counter()
    days = max(14, min(365, count // 700))
    command = [sys.executable, str(ROOT / "bench" / "make_leads.py"), "--count", str(count), "--days",
               str(days), "--seed", str(SEED), "--start", START.isoformat(), "--out", str(path)]  # fmt: skip
    subprocess.run(command, check=True)
    return time.perf_counter() - began


def compare_balances(tmp: Path, leads_csv: Path, rounds: int = 3) -> None:
    """Decisions per second with every pool balancing count, value and tiers, on the same leads,
    interleaved round by round (a busy machine slows all three alike); the best round of each."""
    best: dict[str, float] = {}
    policies = {}
    for balance in ("count", "value", "tiers"):
        path = tmp / f"bench-{balance}.yaml"
        path.write_text(yaml_text(balance), encoding="utf-8")
        policies[balance] = load_config(path).policy
    leads = list(LeadFile(leads_csv, policies["count"]).leads())
    for _ in range(rounds):
        for balance, policy in policies.items():
            state = RoutingState()
            began = time.perf_counter()
            for lead in leads:
                state = apply_decision(state, decide(lead, policy, state, lead.created_at), policy)
            rate = len(leads) / (time.perf_counter() - began)
            best[balance] = max(best.get(balance, 0.0), rate)
    for balance, rate in best.items():
        print(f"balance {balance}: {rate:,.0f} decisions/s ({rate / best['count']:.2f} × count)")


def decisions_per_second(config: Path, leads_csv: Path) -> None:
    """Time decide + apply_decision over pre-built leads, from an empty state."""
    policy = load_config(config).policy
    leads = list(LeadFile(leads_csv, policy).leads())
    state, outcomes = RoutingState(), Counter[str]()
    began = time.perf_counter()
    for lead in leads:
        decision = decide(lead, policy, state, lead.created_at)
        state = apply_decision(state, decision, policy)
        outcomes[decision.route.value if decision.route else decision.outcome.value] += 1
    elapsed = time.perf_counter() - began
    print(
        f"decide + apply_decision: {len(leads):,} leads in {elapsed:.2f} s "
        f"= {len(leads) / elapsed:,.0f} decisions/s"
    )
    print(f"  routes: {dict(outcomes.most_common())}")


# The child reports its own peak, and its children's (the process reading the file ahead):
# RUSAGE_CHILDREN here would be the largest of all children so far, including the lead generator.
CHILD = (
    "import resource, sys; from webhook_app.cli.main import main; code = main(sys.argv[1:]); "
    "peak = lambda who: resource.getrusage(who).ru_maxrss; "
    "print(peak(resource.RUSAGE_SELF), peak(resource.RUSAGE_CHILDREN), file=sys.stderr); sys.exit(code)"
)


def simulate_end_to_end(config: Path, leads_csv: Path, count: int) -> None:
    """Run `leadrouter simulate --no-leads` in a child process; print wall time and its peak RSS."""
    command = [sys.executable, "-c", CHILD, "simulate", "--config", str(config), "--leads", str(leads_csv),
               "--no-leads", "--no-progress", "--format", "csv"]  # fmt: skip
    began = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - began
    if result.returncode != 0:
        sys.exit(f"simulate failed ({result.returncode}):\n{result.stderr}")
    peak_mb, reader_mb = (int(kib) / 1024 for kib in result.stderr.split()[-2:])  # Linux reports KiB
    print(f"simulate --no-leads: {count:,} leads in {elapsed:.1f} s = {count / elapsed:,.0f} leads/s, "
          f"peak RSS {peak_mb:,.0f} MiB (+ {reader_mb:,.0f} MiB the reading process)")  # fmt: skip
    print(f"  fairness rows: {len(result.stdout.splitlines()) - 1}")


def main() -> None:
    """Parse the sizes, make the data in a temporary directory, run both parts."""
    parser = argparse.ArgumentParser(description="decision and simulate benchmark")
    parser.add_argument("--leads", type=int, default=200_000, help="leads for decisions/s (0 to skip)")
    parser.add_argument("--simulate", type=int, default=1_000_000, help="leads for simulate (0 to skip)")
    parser.add_argument("--balance", choices=("count", "value", "tiers"), default="count",
                        help="the balance of every weighted and round_robin pool")  # fmt: skip
    parser.add_argument("--compare", action="store_true", help="decisions/s of count, value and tiers")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="leadrouter-bench-") as tmp:
        config = Path(tmp) / "bench.yaml"
        config.write_text(yaml_text(args.balance), encoding="utf-8")
        if args.simulate:
            big = Path(tmp) / "leads-big.csv"
            seconds = write_leads(big, args.simulate)
            size = big.stat().st_size / 2**20
            print(f"generating {args.simulate:,} leads ({size:,.0f} MiB): {seconds:.1f} s")
            simulate_end_to_end(config, big, args.simulate)
        if args.leads:
            small = Path(tmp) / "leads-small.csv"
            print(f"generating {args.leads:,} leads: {write_leads(small, args.leads):.1f} s")
            if args.compare:
                compare_balances(Path(tmp), small)
            else:
                decisions_per_second(config, small)


if __name__ == "__main__":
    main()
