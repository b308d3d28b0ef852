"""Reading ahead in a second process changes nothing a run shows: decisions, warnings, errors."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from webhook_app.cli import simulate as command
from webhook_app.config import load_config
from webhook_app.offline.leadfile import LeadFile, LeadFileError
from webhook_app.offline.readahead import ReadAhead

ROOT = Path(__file__).resolve().parents[2]
POLICY = load_config(ROOT / "config.example.yaml").policy


def simulated(leads: Path, output: str, *, read_ahead: bool) -> str:
    out = io.StringIO()
    command.simulate_file(POLICY, leads, out, output=output, read_ahead=read_ahead)
    return out.getvalue()


@pytest.mark.parametrize("name", ["leads.csv", "leads.jsonl"])
def test_the_example_leads_read_ahead_give_the_same_decisions_and_fairness(name):
    leads = ROOT / "examples" / name
    assert simulated(leads, "json", read_ahead=True) == simulated(leads, "json", read_ahead=False)


def test_the_reader_matches_the_rules_like_the_parent_would():
    source = LeadFile(ROOT / "examples" / "leads.csv", POLICY)
    ahead = ReadAhead(source, POLICY)
    try:
        pairs = list(ahead.items())
    finally:
        ahead.close()
    assert [lead for lead, _ in pairs] == list(source.leads())
    assert all(rule is POLICY.matcher.first(lead) for lead, rule in pairs)


def test_a_bad_row_stops_the_run_with_the_same_error(tmp_path):
    text = (ROOT / "examples" / "leads.csv").read_text(encoding="utf-8").splitlines()
    text[7] = text[7].replace(text[7].split(",")[3], "not-a-price", 1)
    leads = tmp_path / "leads.csv"
    leads.write_text("\n".join(text) + "\n", encoding="utf-8")
    errors = []
    for read_ahead in (True, False):
        with pytest.raises(LeadFileError) as caught:
            simulated(leads, "table", read_ahead=read_ahead)
        errors.append(str(caught.value))
    assert errors[0] == errors[1] and ":8:" in errors[0]


def test_warnings_from_the_reader_arrive_once_and_in_order(tmp_path, capsys):
    leads = tmp_path / "leads.jsonl"
    leads.write_text(
        '{"created_at": "2026-12-02T10:00", "region": "Москва", "colour": "red"}\n'
        '{"created_at": "2026-12-02T10:05", "region": "Москва", "size": 3, "colour": "blue"}\n',
        encoding="utf-8",
    )
    warnings = []
    for read_ahead in (True, False):
        simulated(leads, "csv", read_ahead=read_ahead)
        warnings.append(capsys.readouterr().err)
    assert warnings[0] == warnings[1] and len(warnings[0].splitlines()) == 2
