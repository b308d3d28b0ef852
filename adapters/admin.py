"""What `leadrouter users`, `install` and `check-config --online` need from a CRM adapter, CRM-neutral."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from core.team import CrmPerson


@dataclass(frozen=True, slots=True)
class CrmUser:
    """A CRM user who could be a manager in the config."""

    id: int
    name: str
    email: str = ""
    active: bool = True
    department: str = ""


@dataclass(frozen=True, slots=True)
class CrmField:
    """A custom field of leads (or deals): its id, the name people know it by, its list values."""

    id: str
    name: str
    choices: tuple[str, ...] = ()  # a select / list field's values; empty for a free-form field


@dataclass(frozen=True, slots=True)
class CrmPipeline:
    """A pipeline (Bitrix24: a deal funnel) and its stages; Bitrix24 leads have one without a name."""

    name: str | None
    stages: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CrmInventory:
    """The names a config may use, as the CRM has them now: pipelines, fields, every user."""

    pipelines: tuple[CrmPipeline, ...]
    fields: tuple[CrmField, ...]
    users: tuple[CrmUser, ...]  # active or not: `active` says whether they can own leads
    team: tuple[CrmPerson, ...] = ()  # every user with their groups / departments (pools follow them)
    loss_reasons: tuple[str, ...] = ()  # the CRM's own loss reasons (amoCRM; Bitrix24 has none)


# What `install` and `install --uninstall` did, as data: the CLI words it in the config's language.
# URLs hold the webhook secret where they are ours (the CLI masks it unless --show-secret).


@dataclass(frozen=True, slots=True)
class HookRegistered:
    """amoCRM: our webhook subscribed at `destination` (`updated`: it was there, now refreshed)."""

    destination: str
    events: tuple[str, ...]
    updated: bool = False


@dataclass(frozen=True, slots=True)
class OtherHookFound:
    """amoCRM: another leadrouter hook (an older public URL) is still registered; secret masked."""

    destination: str


@dataclass(frozen=True, slots=True)
class HookRemoved:
    """Our webhook at `destination` was removed."""

    destination: str


@dataclass(frozen=True, slots=True)
class NothingToRemove:
    """No webhook of ours was registered at `destination`."""

    destination: str


@dataclass(frozen=True, slots=True)
class EventBound:
    """Bitrix24 app: `event` bound to `handler` now, or `already` before this run."""

    event: str
    handler: str
    already: bool = False


@dataclass(frozen=True, slots=True)
class EventUnbound:
    """Bitrix24 app: `event` unbound from `count` handlers of ours."""

    event: str
    count: int


@dataclass(frozen=True, slots=True)
class EventFailed:
    """Bitrix24 app: binding (or with `unbinding`, unbinding) `event` failed; `error` as the CRM said."""

    event: str
    error: str
    unbinding: bool = False


@dataclass(frozen=True, slots=True)
class AppTokenNeeded:
    """Bitrix24 app: LEADROUTER_BITRIX24_APP_TOKEN must hold the application_token sent at install."""


@dataclass(frozen=True, slots=True)
class OutgoingWebhookSteps:
    """Bitrix24 incoming webhook: create an outgoing webhook by hand to `handler` for `events`, each
    with what it reports (`add`, `update` or `delete` of the `entity`, lead or deal)."""

    handler: str
    entity: str
    events: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class MissingScopes:
    """Bitrix24 incoming webhook: it lacks these scopes, which our calls need."""

    scopes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DeleteOutgoingWebhook:
    """Bitrix24 incoming webhook: it cannot unbind; delete the outgoing webhook to `handler` by hand."""

    handler: str


InstallStep = (
    HookRegistered
    | OtherHookFound
    | HookRemoved
    | NothingToRemove
    | EventBound
    | EventUnbound
    | EventFailed
    | AppTokenNeeded
    | OutgoingWebhookSteps
    | MissingScopes
    | DeleteOutgoingWebhook
)


class CrmAdmin(Protocol):
    """Administrative calls, implemented by each adapter's `admin.py` as `build_admin(...)`."""

    def list_users(self) -> list[CrmUser]:
        """Active users who can own leads (amoCRM: not free users; Bitrix24: with departments)."""
        ...

    def install(self, public_url: str) -> list[InstallStep]:
        """Register our webhook for `public_url` (or say exactly what to paste); what happened."""
        ...

    def uninstall(self, public_url: str) -> list[InstallStep]:
        """Remove our webhook; what happened."""
        ...

    def inventory(self) -> CrmInventory:
        """Pipelines with their stages, custom fields with their choices, and every user."""
        ...


NO_URL = "no webhook of ours is left in the CRM and no public URL is known: run `leadrouter install` once"


@dataclass(frozen=True, slots=True)
class HookStatus:
    """Our webhook as the CRM has it now. `checkable` is False where it cannot be read (a Bitrix24
    incoming webhook may not list event bindings; `note` says why). `handler` is our hook URL as
    registered (it holds the webhook secret: never log or show it)."""

    checkable: bool = True
    found: bool = False  # some subscription of ours exists
    disabled: bool = False  # amoCRM switched it off (more than 100 failed deliveries in 2 hours)
    missing: tuple[str, ...] = ()  # events we need that nothing of ours is subscribed to
    handler: str | None = None
    note: str = ""

    @property
    def healthy(self) -> bool:
        """Present, enabled and subscribed to every event we need (or not checkable at all)."""
        return not self.checkable or (self.found and not self.disabled and not self.missing)

    def problem(self) -> str:
        """What is wrong, in words for the audit and the logs (no URL, no secret)."""
        if not self.checkable:
            return self.note
        if not self.found:
            return "no webhook of ours is registered"
        parts = ["the webhook is disabled"] if self.disabled else []
        if self.missing:
            parts.append(f"not subscribed to {', '.join(self.missing)}")
        return "; ".join(parts) or "healthy"


class HookKeeper(Protocol):
    """Reads and repairs our webhook subscription (each adapter's admin client implements it)."""

    def hook_status(self) -> HookStatus:
        """Our hook (found by the webhook secret in its URL) as the CRM has it now."""
        ...

    def repair_hook(self, status: HookStatus, public_url: str | None) -> HookStatus:
        """Re-enable or re-register what `status` found wrong, at the URL already registered or else
        at `public_url` (recorded by `install`); the status read back afterwards."""
        ...
