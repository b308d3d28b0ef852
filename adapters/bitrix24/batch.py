"""The `batch` method (bitrix24.md §3): up to 50 calls in one request, one result or error per call.

A batch answers HTTP 200 even when some commands fail: each failure is in `result_error` under the
command's key, so every command gets its own outcome. A batch counts as ONE request in the leaky
bucket (§3, §5.1) — the whole point of packing reads and writes into it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from adapters.bitrix24.status import error_for
from adapters.bitrix24.transport import Transport
from adapters.errors import CrmError, TransientCrmError

MAX_COMMANDS = 50  # §3: sub-requests beyond 50 end with ERROR_BATCH_LENGTH_EXCEEDED
Params = Mapping[str, Any]


def flatten(prefix: str, value: Any) -> list[tuple[str, str]]:
    """PHP `http_build_query` pairs: dicts by key, lists by index, booleans as Y/N, None dropped."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [pair for k, v in value.items() for pair in flatten(f"{prefix}[{k}]" if prefix else str(k), v)]
    if isinstance(value, list | tuple):
        return [pair for i, v in enumerate(value) for pair in flatten(f"{prefix}[{i}]", v)]
    if isinstance(value, bool):
        return [(prefix, "Y" if value else "N")]
    return [(prefix, str(value))]


def command(method: str, params: Params) -> str:
    """One `cmd` value: `method?query` with PHP bracket keys, percent-encoded (§3)."""
    return f"{method}?{urlencode(flatten('', params))}"


@dataclass
class BatchOutcome:
    """Per command key: its result, or its error (a failed request fails each of its commands)."""

    results: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, CrmError] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    nexts: dict[str, int] = field(default_factory=dict)

    def ok(self, key: str) -> bool:
        """True when the command ran without error."""
        return key in self.results and key not in self.errors


def run_batch(
    transport: Transport, calls: Mapping[str, tuple[str, Params]], *, size: int = MAX_COMMANDS
) -> BatchOutcome:
    """Run `key → (method, params)` in batches of `size` (≤ 50), halt=0, keeping order."""
    outcome = BatchOutcome()
    keys = list(calls)
    size = max(1, min(size, MAX_COMMANDS))
    for start in range(0, len(keys), size):
        chunk = keys[start : start + size]
        cmd = {key: command(*calls[key]) for key in chunk}
        try:
            body = transport.call("batch", {"halt": 0, "cmd": cmd})
        except CrmError as exc:
            outcome.errors.update(dict.fromkeys(chunk, exc))
            continue
        _collect(outcome, body.get("result"), {key: calls[key][0] for key in chunk})
    return outcome


def _collect(outcome: BatchOutcome, result: Any, methods: Mapping[str, str]) -> None:
    # §3 / §2.1: empty PHP maps arrive as [] — every section may be a list instead of a dict.
    sections = result if isinstance(result, dict) else {}
    results, errors = _map(sections.get("result")), _map(sections.get("result_error"))
    for key, method in methods.items():
        if key in errors:
            problem = errors[key] if isinstance(errors[key], dict) else {}
            code = str(problem.get("error") or "")
            outcome.errors[key] = error_for(method, None, code, str(problem.get("error_description") or ""))
        elif key in results:
            outcome.results[key] = results[key]
        else:  # neither ran nor failed (only after a halt, which we never ask for): try again later
            outcome.errors[key] = TransientCrmError(f"{method}: not run by the batch")
    outcome.totals.update({k: int(v) for k, v in _map(sections.get("result_total")).items() if k in methods})
    outcome.nexts.update({k: int(v) for k, v in _map(sections.get("result_next")).items() if k in methods})


def _map(section: Any) -> dict[str, Any]:
    if isinstance(section, dict):
        return section
    if isinstance(section, list):  # a PHP list: keys were 0..n-1
        return {str(i): v for i, v in enumerate(section)}
    return {}


def chunks(values: Sequence[str], size: int) -> list[list[str]]:
    """`values` in lists of at most `size`."""
    return [list(values[i : i + size]) for i in range(0, len(values), size)]
