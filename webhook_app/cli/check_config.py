"""`leadrouter check-config [FILE] [--online]`: validate a config and print a summary, or every problem.

`--online` also resolves the config's pipelines, stages, custom fields and users against the live
CRM (or an emulator at `crm.base_url`) through the adapter's admin client.
"""

from __future__ import annotations

import argparse
import sys

from pydantic import SecretStr

from adapters.admin import CrmInventory
from adapters.errors import AdapterError
from core.texts import texts
from webhook_app.cli import help_for
from webhook_app.config import ConfigError, LoadedConfig, load_config
from webhook_app.config.online import check_online
from webhook_app.config.problems import Reporter
from webhook_app.config.summary import render_summary
from webhook_app.config.yamlsource import read_source
from webhook_app.settings import Settings, resolve_config_path

CRM_NAMES = {"amocrm": "amoCRM", "bitrix24": "Bitrix24"}
ONLINE_ATTEMPTS = 2  # a check should fail fast when the CRM is down, not back off for a minute


class Unreachable(Exception):
    """The CRM could not be asked: no credentials, refused, down, or no client for its type."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `check-config` subcommand."""
    parser = subparsers.add_parser(
        "check-config",
        help=help_for("check-config"),
        description="Validate a config file. Exit 0 and print a summary if it is valid; "
        "exit 1 and print every problem as FILE:LINE: path: message if not. With --online, also "
        "resolve pipelines, stages, custom fields and users in the CRM (exit 2 if it cannot be reached).",
    )
    parser.add_argument(
        "file", nargs="?", metavar="FILE", help="the YAML config (default: LEADROUTER_CONFIG)"
    )
    parser.add_argument("--config", metavar="FILE", help="the YAML config (same as FILE)")
    parser.add_argument(
        "--online",
        action="store_true",
        help="also check every pipeline, stage, custom field and user against the live CRM",
    )
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
    try:
        inventory = _inventory(loaded, settings)
    except Unreachable as exc:
        why = _redact(str(exc), settings)
        message = texts(loaded.policy.language, "cli")["online_failed"].format(why=why)
        print(f"leadrouter check-config: {message}", file=sys.stderr)
        return 2
    source = read_source(loaded.path)
    report = Reporter(source.file, source.index)
    check_online(loaded.document, inventory, report)
    for problem in sorted(report.errors, key=lambda p: p.line or 0):
        print(problem, file=sys.stderr)
    if report.errors:
        return 1
    words = texts(loaded.policy.language, "cli")
    print(
        words["online_ok"].format(
            crm=crm,
            url=loaded.crm.base_url,
            pipelines=len(inventory.pipelines),
            fields=len(inventory.fields),
            users=len(inventory.users),
        )
    )
    return 0


def _inventory(loaded: LoadedConfig, settings: Settings) -> CrmInventory:
    from webhook_app.bootstrap import crm_arguments, crm_module
    from webhook_app.cli.common import open_database

    module = crm_module(loaded.crm.type, "admin")
    if module is None:
        raise Unreachable(f"no {loaded.crm.type} client in this version")
    crm = CRM_NAMES.get(loaded.crm.type, loaded.crm.type)
    try:
        engine = open_database(settings)  # the shared rate limit and OAuth tokens live there
    except Exception as exc:  # a database URL that does not work: say which kind of failure, no URL
        raise Unreachable(
            f"the database (LEADROUTER_DATABASE_URL) cannot be opened: {type(exc).__name__}"
        ) from None
    try:
        admin = module.build_admin(**crm_arguments(loaded, settings, engine), attempts=ONLINE_ATTEMPTS)
        inventory: CrmInventory = admin.inventory()
    except AdapterError as exc:  # no or bad credentials, refused, down: the adapters' messages are safe
        raise Unreachable(f"{crm} at {loaded.crm.base_url}: {exc}") from None
    except Exception as exc:  # an answer we cannot read is still "cannot check": never a traceback
        raise Unreachable(
            f"{crm} at {loaded.crm.base_url}: unreadable answer ({type(exc).__name__})"
        ) from None
    finally:
        engine.dispose()
    return inventory


def _redact(text: str, settings: Settings) -> str:
    """The text with every secret of the settings masked (belt and braces: adapters never print them)."""
    for _, value in settings:
        if isinstance(value, SecretStr) and len(value.get_secret_value()) >= 4:
            text = text.replace(value.get_secret_value(), "***")
    return text
