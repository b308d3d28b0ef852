"""`leadrouter reload`, `pause`, `resume`: change what running processes do, without a restart."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import Any

from core.policy import Policy
from webhook_app.cli import help_for
from webhook_app.cli.common import cli_user, open_database, parse_until
from webhook_app.cli.words import CliWords, words_for
from webhook_app.config import ConfigError, load_config
from webhook_app.settings import resolve_config_path


def register(sub: Any, words: Mapping[str, str]) -> None:
    """Add the three commands, their help in `words` (a `help` catalog)."""
    reload = sub.add_parser("reload", help=help_for("reload", words), description=words["desc_reload"])
    reload.add_argument("--config", metavar=words["meta_file"], help=words["config_file"])
    reload.set_defaults(handler=run_reload)
    pause = sub.add_parser("pause", help=help_for("pause", words))
    pause.add_argument("name", metavar=words["meta_name"], help=words["manager_key"])
    pause.add_argument("--until", metavar=words["meta_time"], help=words["pause_until"])
    pause.add_argument("--reason", default="", metavar=words["meta_reason"], help=words["pause_reason"])
    pause.add_argument("--config", metavar=words["meta_file"], help=words["config_file"])
    pause.set_defaults(handler=run_pause)
    resume = sub.add_parser("resume", help=help_for("resume", words))
    resume.add_argument("name", metavar=words["meta_name"], help=words["manager_key"])
    resume.add_argument("--config", metavar=words["meta_file"], help=words["config_file"])
    resume.set_defaults(handler=run_resume)


def run_reload(args: argparse.Namespace) -> int:
    """Publish the file as the config in force."""
    from webhook_app.config.live import reload_file

    path = resolve_config_path(args.config)
    try:
        loaded = reload_file(path, open_database(), args.clock, cli_user(), log_refusal=False)
    except ConfigError as exc:
        for problem in exc.problems:  # each once: the refusal is not logged to the same terminal too
            print(problem, file=sys.stderr)
        print(words_for(args)["refused"], file=sys.stderr)
        return 1
    words = CliWords(loaded.policy)
    print(words["in_force"].format(path=path, version=loaded.version))
    return 0


def run_pause(args: argparse.Namespace) -> int:
    """Pause one manager for every worker."""
    from webhook_app.pipeline.operator_actions import MAX_PAUSE, OperationError, pause

    now = args.clock()
    found = _manager_policy(args, "pause")
    if found is None:
        return 1
    policy, words = found
    try:
        until = parse_until(args.until, now, policy.language) if args.until else None
        if until is not None and until <= now:
            raise ValueError(words["not_future"].format(until=words.render.moment(until)))
        if until is not None and until - now > MAX_PAUSE:
            raise ValueError(words["too_far"].format(until=words.render.moment(until)))
        pause(open_database(), policy, args.name, until=until, reason=args.reason, by=cli_user(), now=now)
    except (OperationError, ValueError) as exc:
        print(f"leadrouter pause: {exc}", file=sys.stderr)
        return 1
    who = words.render.name(args.name)
    if until is None:
        print(words["paused_forever"].format(who=who))
    else:
        print(words["paused"].format(who=who, until=words.render.moment(until)))
    return 0


def run_resume(args: argparse.Namespace) -> int:
    """End one manager's pause."""
    from webhook_app.pipeline.operator_actions import OperationError, resume

    now = args.clock()
    found = _manager_policy(args, "resume")
    if found is None:
        return 1
    policy, words = found
    try:
        done = resume(open_database(), policy, args.name, by=cli_user(), now=now)
    except OperationError as exc:
        print(f"leadrouter resume: {exc}", file=sys.stderr)
        return 1
    who = words.render.name(args.name)
    print(words["resumed" if done else "not_paused"].format(who=who))
    return 0


def _unknown(words: CliWords, name: str) -> str:
    """No such manager: the keys people may write, each with the name it stands for."""
    managers = words.policy.managers
    known = ", ".join(f"{key} ({manager.label})" for key, manager in managers.items())
    return words["no_manager"].format(name=name, known=known)


def _manager_policy(args: argparse.Namespace, command: str) -> tuple[Policy, CliWords] | None:
    """The config's policy and words when `args.name` is one of its managers; else None, said why."""
    try:
        policy = load_config(resolve_config_path(args.config)).policy
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return None
    words = CliWords(policy)
    if args.name not in policy.managers:
        print(f"leadrouter {command}: {_unknown(words, args.name)}", file=sys.stderr)
        return None
    return policy, words
