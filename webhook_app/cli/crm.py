"""`leadrouter users` (CRM users as a ready `managers:` block) and `leadrouter install`."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from adapters.admin import (
    AppTokenNeeded,
    CrmAdmin,
    CrmUser,
    DeleteOutgoingWebhook,
    EventBound,
    EventFailed,
    EventUnbound,
    HookRegistered,
    HookRemoved,
    InstallStep,
    MissingScopes,
    NothingToRemove,
    OtherHookFound,
    OutgoingWebhookSteps,
)
from adapters.errors import AdapterError, AdminRightsNeeded
from adapters.storage.hookstate import record_install, record_uninstall
from webhook_app.cli import help_for
from webhook_app.cli.words import CliWords, crm_refusal, words_for
from webhook_app.config import ConfigError, load_config
from webhook_app.config.summary import CRM_NAMES
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


def register(sub: Any, words: Mapping[str, str]) -> None:
    """Add `users` and `install`, their help in `words` (a `help` catalog)."""
    users = sub.add_parser("users", help=help_for("users", words))
    users.add_argument("--config", metavar=words["meta_config"], help=words["config_default"])
    users.set_defaults(handler=run_users)
    install = sub.add_parser("install", help=help_for("install", words))
    install.add_argument("--config", metavar=words["meta_config"], help=words["config_default"])
    install.add_argument(
        "--public-url", required=True, metavar=words["meta_public_url"], help=words["install_public_url"]
    )
    install.add_argument("--uninstall", action="store_true", help=words["install_uninstall"])
    install.add_argument("--show-secret", action="store_true", help=words["install_show_secret"])
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


@dataclass(frozen=True)
class _Crm:
    """What `users` and `install` work with: the admin client, the CRM, our database, the words."""

    admin: CrmAdmin
    type: str
    engine: Engine
    words: CliWords

    @property
    def label(self) -> str:
        """The CRM's name as people know it."""
        return CRM_NAMES.get(self.type, self.type)


def _crm_for(args: argparse.Namespace) -> _Crm | None:
    """The CRM's admin client, its type, our database and the config's words; None (said why)."""
    from webhook_app.bootstrap import crm_arguments, crm_module

    settings = Settings()
    try:
        loaded = load_config(resolve_config_path(args.config, settings))
    except ConfigError as exc:
        print("\n".join(str(p) for p in exc.problems), file=sys.stderr)
        return None
    words = CliWords(loaded.policy)
    module = crm_module(loaded.crm.type, "admin")
    if module is None:
        print(f"leadrouter: {words['no_client'].format(crm=loaded.crm.type)}", file=sys.stderr)
        return None
    from webhook_app.cli.common import open_database

    engine = open_database(settings)
    try:
        admin: CrmAdmin = module.build_admin(**crm_arguments(loaded, settings, engine))
    except AdapterError as exc:  # a first run without a token: what to set, not a traceback
        engine.dispose()
        print(f"leadrouter: {crm_refusal(words, exc)}", file=sys.stderr)
        return None
    return _Crm(admin, str(loaded.crm.type), engine, words)


def run_users(args: argparse.Namespace) -> int:
    """Print the block."""
    crm = _crm_for(args)
    if crm is None:
        return 1
    try:
        users = crm.admin.list_users()
    except AdminRightsNeeded as exc:
        print(
            f"leadrouter users: {crm.words['users_need_admin'].format(error=exc.crm_said)}", file=sys.stderr
        )
        return 1
    except AdapterError as exc:  # no rights, bad token, CRM unreachable: say so, no traceback
        print(f"leadrouter users: {crm.words['users_failed'].format(error=exc)}", file=sys.stderr)
        return 1
    print(managers_block([u for u in users if u.active]))
    return 0


def run_install(args: argparse.Namespace) -> int:
    """Register or remove the webhook."""
    settings = Settings()
    if settings.webhook_secret is None:
        print(f"leadrouter install: {words_for(args)['need_secret']}", file=sys.stderr)
        return 2
    crm = _crm_for(args)
    if crm is None:
        return 1
    try:
        steps = crm.admin.uninstall(args.public_url) if args.uninstall else crm.admin.install(args.public_url)
    except AdapterError as exc:
        failed = crm.words["uninstall_failed" if args.uninstall else "install_failed"]
        print(f"leadrouter install: {failed.format(error=exc)}", file=sys.stderr)
        return 1
    # The hook check re-registers a vanished hook at this URL, and leaves an uninstalled one alone.
    with crm.engine.begin() as connection:
        if args.uninstall:
            record_uninstall(connection, crm.type, args.clock())
        else:
            record_install(connection, crm.type, args.public_url.rstrip("/"), args.clock())
    secret = settings.webhook_secret.get_secret_value()
    for step in steps:
        for line in install_lines(step, crm.words, crm.label):
            print(line if args.show_secret else line.replace(secret, "***"))
    return 0


def install_lines(step: InstallStep, words: CliWords, crm: str) -> list[str]:
    """What `install` did, in the config's language (URLs as they are: the caller masks the secret)."""
    match step:
        case HookRegistered(destination, events, updated):
            done = words["install_updated" if updated else "install_registered"].format(
                crm=crm, url=destination
            )
            return [done, words["install_events"].format(events=", ".join(events))]
        case OtherHookFound(destination):
            return [words["install_other_hook"].format(crm=crm, url=destination)]
        case HookRemoved(destination):
            return [words["install_removed"].format(crm=crm, url=destination)]
        case NothingToRemove(destination):
            return [words["install_nothing_to_remove"].format(crm=crm, url=destination)]
        case EventBound(event, handler, already):
            key = "install_already_bound" if already else "install_bound"
            return [words[key].format(event=event, url=handler)]
        case EventUnbound(event, count):
            return [words["install_unbound"].format(event=event, count=count)]
        case EventFailed(event, error, unbinding):
            key = "install_unbind_failed" if unbinding else "install_bind_failed"
            return [words[key].format(event=event, error=error)]
        case AppTokenNeeded():
            return [words["install_app_token"]]
        case OutgoingWebhookSteps(handler, entity, events):
            named = ", ".join(f"{e} ({words[f'install_event_{entity}_{action}']})" for e, action in events)
            return words["install_outgoing"].format(url=handler, events=named).splitlines()
        case MissingScopes(scopes):
            return [words["install_missing_scopes"].format(scopes=", ".join(scopes))]
        case DeleteOutgoingWebhook(handler):
            return words["install_delete_outgoing"].format(url=handler).splitlines()
    raise AssertionError(f"an install step nobody words: {step!r}")
