"""A CRM port kept in its own SQLite file, so worker subprocesses (and their crashes) share one CRM."""

from __future__ import annotations

import os
import signal
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime

from core.model import Lead
from core.ports import CrmWrite, WriteKind, WriteResult, WriteStatus

CREATED = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


class SharedFakeCrm:
    """Leads and a log of every write, in SQLite; optionally dies (SIGKILL) inside `write`."""

    name = "amocrm"

    def __init__(
        self,
        path: str,
        *,
        batch: int = 25,
        kill_on_write: int | None = None,
        kill_after_write: int | None = None,
    ) -> None:
        self.path = path
        self.batch = batch
        self.kill_on_write = kill_on_write
        self.kill_after_write = kill_after_write  # die right after the CRM took the writes of that call
        self.write_calls = 0
        with self._db() as db:
            db.execute("CREATE TABLE IF NOT EXISTS leads (id TEXT PRIMARY KEY, responsible INTEGER)")
            db.execute(
                "CREATE TABLE IF NOT EXISTS writes (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT,"
                " lead_id TEXT, user_id INTEGER, pid INTEGER, text TEXT, due TEXT)"
            )

    def _db(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def add_leads(self, ids: Sequence[str]) -> None:
        """Create leads with nobody responsible."""
        with self._db() as db:
            db.executemany("INSERT OR IGNORE INTO leads VALUES (?, NULL)", [(i,) for i in ids])

    def batch_size(self, kind: WriteKind) -> int:
        """Writes per call."""
        return self.batch

    def fetch_lead(self, lead_id: str) -> Lead | None:
        """The lead with its current responsible."""
        db = self._db()
        row = db.execute("SELECT id, responsible FROM leads WHERE id = ?", (lead_id,)).fetchone()
        db.close()
        if row is None:
            return None
        return Lead(id=row[0], created_at=CREATED, stage_id="new", responsible_user_id=row[1])

    def write(self, writes: Sequence[CrmWrite]) -> list[WriteResult]:
        """Apply the writes; with `kill_on_write`, die on that call before anything is written."""
        self.write_calls += 1
        if self.kill_on_write is not None and self.write_calls == self.kill_on_write:
            os.kill(os.getpid(), signal.SIGKILL)  # the crash between decision commit and CRM write
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        for w in writes:
            db.execute(
                "INSERT INTO writes (kind, lead_id, user_id, pid, text, due) VALUES (?, ?, ?, ?, ?, ?)",
                (w.kind.value, w.lead_id, w.user_id, os.getpid(), w.text, _due(w)),
            )
            if w.kind is WriteKind.RESPONSIBLE:
                db.execute("UPDATE leads SET responsible = ? WHERE id = ?", (w.user_id, w.lead_id))
        db.execute("COMMIT")
        db.close()
        if self.kill_after_write is not None and self.write_calls == self.kill_after_write:
            os.kill(os.getpid(), signal.SIGKILL)  # the CRM has them; our record of it never commits
        return [WriteResult(WriteStatus.OK)] * len(writes)

    def already_written(self, writes: Sequence[CrmWrite]) -> list[bool]:
        """Whether a task with the same lead, user, text and deadline is in the CRM."""
        db = self._db()
        found = [
            db.execute(
                "SELECT 1 FROM writes WHERE kind = ? AND lead_id = ? AND user_id IS ?"
                " AND text = ? AND due IS ?",
                (w.kind.value, w.lead_id, w.user_id, w.text, _due(w)),
            ).fetchone()
            is not None
            for w in writes
        ]
        db.close()
        return found

    def tasks_per_lead(self) -> dict[str, int]:
        """How many tasks each lead got."""
        db = self._db()
        rows = db.execute(
            "SELECT lead_id, COUNT(*) FROM writes WHERE kind = 'task' GROUP BY lead_id"
        ).fetchall()
        db.close()
        return dict(rows)

    def owners_written(self) -> dict[str, set[int]]:
        """Every distinct responsible ever written, per lead."""
        db = self._db()
        rows = db.execute("SELECT lead_id, user_id FROM writes WHERE kind = 'responsible'").fetchall()
        db.close()
        owners: dict[str, set[int]] = {}
        for lead_id, user in rows:
            owners.setdefault(lead_id, set()).add(user)
        return owners

    def responsible(self) -> dict[str, int | None]:
        """The responsible of every lead now."""
        db = self._db()
        rows = dict(db.execute("SELECT id, responsible FROM leads").fetchall())
        db.close()
        return rows


def _due(write: CrmWrite) -> str | None:
    return write.due.isoformat(timespec="seconds") if write.due else None


class BlindCrm:
    """The shared fake without `already_written`: a worker that cannot look (the old behaviour)."""

    def __init__(self, crm: SharedFakeCrm) -> None:
        self.crm = crm
        self.name = crm.name

    def batch_size(self, kind: WriteKind) -> int:
        """Writes per call."""
        return self.crm.batch_size(kind)

    def fetch_lead(self, lead_id: str) -> Lead | None:
        """The lead."""
        return self.crm.fetch_lead(lead_id)

    def write(self, writes: Sequence[CrmWrite]) -> list[WriteResult]:
        """The writes, sent blind."""
        return self.crm.write(writes)
