"""`leadrouter reload`, `pause`, `resume`: change what running processes do, without a restart."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from webhook_app.cli import help_for
from webhook_app.cli.common import cli_user, open_database, parse_until
from webhook_app.config import ConfigError, load_config
from webhook_app.settings import resolve_config_path


def register(sub: Any) -> None:
    """Add the three commands."""
    reload = sub.add_parser(
        "reload",
        help=help_for("reload"),
        description="Validate the config file and put it in force: every running process (web and "
        "workers, on any host sharing the database) switches to it within seconds. A file with "
        "errors is refused (exit 1, FILE:LINE: path: message) and the running version stays.",
    )
    reload.add_argument("--config", metavar="FILE", help="the YAML config (default: LEADROUTER_CONFIG)")
    reload.set_defaults(handler=run_reload)
    pause = sub.add_parser("pause", help=help_for("pause"))
    pause.add_argument("name", metavar="NAME", help="the manager's key in the YAML")
    pause.add_argument(
        "--until", metavar="T", help="ISO time (naive = UTC) or 2h / 3d from now; default: until resumed"
    )
    pause.add_argument("--reason", default="", help="shown on the admin page and in the audit log")
    pause.add_argument("--config", metavar="FILE", help="the YAML config (default: LEADROUTER_CONFIG)")
    pause.set_defaults(handler=run_pause)
    resume = sub.add_parser("resume", help=help_for("resume"))
    resume.add_argument("name", metavar="NAME", help="the manager's key in the YAML")
    resume.add_argument("--config", metavar="FILE", help="the YAML config (default: LEADROUTER_CONFIG)")
    resume.set_defaults(handler=run_resume)


def run_reload(args: argparse.Namespace) -> int:
    """Publish the file as the config in force."""
    from webhook_app.config.live import reload_file

    path = resolve_config_path(args.config)
    try:
        loaded = reload_file(path, open_database(), args.clock, cli_user())
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print("refused: the running config stays in force", file=sys.stderr)
        return 1
    print(f"{path}: version {loaded.version} in force; running processes switch to it within seconds")
    return 0


def run_pause(args: argparse.Namespace) -> int:
    """Pause one manager for every worker."""
    from webhook_app.pipeline.operator_actions import OperationError, pause

    now = args.clock()
    try:
        until = parse_until(args.until, now) if args.until else None
        policy = load_config(resolve_config_path(args.config)).policy
        pause(open_database(), policy, args.name, until=until, reason=args.reason, by=cli_user(), now=now)
    except (OperationError, ValueError) as exc:
        print(f"leadrouter pause: {exc}", file=sys.stderr)
        return 1
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"{args.name} paused" + (f" until {until.isoformat()}" if until else " until resumed"))
    return 0


def run_resume(args: argparse.Namespace) -> int:
    """End one manager's pause."""
    from webhook_app.pipeline.operator_actions import OperationError, resume

    now = args.clock()
    try:
        policy = load_config(resolve_config_path(args.config)).policy
        done = resume(open_database(), policy, args.name, by=cli_user(), now=now)
    except OperationError as exc:
        print(f"leadrouter resume: {exc}", file=sys.stderr)
        return 1
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"{args.name} resumed" if done else f"{args.name} was not paused")
    return 0
