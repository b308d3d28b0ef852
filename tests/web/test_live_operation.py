"""Live operation: pause and resume, config reload without a restart, refused configs kept out."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from adapters.storage.audit import read_audit
from adapters.storage.configs import history, last_refusal
from tests.web.conftest import make_stack
from tests.web.test_hooks import amo_add, seed
from webhook_app.cli.main import main
from webhook_app.config import ConfigError
from webhook_app.config.live import ConfigHolder
from webhook_app.web.server import _ConfigReloadingArbiter


@pytest.fixture
def live(tmp_path, monkeypatch):
    stack = make_stack(tmp_path)
    monkeypatch.setenv("LEADROUTER_DATABASE_URL", str(stack.services.settings.database_url))
    monkeypatch.setenv("LEADROUTER_CONFIG", str(stack.services.config.path))
    return stack


def route(stack, *ids: str) -> list[int | None]:
    seed(stack, *ids)
    assert stack.hook(amo_add(*ids)).status_code == 200
    stack.worker.run_once()
    return [stack.crm.owner_of(i) for i in ids]


def test_a_paused_manager_is_skipped_from_the_next_lead_until_resumed(live, capsys):
    assert main(["pause", "ivanova", "--reason", "на обучении"], clock=live.clock) == 0
    assert "Иванова на паузе до снятия" in capsys.readouterr().out
    assert route(live, "1", "2") == [102, 102]  # both to petrov
    decision = read_audit(live.services.engine, lead_id="1", kinds=("decision",))[0]
    assert any(s["manager"] == "ivanova" and s["reason"] == "paused" for s in decision.detail["skipped"])
    assert main(["resume", "ivanova"], clock=live.clock) == 0
    assert route(live, "3") == [101]
    kinds = [(e.kind, e.manager) for e in read_audit(live.services.engine, kinds=("pause", "resume"))]
    assert kinds == [("pause", "ivanova"), ("resume", "ivanova")]
    pause_row = read_audit(live.services.engine, kinds=("pause",))[0]
    assert pause_row.detail["reason"] == "на обучении" and pause_row.detail["by"].endswith("(cli)")


def test_pause_until_a_time_and_bad_requests(live, capsys):
    assert main(["pause", "ivanova", "--until", "2h"], clock=live.clock) == 0
    assert "Иванова на паузе до " in capsys.readouterr().out
    assert main(["pause", "nobody"], clock=live.clock) == 1
    assert (
        "в конфигурации нет менеджера «nobody» (менеджеры: ivanova (Иванова), petrov (Петров), "
        "head (Руководитель))" in capsys.readouterr().err
    )
    assert main(["pause", "petrov", "--until", "2020-01-01T00:00"], clock=live.clock) == 1
    assert "--until 01.01.2020 03:00 уже в прошлом" in capsys.readouterr().err
    assert main(["resume", "petrov"], clock=live.clock) == 0
    assert capsys.readouterr().out == "Петров: паузы не было\n"


def test_reload_puts_a_valid_file_in_force_for_running_processes(live, capsys):
    holder = live.services.config
    before = holder.current.version
    path = holder.path
    path.write_text(path.read_text(encoding="utf-8").replace("round_robin", "least_loaded"), encoding="utf-8")
    assert main(["reload"], clock=live.clock) == 0
    assert "действует; запущенные процессы перейдут на неё за несколько секунд" in capsys.readouterr().out
    assert holder.current.version == before  # this process has not looked yet…
    assert holder.sync(force=True) is True  # …and follows the newest version when it does
    assert holder.current.policy.pools["sales"].strategy == "least_loaded"
    route(live, "1")
    decision = read_audit(live.services.engine, lead_id="1", kinds=("decision",))[0]
    assert decision.config_version == holder.current.version != before
    assert [v.loaded_by for v in history(live.services.engine)][:2] == [main_user(), "startup"]


def main_user() -> str:
    from webhook_app.cli.common import cli_user

    return cli_user()


def test_a_broken_file_is_refused_named_and_the_running_version_stays(live, capsys, caplog):
    holder = live.services.config
    before = holder.current.version
    holder.path.write_text(
        holder.path.read_text(encoding="utf-8").replace("strategy: round_robin", "strategy: roulette"),
        encoding="utf-8",
    )
    assert main(["reload"], clock=live.clock) == 1
    err = capsys.readouterr().err
    assert f"{holder.path}:" in err and "pools.sales.strategy" in err
    assert err.endswith("отклонено: действует прежняя конфигурация\n")
    assert err.count("pools.sales.strategy") == 1  # each problem once (issue 18: it was printed twice)
    # …and not a second time through the log, which goes to the same terminal.
    assert not [r for r in caplog.records if "pools.sales.strategy" in r.getMessage()]
    assert holder.sync(force=True) is False and holder.current.version == before
    with live.services.engine.connect() as connection:
        refusal = last_refusal(connection)
    assert refusal is not None and refusal["kept"] == before and "roulette" in refusal["error"]
    assert "leadrouter_config_refusals 1.0" in live.client.get("/metrics").get_data(as_text=True)
    assert route(live, "1") == [101]  # still routing on the old config


def test_the_holder_refuses_an_edited_text_and_writes_an_accepted_one_to_the_file(live):
    holder: ConfigHolder = live.services.config
    text = holder.path.read_bytes()
    with pytest.raises(ConfigError) as refused:
        holder.load_text(text.replace(b"crm_user_id: 102", b"crm_user_id: -5"), "admin", name="edited.yaml")
    assert "edited.yaml:" in str(refused.value) and holder.last_error is not None
    edited = text.replace(b"round_robin", b"weighted")
    loaded = holder.load_text(edited, "admin")
    assert holder.current is loaded and holder.path.read_bytes() == edited and holder.last_error is None
    other = ConfigHolder(holder.path, live.services.engine, live.clock)  # a process started now
    assert other.current.version == loaded.version and other.version_id == holder.version_id


def test_what_a_reload_logs_is_in_the_configs_language(live, caplog):
    holder: ConfigHolder = live.services.config
    text, before = holder.path.read_bytes(), holder.current.version  # `language: ru`
    with caplog.at_level("INFO", logger="leadrouter.config"):
        with pytest.raises(ConfigError):
            holder.load_text(text.replace(b"crm_user_id: 102", b"crm_user_id: -5"), "admin", name="e.yaml")
        loaded = holder.load_text(text.replace(b"round_robin", b"weighted"), "admin")
    logged = [r.getMessage() for r in caplog.records if r.name == "leadrouter.config"]
    assert logged[0].startswith(f"конфигурация отклонена, действует прежняя версия {before}:\ne.yaml:")
    assert logged[-1] == f"действует версия конфигурации {loaded.version} (admin)"


def test_sighup_in_the_gunicorn_master_publishes_instead_of_restarting_workers():
    calls: list[str] = []
    arbiter = _ConfigReloadingArbiter.__new__(_ConfigReloadingArbiter)
    arbiter.app = SimpleNamespace(on_hup=lambda: calls.append("reload"))
    arbiter.handle_hup()
    assert calls == ["reload"]

    def refuse() -> None:
        raise ConfigError([])

    arbiter.app = SimpleNamespace(on_hup=refuse)
    arbiter.handle_hup()  # a refused file never takes the master down


def test_audit_json_shows_the_config_version_of_each_decision(live, capsys):
    route(live, "1")
    assert main(["audit", "--lead", "1", "--kind", "decision", "--format", "json"], clock=live.clock) == 0
    row = json.loads(capsys.readouterr().out.splitlines()[0])
    assert row["config_version"] == live.services.config.current.version
