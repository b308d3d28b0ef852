"""The emulated `batch` method (bitrix24.md §3, §9.9): ≤ 50 commands, halt, per-command errors."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from sandbox.bitrix24.crm import Ctx, Listed
from sandbox.bitrix24.form import php_fields
from sandbox.bitrix24.portal import ApiError, as_list

MAX = 50
_REF = re.compile(r"\$result\[([^\]]+)\]((?:\[[^\]]*\])*)")


class BatchRunner:
    """Runs `cmd` against the emulator's methods; refusals per command on demand."""

    def __init__(self, dispatch: Callable[[str, dict[str, Any], Ctx], Any]) -> None:
        self.dispatch = dispatch
        self.refusals: dict[tuple[str, str], tuple[str, str]] = {}  # (method, id) → (code, description)

    def refuse(self, method: str, record_id: str | int, code: str, description: str = "") -> None:
        """Make `method` on this id fail inside batches (e.g. ACCESS_DENIED for one lead)."""
        self.refusals[(method, str(record_id))] = (code, description)

    def run(self, params: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        """The batch answer: result / result_error / result_total / result_next / result_time."""
        cmd = params.get("cmd") or {}
        commands = cmd if isinstance(cmd, dict) else dict(enumerate(as_list(cmd)))
        if len(commands) > MAX:
            raise ApiError(400, "ERROR_BATCH_LENGTH_EXCEEDED", "Max batch length exceeded")
        halt = str(params.get("halt", "0")).lower() in ("1", "true", "y")
        out: dict[str, dict[str, Any]] = {
            k: {} for k in ("result", "result_error", "result_total", "result_next")
        }
        for key, query in commands.items():
            method, _, qs = str(query).partition("?")
            qs = _REF.sub(lambda m: _lookup(out["result"], m.group(1), m.group(2)), qs)
            sub = dict(php_fields(parse_qsl(qs, keep_blank_values=True)))
            try:
                result = self._one(method, sub, ctx)
            except ApiError as exc:
                out["result_error"][str(key)] = {"error": exc.code, "error_description": exc.description}
                if halt:
                    break
                continue
            if isinstance(result, Listed):
                out["result"][str(key)] = result.items
                if result.total is not None:
                    out["result_total"][str(key)] = result.total
                if result.next is not None:
                    out["result_next"][str(key)] = result.next
            else:
                out["result"][str(key)] = result
        # §2.1: an empty PHP map serialises as [].
        return {k: v or [] for k, v in out.items()} | {"result_time": []}

    def _one(self, method: str, params: dict[str, Any], ctx: Ctx) -> Any:
        if method == "batch":  # §3: nested batch is forbidden since rest 24.0.0
            raise ApiError(405, "ERROR_BATCH_METHOD_NOT_ALLOWED", "Method is not allowed for batch usage")
        record = params.get("id") or params.get("ownerId") or (params.get("fields") or {}).get("ENTITY_ID")
        refusal = self.refusals.get((method, str(record)))
        if refusal is not None:
            raise ApiError(400, *refusal)
        return self.dispatch(method, params, ctx)


def _lookup(results: dict[str, Any], key: str, path: str) -> str:
    """`$result[key][field][0]` → the value of an earlier command's result (§3 chaining)."""
    value: Any = results.get(key)
    for part in re.findall(r"\[([^\]]*)\]", path):
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict):
            value = value.get(part)
        else:
            return ""
    return "" if value is None or isinstance(value, dict | list) else str(value)
