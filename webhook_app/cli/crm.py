"""`leadrouter users` (CRM users as a ready `managers:` block) and `leadrouter install`."""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

from sqlalchemy import Engine

from adapters.admin import CrmAdmin, CrmUser
from adapters.errors import AdapterError
from adapters.storage.hookstate import record_install, record_uninstall
from webhook_app.cli import help_for
from webhook_app.config import ConfigError, load_config
from webhook_app.settings import Settings, resolve_config_path

_TRANSLIT = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        [
            "a",
            "b",
            "v",
            "g",
            "d",
            "e",
            "e",
            "zh",
            "z",
            "i",
            "y",
            "k",
            "l",
            "m",
            "n",
            "o",
            "p",
            "r",
            "s",
            "t",
            "u",
            "f",
            "kh",
            "ts",
            "ch",
            "sh",
            "shch",
            "",
            "y",
            "",
            "e",
            "yu",
            "ya",
        ],
        strict=True,
    )
)


def register(sub: Any) -> None:
    """Add `users` and `install`."""
    users = sub.add_parser("users", help=help_for("users"))
    users.add_argument("--config", help="YAML config (default: LEADROUTER_CONFIG)")
    users.set_defaults(handler=run_users)
    install = sub.add_parser("install", help=help_for("install"))
    install.add_argument("--config", help="YAML config (default: LEADROUTER_CONFIG)")
    install.add_argument("--public-url", required=True, help="where the CRM reaches this service, https://…")
    install.add_argument("--uninstall", action="store_true", help="remove our webhook instead")
    install.add_argument("--show-secret", action="store_true", help="print the hook URL with its secret")
    install.set_defaults(handler=run_install)


def yaml_key(name: str, taken: set[str]) -> str:
    """A readable, unique YAML key from a person's name: «Иванова Анна» → ivanova_anna."""
    latin = "".join(_TRANSLIT.get(ch, ch) for ch in name.lower())
    key = re.sub(r"[^a-z0-9]+", "_", latin).strip("_") or "user"
    unique, n = key, 2
    while unique in taken:
        unique, n = f"{key}_{n}", n + 1
    taken.add(unique)
    return unique


def managers_block(users: list[CrmUser]) -> str:
    """The `managers:` YAML block for these users, one commented entry each."""
    lines = ["managers:"]
    taken: set[str] = set()
    for user in sorted(users, key=lambda u: (u.department, u.name)):
        about = " · ".join(x for x in (user.email, user.department) if x)
        lines.append(f"  {yaml_key(user.name, taken)}:" + (f"  # {about}" if about else ""))
        lines.append(f"    crm_user_id: {user.id}")
        lines.append(f"    name: {user.name!r}" if ":" in user.name else f"    name: {user.name}")
    return "\n".join(lines)


def _admin(args: argparse.Namespace) -> CrmAdmin | None:
    found = _admin_for(args)
    return found[0] if found is not None else None


def _admin_for(args: argparse.Namespace) -> tuple[CrmAdmin, str, Engine] | None:
    """The CRM's admin client, the CRM's type and our database; None (said why) when impossible."""
    from webhook_app.bootstrap import crm_arguments, crm_module

    settings = Settings()
    try:
        loaded = load_config(resolve_config_path(args.config, settings))
    except ConfigError as exc:
        print("\n".join(str(p) for p in exc.problems), file=sys.stderr)
        return None
    module = crm_module(loaded.crm.type, "admin")
    if module is None:
        print(f"leadrouter: no {loaded.crm.type} client in this version", file=sys.stderr)
        return None
    from webhook_app.cli.common import open_database

    engine = open_database(settings)
    admin: CrmAdmin = module.build_admin(**crm_arguments(loaded, settings, engine))
    return admin, str(loaded.crm.type), engine


def run_users(args: argparse.Namespace) -> int:
    """Print the block."""
    admin = _admin(args)
    if admin is None:
        return 1
    try:
        users = admin.list_users()
    except AdapterError as exc:  # no rights, bad token, CRM unreachable: say so, no traceback
        print(f"leadrouter users: {exc}", file=sys.stderr)
        return 1
    print(managers_block([u for u in users if u.active]))
    return 0


def run_install(args: argparse.Namespace) -> int:
    """Register or remove the webhook."""
    settings = Settings()
    if settings.webhook_secret is None:
        print("leadrouter install: set LEADROUTER_WEBHOOK_SECRET first", file=sys.stderr)
        return 2
    found = _admin_for(args)
    if found is None:
        return 1
    admin, crm_type, engine = found
    try:
        lines = admin.uninstall(args.public_url) if args.uninstall else admin.install(args.public_url)
    except AdapterError as exc:
        print(f"leadrouter install: {exc}", file=sys.stderr)
        return 1
    # The hook check re-registers a vanished hook at this URL, and leaves an uninstalled one alone.
    with engine.begin() as connection:
        if args.uninstall:
            record_uninstall(connection, crm_type, args.clock())
        else:
            record_install(connection, crm_type, args.public_url.rstrip("/"), args.clock())
    secret = settings.webhook_secret.get_secret_value()
    for line in lines:
        print(line if args.show_secret else line.replace(secret, "***"))
    return 0
