"""A problem with a lead file's row, as data: a code and its values, worded per language at the edge.

Raised deep in the parsers (which know no language, and may run in the read-ahead process), it is a
ValueError whose text is English (for logs and tracebacks); `simulate` prints it in the config's
language through the catalogs' `leadfile` area.
"""

from __future__ import annotations

from collections.abc import Mapping

from core.texts import texts


class RowProblem(ValueError):
    """What is wrong with a row: `code` is a key of the `leadfile` texts, `params` its values."""

    def __init__(self, code: str, **params: object) -> None:
        self.code = code
        self.params: Mapping[str, str] = {k: str(v) for k, v in params.items()}
        super().__init__(self.text("en"))

    def text(self, language: str | None) -> str:
        """The problem in words of `language`."""
        return texts(language, "leadfile")[self.code].format(**self.params)

    def __reduce__(self) -> tuple[object, ...]:
        return _rebuild, (self.code, dict(self.params))  # it crosses from the read-ahead process


def _rebuild(code: str, params: dict[str, str]) -> RowProblem:
    return RowProblem(code, **params)


def worded(problem: str | BaseException, language: str | None) -> str:
    """A problem's words: a RowProblem in `language`, anything else as it is."""
    return problem.text(language) if isinstance(problem, RowProblem) else str(problem)
