"""The operator's commands against a real store: audit, dead letters, and the redacted access log."""

from __future__ import annotations

import json
from types import SimpleNamespace

from tests.web.conftest import SECRET
from tests.web.test_hooks import amo_add, seed
from webhook_app.cli.main import main
from webhook_app.web.server import RedactingLogger


def use_store(stack, monkeypatch) -> None:
    monkeypatch.setenv("LEADROUTER_DATABASE_URL", str(stack.services.settings.database_url))


def test_audit_filters_by_lead_and_prints_json_lines(stack, monkeypatch, capsys):
    seed(stack, "1", "2")
    stack.hook(amo_add("1", "2"))
    stack.worker.run_once()
    use_store(stack, monkeypatch)
    assert main(["audit", "--lead", "2", "--format", "json"], clock=stack.clock) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["kind"] for r in rows] == ["received", "decision", "crm_write", "crm_write", "crm_write"]
    assert rows[1]["manager"] == "petrov" and "выбран: Петров" in rows[1]["message"]


def test_audit_refuses_a_bad_since_with_a_clear_message(stack, monkeypatch, capsys):
    use_store(stack, monkeypatch)
    assert main(["audit", "--since", "yesterday-ish"], clock=stack.clock) == 2
    assert "«yesterday-ish» — ни вида 24h / 7d, ни дата-время ISO" in capsys.readouterr().err


def test_dead_letters_are_listed_and_replayed_and_the_replay_is_audited(stack, monkeypatch, capsys):
    seed(stack, "1")
    stack.crm.refuse_leads.add("1")
    stack.hook(amo_add("1"))
    stack.worker.run_once()
    use_store(stack, monkeypatch)
    assert main(["deadletters", "list", "--format", "json"], clock=stack.clock) == 0
    dead = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [d["kind"] for d in dead] == ["responsible"] and "422" in dead[0]["last_error"]
    stack.crm.refuse_leads.clear()
    replay_one = ["deadletters", "replay", str(dead[0]["id"]), "999"]
    assert main(replay_one, clock=stack.clock) == 1  # 999 is not a dead letter
    assert "снова в очереди: 1; это не недоставленные записи: 999" in capsys.readouterr().out
    assert main(["deadletters", "replay", "--all"], clock=stack.clock) == 0
    assert capsys.readouterr().out == "снова в очереди: 0\n"  # its task and note were waiting, not dead
    stack.worker.run_once()
    assert stack.crm.owner_of("1") == 101
    assert main(["audit", "--kind", "replay", "--format", "json"], clock=stack.clock) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1


def test_the_access_log_masks_the_webhook_secret():
    logger = RedactingLogger(
        SimpleNamespace(
            errorlog="-",
            loglevel="info",
            accesslog=None,
            syslog=False,
            capture_output=False,
            logconfig=None,
            logconfig_dict={},
            logconfig_json=None,
            disable_redirect_access_to_syslog=False,
            access_log_format="",
            user=0,
            group=0,
            umask=0,
        )
    )
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": f"/hooks/amocrm/{SECRET}?x=1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": f"/hooks/amocrm/{SECRET}",
        "QUERY_STRING": "x=1",
        "REMOTE_ADDR": "127.0.0.1",
    }
    response = SimpleNamespace(status="200 OK", sent=10, headers=[])
    request = SimpleNamespace(headers=[])
    atoms = logger.atoms(response, request, environ, SimpleNamespace(seconds=0, microseconds=1000))
    assert atoms["r"] == "POST /hooks/amocrm/***?x=1 HTTP/1.1" and atoms["U"] == "/hooks/amocrm/***"
    assert SECRET not in json.dumps({k: str(v) for k, v in atoms.items()})


def test_serve_web_and_worker_run_on_the_clock_main_was_given(stack, monkeypatch):
    """`main(clock=…)` reaches the services `serve`/`web` build and the worker of `worker`, not only
    the commands that read `args.clock` themselves."""
    import argparse

    import webhook_app.web.server
    from webhook_app.cli import serve

    use_store(stack, monkeypatch)
    monkeypatch.setenv("LEADROUTER_AMOCRM_TOKEN", "long-lived-test-token")  # `worker` needs a CRM client
    config = str(stack.services.settings.config)
    app = serve._app_factory(argparse.Namespace(config=config, clock=stack.clock), with_worker=False)()
    assert app.extensions["leadrouter"].clock is stack.clock
    ran = []
    monkeypatch.setattr(
        webhook_app.web.server, "run_worker_until_signalled", lambda run, on_hup, words: ran.append(run)
    )
    assert main(["worker", "--config", config], clock=stack.clock) == 0
    assert [run.__self__.ctx.clock for run in ran] == [stack.clock]


def test_serve_web_and_worker_say_they_started_and_stopped_in_the_configs_language(
    stack, monkeypatch, capsys, caplog
):
    import logging

    import webhook_app.web.server

    use_store(stack, monkeypatch)
    monkeypatch.setenv("LEADROUTER_AMOCRM_TOKEN", "long-lived-test-token")  # `worker` needs a CRM client
    config = str(stack.services.settings.config)  # `language: ru`
    masters = []
    monkeypatch.setattr(webhook_app.web.server.GunicornServer, "run", lambda self: masters.append(self))
    assert main(["web", "--config", config, "--port", "8123"], clock=stack.clock) == 0
    out = capsys.readouterr().out.splitlines()
    version = stack.services.config.current.version
    assert out == [
        f"leadrouter web: принимает запросы на http://127.0.0.1:8123 (процессов: 2); конфигурация {config}, "
        f"версия {version}; остановить — SIGTERM или Ctrl-C",
        "leadrouter web: остановлен",
    ]
    assert masters[0].words["hup_refused"].startswith("SIGHUP: конфигурация не перечитана")  # its own logs
    said = []
    monkeypatch.setattr(
        webhook_app.web.server,
        "run_worker_until_signalled",
        lambda run, on_hup, words: said.append(words["worker_stopping"].format(signal="SIGTERM")),
    )
    with caplog.at_level(logging.INFO, logger="leadrouter"):
        assert main(["worker", "--config", config], clock=stack.clock) == 0
    logged = [r.getMessage() for r in caplog.records if r.name == "leadrouter"]
    assert logged[0].startswith("воркер ") and logged[0].endswith(" запущен")
    assert logged[-1].startswith("воркер ") and logged[-1].endswith(" остановлен")
    assert said == ["сигнал SIGTERM: воркер доделывает текущее задание и останавливается"]
