"""Reading a lead file in a child process while this one decides: parsing runs on the other core.

`simulate` spends about as long turning rows into leads (and matching the rules, which do not
depend on the routing state) as deciding them. A forked child does that part, from the moment the
file is opened (so it also runs while the parent checks the dates), and sends the leads in
batches with the rule each one matched (stage rows go in the same batches, matching nothing). The
parent gets the same leads (pickled as their field values, rebuilt by `Lead(*values)`) and only
decides. Warnings and errors arrive at their place in the stream, so a run reads exactly like a
single-process one. Without `fork`, the file is read here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import multiprocessing
import traceback
from collections.abc import Iterator, Mapping
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from operator import attrgetter
from types import MappingProxyType
from typing import Any

from core.matcher import UNMATCHED
from core.model import Lead
from core.policy import Matched, Policy
from webhook_app.offline.leadfile import LeadFile, LeadFileError, Row
from webhook_app.offline.leadrow import NOTHING

BATCH = 500  # leads per message: large enough that pickling is per batch, not per lead
PIPE_BYTES = 2**20  # about five batches; Linux's default limit for an unprivileged process
_values = attrgetter(*(f.name for f in dataclasses.fields(Lead)))


class ReadAhead:
    """The leads of a file in time order with their first matching rule, read by a child process.

    Start it before `source.scan()`; use `items()` only when the scan found the file in order;
    always `close()` it.
    """

    def __init__(self, source: LeadFile, policy: Policy) -> None:
        self.source, self.policy = source, policy
        self._child: Any = None
        if "fork" in multiprocessing.get_all_start_methods():
            context = multiprocessing.get_context("fork")
            self._receiver, sender = context.Pipe(duplex=False)
            _widen(sender)
            self._child = context.Process(target=_read, args=(source, policy, sender), daemon=True)
            self._child.start()
            sender.close()

    def items(self) -> Iterator[tuple[Row, Matched]]:
        """(row, a lead's first matching rule) in file order, as `source.rows()` would give the rows."""
        if self._child is None:
            yield from ((row, UNMATCHED) for row in self.source.rows())
            return
        rules = self.policy.rules
        while True:
            kind, payload = self._receive()
            if kind == "leads":
                for lead, index in payload:
                    yield lead, rules[index] if index >= 0 else None
            elif kind == "warn":
                self.source.warn(payload)
            elif kind == "error":
                raise payload
            elif kind == "crash":
                raise RuntimeError(f"reading {self.source.path} failed:\n{payload}")
            else:
                return

    def _receive(self) -> tuple[str, Any]:
        try:
            message: tuple[str, Any] = self._receiver.recv()
        except EOFError:  # killed (out of memory?) before it could say anything
            self._child.join()
            problem = f"reading {self.source.path} stopped: its reader exited ({self._child.exitcode})"
            raise RuntimeError(problem) from None
        return message

    def close(self) -> None:
        """Stop the child if it still runs."""
        if self._child is not None:
            self._child.terminate()
            self._child.join()
            self._receiver.close()
            self._child = None


def _widen(pipe: Connection) -> None:
    """Let a few batches wait in the pipe (Linux), so the child writes the next while we decide."""
    # An older kernel or a lower limit keeps the default 64 KiB: the child then only waits more.
    with contextlib.suppress(OSError):
        fcntl.fcntl(pipe.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_BYTES)


def _nothing() -> Mapping[str, Any]:
    """The shared empty mapping of leads without custom fields (a mapping proxy does not pickle)."""
    return NOTHING


def _reduce_lead(lead: Lead) -> tuple[type[Lead], tuple[Any, ...]]:
    # Unpickling calls Lead(*values) from C: no per-lead Python code in the parent.
    return Lead, tuple(map(_one_copy, _values(lead)))


_COPIES: dict[str, str] = {}  # per batch: equal texts as one object, which pickle then sends once


def _one_copy(value: Any) -> Any:
    """The value with its texts replaced by this batch's first equal one (regions, sources, UTM…)."""
    if value.__class__ is str:
        return _COPIES.setdefault(value, value)
    if value.__class__ is dict:
        return {_one_copy(k): _one_copy(v) for k, v in value.items()}
    if value.__class__ is tuple:
        return tuple(map(_one_copy, value))
    return value


def _reduce_proxy(proxy: MappingProxyType[str, Any]) -> tuple[Any, tuple[Any, ...]]:
    # Pickle's memo sends NOTHING once per batch and every lead refers back to it.
    return (_nothing, ()) if proxy is NOTHING else (MappingProxyType, (dict(proxy),))


def _read(source: LeadFile, policy: Policy, sender: Connection) -> None:
    """The child: parse, match, and send leads in batches; then "end", or the error.

    Pickling and writing happen here, in the thread that parses: a queue's feeder thread would wait
    for the interpreter lock at every batch, and the parent would wait for it.
    """
    batch: list[tuple[Row, int]] = []
    # Only in this (forked) process: how leads are pickled for the pipe.
    ForkingPickler.register(Lead, _reduce_lead)
    ForkingPickler.register(MappingProxyType, _reduce_proxy)

    def send(kind: str, payload: object) -> None:
        sender.send_bytes(ForkingPickler.dumps((kind, payload)))
        _COPIES.clear()

    def flush() -> None:
        if batch:
            send("leads", batch)
            batch.clear()

    def warn(message: str) -> None:
        flush()  # the warning goes between the leads it came between
        send("warn", message)

    first = policy.matcher.first_index
    try:
        for row in LeadFile(source.path, policy, warn=warn).rows():
            # -1 is "no rule" to the parent, which is what a stage row matches
            batch.append((row, first(row) if isinstance(row, Lead) else -1))
            if len(batch) == BATCH:
                flush()
        flush()
        send("end", None)
    except LeadFileError as exc:
        flush()
        send("error", exc)
    except Exception:  # a bug: the parent raises it with this traceback
        flush()
        send("crash", traceback.format_exc())
    sender.close()
