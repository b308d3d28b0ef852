"""A stateful Bitrix24 portal over loopback HTTP, for adapter tests, end-to-end tests and benchmarks.

What it reproduces is listed in bitrix24.md §9: webhook-URL (`/rest/<user>/<secret>/<method>`)
and OAuth (`/rest/<method>` + `auth`) calls with JSON or form bodies (§9.6); the envelope with
`time`, `total`, `next` (§9.7); legacy "Not found" with an empty code (§9.8); `batch` with its
50-command cap, `halt`, `result_error`, `$result[...]` (§9.9); the leaky bucket → 503
QUERY_LIMIT_EXCEEDED (§9.10), counted on arrival, after an optional seeded network `jitter`;
OPERATION_TIME_LIMIT on demand (§9.11); expired_token after an hour of emulated time and
rotating refresh tokens (§9.12); 5xx and HTML faults (§9.13); events POSTed after every change,
our own included (§9.1–9.4, bitrix24_events).
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.serving import WSGIRequestHandler, make_server

from sandbox.bitrix24.batch import BatchRunner
from sandbox.bitrix24.crm import Ctx, Listed, crm_methods
from sandbox.bitrix24.events import Outbox
from sandbox.bitrix24.misc import misc_methods
from sandbox.bitrix24.portal import ApiError, Bucket, Portal
from sandbox.bitrix24.rest import Call, Fault, read_call, time_section
from sandbox.bitrix24.setup import ALL_SCOPES, PortalSetup
from sandbox.bitrix24.userfields import userfield_methods


class _Quiet(WSGIRequestHandler):
    """No access log: webhook URLs carry their secret in the path."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@dataclass
class Logged:
    """One REST request as the portal saw it."""

    method: str
    status: int
    auth: str
    commands: list[str]
    error: str = ""


class Bitrix24Emulator(PortalSetup):
    """Start with `with Bitrix24Emulator() as emu:`; `emu.url` is the portal's base URL."""

    def __init__(
        self,
        *,
        domain: str = "b24.example.ru",
        rate: float = 2.0,
        burst: int = 50,
        jitter: float = 0.0,
        seed: int = 7,
    ) -> None:
        self.portal = Portal(domain=domain, bucket=Bucket(rate=rate, capacity=burst, at=0.0))
        self.jitter = jitter  # network delay: each request arrives 0…`jitter` s after it was sent
        self.down = False  # an outage: a gateway's 502 page for every REST call, nothing counted
        self._rng = random.Random(seed)
        self.events = Outbox(self.portal)
        self.log: list[Logged] = []
        self.faults: list[Fault] = []
        self.blocked: dict[str, float] = {}  # method → operating_reset_at (429 until then)
        self.latency = 0.0
        self.token_requests = 0
        self.methods = crm_methods(self.portal) | misc_methods(self.portal) | userfield_methods(self.portal)
        self.batch = BatchRunner(self.dispatch)
        self.app = self._build_app()
        self._server: Any = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> Bitrix24Emulator:
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True, request_handler=_Quiet)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="b24-emulator", daemon=True
        )
        self._thread.start()
        self.events.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.events.stop()
        self._server.shutdown()

    @property
    def url(self) -> str:
        """http://127.0.0.1:<port>"""
        return f"http://127.0.0.1:{self._server.server_port}"

    def fail_next(self, count: int = 1, **fault: Any) -> None:
        """The next `count` REST requests fail (status, code, description, html, with_time, method)."""
        self.faults += [Fault(**fault) for _ in range(count)]

    def requests(self, method: str | None = None) -> list[Logged]:
        """Logged requests, all or of one method."""
        return [e for e in self.log if method is None or e.method == method]

    # --- HTTP ------------------------------------------------------------------------------
    def _ctx(self, auth: str, user: int, scopes: list[str]) -> Ctx:
        return Ctx(auth=auth, user=user, emit=self.events.emit, scopes=scopes)

    def _build_app(self) -> Flask:
        app = Flask("bitrix24-emulator")

        @app.route("/rest/<path:path>", methods=["GET", "POST"])
        def rest(path: str) -> Response | tuple[Response, int]:
            return self._rest(read_call(path, request))

        @app.route("/oauth/token/", methods=["GET", "POST"])
        def token() -> tuple[Response, int]:
            return self._token({**request.args, **request.form})

        return app

    def _rest(self, call: Call) -> Response | tuple[Response, int]:
        if self.jitter > 0:
            with self.portal.lock:
                delay = self._rng.uniform(0.0, self.jitter)
            time.sleep(delay)  # on its way: the bucket counts the request when it arrives
        if self.down:
            self._log(call, 502, "DOWN")
            return Fault(status=502, html=True).response({})
        started = self.portal.clock()
        if self.latency:
            time.sleep(self.latency)
        with self.portal.lock:
            try:
                ctx = self._authorise(call)
                status, body = 200, self._answer(call, ctx, started)
            except ApiError as exc:
                status, body = exc.status, {"error": exc.code, "error_description": exc.description}
                body["time"] = time_section(self.portal.clock, started, self.blocked.get(call.method))
            except Fault as fault:
                self._log(call, fault.status, fault.code)
                return fault.response(time_section(self.portal.clock, started, None))
            commands = (
                [c.split("?")[0] for c in (call.params.get("cmd") or {}).values()]
                if call.method == "batch"
                else []
            )
            self.log.append(Logged(call.method, status, call.auth, commands, str(body.get("error", ""))))
        return jsonify(body), status

    def _log(self, call: Call, status: int, code: str) -> None:
        with self.portal.lock:
            self.log.append(Logged(call.method, status, call.auth, [], code))

    def _authorise(self, call: Call) -> Ctx:
        """§9.12: bad webhook secret → 401 NO_AUTH_FOUND; an hour-old token → 401 expired_token."""
        if call.auth == "webhook":
            scopes = self.portal.webhooks.get((call.user, call.secret))
            if scopes is None:
                raise ApiError(401, "NO_AUTH_FOUND", "Wrong authorization data")
            return self._ctx("webhook", int(call.user), scopes)
        expires = self.portal.access.get(call.secret)
        if not call.secret:
            raise ApiError(401, "NO_AUTH_FOUND", "Wrong authorization data")
        if expires is None:
            raise ApiError(401, "invalid_token", "The access token provided is invalid")
        if self.portal.clock() >= expires:
            raise ApiError(401, "expired_token", "The access token provided has expired")
        return self._ctx("app", 1, ALL_SCOPES)

    def _answer(self, call: Call, ctx: Ctx, started: float) -> dict[str, Any]:
        if self.faults and self.faults[0].applies(call.method):
            raise self.faults.pop(0)
        if not self.portal.bucket.admit(started):  # §5.1: on arrival; a batch counts once
            raise ApiError(503, "QUERY_LIMIT_EXCEEDED", "Too many requests")
        result = (
            self.batch.run(call.params, ctx)
            if call.method == "batch"
            else self.dispatch(call.method, call.params, ctx)
        )
        body: dict[str, Any] = {"result": result.items if isinstance(result, Listed) else result}
        if isinstance(result, Listed):
            body |= {k: v for k, v in (("total", result.total), ("next", result.next)) if v is not None}
        return body | {"time": time_section(self.portal.clock, started, None)}

    def dispatch(self, method: str, params: dict[str, Any], ctx: Ctx) -> Any:
        """Run one method (also a batch command)."""
        until = self.blocked.get(method)
        if until is not None and self.portal.clock() < until:
            raise ApiError(429, "OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit.")
        handler = self.methods.get(method)
        if handler is None:
            raise ApiError(404, "ERROR_METHOD_NOT_FOUND", "Method not found!")
        return handler(params, ctx)

    def _token(self, args: dict[str, str]) -> tuple[Response, int]:
        """§4.2: the refresh token rotates; the old one is refused (invalid_grant) from then on."""
        with self.portal.lock:
            self.token_requests += 1
            if (args.get("client_id"), args.get("client_secret")) != self.portal.oauth_client:
                return jsonify(error="invalid_client", error_description="Invalid client"), 401
            if (
                args.get("grant_type") != "refresh_token"
                or args.get("refresh_token") not in self.portal.refresh
            ):
                return jsonify(error="invalid_grant", error_description="Invalid grant"), 400
            self.portal.refresh.discard(args["refresh_token"])
            access, refresh = self.issue_tokens()
            now = self.portal.clock()
        body = {
            "access_token": access,
            "refresh_token": refresh,
            "expires": int(now + 3600),
            "expires_in": 3600,
        }
        body |= {
            "domain": "oauth.bitrix.info",
            "member_id": self.portal.member_id,
            "scope": ",".join(ALL_SCOPES),
        }
        body |= {"client_endpoint": f"https://{self.portal.domain}/rest/", "status": "L", "user_id": 1}
        return jsonify(body), 200
