"""`leadrouter auth --code CODE`: the one-time OAuth step of an amoCRM integration."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import Any

from adapters.errors import AdapterError
from webhook_app.cli import help_for
from webhook_app.config import ConfigError, load_config
from webhook_app.settings import Settings, resolve_config_path


def register(sub: Any, words: Mapping[str, str]) -> None:
    """Add `auth`, its help in `words` (a `help` catalog)."""
    auth = sub.add_parser("auth", help=help_for("auth", words))
    auth.add_argument("--config", metavar=words["meta_config"], help=words["config_default"])
    auth.add_argument("--code", required=True, metavar=words["meta_code"], help=words["auth_code"])
    auth.set_defaults(handler=run_auth)


def run_auth(args: argparse.Namespace) -> int:
    """Exchange the code and store the token pair; what went wrong in one line, never a secret."""
    from webhook_app.bootstrap import crm_arguments, crm_module
    from webhook_app.cli.common import open_database

    settings = Settings()
    try:
        loaded = load_config(resolve_config_path(args.config, settings))
    except ConfigError as exc:
        print("\n".join(str(p) for p in exc.problems), file=sys.stderr)
        return 1
    module = crm_module(loaded.crm.type, "authorize")
    if module is None:
        print(
            f"leadrouter auth: no OAuth code exchange for {loaded.crm.type} in this version", file=sys.stderr
        )
        return 1
    arguments = crm_arguments(loaded, settings, open_database(settings))
    try:
        lines: list[str] = module.authorize(**arguments, code=args.code)
    except AdapterError as exc:  # expired or used code, wrong keys, CRM unreachable: say so, no traceback
        print(f"leadrouter auth: {_hidden(str(exc), args.code, arguments['secrets'])}", file=sys.stderr)
        return 1
    for line in lines:
        print(_hidden(line, args.code, arguments["secrets"]))
    return 0


def _hidden(text: str, code: str, secrets: dict[str, Any]) -> str:
    """The text with the code and every secret masked, should a CRM message ever echo one."""
    for value in [code, *secrets.values()]:
        if value and len(str(value)) >= 6:
            text = text.replace(str(value), "***")
    return text
