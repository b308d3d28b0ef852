"""What-if shows the handoffs it replayed: the CLI's comparison, the JSON and the admin page count
them both ways and tell each changed lead's owners in order."""

from __future__ import annotations

import json
from datetime import timedelta

from adapters.storage.engine import make_engine
from adapters.storage.migrate import upgrade_database
from tests.stories.drivers import run_on_worker, story_policy
from tests.stories.seeds import STORIES
from tests.web.conftest import make_stack
from tests.web.test_whatif import ADMIN
from webhook_app.cli.main import main
from webhook_app.config import load_config
from webhook_app.offline.whatif import run_whatif, whatif_json
from webhook_app.web.admin import whatif_runs

STORY = next(s for s in STORIES if s.name.startswith("call, sales, account manager"))


def without_the_contract_handoff(tmp_path):
    """The story run by the worker, and a config whose contract handoff never fires."""
    database = tmp_path / "story.db"
    engine = make_engine(f"sqlite:///{database}")
    upgrade_database(engine)
    run_on_worker(STORY, tmp_path, engine)
    text = STORY.config.replace("stage: Договор подписан}", "stage: Не бывает}")
    path = tmp_path / "new.yaml"
    path.write_text(text, encoding="utf-8")
    return engine, database, path


def test_the_comparison_counts_handoffs_both_ways_and_tells_each_leads_owners(tmp_path, monkeypatch, capsys):
    _, database, path = without_the_contract_handoff(tmp_path)
    monkeypatch.setenv("LEADROUTER_DATABASE_URL", f"sqlite:///{database}")
    end = STORY.timeline[-1].at

    def clock():
        return end

    args = ["simulate", "--config", str(path), "--from-history", "7d", "--compare"]
    assert main([*args, "--format", "json"], clock=clock) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["handoffs"] == [
        {"handoff": "qualified", "actual": 1, "would": 1},
        {"handoff": "contract-signed", "actual": 1, "would": 0},
    ]
    first = next(c for c in data["changes"] if c["lead_id"] == "call-1")
    assert first["actual_owners"] == ["novikova", "volkova", "zaitseva"]
    assert first["would_owners"] == ["novikova", "volkova"]
    assert main([*args, "--language", "en"], clock=clock) == 0
    text = capsys.readouterr().out
    assert "Handoffs: deals that changed hands 2 → 1" in text
    assert "novikova → volkova → Зайцева Анна" in text
    assert any(line.split() == ["contract-signed", "1", "0"] for line in text.splitlines())


def test_the_whatif_page_shows_the_handoffs_both_ways(tmp_path):
    engine, _, path = without_the_contract_handoff(tmp_path)
    actual, new = story_policy(STORY, tmp_path), load_config(path).policy
    end = STORY.timeline[-1].at
    result = whatif_json(run_whatif(engine, new, actual, end - timedelta(days=7), end), new, actual)
    (tmp_path / "web").mkdir()
    stack = make_stack(tmp_path / "web", admin_token=ADMIN)
    run = {"id": "r1", "state": "done", "done": 2, "total": 2, "days": 7, "config": "new.yaml"}
    whatif_runs._save(stack.services.engine, "r1", {**run, "version": "v", "result": result}, stack.clock())
    client = stack.client
    assert client.post("/admin/login", data={"token": ADMIN}).status_code == 302
    body = client.get("/admin/whatif/r1").get_data(as_text=True)
    table = body[body.index('id="handoffs"') : body.index("</table>", body.index('id="handoffs"'))]
    assert "contract-signed" in table and "qualified" in table
    assert "сменили ответственного 2 → 1" in body
    assert "novikova → volkova → Зайцева Анна" in body
