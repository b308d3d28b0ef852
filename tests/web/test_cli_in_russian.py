"""Issue 18: a head of sales who reads no English can use every command.

A store filled the way production fills it (a lead decided and written, a person's change to a user
leadrouter knows and to one it does not, a write the CRM refused for good, a pause), then every
command that prints something for people runs on a `language: ru` config. The sweep: no English
interface words, no manager keys where a name belongs, no bare CRM user ids.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.english import ENGLISH, latin_words
from tests.web.test_hooks import amo_add, amo_responsible, seed
from webhook_app.cli.main import main

KEYS = ("ivanova", "petrov", "boss")  # the config's manager keys
USER_IDS = ("101", "102", "100", "6102352")
STRANGER = "пользователь 6102352 (не из конфигурации)"


def run(argv: list[str], stack, capsys) -> str:
    code = main(argv, clock=stack.clock)
    out, err = capsys.readouterr()
    assert code in (0, 1), (argv, err)
    return out + err


def offending(text: str) -> list[str]:
    """English words, manager keys and bare user ids in what a person reads."""
    # The one place keys and ids belong: check-config's manager list says which key is which person.
    text = re.sub(r"\((ivanova|petrov|boss), id \d+\)", "", text)
    text = text.replace(STRANGER, "")
    # What the config itself names (paths, versions, the pool and rule names) is the user's own.
    text = re.sub(r"\S*config\.yaml\S*|\b[0-9a-f]{12}\b|«отдел»|«default»|\bdefault\b|\bотдел\b", "", text)
    text = re.sub(r"LEADROUTER_\w+|--\w+|root \(cli\)|\w+ \(cli\)", "", text)
    # The CRM's own words, quoted after its HTTP status ("422 responsible user is inactive").
    text = re.sub(r"\b[45]\d\d [^\n]*", "", text)
    words = latin_words(text) + re.findall(r"\d+", text)
    found = [w for w in words if w.lower() in ENGLISH or w in KEYS]
    found += [w for w in words if w in USER_IDS]
    return found


@pytest.fixture
def russian(stack, monkeypatch):
    """The stack's config with a head named `boss` (not the English word) and a pool `отдел`."""
    path = Path(stack.services.config.path)
    text = (
        path.read_text(encoding="utf-8")
        .replace("head:", "boss:")
        .replace("head_of_sales: head", "head_of_sales: boss")
    )
    text = text.replace("sales: {", "отдел: {").replace("pool: sales", "pool: отдел")
    path.write_text(text, encoding="utf-8")
    stack.services.config.reload("test")
    monkeypatch.setenv("LEADROUTER_DATABASE_URL", str(stack.services.settings.database_url))
    seed(stack, "1", "2", "3")
    stack.hook(amo_add("1", "2"))
    stack.worker.run_once()
    stack.hook(amo_responsible("1", 102))  # a person gives lead 1 to Петров
    stack.hook(amo_responsible("2", 6102352, modified=1796202070))  # and lead 2 to someone we don't know
    stack.crm.refuse_leads.add("3")
    stack.hook(amo_add("3"))
    while stack.worker.run_once():
        pass
    return stack


def test_every_command_speaks_russian_with_names(russian, capsys, tmp_path):
    stack = russian
    config = str(stack.services.config.path)
    leads = tmp_path / "leads.csv"
    leads.write_text("id,created_at,source\n10,2026-12-02T10:00,site\n11,2026-12-02T10:05,site\n", "utf-8")
    outputs = {
        "check-config": run(["check-config", "--config", config], stack, capsys),
        "audit": run(["audit", "--config", config], stack, capsys),
        "report": run(
            ["report", "--config", config, "--since", "7d", "--until", "2026-12-03"], stack, capsys
        ),
        "deadletters list": run(["deadletters", "list", "--config", config], stack, capsys),
        "pause": run(
            ["pause", "ivanova", "--until", "2h", "--reason", "обучение", "--config", config], stack, capsys
        ),
        "resume": run(["resume", "ivanova", "--config", config], stack, capsys),
        "resume again": run(["resume", "ivanova", "--config", config], stack, capsys),
        "audit after": run(
            ["--config", config, "audit", "--kind", "pause", "--kind", "resume"], stack, capsys
        ),
        "reload": run(["reload", "--config", config], stack, capsys),
        "simulate": run(["simulate", "--config", config, "--leads", str(leads)], stack, capsys),
        "replay": run(["deadletters", "replay", "--all", "--config", config], stack, capsys),
    }
    assert {name: offending(out) for name, out in outputs.items() if offending(out)} == {}
    audit = outputs["audit"]
    # Issue 18's own examples, now in words and with names.
    assert "получено событие: создание" in audit
    assert "ответственный изменён в CRM вручную: Петров" in audit
    assert f"ответственный изменён в CRM вручную: {STRANGER}" in audit
    assert "записано в CRM: ответственный" in audit and "записано в CRM: задача" in audit
    assert "правило «default» → пул «отдел» (по очереди); выбран: Иванова" in audit
    assert "ответственный: CRM отказала" in audit
    assert (
        "Иванова на паузе до " in outputs["audit after"]
        and "Иванова снова принимает лиды" in outputs["audit after"]
    )
    assert "Руководитель" in outputs["check-config"]
    report = outputs["report"].splitlines()
    assert report[0].split()[:3] == ["Менеджер", "Лидов", "Цель"] and report[1].startswith("Иванова")
    assert "Пул «отдел» (по очереди): лидов 2" in outputs["simulate"]
    assert outputs["replay"] == "снова в очереди: 1\n"
    assert outputs["deadletters list"].splitlines()[0].split() == [
        "№",
        "Лид",
        "Запись",
        "Попыток",
        "Создано",
        "Последняя",
        "ошибка",
    ]


def test_the_sweep_catches_what_it_is_for():
    # A guard on the guard: each thing issue 18 quotes would fail the sweep.
    assert offending("responsible changed in the CRM to user 6102352") == [
        "responsible",
        "changed",
        "user",
        "6102352",
    ]
    assert offending("правило «default» → пул «отдел» (round_robin)") == ["round_robin"]
    assert offending("выбран: ivanova") == ["ivanova"]
    assert offending(f"выбран: {STRANGER}") == []


@pytest.mark.parametrize("example", ["config.example.yaml", "examples/bitrix24.yaml"])
def test_a_first_run_without_crm_credentials_says_what_to_set_in_russian(
    example, tmp_path, monkeypatch, capsys
):
    """A newcomer's first `users`, `worker` or `check-config --online` before setting a token: what to
    set and where, in the config's language, never a traceback."""
    for name in ("AMOCRM_TOKEN", "AMOCRM_CLIENT_ID", "BITRIX24_WEBHOOK_URL", "BITRIX24_CLIENT_ID"):
        monkeypatch.delenv(f"LEADROUTER_{name}", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env of the checkout's
    monkeypatch.setenv("LEADROUTER_DATABASE_URL", f"sqlite:///{tmp_path}/lr.db")
    monkeypatch.setenv("LEADROUTER_WEBHOOK_SECRET", "a-secret-of-our-own")
    config = str(Path(__file__).resolve().parents[2] / example)
    crm = "Bitrix24" if "bitrix24" in example else "amoCRM"
    for argv, code in (
        (["users", "--config", config], 1),
        (["worker", "--config", config], 1),
        (["check-config", "--online", "--config", config], 2),
    ):
        assert main(argv) == code, argv
        err = capsys.readouterr().err
        assert f"не заданы учётные данные {crm}: задайте в окружении или в .env LEADROUTER_" in err, argv
        assert "Traceback" not in err and offending(err.replace(crm, "")) == [], (argv, err)
