"""The printer of `simulate`'s decisions and fairness for each `--format`."""

from __future__ import annotations

from typing import IO

from core.reasons import Renderer
from webhook_app.offline.output import CsvWriter, JsonWriter, Writer
from webhook_app.offline.table import TableWriter


def make_writer(output: str, out: IO[str], render: Renderer, language: str, show_leads: bool) -> Writer:
    """The printer of decisions and fairness for `--format`."""
    if output == "json":
        return JsonWriter(out, render)
    if output == "csv":
        return CsvWriter(out, render, with_decisions=show_leads)
    return TableWriter(out, render, language, with_decisions=show_leads)
