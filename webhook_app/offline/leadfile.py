"""Lead files for `simulate`: CSV with a header (`,` or `;`) or JSON lines, read as core leads.

Files are streamed: a first pass reads only the time of every row — `created_at`, or `at` for an
event row — (so a bad date is reported before any output, and we learn whether the file is in
time order, how long it is and whether it has event rows); the second pass builds the leads and
events. Only a file out of time order is loaded whole and sorted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from core.model import Lead
from core.policy import Policy
from webhook_app.offline.csvrows import CsvRows
from webhook_app.offline.leadevents import (
    CREATED,
    Event,
    OwnerEvent,
    StageEvent,
    event_kind,
    event_row,
    event_time,
)
from webhook_app.offline.leadrow import Columns, Record, RowParser, is_known, json_record, parse_time
from webhook_app.offline.rowproblem import RowProblem, worded

JSON_SUFFIXES = (".jsonl", ".ndjson")
Row = Lead | Event  # what a row of a lead file becomes


def row_time(row: Row) -> datetime:
    """When the row happened: a lead's creation, an event's `at`."""
    return row.created_at if isinstance(row, Lead) else row.at


def _problem(exc: ValueError) -> str | RowProblem:
    """A parser's ValueError as the message of a LeadFileError: worded later if it is a RowProblem."""
    return exc if isinstance(exc, RowProblem) else str(exc)


class LeadFileError(Exception):
    """A lead file that cannot be read; the message names the file and, when known, the line."""

    def __init__(self, path: Path, line: int | None, message: str | RowProblem) -> None:
        super().__init__(f"{path}:{line}: {message}" if line else f"{path}: {message}")
        self.parts = (path, line, message)

    def __reduce__(self) -> tuple[type[LeadFileError], tuple[Path, int | None, str | RowProblem]]:
        return LeadFileError, self.parts  # it crosses from the read-ahead process

    def text(self, language: str | None) -> str:
        """The message in words of `language` (the file and line first, as always)."""
        path, line, message = self.parts
        words = worded(message, language)
        return f"{path}:{line}: {words}" if line else f"{path}: {words}"


def _ignore(message: str) -> None:
    """Default warning sink."""


class LeadFile:
    """A file of past leads, read with the config's time zone and manager keys."""

    def __init__(self, path: Path, policy: Policy, *, warn: Callable[[str], None] = _ignore) -> None:
        self.path = path
        self._warn = warn
        self._warned: set[str] = set()  # both passes meet the same header: say things once
        self.parser = RowParser(policy.tz, {key: m.crm_user_id for key, m in policy.managers.items()})
        self.is_json = path.suffix.lower() in JSON_SUFFIXES
        self.event_rows = 0  # `stage`, `owner` and `until` rows, counted by scan()
        if path.suffix.lower() in (".xlsx", ".xls", ".ods"):
            raise LeadFileError(path, None, RowProblem("spreadsheet"))

    def warn(self, message: str) -> None:
        """Pass a warning on, once."""
        if message not in self._warned:
            self._warned.add(message)
            self._warn(message)

    def scan(self) -> tuple[int, int | None]:
        """Rows in the file, and the first line older than the row before it (None: in time order).

        Also counts the event rows into `event_rows`.
        """
        count, previous, disorder = 0, None, None
        self.event_rows = 0
        for line, moment in self._moments():
            count += 1
            if disorder is None and previous is not None and moment < previous:
                disorder = line
            previous = moment
        return count, disorder

    def check(self) -> None:
        """Read every row once, output aside, so a bad row is the only thing a run prints.

        `simulate` calls it on files it does not read ahead (all but the largest): a row that does
        not parse, or an event row for a lead the file never creates, is then reported before the
        table's first line rather than after hundreds of them.
        """
        created: set[str] = set()
        events: list[tuple[str, int, str]] = []
        for row in self.rows():
            if isinstance(row, Lead):
                created.add(row.id)
            elif isinstance(row, StageEvent | OwnerEvent):
                events.append((row.lead_id, row.line, "stage" if isinstance(row, StageEvent) else "owner"))
        for lead_id, line, kind in events:
            if lead_id not in created:
                raise LeadFileError(self.path, line, RowProblem(f"{kind}_unknown_lead", id=lead_id))

    def rows(self) -> Iterator[Row]:
        """The rows in file order: a Lead per `created` row, an event per `stage`, `owner`, `until` row."""
        lead, tz, owner = self.parser.lead, self.parser.tz, self.parser.owner
        for number, (line, record) in enumerate(self._records(), start=1):
            try:
                kind = event_kind(record["event"]) if "event" in record else CREATED
                yield lead(record, number) if kind == CREATED else event_row(kind, record, line, tz, owner)
            except ValueError as exc:
                raise LeadFileError(self.path, line, _problem(exc)) from None

    def leads(self) -> Iterator[Lead]:
        """The leads in file order (event rows left out)."""
        return (row for row in self.rows() if isinstance(row, Lead))

    def in_time_order(self, disorder: int | None) -> Iterator[Row]:
        """The rows by time: streamed when in order, else loaded whole and sorted stably."""
        if disorder is None:
            return self.rows()
        self.warn(f"{self.path}:{disorder}: rows are not in time order; loading the whole file to sort it")
        return iter(sorted(self.rows(), key=row_time))

    def _moments(self) -> Iterator[tuple[int, datetime]]:
        """Each row's line and time; kinds and times are checked here, before any output."""
        if self.is_json:
            for line, record in self._json_records():
                yield (
                    line,
                    self._moment(line, record.get("event"), record.get("created_at"), record.get("at")),
                )
            return
        tz = self.parser.tz
        with self._open() as handle:
            rows, columns = self._csv(handle, scan=True)
            column, event, at = columns.created_at, columns.event, columns.at
            if event < 0:  # the common file: leads only
                for line, row in rows:
                    try:
                        yield line, parse_time(row[column] if column < len(row) else "", tz)
                    except ValueError as exc:
                        raise LeadFileError(self.path, line, _problem(exc)) from None
                return
            for line, row in rows:
                width = len(row)
                cells = [row[i] if 0 <= i < width else "" for i in (event, column, at)]
                yield line, self._moment(line, *cells)

    def _moment(self, line: int, event: object, created: object, at: object) -> datetime:
        try:
            kind = event_kind(event)
            if kind != CREATED:
                self.event_rows += 1
                return event_time(kind, at, self.parser.tz)
            return parse_time(created, self.parser.tz)
        except ValueError as exc:
            raise LeadFileError(self.path, line, _problem(exc)) from None

    def _records(self) -> Iterator[tuple[int, Record]]:
        if self.is_json:
            for line, obj in self._json_records(warn=True):
                try:
                    yield line, json_record(obj)
                except ValueError as exc:
                    raise LeadFileError(self.path, line, _problem(exc)) from None
            return
        with self._open() as handle:
            rows, columns = self._csv(handle)
            width = columns.width
            for line, row in rows:
                if len(row) != width:
                    if len(row) > width:
                        problem = RowProblem("too_many_cells", cells=len(row), width=width)
                        raise LeadFileError(self.path, line, problem)
                    row += [""] * (width - len(row))
                yield line, columns.record(row)

    def _open(self) -> IO[str]:
        try:
            return self.path.open(encoding="utf-8-sig", newline="")
        except OSError as exc:
            raise LeadFileError(self.path, None, RowProblem("cannot_open", why=exc.strerror or exc)) from None

    def _csv(self, handle: IO[str], *, scan: bool = False) -> tuple[Iterator[tuple[int, list[str]]], Columns]:
        """The rows after the header, numbered by their last line, and the header's columns.

        With `scan` a row may hold only the cells up to created_at, event and at (what the scan reads).
        """
        first = self._decode(handle.readline, 1)
        # Russian Excel exports use `;`; whichever separator the header uses more is the one.
        delimiter = ";" if first.count(";") > first.count(",") else ","
        rows = CsvRows(first, handle, delimiter, self._row_error)
        columns = Columns(rows.header())
        header = columns.names
        if columns.created_at < 0:
            raise LeadFileError(self.path, 1, RowProblem("no_created_at", columns=", ".join(header) or "—"))
        duplicates = sorted({name for name in header if header.count(name) > 1})
        if duplicates:
            raise LeadFileError(self.path, 1, RowProblem("duplicate_columns", columns=", ".join(duplicates)))
        if columns.unknown:
            self.warn(f"{self.path}:1: ignoring unknown columns: {', '.join(columns.unknown)}")
        last = max(columns.created_at, columns.event, columns.at)
        return rows.rows(last + 1 if scan else -1), columns

    def _row_error(self, line: int, problem: str) -> LeadFileError:
        if problem == "decode":
            return LeadFileError(self.path, line, RowProblem("not_utf8_csv"))
        return LeadFileError(self.path, line, RowProblem("broken_csv", why=problem))

    def _decode(self, read: Callable[[], str], line: int) -> str:
        try:
            return read()
        except UnicodeDecodeError:
            raise LeadFileError(self.path, line, RowProblem("not_utf8")) from None

    def _json_records(self, *, warn: bool = False) -> Iterator[tuple[int, dict[str, Any]]]:
        seen: set[str] = set()
        number = 0
        with self._open() as handle:
            try:
                for number, text in enumerate(handle, start=1):
                    if text.isspace():
                        continue
                    record = _json_object(self.path, number, text)
                    if warn and not record.keys() <= seen:
                        self._warn_unknown(number, record.keys() - seen)
                        seen.update(record.keys())
                    yield number, record
            except UnicodeDecodeError:
                raise LeadFileError(self.path, number + 1, RowProblem("not_utf8")) from None

    def _warn_unknown(self, line: int, keys: set[str]) -> None:
        unknown = sorted(key for key in keys if not is_known(key))
        if unknown:
            self.warn(f"{self.path}:{line}: ignoring unknown keys: {', '.join(unknown)}")


def _json_object(path: Path, line: int, text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LeadFileError(path, line, RowProblem("bad_json", why=exc.msg, column=exc.colno)) from None
    if not isinstance(value, dict):
        raise LeadFileError(path, line, RowProblem("json_not_object"))
    return value
