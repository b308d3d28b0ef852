"""Helpers shared by the commands: opening the database, parsing times, printing tables."""

from __future__ import annotations

import csv
import getpass
import json
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import IO, Any

from sqlalchemy import Engine

from adapters.storage.engine import make_engine
from adapters.storage.migrate import upgrade_database
from core.texts import texts
from webhook_app.settings import Settings
from webhook_app.textwidth import ljust, width

_RELATIVE = re.compile(r"^(\d+)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def open_database(settings: Settings | None = None) -> Engine:
    """The database named by LEADROUTER_DATABASE_URL, migrated to the newest schema."""
    engine = make_engine((settings or Settings()).database_url)
    upgrade_database(engine)
    return engine


def parse_since(text: str, now: datetime, language: str | None = None) -> datetime:
    """`30m`, `24h`, `7d`, `2w` back from now, or an ISO 8601 moment (naive = UTC); in UTC.
    A ValueError says what is wrong in `language` (the CLI passes the config's; the API none: English)."""
    return _moment(text, now, -1, language)


def print_rows(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    fmt: str,
    out: IO[str] | None = None,
    *,
    headings: Sequence[str] | None = None,
) -> None:
    """Rows as an aligned table (under `headings`, words for the columns), JSON lines or CSV."""
    out = out or sys.stdout  # looked up now, not at import: tests and redirections replace it
    if fmt == "json":
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        return
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        return
    heads = list(headings or columns)
    cells = [[str(row.get(c, "") if row.get(c) is not None else "") for c in columns] for row in rows]
    widths = [max([width(c)] + [width(r[i]) for r in cells]) for i, c in enumerate(heads)]
    out.write("  ".join(ljust(c, w) for c, w in zip(heads, widths, strict=True)).rstrip() + "\n")
    for row_cells in cells:
        out.write("  ".join(ljust(v, w) for v, w in zip(row_cells, widths, strict=True)).rstrip() + "\n")


def cli_user() -> str:
    """Who runs this command, as the audit log names them."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        user = "unknown"
    return f"{user} (cli)"


def parse_until(text: str, now: datetime, language: str | None = None) -> datetime:
    """`2h`, `3d`… from now, or an ISO 8601 moment (naive = UTC); in UTC."""
    return _moment(text, now, 1, language)


def _moment(text: str, now: datetime, sign: int, language: str | None) -> datetime:
    words = texts(language or "en", "cli")  # no language: the admin API's technical English
    match = _RELATIVE.match(text.strip())
    try:
        if match:
            return (now + sign * timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})).astimezone(UTC)
        moment = datetime.fromisoformat(text.strip())
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:
        # 99999999d, or an offset that pushes year 1 or 9999 over the edge: not a moment we can store.
        raise ValueError(words["out_of_range"].format(text=text)) from None
    except ValueError as exc:
        raise ValueError(words["bad_since"].format(text=text)) from exc
