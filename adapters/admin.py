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


class CrmAdmin(Protocol):
    """Administrative calls, implemented by each adapter's `admin.py` as `build_admin(...)`."""

    def list_users(self) -> list[CrmUser]:
        """Active users who can own leads (amoCRM: not free users; Bitrix24: with departments)."""
        ...

    def install(self, public_url: str) -> list[str]:
        """Register our webhook for `public_url` (or say exactly what to paste); lines to print."""
        ...

    def uninstall(self, public_url: str) -> list[str]:
        """Remove our webhook; lines to print."""
        ...

    def inventory(self) -> CrmInventory:
        """Pipelines with their stages, custom fields with their choices, and every user."""
        ...
