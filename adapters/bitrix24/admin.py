"""`leadrouter users` and `leadrouter install` for Bitrix24 (`build_admin`, found by bootstrap).

Subscribing (bitrix24.md §1.1): an OAuth app binds events with `event.bind`; an incoming webhook
is not allowed to, so for that setup we print the exact outgoing-webhook settings to paste, and
the application token it shows is what LEADROUTER_BITRIX24_APP_TOKEN must hold (§1.5).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine

from adapters.admin import (
    NO_URL,
    AppTokenNeeded,
    CrmField,
    CrmInventory,
    CrmPipeline,
    CrmUser,
    DeleteOutgoingWebhook,
    EventBound,
    EventFailed,
    EventUnbound,
    HookStatus,
    InstallStep,
    MissingScopes,
    OutgoingWebhookSteps,
)
from adapters.bitrix24 import directory
from adapters.bitrix24.auth import WebhookUrl
from adapters.bitrix24.batch import run_batch
from adapters.bitrix24.client import Bitrix24Client
from adapters.bitrix24.factory import build_client
from adapters.errors import CrmError

EVENTS = {
    "lead": ["ONCRMLEADADD", "ONCRMLEADUPDATE", "ONCRMLEADDELETE"],
    # §1.3: a move to another funnel fires only ONCRMDEALMOVETOCATEGORY, which only apps can bind.
    "deal": ["ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALDELETE"],
}
APP_ONLY = {"deal": ["ONCRMDEALMOVETOCATEGORY"], "lead": []}
SCOPES = ("crm", "user", "department", "im")  # what our calls need (§4.4); `basic` is implicit


class Bitrix24Admin:
    """Users and event subscriptions of one portal."""

    def __init__(self, client: Bitrix24Client, *, webhook_secret: str | None) -> None:
        self.client = client
        self.secret = webhook_secret or "<LEADROUTER_WEBHOOK_SECRET>"
        self.has_secret = bool(webhook_secret)

    @property
    def is_app(self) -> bool:
        """True for an OAuth app (event.bind allowed), False for an incoming webhook."""
        return not isinstance(self.client.transport.credentials, WebhookUrl)

    def handler(self, public_url: str) -> str:
        """Our hook URL for this portal."""
        return f"{public_url.rstrip('/')}/hooks/bitrix24/{self.secret}"

    def list_users(self) -> list[CrmUser]:
        """Active employees with their departments."""
        return self.client.users()

    def inventory(self) -> CrmInventory:
        """Stages by funnel (deals) or the lead statuses, UF fields with list items, every employee."""
        catalog = self.client.catalog()
        funnels: dict[str | None, list[str]] = {}
        for stage in catalog.stages():
            funnels.setdefault(stage.pipeline, []).append(stage.name)
        return CrmInventory(
            pipelines=tuple(CrmPipeline(name, tuple(stages)) for name, stages in funnels.items()),
            fields=tuple(CrmField(f.id, f.label, tuple(f.items.values())) for f in catalog.fields().values()),
            users=tuple(directory.users(self.client.transport, active_only=False)),
            team=tuple(directory.team(self.client.transport)),
        )

    def install(self, public_url: str) -> list[InstallStep]:
        """Bind our events (app), or say exactly what to set up by hand (webhook); what happened."""
        entity, handler = self.client.entity, self.handler(public_url)
        if not self.is_app:
            return self._webhook_instructions(entity, handler)
        wanted = EVENTS[entity] + APP_ONLY[entity]
        bound = self._bound(handler)
        todo = [e for e in wanted if e not in bound]
        calls = {e: ("event.bind", {"event": e, "handler": handler}) for e in todo}
        outcome = run_batch(self.client.transport, calls)
        steps: list[InstallStep] = [EventBound(e, handler, already=True) for e in wanted if e in bound]
        for event in todo:
            error = outcome.errors.get(event)
            steps.append(EventBound(event, handler) if error is None else EventFailed(event, str(error)))
        steps.append(AppTokenNeeded())
        return steps

    def uninstall(self, public_url: str) -> list[InstallStep]:
        """Unbind our events (app), or say what to delete (webhook); what happened."""
        entity, handler = self.client.entity, self.handler(public_url)
        if not self.is_app:
            return [DeleteOutgoingWebhook(handler)]
        calls = {
            e: ("event.unbind", {"event": e, "handler": handler}) for e in EVENTS[entity] + APP_ONLY[entity]
        }
        outcome = run_batch(self.client.transport, calls)
        steps: list[InstallStep] = []
        for event in calls:
            error, result = outcome.errors.get(event), outcome.results.get(event)
            count = result.get("count", 0) if isinstance(result, dict) else 0
            steps.append(
                EventFailed(event, str(error), unbinding=True) if error else EventUnbound(event, count)
            )
        return steps

    def hook_status(self) -> HookStatus:
        """Our event bindings (handler URLs ending in our webhook secret) for every event we need
        (bitrix24.md §1.1: an app update or an admin removes them; a portal never resends, §1.6)."""
        if not self.has_secret:
            return HookStatus(checkable=False, note="LEADROUTER_WEBHOOK_SECRET is not set")
        if not self.is_app:
            return HookStatus(
                checkable=False,
                note="an incoming webhook cannot read event bindings (event.get needs an app); "
                "check the outgoing webhook in Bitrix24 by hand",
            )
        wanted = EVENTS[self.client.entity] + APP_ONLY[self.client.entity]
        items = self.client.transport.call("event.get").get("result") or []
        ours = [
            (str(i.get("event", "")).upper(), str(i.get("handler", "")))
            for i in items
            if isinstance(i, dict) and self._is_ours(str(i.get("handler", "")))
        ]
        bound = {event for event, _ in ours}
        handler = next((url for _, url in ours), None)
        missing = tuple(e for e in wanted if e not in bound)
        return HookStatus(found=bool(ours), missing=missing, handler=handler)

    def repair_hook(self, status: HookStatus, public_url: str | None) -> HookStatus:
        """Bind every missing event again, to the handler URL still bound or else `public_url`."""
        handler = status.handler or (self.handler(public_url) if public_url else None)
        if handler is None:
            raise CrmError(NO_URL)
        calls = {e: ("event.bind", {"event": e, "handler": handler}) for e in status.missing}
        outcome = run_batch(self.client.transport, calls)
        after = self.hook_status()
        if not after.healthy and outcome.errors:  # the first refusal says why
            event, error = next(iter(outcome.errors.items()))
            raise CrmError(f"event.bind {event}: {error}")
        return after

    def _is_ours(self, handler: str) -> bool:
        return urlsplit(handler).path.rstrip("/").endswith(f"/hooks/bitrix24/{self.secret}")

    def _bound(self, handler: str) -> set[str]:
        items = self.client.transport.call("event.get").get("result") or []
        return {
            str(i.get("event", "")).upper()
            for i in items
            if isinstance(i, dict) and i.get("handler") == handler
        }

    def _webhook_instructions(self, entity: str, handler: str) -> list[InstallStep]:
        prefix = len(f"ONCRM{entity.upper()}")  # ONCRMLEADADD reports an ADD
        events = tuple((e, e[prefix:].lower()) for e in EVENTS[entity])
        steps: list[InstallStep] = [OutgoingWebhookSteps(handler, entity, events)]
        missing = self._missing_scopes()
        if missing:
            steps.append(MissingScopes(tuple(missing)))
        return steps

    def _missing_scopes(self) -> list[str]:
        granted = self.client.transport.call("scope").get("result") or []
        return [s for s in SCOPES if s not in granted]


def build_admin(
    *, crm: Mapping[str, Any], secrets: Mapping[str, str | None], engine: Engine, **options: Any
) -> Bitrix24Admin:
    """The admin for the config's portal; `options` go to build_client (transport, sleep, …)."""
    client = build_client(crm=crm, secrets=secrets, engine=engine, **options)
    return Bitrix24Admin(client, webhook_secret=secrets.get("webhook_secret"))
