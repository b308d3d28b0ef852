"""How much of the queue one worker pass takes: while a burst lasts, leads in whole CRM reads.

At amoCRM's 7 requests a second a read of 40 leads costs what a read of 125 costs, and the reads
share that budget with the writes. So while leads keep arriving, a pass takes the leads it has to
read in whole read batches and leaves a part-filled rest at the head of the queue — for at most
`hold`, and only in a burst (two or more leads within `hold`, or more leads queued than one pass
takes), so a lone lead in a quiet hour is decided at once. Claim order is decision order: the jobs
before the held leads are taken now, the jobs after them wait with them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from adapters.storage.queue import Job


@dataclass(frozen=True)
class Pacing:
    """The claim policy of one worker."""

    claim_batch: int  # at most this many leads read and decided per pass
    read_batch: int = 0  # leads per batched CRM read; 0 or 1: reads are one by one, nothing to fill
    hold: timedelta = timedelta(seconds=1)

    @property
    def window(self) -> int:
        """Due jobs looked at per pass: echo events sit between the leads of a burst."""
        return 4 * self.claim_batch

    def cut(self, due: list[Job], now: datetime, reads: Callable[[Job], bool]) -> tuple[int, bool]:
        """How many of the due jobs (oldest first) to take now, and whether a burst is on."""
        reading = [i for i, job in enumerate(due) if reads(job)]
        take = reading[self.claim_batch] if len(reading) > self.claim_batch else len(due)
        taken = reading[: self.claim_batch]
        recent = [i for i in taken if self._young(due[i], now)]
        burst = len(reading) > len(taken) or len(recent) >= 2
        whole = len(taken) - len(taken) % self.read_batch if self.read_batch > 1 else len(taken)
        if burst and whole < len(taken) and self._young(due[taken[whole]], now):
            take = taken[whole]  # hold from the oldest lead of the part-filled read on
        return take, burst

    def _young(self, job: Job, now: datetime) -> bool:
        return job.created_at is not None and job.created_at > now - self.hold
