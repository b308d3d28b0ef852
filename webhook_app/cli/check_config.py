"""`leadrouter check-config [FILE] [--online]`: validate a config and print a summary, or every problem.

`--online` also resolves the config's pipelines, stages, custom fields and users against the live
CRM (or an emulator at `crm.base_url`) through the adapter's admin client.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping

from pydantic import SecretStr

from adapters.admin import CrmInventory
from adapters.errors import AdapterError, AdminRightsNeeded
from core.texts import texts
from webhook_app.cli import help_for
from webhook_app.cli.words import crm_refusal
from webhook_app.config import ConfigError, LoadedConfig, load_config
from webhook_app.config.online import check_online, resolved_teams
from webhook_app.config.problems import Reporter
from webhook_app.config.summary import render_summary
from webhook_app.config.yamlsource import read_source
from webhook_app.settings import Settings, resolve_config_path

CRM_NAMES = {"amocrm": "amoCRM", "bitrix24": "Bitrix24"}
ONLINE_ATTEMPTS = 2  # a check should fail fast when the CRM is down, not back off for a minute


class Unreachable(Exception):
    """The CRM could not be asked: no credentials, refused, down, or no client for its type."""


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], words: Mapping[str, str]
) -> None:
    """Add the `check-config` subcommand, its help in `words` (a `help` catalog)."""
    parser = subparsers.add_parser(
        "check-config", help=help_for("check-config", words), description=words["desc_check-config"]
    )
    parser.add_argument("file", nargs="?", metavar=words["meta_file"], help=words["config_file"])
    parser.add_argument("--config", metavar=words["meta_file"], help=words["config_same_as_file"])
    parser.add_argument("--online", action="store_true", help=words["check_online"])
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Check the config; 0 when valid, 1 when not (problems on stderr, one per line), 2 if offline."""
    path = resolve_config_path(args.file or args.config)
    try:
        loaded = load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    print("\n".join(render_summary(loaded)))
    return online(loaded) if args.online else 0


def online(loaded: LoadedConfig) -> int:
    """Resolve the config's names in the CRM; 0 when all resolve, 1 with the list, 2 if unreachable."""
    settings = Settings()
    crm = CRM_NAMES.get(loaded.crm.type, loaded.crm.type)
    words = texts(loaded.policy.language, "cli")
    try:
        inventory = _inventory(loaded, settings, words)
    except Unreachable as exc:
        why = _redact(str(exc), settings)
        print(f"leadrouter check-config: {words['online_failed'].format(why=why)}", file=sys.stderr)
        return 2
    source = read_source(loaded.path)
    report = Reporter(source.file, source.index, loaded.policy.language)
    check_online(loaded.document, inventory, report)
    for problem in sorted(report.errors, key=lambda p: p.line or 0):
        print(problem, file=sys.stderr)
    if report.errors:
        return 1
    print(
        words["online_ok"].format(
            crm=crm,
            url=loaded.crm.base_url,
            pipelines=len(inventory.pipelines),
            fields=len(inventory.fields),
            users=len(inventory.users),
        )
    )
    teams = resolved_teams(loaded.policy, inventory, words)
    if teams:
        print(words["online_teams"], *teams, sep="\n")
    return 0


def _inventory(loaded: LoadedConfig, settings: Settings, words: Mapping[str, str]) -> CrmInventory:
    """What the CRM has; Unreachable (worded in `words`, the `cli` catalog) when it cannot be asked."""
    from webhook_app.bootstrap import crm_arguments, crm_module
    from webhook_app.cli.common import open_database

    module = crm_module(loaded.crm.type, "admin")
    if module is None:
        raise Unreachable(words["no_client"].format(crm=loaded.crm.type))
    at = {"crm": CRM_NAMES.get(loaded.crm.type, loaded.crm.type), "url": loaded.crm.base_url}
    try:
        engine = open_database(settings)  # the shared rate limit and OAuth tokens live there
    except Exception as exc:  # a database URL that does not work: say which kind of failure, no URL
        raise Unreachable(words["online_no_database"].format(error=type(exc).__name__)) from None
    try:
        admin = module.build_admin(**crm_arguments(loaded, settings, engine), attempts=ONLINE_ATTEMPTS)
        inventory: CrmInventory = admin.inventory()
    except AdminRightsNeeded as exc:  # the CRM's own words quoted, ours in the config's language
        raise Unreachable(words["online_need_admin"].format(**at, error=exc.crm_said)) from None
    except AdapterError as exc:  # no or bad credentials, refused, down: the adapters' messages are safe
        raise Unreachable(words["online_crm_said"].format(**at, error=crm_refusal(words, exc))) from None
    except Exception as exc:  # an answer we cannot read is still "cannot check": never a traceback
        raise Unreachable(words["online_unreadable"].format(**at, error=type(exc).__name__)) from None
    finally:
        engine.dispose()
    return inventory


def _redact(text: str, settings: Settings) -> str:
    """The text with every secret of the settings masked (belt and braces: adapters never print them)."""
    for _, value in settings:
        if isinstance(value, SecretStr) and len(value.get_secret_value()) >= 4:
            text = text.replace(value.get_secret_value(), "***")
    return text
