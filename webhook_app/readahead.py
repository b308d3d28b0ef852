"""Reading a lead file in a child process while this one decides: parsing runs on the other core.

`simulate` spends about as long turning rows into leads (and matching the rules, which do not
depend on the routing state) as deciding them. A forked child does that part, from the moment the
file is opened (so it also runs while the parent checks the dates), and queues the leads in
batches with the rule each one matched. The parent rebuilds the same leads (their field values
travel as tuples) and only decides. Warnings and errors arrive at their place in the stream, so a
run reads exactly like a single-process one. Where `fork` does not exist, the file is read here.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import traceback
from collections.abc import Iterator
from multiprocessing.queues import Queue
from operator import attrgetter
from typing import Any

from core.matcher import UNMATCHED, Matched
from core.model import Lead, Policy
from webhook_app.leadfile import LeadFile, LeadFileError
from webhook_app.leadrow import NOTHING

BATCH = 500  # leads per message: large enough that pickling is per batch, not per lead
# Batches the child may be ahead: a few seconds of deciding, so the parent never waits for it;
# bounded so that a fast reader does not hold the whole file in memory.
AHEAD = 64
_FIELDS = tuple(f.name for f in dataclasses.fields(Lead))
_values = attrgetter(*_FIELDS)
# The shared empty mapping of leads without custom fields cannot be pickled: it travels as None.
_SHARED = tuple(i for i, name in enumerate(_FIELDS) if name in ("utm", "fields", "field_ids"))


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
            self._queue: Queue[tuple[str, Any]] = context.Queue(AHEAD)
            self._child = context.Process(target=_read, args=(source, policy, self._queue), daemon=True)
            self._child.start()

    def items(self) -> Iterator[tuple[Lead, Matched]]:
        """(lead, its first matching rule) in file order, as `source.leads()` would give the leads."""
        if self._child is None:
            yield from ((lead, UNMATCHED) for lead in self.source.leads())
            return
        rules, get = self.policy.rules, self._queue.get
        while True:
            kind, payload = get()
            if kind == "leads":
                for values, index in payload:
                    yield _lead(values), rules[index] if index >= 0 else None
            elif kind == "warn":
                self.source.warn(payload)
            elif kind == "error":
                raise payload
            elif kind == "crash":
                raise RuntimeError(f"reading {self.source.path} failed:\n{payload}")
            else:
                return

    def close(self) -> None:
        """Stop the child if it still runs."""
        if self._child is not None:
            self._child.terminate()
            self._child.join()
            self._queue.close()
            self._child = None


def _lead(values: tuple[Any, ...]) -> Lead:
    items = list(values)
    for i in _SHARED:
        if items[i] is None:
            items[i] = NOTHING
    return Lead(*items)


def _read(source: LeadFile, policy: Policy, queue: Queue[tuple[str, Any]]) -> None:
    """The child: parse, match, and queue leads in batches; then "end", or the error."""
    batch: list[tuple[tuple[Any, ...], int]] = []

    def flush() -> None:
        if batch:
            queue.put(("leads", batch.copy()))
            batch.clear()

    def warn(message: str) -> None:
        flush()  # the warning goes between the leads it came between
        queue.put(("warn", message))

    first = policy.matcher.first_index
    try:
        for lead in LeadFile(source.path, policy, warn=warn).leads():
            values = list(_values(lead))
            for i in _SHARED:
                if values[i] is NOTHING:
                    values[i] = None
            batch.append((tuple(values), first(lead)))
            if len(batch) == BATCH:
                flush()
        flush()
        queue.put(("end", None))
    except LeadFileError as exc:
        flush()
        queue.put(("error", exc))
    except Exception:  # a bug: the parent raises it with this traceback
        flush()
        queue.put(("crash", traceback.format_exc()))
    queue.close()
    queue.join_thread()  # the feeder thread has written everything before the process ends
