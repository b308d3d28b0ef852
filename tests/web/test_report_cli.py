from __future__ import annotations

import json
from dataclasses import replace

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
