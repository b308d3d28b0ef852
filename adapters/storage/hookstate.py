"""Our webhook's health as the hook check last saw it, and where `leadrouter install` registered it.

One `kv` row per CRM for each: `hook:<crm>` (the state below) and `hook_install:<crm>` (the public
URL `install` registered, or that `install --uninstall` removed it — then the check leaves it alone).
Neither row ever holds the hook URL with its secret: only the public base URL is stored.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from adapters.storage.kv import entries_like, put_value, read_value

OK, DOWN, UNKNOWN, UNCHECKED = "ok", "down", "unknown", "unchecked"
STATES = (OK, DOWN, UNKNOWN, UNCHECKED)


def _state_key(crm: str) -> str:
    return f"hook:{crm}"


def _install_key(crm: str) -> str:
    return f"hook_install:{crm}"


@dataclass(frozen=True, slots=True)
class HookState:
    """The last check of one CRM's hook: `ok`, `down` (off and not repaired), `unknown` (could not be
    read this time: `error` says why) or `unchecked` (cannot be read in this setup, or uninstalled
    on purpose); since when it is not ok, and the last repair."""

    crm: str
    state: str
    checked_at: datetime
    problem: str = ""  # what the last check found wrong ("" when nothing)
    error: str = ""  # why it could not be repaired, or not read
    since: datetime | None = None  # down (or unknown) since
    repaired_at: datetime | None = None
    repaired: str = ""  # what the last repair fixed
    repairs: int = 0  # repairs so far

    def to_json(self) -> dict[str, Any]:
        """The row's value (moments as ISO text)."""
        value = asdict(self)
        for name in ("checked_at", "since", "repaired_at"):
            moment = value[name]
            value[name] = moment.isoformat() if moment is not None else None
        return value

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> HookState:
        """A stored row back (unknown keys from a newer version are ignored)."""
        names = set(cls.__dataclass_fields__)
        data = {k: v for k, v in value.items() if k in names}
        for name in ("checked_at", "since", "repaired_at"):
            if data.get(name):
                data[name] = datetime.fromisoformat(data[name])
        return cls(**data)

    def checked(self, state: str, now: datetime, **changes: Any) -> HookState:
        """This state after a check at `now`; `since` kept while it stays not ok."""
        since = None if state == OK else (self.since if self.state != OK and self.since else now)
        return replace(self, state=state, checked_at=now, since=since, **changes)


def hook_state(connection: Connection, crm: str) -> HookState | None:
    """The last check of `crm`'s hook, or None before the first."""
    value = read_value(connection, _state_key(crm))
    return HookState.from_json(value) if isinstance(value, dict) else None


def hook_states(connection: Connection) -> list[HookState]:
    """The last check of every CRM's hook, by CRM."""
    rows = entries_like(connection, "hook:%")
    states = [HookState.from_json(r.value) for r in rows if isinstance(r.value, dict)]
    return sorted(states, key=lambda s: s.crm)


def save_hook_state(connection: Connection, state: HookState) -> None:
    """Store a check's outcome."""
    put_value(connection, _state_key(state.crm), state.to_json(), state.checked_at)


@dataclass(frozen=True, slots=True)
class Install:
    """What `leadrouter install` last did: registered the hook under `public_url`, or removed it."""

    public_url: str | None
    removed: bool = False


def record_install(connection: Connection, crm: str, public_url: str, now: datetime) -> None:
    """`install` registered our hook under `public_url` (the service's base URL, no secret)."""
    put_value(connection, _install_key(crm), {"public_url": public_url, "removed": False}, now)


def record_uninstall(connection: Connection, crm: str, now: datetime) -> None:
    """`install --uninstall` removed our hook on purpose: the check must not put it back."""
    put_value(connection, _install_key(crm), {"public_url": None, "removed": True}, now)


def last_install(connection: Connection, crm: str) -> Install:
    """What `install` last did (nothing recorded: no URL, not removed)."""
    value = read_value(connection, _install_key(crm))
    if not isinstance(value, dict):
        return Install(None)
    url = value.get("public_url")
    return Install(str(url) if url else None, bool(value.get("removed")))
