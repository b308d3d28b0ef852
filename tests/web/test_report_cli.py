from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

from adapters.storage.audit import audit_row, write_audit_rows
from core.kinds import AuditKind
from tests.fakes.payloads import amocrm_lead_payload, urlencode
from tests.web.conftest import ACCOUNT_ID
from tests.web.test_hooks import amo_add, seed
from webhook_app.cli.main import main


def test_report_shows_received_won_and_conversion_from_the_store(stack, tmp_path, monkeypatch, capsys):
    seed(stack, "1", "2")
    stack.hook(amo_add("1", "2"))
    stack.worker.run_once()
    stack.crm.leads["1"] = replace(
        stack.crm.leads["1"], stage="Успешно", stage_id="142", closed="won", price=250_000.0, source="site"
    )
    body = urlencode(
        amocrm_lead_payload(
            "status",
            [{"id": "1", "status_id": "142", "responsible_user_id": "101", "last_modified": "1764670100"}],
            account_id=ACCOUNT_ID,
            subdomain="example",
        )
    )
    assert stack.hook(body).status_code == 200
    while stack.worker.run_once():
        pass
    monkeypatch.setenv("LEADROUTER_DATABASE_URL", str(stack.services.settings.database_url))
    config = stack.services.config.path
    assert (
        main(
            [
                "report",
                "--config",
                str(config),
                "--format",
                "json",
                "--since",
                "2026-12-01",
                "--until",
                "2026-12-03",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    lines = {row["manager"]: row for row in out["managers"]}
    assert lines["ivanova"]["received"] == 1 and lines["ivanova"]["won"] == 1
    assert lines["ivanova"]["won_amount"] == 250000 and lines["ivanova"]["conversion"] == "100%"
    assert lines["petrov"]["received"] == 1 and lines["petrov"]["target"] == 1.0


def _stored(stack, rows) -> None:
    """Won / lost audit rows as the worker writes them: the owner at the close, amount, source, hunter."""
    entries = [
        audit_row(
            AuditKind(kind),
            f"deal {kind}",
            at=at,
            crm="amocrm",
            lead_id=lead,
            manager=owner,
            detail={"amount": amount, "source": source, "hunter": hunter},
        )
        for kind, lead, at, owner, amount, source, hunter in rows
    ]
    with stack.services.engine.begin() as connection:
        write_audit_rows(connection, entries)


def _report(stack, monkeypatch, capsys, *args: str) -> dict:
    monkeypatch.setenv("LEADROUTER_DATABASE_URL", str(stack.services.settings.database_url))
    argv = ["report", "--config", str(stack.services.config.path), "--format", "json", *args]
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_the_advisory_credits_the_hunter_of_a_deal_handed_over_and_won(stack, monkeypatch, capsys):
    # Six months (June–November 2026): petrov hunts and hands every deal on to ivanova, who wins it.
    # In August the won amount is exactly the threshold: `≥` keeps petrov in the advisory.
    months = [(2026, m) for m in range(6, 12)]
    rows = [
        (
            "won",
            f"{m}",
            datetime(y, m, 10, 12, tzinfo=UTC),
            "ivanova",
            3e6 if m == 8 else 4e6,
            "site",
            "petrov",
        )
        for y, m in months
    ]
    # A deal petrov kept and won himself counts for him as its owner (no handoff, no hunter).
    rows.append(("won", "50", datetime(2026, 11, 20, 12, tzinfo=UTC), "petrov", 500_000, "avito", None))
    rows.append(("lost", "51", datetime(2026, 11, 21, 12, tzinfo=UTC), "ivanova", 0, "avito", None))
    _stored(stack, rows)
    out = _report(
        stack,
        monkeypatch,
        capsys,
        "--since",
        "2026-11-01",
        "--until",
        "2026-12-01",
        "--advisory-threshold",
        "3000000",
    )
    lines = {row["manager"]: row for row in out["managers"]}
    # Won and lost count for the owner who closed the deal; conversion per manager and per source.
    assert (lines["ivanova"]["won"], lines["ivanova"]["lost"], lines["ivanova"]["conversion"]) == (
        1,
        1,
        "50%",
    )
    assert lines["ivanova"]["won_amount"] == 4_000_000
    assert (lines["petrov"]["won"], lines["petrov"]["won_amount"], lines["petrov"]["conversion"]) == (
        1,
        500_000,
        "100%",
    )
    sources = {row["source"]: row for row in out["sources"]}
    assert (sources["site"]["won"], sources["site"]["lost"], sources["site"]["conversion"]) == (1, 0, "100%")
    assert (sources["avito"]["won"], sources["avito"]["lost"], sources["avito"]["conversion"]) == (
        1,
        1,
        "50%",
    )
    # The advisory names the hunter, not the farmer who closed the deals.
    assert [row["manager"] for row in out["advisory"]] == ["petrov"]
    advisory = out["advisory"][0]
    assert [advisory[f"2026-{m:02d}"] for m in range(6, 12)] == [4e6, 4e6, 3e6, 4e6, 4e6, 4_500_000]


def test_a_month_below_the_threshold_keeps_a_hunter_out_of_the_advisory(stack, monkeypatch, capsys):
    rows = [
        (
            "won",
            f"{m}",
            datetime(2026, m, 10, 12, tzinfo=UTC),
            "ivanova",
            2_999_999 if m == 9 else 4e6,
            "site",
            "petrov",
        )
        for m in range(6, 12)
    ]
    _stored(stack, rows)
    out = _report(stack, monkeypatch, capsys, "--until", "2026-12-01", "--advisory-threshold", "3000000")
    assert out["advisory"] == []
