"""`leadrouter users` and `leadrouter install` for amoCRM: who can own leads, our webhook (§1.7, §2.4)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine

from adapters.admin import (
    CrmField,
    CrmInventory,
    CrmPipeline,
    CrmUser,
    HookRegistered,
    HookRemoved,
    HookStatus,
    InstallStep,
    NothingToRemove,
    OtherHookFound,
)
from adapters.amocrm.catalog import SYSTEM_STAGES, Catalog
from adapters.amocrm.factory import build_http
from adapters.amocrm.schemas import Named, PipelineOut, UserOut, WebhookOut, embedded
from adapters.amocrm.team import read_team
from adapters.amocrm.transport import AmoHttp
from adapters.errors import AdminRightsNeeded, CrmError, PermanentCrmError

# What we need to hear about leads (§1.2): new ones, changes (echo check, overrides), stage moves,
# responsible changes, deletions.
EVENTS = ["add_lead", "update_lead", "status_lead", "responsible_lead", "delete_lead"]
_HOOK_SECRET = re.compile(r"(/hooks/amocrm/)[^/?#]+")


@dataclass
class AmoAdmin:
    """Administrative calls; they need a token issued by an account admin."""

    http: AmoHttp = field(repr=False)
    webhook_secret: str = field(default="", repr=False)

    def list_users(self) -> list[CrmUser]:
        """Users who can own leads: active and not free (read-only seats), every page read."""
        return [user for user in self._users() if user.active]

    def inventory(self) -> CrmInventory:
        """Pipelines and their stages, lead fields with their choices, every user, the loss reasons
        (§2.2, §2.4, §2.8, §2.9)."""
        catalog = Catalog(self.http)
        pipelines, fields = catalog.listing()
        return CrmInventory(
            pipelines=tuple(CrmPipeline(p.name, _stage_names(p)) for p in pipelines),
            fields=tuple(CrmField(str(f.id), f.name, tuple(e.value for e in f.enums or ())) for f in fields),
            users=tuple(self._users()),
            team=tuple(read_team(self.http)),
            loss_reasons=tuple(catalog.loss_reasons()),
        )

    def _users(self) -> list[CrmUser]:
        """Every user; `active` when they can own leads (active and not a free seat, §2.4)."""
        users: list[UserOut] = []
        groups: dict[int, str] = {}
        try:
            for page in self.http.pages("/api/v4/users", {"limit": 250, "with": "group"}):
                users += embedded(page, "users", UserOut)
                for user_page in (page.get("_embedded") or {}).get("users") or []:
                    groups |= {g.id: g.name for g in _groups(user_page) if g.id is not None}
        except PermanentCrmError as exc:
            raise AdminRightsNeeded(str(exc)) from exc
        return [
            CrmUser(
                id=u.id,
                name=u.name or f"user {u.id}",
                email=u.email or "",
                active=u.rights.is_active and not u.rights.is_free,  # assignable, per §2.4
                department=groups.get(u.rights.group_id, "") if u.rights.group_id is not None else "",
            )
            for u in users
        ]

    def install(self, public_url: str) -> list[InstallStep]:
        """Register (or update: amoCRM upserts by destination) our webhook; what happened."""
        destination = self._destination(public_url)
        before = self._hooks()
        body = {"destination": destination, "settings": EVENTS, "sort": 10}
        hook = WebhookOut.model_validate(self.http.send("POST", "/api/v4/webhooks", json=body) or {})
        updated = any(other.destination == destination for other in before)
        steps: list[InstallStep] = [HookRegistered(destination, tuple(hook.settings or EVENTS), updated)]
        for other in before:
            if other.destination != destination and "/hooks/amocrm/" in other.destination:
                steps.append(OtherHookFound(_mask(other.destination)))
        return steps

    def uninstall(self, public_url: str) -> list[InstallStep]:
        """Remove our webhook; what happened."""
        destination = self._destination(public_url)
        try:
            self.http.send("DELETE", "/api/v4/webhooks", json={"destination": destination})
        except PermanentCrmError as exc:
            if str(exc).startswith("404"):
                return [NothingToRemove(destination)]
            raise
        return [HookRemoved(destination)]

    def hook_status(self) -> HookStatus:
        """Our hook (its URL ends in our webhook secret): registered, enabled, every event (§1.5, §1.7)."""
        if not self.webhook_secret:
            return HookStatus(checkable=False, note="LEADROUTER_WEBHOOK_SECRET is not set")
        ours = [h for h in self._hooks() if self._is_ours(h.destination)]
        if not ours:
            return HookStatus(missing=tuple(EVENTS))
        # Several of ours (an old public URL and a new one): the best one tells the state.
        best = min(ours, key=lambda h: (h.disabled, len(set(EVENTS) - set(h.settings))))
        missing = tuple(e for e in EVENTS if e not in best.settings)
        return HookStatus(found=True, disabled=best.disabled, missing=missing, handler=best.destination)

    def repair_hook(self, status: HookStatus, public_url: str | None) -> HookStatus:
        """Subscribe again (amoCRM upserts by destination, and that re-enables a disabled hook)."""
        destination = status.handler or (self._destination(public_url) if public_url else None)
        if destination is None:
            raise CrmError(
                "no webhook of ours is registered and no public URL is known: run `leadrouter install`"
            )
        body = {"destination": destination, "settings": EVENTS, "sort": 10}
        self.http.send("POST", "/api/v4/webhooks", json=body)
        return self.hook_status()

    def _is_ours(self, destination: str) -> bool:
        path = urlsplit(destination).path.rstrip("/")
        return path.endswith(f"/hooks/amocrm/{self.webhook_secret}")

    def _destination(self, public_url: str) -> str:
        if not self.webhook_secret:
            raise CrmError("LEADROUTER_WEBHOOK_SECRET is not set")
        return f"{public_url.rstrip('/')}/hooks/amocrm/{self.webhook_secret}"

    def _hooks(self) -> list[WebhookOut]:
        hooks: list[WebhookOut] = []
        for page in self.http.pages("/api/v4/webhooks", {}):
            hooks += embedded(page, "webhooks", WebhookOut)
        return hooks


def _stage_names(pipeline: PipelineOut) -> tuple[str, ...]:
    """A pipeline's stages; won and lost exist in every pipeline even when a listing leaves them out."""
    names = [s.name for s in pipeline.embedded.statuses]
    return tuple(names + [name for name in SYSTEM_STAGES.values() if name not in names])


def _groups(user: dict[str, Any]) -> list[Named]:
    return [Named.model_validate(g) for g in (user.get("_embedded") or {}).get("groups") or []]


def _mask(url: str) -> str:
    """A hook URL with its secret hidden: it is someone's webhook secret too."""
    return _HOOK_SECRET.sub(r"\1***", url)


def build_admin(*, crm: dict[str, Any], secrets: dict[str, Any], engine: Engine, **options: Any) -> AmoAdmin:
    """The admin client for this config (options as for factory.build_http)."""
    http = build_http(crm=crm, secrets=secrets, engine=engine, **options)
    return AmoAdmin(http, webhook_secret=str(secrets.get("webhook_secret") or ""))
