"""The emulator as one object: a Flask app on a loopback port, plus the helpers tests act through."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from sandbox.amocrm.api_leads import leads_blueprint
from sandbox.amocrm.api_more import more_blueprint
from sandbox.amocrm.changes import apply_lead_changes, create_lead
from sandbox.amocrm.guard import Faults, Limiter, Tokens
from sandbox.amocrm.hooks import HookSender
from sandbox.amocrm.render import problem
from sandbox.amocrm.state import LOST, Account, Lead, Party, User, seed

ADMIN = 504100
BANNED = "Аккаунт заблокирован за неоднократное превышение количества запросов в секунду (account blocked)"
HTML_429 = "<html><head><title>429 Too Many Requests</title></head><body><h1>429</h1></body></html>"


@dataclass(frozen=True)
class Logged:
    """One API request as the emulator saw it (no headers: they hold the token)."""

    method: str
    path: str
    status: int
    query: str
    body: Any


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class AmoEmulator:
    """A stateful amoCRM account on http://127.0.0.1:<port>; `with AmoEmulator() as emu: …`."""

    def __init__(
        self,
        *,
        rate: int | None = 7,
        jitter: float = 0.0,
        hook_threads: int = 4,
        hooks_per_post: int = 50,
        account: Account | None = None,
    ) -> None:
        self.account = account if account is not None else seed(Account())
        self.tokens = Tokens(self.account.clock)
        self.limiter = Limiter(rate=rate, jitter=jitter)  # jitter: network delay, 0…s per request
        self.faults = Faults()
        self.hooks = HookSender(self.account, self.faults, threads=hook_threads, per_post=hooks_per_post)
        self.log: list[Logged] = []
        self._log_lock = threading.Lock()
        self.app = self._app()
        self._server: BaseWSGIServer | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self, port: int = 0) -> AmoEmulator:
        self._server = make_server("127.0.0.1", port, self.app, threaded=True, request_handler=_Quiet)
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        self.hooks.close()

    def __enter__(self) -> AmoEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        return f"http://127.0.0.1:{self._server.server_port}"

    # -- what a test does as amoCRM's users ---------------------------------------------------------
    def admin_token(self) -> str:
        """A long-lived token of the account's (first) admin, as Settings → Integrations issues one."""
        with self.account.lock:
            admin = next((u.id for u in self.account.users.values() if u.is_admin), ADMIN)
        return self.tokens.long_lived(admin)

    def create_lead(self, **fields: Any) -> Lead:
        """A lead created by a form or a person; subscribed hooks get `add_lead`."""
        return create_lead(self.account, self.hooks, **fields)

    def create_leads(self, count: int, **fields: Any) -> list[Lead]:
        """Many leads at once, each announced by its own `add_lead` hook (one POST per lead)."""
        return [create_lead(self.account, self.hooks, name=f"Заявка {i + 1}", **fields) for i in range(count)]

    def add_party(
        self, kind: str, name: str, *, responsible: int, phone: str | None = None, **extra: Any
    ) -> Party:
        """A contact or company; `created_at` defaults to long ago (an existing client)."""
        account = self.account
        with account.lock:
            party = Party(
                account.new_id("party"),
                kind,
                name,
                responsible,
                extra.pop("created_at", account.now() - 86400 * 30),
                **extra,
            )
            phone_field = account.field_by_code("contacts", "PHONE")
            if phone and phone_field is not None:
                party.fields[phone_field.id] = [{"value": phone, "enum_code": "WORK"}]
            account.parties[party.id] = party
        return party

    def add_user(self, user_id: int, name: str, *, group: str | None = None, **rights: bool) -> User:
        """An admin adds a user (Settings → Users), in a group by name (created if new); from then on
        `GET /api/v4/users` lists them and they can own leads (§2.4)."""
        account = self.account
        with account.lock:
            group_id = self._group_id(group) if group is not None else None
            user = User(user_id, name, f"user{user_id}@example.ru", group_id=group_id, **rights)
            account.users[user_id] = user
        return user

    def deactivate_user(self, user_id: int) -> None:
        """An admin deactivates a user: listed with `rights.is_active: false`, kept in their group, and
        refused as a responsible from now on (400 `NotSupportedChoice`, §2.3, §6)."""
        with self.account.lock:
            self.account.users[user_id].is_active = False

    def move_user(self, user_id: int, group: str | None) -> None:
        """An admin moves a user to another group (by name; None: out of every group)."""
        with self.account.lock:
            self.account.users[user_id].group_id = self._group_id(group) if group is not None else None

    def _group_id(self, name: str) -> int:
        groups = self.account.groups
        found = next((gid for gid, gname in groups.items() if gname == name), None)
        if found is None:
            found = max(groups, default=0) + 1
            groups[found] = name
        return found

    def person_sets_responsible(self, lead_id: int, user_id: int, *, by: int = ADMIN) -> None:
        """A person changes the responsible in the card: `responsible_lead` + `update_lead`."""
        apply_lead_changes(
            self.account, self.hooks, [(self.account.leads[lead_id], {"responsible_user_id": user_id})], by
        )

    def person_moves(
        self, lead_id: int, status_id: int, *, by: int = ADMIN, loss_reason: str | None = None
    ) -> None:
        """A person drags the lead to another stage: `status_lead` + `update_lead`. Dropped on lost
        (143), the lead asks why: `loss_reason` (one of the account's reasons, by name) is saved
        with the move."""
        change: dict[str, Any] = {"status_id": status_id}
        with self.account.lock:
            if loss_reason is not None:
                reason = self.account.loss_reason_by_name(loss_reason)
                if reason is None or status_id != LOST:
                    raise ValueError(f"{loss_reason!r} is no loss reason of the account, or not on lost")
                change["loss_reason_id"] = reason.id
            apply_lead_changes(self.account, self.hooks, [(self.account.leads[lead_id], change)], by)

    def delete_lead(self, lead_id: int) -> None:
        """A person deletes the lead in the UI: from then on `GET /api/v4/leads/{id}` answers 204, a
        PATCH naming it is refused (NotFound at `id`), a task or note on it "Entity not found"; the
        hooks subscribed to `delete_lead` get `leads[delete]` with its id (§1.1)."""
        with self.account.lock:
            self.account.leads.pop(lead_id)
        self.hooks.emit("delete", [{"id": lead_id}])

    def dp_webhook(self, destination: str, lead_id: int, old_status_id: int) -> None:
        """The stage's "send webhook" action (§1.8): minimal `leads[status]`, sent once, no retries."""
        lead = self.account.leads[lead_id]
        fields = {"id": lead.id, "status_id": lead.status_id, "pipeline_id": lead.pipeline_id}
        fields |= {"old_status_id": old_status_id, "old_pipeline_id": lead.pipeline_id}
        self.hooks.send_once(destination, "status", [fields])

    def subscribe(self, destination: str, settings: list[str]) -> None:
        """Register a webhook as an admin would in the UI."""
        from sandbox.amocrm.state import Webhook

        with self.account.lock:
            self.account.webhooks[destination] = Webhook(
                0, destination, settings, 0, self.account.now(), ADMIN
            )

    def advance(self, seconds: float) -> None:
        """Move emulated time forward (token expiry, webhook retries)."""
        self.account.clock.advance(seconds)
        self.hooks.due_retries()

    # -- what a test checks ---------------------------------------------------------------------------
    def requests(self, method: str | None = None, path: str | None = None) -> list[Logged]:
        with self._log_lock:
            return [r for r in self.log if method in (None, r.method) and path in (None, r.path)]

    def tasks_for(self, lead_id: int) -> list[dict[str, Any]]:
        return [t for t in self.account.tasks if t.get("entity_id") == lead_id]

    def notes_for(self, lead_id: int) -> list[dict[str, Any]]:
        return [n for n in self.account.notes if n.get("entity_id") == lead_id]

    # -- the app ----------------------------------------------------------------------------------------
    def _app(self) -> Flask:
        app = Flask("amocrm_emulator")
        app.register_blueprint(leads_blueprint(self.account, self.hooks))
        app.register_blueprint(more_blueprint(self.account, self.tokens))
        app.before_request(self._guard)
        app.after_request(self._record)
        return app

    def _guard(self) -> Response | None:
        if self.faults.latency:
            time.sleep(self.faults.latency)
        if self.faults.down:  # the API is down: its gateway answers, nothing is counted
            return problem(self.faults.fail_status, "Service unavailable", trace_id="emulated")
        verdict = self.limiter.arrive()
        if verdict == "403":
            return problem(403, BANNED)
        if verdict == "429":
            if self.limiter.html_429:  # a gateway's page, not JSON (§4, [S])
                headers = {"Retry-After": str(self.limiter.retry_after)}
                return Response(HTML_429, 429, headers=headers, content_type="text/html")
            return problem(429, "Too many requests, try again later.", retry_after=self.limiter.retry_after)
        failure = self.faults.failure()
        if failure is not None:
            return problem(failure, "Internal error", trace_id="emulated")
        if request.path.startswith("/oauth2/"):
            return None
        header = request.headers.get("Authorization", "")
        user = self.tokens.user_of(header[7:]) if header.startswith("Bearer ") else None
        if user is None:
            return problem(401, "Invalid user name or password")
        g.user_id = user
        return None

    def _record(self, response: Response) -> Response:
        body = request.get_json(silent=True) if not request.path.startswith("/oauth2/") else None
        entry = Logged(
            request.method, request.path, response.status_code, request.query_string.decode(), body
        )
        with self._log_lock:
            self.log.append(entry)
        return response
