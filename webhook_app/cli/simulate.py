"""`leadrouter simulate`: run the config over a file of past leads and print who gets what and why."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, cast

from tqdm import tqdm

from core.matcher import UNMATCHED
from core.model import Lead
from core.policy import Matched, Policy
from core.reasons import Renderer
from webhook_app.cli import help_for
from webhook_app.config import ConfigError, load_config
from webhook_app.offline.handoffs import HandoffSimulation
from webhook_app.offline.leadfile import LeadFile, LeadFileError, Row
from webhook_app.offline.output import Writer
from webhook_app.offline.readahead import ReadAhead
from webhook_app.offline.simulate import Simulated, Simulation
from webhook_app.offline.table import TableWriter
from webhook_app.offline.tally import RowError
from webhook_app.offline.writers import make_writer
from webhook_app.settings import resolve_config_path

FORMATS = ("table", "json", "csv")
# A second process pays off once parsing takes longer than starting it: about 10,000 leads.
READ_AHEAD_BYTES = 2 * 2**20


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], words: Mapping[str, str]
) -> None:
    """Add the `simulate` subcommand, its help in `words` (a `help` catalog)."""
    parser = subparsers.add_parser(
        "simulate", help=help_for("simulate", words), description=words["desc_simulate"]
    )
    parser.add_argument("--config", metavar=words["meta_file"], help=words["config_file"])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--leads", metavar=words["meta_file"], help=words["simulate_leads"])
    source.add_argument("--from-history", metavar=words["meta_period"], help=words["simulate_from_history"])
    parser.add_argument("--compare", action="store_true", help=words["simulate_compare"])
    parser.add_argument("--format", choices=FORMATS, default="table", help=words["simulate_format"])
    parser.add_argument("--no-leads", action="store_true", help=words["simulate_no_leads"])
    parser.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=None, help=words["simulate_progress"]
    )
    parser.add_argument("--language", choices=("ru", "en"), help=words["simulate_language"])
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Load the config, simulate, print; 1 with a one-line message (or the config's problems) on error."""
    try:
        loaded = load_config(resolve_config_path(args.config))
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    if args.compare and not args.from_history:
        print("leadrouter simulate: --compare needs --from-history", file=sys.stderr)
        return 2
    if args.from_history:
        from webhook_app.cli.simulate_history import run_history  # opens the database

        return run_history(args, loaded, sys.stdout)
    policy = loaded.policy
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    try:
        simulate_file(
            policy,
            Path(args.leads),
            sys.stdout,
            output=args.format,
            language=args.language,
            show_leads=not args.no_leads,
            progress=progress,
        )
    except LeadFileError as exc:
        print(f"leadrouter simulate: {exc.text(args.language or policy.language)}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # `simulate … | head`: the reader has seen enough; keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def simulate_file(
    policy: Policy,
    leads: Path,
    out: IO[str],
    *,
    output: str = "table",
    language: str | None = None,
    show_leads: bool = True,
    progress: bool = False,
    read_ahead: bool | None = None,
) -> Simulation | HandoffSimulation:
    """The whole run: read, decide in time order, print decisions (and handoffs, when the file has
    event rows) as they come, then fairness and the handoff summary.

    `read_ahead` parses the file in a second process (default: for files over READ_AHEAD_BYTES).
    """
    source = LeadFile(leads, policy, warn=_warn)
    ahead = ReadAhead(source, policy) if _reads_ahead(leads, read_ahead) else None
    try:
        count, disorder = source.scan()
        if ahead is None:  # a bad row is the only thing printed: found before the table's header
            source.check()
        language = language or policy.language
        writer = make_writer(output, out, Renderer(policy, language), language, show_leads)
        if ahead is not None and disorder is None:
            items: Iterator[tuple[Row, Matched]] = ahead.items()
        else:
            items = ((row, UNMATCHED) for row in source.in_time_order(disorder))
        stream = tqdm(items, total=count, disable=not progress, file=sys.stderr, unit=" rows")
        if source.event_rows:  # the deals' history: the lifecycle runs it, handoffs and all
            simulation: Simulation | HandoffSimulation = _with_handoffs(
                HandoffSimulation(policy), stream, writer, show_leads, leads
            )
        else:
            plain = simulation = Simulation(policy)
            # No event rows: every row is a lead, and the loop stays the one of a plain file.
            for item in plain.run_matched(cast(Iterable[tuple[Lead, Matched]], stream)):
                if show_leads:
                    writer.decision(item)
    finally:
        if ahead is not None:
            ahead.close()
    writer.fairness(simulation.fairness.report())
    if isinstance(simulation, HandoffSimulation):
        writer.handoffs(simulation.tally)
    if isinstance(writer, TableWriter):
        writer.summary(simulation.routes, simulation.waited)
    return simulation


def _with_handoffs(
    simulation: HandoffSimulation,
    stream: Iterable[tuple[Row, Matched]],
    writer: Writer,
    show_leads: bool,
    leads: Path,
) -> HandoffSimulation:
    """Run over leads and event rows, printing decisions and handoffs in the order they happen."""
    try:
        for item in simulation.run_rows(stream):
            if not show_leads:
                continue
            if isinstance(item, Simulated):
                writer.decision(item)
            else:
                writer.handoff(item)
    except RowError as exc:
        raise LeadFileError(leads, exc.line, exc.problem) from None
    return simulation


def _reads_ahead(leads: Path, read_ahead: bool | None) -> bool:
    if read_ahead is not None:
        return read_ahead
    try:
        return leads.stat().st_size >= READ_AHEAD_BYTES
    except OSError:
        return False  # the reader says what is wrong with the file


def _warn(message: str) -> None:
    print(f"leadrouter simulate: warning: {message}", file=sys.stderr)
