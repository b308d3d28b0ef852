"""What `leadrouter users` and `leadrouter install` need from a CRM adapter, CRM-neutral."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class CrmUser:
    """A CRM user who could be a manager in the config."""

    id: int
    name: str
    email: str = ""
    active: bool = True
    department: str = ""


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
