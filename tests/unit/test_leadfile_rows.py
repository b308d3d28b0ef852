"""The lead file's own row splitter reads every CSV exactly as `csv.reader` does, line numbers included."""

from __future__ import annotations

import csv
import itertools
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders import manager, policy, pool
from webhook_app.offline.leadfile import LeadFile, LeadFileError

POLICY = policy([manager("a")], [pool("p", ["a"])])
# Cells made of the characters that matter to CSV: separators, quotes, line ends, spaces, text.
CELLS = st.text(alphabet=st.sampled_from([",", ";", '"', "\n", "\r", " ", "a", "я", "\x00"]), max_size=6)
LINE_ENDS = st.sampled_from(["\n", "\r\n", "\r"])


def reference(path: Path) -> list[tuple[int, list[str]]] | str:
    """What `csv.reader` makes of the rows after the header: (line number, cells), or the error."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        first = handle.readline()
        delimiter = ";" if first.count(";") > first.count(",") else ","
        reader = csv.reader(itertools.chain([first], handle), delimiter=delimiter)
        next(reader, [])
        rows, line = [], 1
        try:
            for row in reader:
                line = reader.line_num
                if row:
                    rows.append((line, row))
        except csv.Error as exc:
            return f"{line + 1}: broken CSV: {exc}"
    return rows


def rows_of(path: Path) -> list[tuple[int, list[str]]] | str:
    source = LeadFile(path, POLICY)
    with source._open() as handle:
        rows, _ = source._csv(handle)
        try:
            return list(rows)
        except LeadFileError as exc:
            return str(exc).split(":", 1)[1]


def both(text: str) -> tuple[object, object]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "leads.csv"
        path.write_bytes(text.encode())
        return rows_of(path), reference(path)


@settings(max_examples=300, deadline=None)
@given(
    header=st.sampled_from(["created_at,name", "created_at;name;phone", '"created_at","na\nme"']),
    rows=st.lists(st.tuples(st.lists(CELLS, max_size=4), LINE_ENDS), max_size=8),
    quoted=st.booleans(),
)
def test_rows_are_split_exactly_as_csv_reader_splits_them(header, rows, quoted):
    delimiter = ";" if header.count(";") > header.count(",") else ","
    body = ""
    for cells, end in rows:
        if quoted:  # well-formed CSV, as a spreadsheet writes it
            cells = [
                '"' + c.replace('"', '""') + '"' if any(ch in c for ch in ',;"\r\n') else c for c in cells
            ]
        body += delimiter.join(cells) + end
    ours, theirs = both(header + "\n" + body)
    assert ours == theirs


def test_a_file_with_quotes_only_further_down_keeps_its_line_numbers():
    ours, theirs = both('created_at,name\n2026-01-01,a\n\n2026-01-02,"two\nlines"\n2026-01-03,c\n')
    assert (
        ours
        == theirs
        == [(2, ["2026-01-01", "a"]), (5, ["2026-01-02", "two\nlines"]), (6, ["2026-01-03", "c"])]
    )


def test_a_line_beyond_the_csv_field_limit_fails_as_csv_fails():
    old = csv.field_size_limit(16)
    try:
        ours, theirs = both("created_at,name\n2026-01-01,a\n2026-01-02," + "x" * 40 + "\n")
    finally:
        csv.field_size_limit(old)
    assert ours == theirs == "3: broken CSV: field larger than field limit (16)"
