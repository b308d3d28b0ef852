"""Reading a REST request the way Bitrix24 does, the `time` section, and injectable faults (§9.6–9.13)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Request, Response, jsonify

from sandbox.bitrix24.form import php_fields
from sandbox.bitrix24.portal import MSK


@dataclass
class Call:
    """One REST request: method, how it is authorised, its params."""

    method: str
    auth: str  # "webhook" | "app"
    user: str
    secret: str  # the webhook secret or the access token
    params: dict[str, Any]


def read_call(path: str, request: Request) -> Call:
    """`/rest/<user>/<secret>/<method>[.json]` (webhook) or `/rest/<method>` + auth/Bearer (OAuth)."""
    parts = [p for p in path.split("/") if p]
    method = parts[-1].removesuffix(".json").removesuffix(".xml") if parts else ""
    if request.is_json:
        params = dict(request.get_json(silent=True) or {})
    else:
        pairs = list(request.args.items(multi=True)) + list(request.form.items(multi=True))
        params = dict(php_fields(pairs))
    token = str(params.pop("auth", "") or params.pop("access_token", "") or "")
    header = request.headers.get("Authorization", "")
    if not token and header.lower().startswith("bearer "):
        token = header[7:].strip()
    if len(parts) == 3:
        return Call(method, "webhook", parts[0], parts[1], params)
    return Call(method, "app", "", token, params)


def time_section(clock: Callable[[], float], started: float, reset_at: float | None) -> dict[str, Any]:
    """§5.2: the `time` object of every answer."""
    from datetime import datetime

    finish = clock()
    iso = [datetime.fromtimestamp(t, MSK).isoformat(timespec="seconds") for t in (started, finish)]
    section: dict[str, Any] = {"start": started, "finish": finish, "duration": finish - started}
    section |= {"processing": finish - started, "date_start": iso[0], "date_finish": iso[1]}
    section |= {"operating_reset_at": reset_at or int(started) + 600, "operating": 0}
    return section


@dataclass
class Fault(Exception):
    """A scripted failure for the next matching request (§9.13): JSON or an HTML page, with or
    without the `time` section."""

    status: int = 500
    code: str = "INTERNAL_SERVER_ERROR"
    description: str = "Internal server error"
    html: bool = False
    with_time: bool = True
    method: str | None = None

    def applies(self, method: str) -> bool:
        """True if this fault is for this method (or any)."""
        return self.method is None or self.method == method

    def response(self, time: dict[str, Any]) -> tuple[Response, int]:
        """The answer to send."""
        if self.html:
            return Response("<html><body>502 Bad Gateway</body></html>", mimetype="text/html"), self.status
        body: dict[str, Any] = {"error": self.code, "error_description": self.description}
        if self.with_time:
            body["time"] = time
        return jsonify(body), self.status
