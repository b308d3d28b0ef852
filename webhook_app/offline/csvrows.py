"""The rows of a CSV lead file: split by hand where `csv` would find nothing to unquote.

A line without a quote is one row, and splitting it at the separator is exactly what `csv` makes
of it, at a third of the cost over a million rows. From the first line with a quote (a quoted cell
may span lines) or one too long for `csv`'s field limit on, `csv.reader` reads the rest, so every
file reads as `csv` reads it, line numbers included.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from typing import IO

RowError = Callable[[int, str], Exception]  # (line, "decode" or the csv message) → the error to raise


class CsvRows:
    """The header, then the rows of one CSV file, with decoding and syntax errors made by `error`."""

    def __init__(self, first: str, handle: IO[str], delimiter: str, error: RowError) -> None:
        self.back = [first]  # lines handed back to the reader, read before the file's next ones
        self.handle = handle
        self.delimiter = delimiter
        self.error = error
        self.reader = csv.reader(self, delimiter=delimiter)

    def __iter__(self) -> CsvRows:
        return self

    def __next__(self) -> str:
        """The next line for `csv.reader`."""
        return self.back.pop() if self.back else next(self.handle)

    def header(self) -> list[str]:
        """The header row (empty for an empty file)."""
        return next(self.reader, [])

    def rows(self, splits: int = -1) -> Iterator[tuple[int, list[str]]]:
        """Non-blank rows numbered by their last line; `splits` ≥ 0 leaves the cells after that many whole."""
        reader, delimiter = self.reader, self.delimiter
        line = reader.line_num  # the header's lines
        seen = 1  # the last row read, for errors in the next one (the header counts as line 1)
        limit = csv.field_size_limit()
        try:
            for text in self.handle:
                if '"' in text or len(text) >= limit:
                    self.back.append(text)
                    offset = line - reader.line_num  # lines split here, which the reader never saw
                    for row in reader:
                        seen = reader.line_num + offset
                        if row:
                            yield seen, row
                    return
                seen = line = line + 1
                row = text.rstrip("\r\n").split(delimiter, splits)
                if row != [""]:
                    yield line, row
        except UnicodeDecodeError:
            raise self.error(seen + 1, "decode") from None
        except csv.Error as exc:
            raise self.error(seen + 1, str(exc)) from None
