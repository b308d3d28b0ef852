"""`leadrouter simulate --from-history 30d [--compare]`: replay the stored history under a config."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from typing import IO

from sqlalchemy import Engine
from tqdm import tqdm

from adapters.storage.configs import newest
from adapters.storage.engine import reading
from adapters.storage.history import read_events, read_handoffs, read_rings
from adapters.storage.inputs import count_history, read_history
from core.policy import Policy
from core.reasons import Renderer
from core.texts import texts
from webhook_app.cli.common import open_database, parse_since
from webhook_app.config import ConfigError, LoadedConfig, load_config
from webhook_app.offline.whatif import LifeReplay, run_whatif, whatif_json
from webhook_app.offline.whatif_table import print_comparison
from webhook_app.offline.writers import make_writer

CHANGE_COLUMNS = ("crm", "lead_id", "decided_at", "actual", "would", "actual_rule", "would_rule", "reason")


def in_force(engine: Engine, fallback: Policy) -> Policy:
    """The config in force in the database (what really decided), else `fallback`."""
    with reading(engine) as connection:
        version = newest(connection)
    if version is None:
        return fallback
    try:
        return load_config(version.path, raw=version.source).policy
    except ConfigError:  # stored by an older version this one reads differently: compare with the file
        return fallback


def run_history(args: argparse.Namespace, loaded: LoadedConfig, out: IO[str]) -> int:
    """Replay the stored decisions of the period under `loaded`; print them, or the comparison."""
    language = args.language or loaded.policy.language
    try:
        now = args.clock()
        since = parse_since(args.from_history, now, language)
    except ValueError as exc:
        print(f"leadrouter simulate: --from-history: {exc}", file=sys.stderr)
        return 1
    engine = open_database()
    policy = loaded.policy
    actual = in_force(engine, policy)
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    total = count_history(engine, since, now)
    if total == 0:
        moment = Renderer(policy, language).moment(since)
        print(
            f"leadrouter simulate: {texts(language, 'cli')['no_history'].format(since=moment)}",
            file=sys.stderr,
        )
    bar = tqdm(total=total, disable=not progress, file=sys.stderr, unit=" leads")
    if args.compare:

        def advance(done: int, _total: int) -> None:
            bar.update(done - bar.n)

        result = run_whatif(engine, policy, actual, since, now, on_progress=advance)
        bar.close()
        data = whatif_json(result, policy, actual)
        if args.format == "json":
            out.write(json.dumps(data, ensure_ascii=False) + "\n")
        elif args.format == "csv":
            writer = csv.DictWriter(
                out, fieldnames=CHANGE_COLUMNS, extrasaction="ignore", lineterminator="\n"
            )
            writer.writeheader()
            writer.writerows(data["changes"])
        else:
            print_comparison(data, out, language, show_leads=not args.no_leads)
        return 0
    replay = LifeReplay(policy, actual, read_rings(engine, since, now))
    writer_ = make_writer(args.format, out, Renderer(policy, language), language, not args.no_leads)
    history = read_history(engine, since, now)
    for _, item in replay.run(
        history, read_events(engine, since, now), read_handoffs(engine, since, now), now
    ):
        bar.update(1)
        if not args.no_leads:
            writer_.decision(item)
    bar.close()
    writer_.fairness(replay.result_fairness.report())
    return 0
