"""Setting up an emulated portal from a test: webhooks, tokens, users, fields, records, robots."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sandbox.bitrix24.crm import Ctx
from sandbox.bitrix24.portal import Handler, Portal, status_row

ALL_SCOPES = ["crm", "user", "department", "im", "task", "basic"]


class PortalSetup:
    """Mixed into the emulator: what a test arranges before (or while) the client talks to it."""

    portal: Portal

    @property
    def url(self) -> str:
        """The portal's base URL (the emulator's address)."""
        raise NotImplementedError

    methods: dict[str, Callable[[dict[str, Any], Ctx], Any]]

    def _ctx(self, auth: str, user: int, scopes: list[str]) -> Ctx:
        raise NotImplementedError

    # --- set-up helpers --------------------------------------------------------------------
    def add_webhook(self, user: int = 1, secret: str | None = None, scopes: list[str] | None = None) -> str:
        """An incoming webhook; returns its URL (`.../rest/<user>/<secret>/`)."""
        secret = secret or secrets.token_hex(8)
        self.portal.webhooks[(str(user), secret)] = scopes or ALL_SCOPES
        return f"{self.url}/rest/{user}/{secret}/"

    def add_outgoing_webhook(self, url: str, events: list[str], token: str) -> None:
        """An outgoing webhook made in the UI: events without user tokens, carrying `token`."""
        for event in events:
            self.portal.handlers.append(Handler(self.portal.next_id("handler"), event, url, "webhook", token))

    def remove_bindings(self, events: list[str] | None = None) -> int:
        """The app's event bindings go (all, or those of `events`), as when an admin removes them or
        the app is updated — "its actions will be removed" (§1.1); `event.get` then lists the rest.
        Returns how many went."""
        wanted = {e.upper() for e in events} if events is not None else None
        with self.portal.lock:
            keep = [
                h
                for h in self.portal.handlers
                if h.kind != "app" or (wanted is not None and h.event not in wanted)
            ]
            gone = len(self.portal.handlers) - len(keep)
            self.portal.handlers[:] = keep
        return gone

    def issue_tokens(self) -> tuple[str, str]:
        """A fresh OAuth pair, as the app receives at install (ONAPPINSTALL)."""
        access, refresh = secrets.token_hex(16), secrets.token_hex(16)
        with self.portal.lock:
            self.portal.access[access] = self.portal.clock() + 3600
            self.portal.refresh.add(refresh)
        return access, refresh

    def add_user(
        self,
        uid: int,
        name: str,
        last: str = "",
        *,
        email: str = "",
        departments: tuple[int, ...] = (),
        active: bool = True,
        absent: str | None = None,
    ) -> None:
        """A portal user (ACTIVE is a real boolean in user.get, §2.5)."""
        user = {"ID": str(uid), "ACTIVE": active, "NAME": name, "LAST_NAME": last, "EMAIL": email}
        self.portal.users[uid] = user | {"UF_DEPARTMENT": list(departments), "USER_TYPE": "employee"}
        if absent:
            self.portal.users[uid]["_absent"] = absent

    def add_department(self, did: int, name: str, parent: int | None = None) -> None:
        """A department."""
        self.portal.departments[did] = {
            "ID": str(did),
            "NAME": name,
            "SORT": 500,
            "PARENT": str(parent or ""),
        }

    def add_field(self, entity: str, fid: str, label: str, items: dict[str, str] | None = None) -> None:
        """A custom UF_ field with its labels (and list items) as crm.<entity>.fields shows it."""
        meta: dict[str, Any] = {
            "type": "enumeration" if items else "string",
            "isMultiple": False,
            "isDynamic": True,
        }
        meta |= {"title": fid, "listLabel": label, "formLabel": label, "filterLabel": label}
        if items:
            meta["items"] = [{"ID": k, "VALUE": v} for k, v in items.items()]
        self.portal.fields[entity][fid] = meta

    def add_deal_stage(self, stage_id: str, name: str, *, sort: int, category: int = 0) -> str:
        """A stage an admin adds to a deal funnel (custom stages get `UC_…` ids; other funnels
        prefix them `C<n>:`); returns the STAGE_ID deals carry."""
        full = stage_id if category == 0 else f"C{category}:{stage_id}"
        entity = "DEAL_STAGE" if category == 0 else f"DEAL_STAGE_{category}"
        with self.portal.lock:
            self.portal.statuses.append(status_row(entity, full, name, sort, None, str(category)))
        return full

    def create(self, entity: str, fields: dict[str, Any] | None = None, *, robot: bool = False) -> int:
        """Create a record as a person (or a robot: events then carry no tokens); events follow."""
        ctx = self._ctx("app", 1, ALL_SCOPES)
        with self.portal.lock, self.as_robot(robot):
            return int(self.methods[f"crm.{entity}.add"]({"fields": fields or {}}, ctx))

    def update(self, entity: str, number: int, fields: dict[str, Any], *, robot: bool = False) -> None:
        """Change a record as a person in the UI (or a robot); events follow."""
        with self.portal.lock, self.as_robot(robot):
            self.methods[f"crm.{entity}.update"](
                {"id": number, "fields": fields}, self._ctx("app", 1, ALL_SCOPES)
            )

    def delete(self, entity: str, number: int) -> None:
        """Delete a record as a person in the UI; ONCRM<ENTITY>DELETE follows."""
        with self.portal.lock:
            self.methods[f"crm.{entity}.delete"]({"id": number}, self._ctx("app", 1, ALL_SCOPES))

    def record(self, entity: str, number: int) -> dict[str, Any]:
        """A record as stored."""
        return dict(self.portal.records[entity][number])

    @contextmanager
    def as_robot(self, robot: bool = True) -> Iterator[None]:
        """Changes made inside are a robot's: their events carry no tokens (§1.2)."""
        before, self.portal.robot = self.portal.robot, robot or self.portal.robot
        try:
            yield
        finally:
            self.portal.robot = before
