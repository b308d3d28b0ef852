"""The junk-credit story on the worker, then `leadrouter report`: credits per manager and week, and
each pool's count and value with the credited leads taken back out of the share."""

from __future__ import annotations

import json

from adapters.storage.engine import make_engine
from adapters.storage.migrate import upgrade_database
from tests.stories.drivers import run_on_worker
from tests.stories.seeds import STORIES
from webhook_app.cli.main import main

SPAM = next(s for s in STORIES if "spam" in s.name)


def test_report_shows_junk_credits_per_week_and_the_shares_without_them(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'story.db'}"
    engine = make_engine(url)
    upgrade_database(engine)
    run_on_worker(SPAM, tmp_path, engine)
    monkeypatch.setenv("LEADROUTER_DATABASE_URL", url)
    argv = ["report", "--config", str(tmp_path / "story.yaml"), "--format", "json"]
    assert main([*argv, "--since", "2026-12-07", "--until", "2026-12-15"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["credits"] == [
        {"manager": "novikova", "name": "Новикова Юлия", "week": "2026-W50", "credits": 2, "max_per_week": 2},
        {"manager": "novikova", "name": "Новикова Юлия", "week": "2026-W51", "credits": 1, "max_per_week": 2},
    ]
    pools = {row["manager"]: row for row in out["pools"] if row["pool"] == "call-center"}
    # Новикова got six calls and three were credited; Федоров got three: even shares again.
    assert (pools["novikova"]["received"], pools["novikova"]["credits"]) == (3, 3)
    assert (pools["fedorov"]["received"], pools["fedorov"]["credits"]) == (3, 0)
    assert pools["novikova"]["target"] == 3.0 and pools["novikova"]["balance"] == "count"
    managers = {row["manager"]: row for row in out["managers"]}
    assert managers["novikova"]["received"] == 6  # what she was given, credits or not
