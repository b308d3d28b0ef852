"""The CRM side of `leadrouter sandbox`, picked by the config's `crm.type`: the bundled amoCRM or
Bitrix24 emulator, seeded for the config, the credentials the service gets for it, and the player
that feeds it the lead stream."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from webhook_app.config.schema import ConfigModel

Say = Callable[[str], None]
TEN_YEARS = 10 * 365 * 86400.0  # the sandbox app's access token outlives any demo (see Bitrix24Crm)


class Player(Protocol):
    """Plays one tick of the lead stream into the emulator."""

    def step(self) -> Any: ...


@dataclass
class Emulated:
    """A running emulator and what the sandbox needs of it."""

    name: str  # "amoCRM" or "Bitrix24", for people
    hook: str  # the path segment of our hook URL: /hooks/<hook>/<secret>
    url: str
    env: dict[str, str]  # the service's credentials for it
    player: Callable[[int, Say], Player]  # (seed, say) → the player of the lead stream
    stop: Callable[[], None]
    store_tokens: Callable[[str], None] = lambda database_url: None  # before `install` runs


def start(document: ConfigModel) -> Emulated:
    """The emulator of the config's CRM, started and seeded."""
    if document.crm.type == "bitrix24":
        return _bitrix24(document)
    return _amocrm(document)


def _amocrm(document: ConfigModel) -> Emulated:
    from sandbox.amocrm import AmoEmulator
    from sandbox.company import build_account
    from sandbox.leads import LeadStream
    from sandbox.player import Player as AmoPlayer
    from webhook_app.config.sandbox import layout

    account, form_user = build_account(layout(document))
    emu = AmoEmulator(account=account).start()

    def player(seed: int, say: Say) -> Player:
        return AmoPlayer(emu, LeadStream(seed=seed), form_user, say=say, language=document.language)

    env = {"LEADROUTER_AMOCRM_TOKEN": emu.admin_token()}
    return Emulated("amoCRM", "amocrm", emu.url, env, player, emu.stop)


def _bitrix24(document: ConfigModel) -> Emulated:
    """The portal as an installed app sees it: OAuth tokens handed over at install (ONAPPINSTALL),
    which lets `leadrouter install` bind the events with event.bind, as on a real portal."""
    from sandbox.bitrix24 import Bitrix24Emulator
    from sandbox.bitrix24.demo import Bitrix24Player, seed_portal
    from sandbox.leads import LeadStream
    from webhook_app.config.sandbox import layout

    crm = document.crm
    running = ExitStack()
    emu = Bitrix24Emulator(domain=getattr(crm, "domain", None) or "b24.example.ru")
    member = getattr(crm, "member_id", None)
    if member:  # events carry the portal's member_id, which the service checks against the config
        emu.portal.member_id = str(member)
    running.enter_context(emu)
    try:
        portal = seed_portal(emu, layout(document))
    except BaseException:
        running.close()  # nothing else started yet: the emulator must not outlive the failure
        raise
    access, refresh = emu.issue_tokens()
    # The service refreshes an access token at Bitrix24's own OAuth server, which the sandbox cannot
    # be: the token it is given lives as long as any demo instead of an hour.
    with emu.portal.lock:
        emu.portal.access[access] = emu.portal.clock() + TEN_YEARS
    client_id, client_secret = emu.portal.oauth_client
    env = {
        "LEADROUTER_BITRIX24_CLIENT_ID": client_id,
        "LEADROUTER_BITRIX24_CLIENT_SECRET": client_secret,
        "LEADROUTER_BITRIX24_APP_TOKEN": emu.portal.app_token,
    }

    def store_tokens(database_url: str) -> None:
        """Where the service keeps the app's tokens, as the install handler would have put them."""
        from adapters.storage.engine import make_engine
        from adapters.storage.migrate import upgrade_database
        from webhook_app.bootstrap import crm_module

        oauth = crm_module("bitrix24", "oauth")  # the composition root's way to a CRM adapter
        assert oauth is not None, "this version ships the Bitrix24 adapter"
        engine = make_engine(database_url)
        try:
            upgrade_database(engine)
            pair = oauth.TokenPair(access, refresh, TEN_YEARS)
            oauth.install_tokens(engine, pair, now=emu.portal.clock())
        finally:
            engine.dispose()

    def player(seed: int, say: Say) -> Player:
        return Bitrix24Player(emu, LeadStream(seed=seed), portal, say=say, language=document.language)

    return Emulated("Bitrix24", "bitrix24", emu.url, env, player, running.close, store_tokens)
