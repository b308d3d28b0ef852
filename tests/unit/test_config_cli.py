"""`leadrouter check-config`: a summary and exit 0, or every problem on stderr and exit 1."""

from __future__ import annotations

from pathlib import Path

import pytest

from webhook_app.cli.main import main
from webhook_app.settings import NO_CONFIG, Settings, resolve_config_path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.example.yaml"
SECRET = "sk-live-0123456789abcdef"
BROKEN = """\
crm: {type: amocrm, base_url: https://example.amocrm.ru}
managers:
  ivanova: {crm_user_id: 1, weight: 0}
pools:
  regions: {members: [ivanova, petrov], strategy: weighted}
rules:
  - {name: default, pool: regions}
"""


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """No LEADROUTER_* leaks in from the machine, and no stray .env is read."""
    monkeypatch.chdir(tmp_path)
    for name in ("CONFIG", "AMOCRM_TOKEN", "WEBHOOK_SECRET"):
        monkeypatch.delenv(f"LEADROUTER_{name}", raising=False)


def test_a_valid_config_prints_a_summary_and_exits_zero(capsys):
    assert main(["check-config", str(EXAMPLE)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    # In the config's language (Russian), people by name, strategies and conditions in words.
    assert "конфигурация верна (версия" in out and "язык: русский, часовой пояс Europe/Moscow" in out
    assert "CRM: amoCRM https://example.amocrm.ru" in out
    assert "Соколов Дмитрий       (sokolov, id 6102315) · вес 0.5 · пн-пт 09:00-18:00" in out
    assert "territories       закрепление клиентов: Кузнецова Мария×2," in out
    assert "по ключу «регион»: значений 77" in out
    assert "1. tenders: источник = tender или utm_source — одно из: zakupki.gov.ru" in out
    assert "10. territories: всегда → territories" in out
    assert "повторные клиенты: к своему менеджеру, если контакт не старше 365 дн." in out
    assert "contract-signed: на этапе «Договор подписан» в воронке «Продажи» → пул «account-managers»" in out
    assert "никогда не забирает у: Белов Сергей, Гусев Андрей" in out
    assert "round_robin" not in out and "weighted" not in out and "head of sales" not in out


def test_the_config_can_be_given_with_the_option_or_the_environment(capsys, monkeypatch):
    assert main(["check-config", "--config", str(EXAMPLE)]) == 0
    monkeypatch.setenv("LEADROUTER_CONFIG", str(ROOT / "examples" / "bitrix24.yaml"))
    assert main(["check-config"]) == 0
    assert "CRM: Bitrix24 https://example.bitrix24.ru (сделки)" in capsys.readouterr().out


def test_a_broken_config_prints_each_problem_and_exits_one(tmp_path, capsys):
    (tmp_path / "cfg.yaml").write_text(BROKEN, encoding="utf-8")
    assert main(["check-config", "cfg.yaml"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == ["cfg.yaml:3: managers.ivanova.weight: нужно число больше 0 (сейчас: 0)"]
    assert "Traceback" not in err


def test_semantic_problems_are_all_printed(tmp_path, capsys):
    (tmp_path / "cfg.yaml").write_text(BROKEN.replace("weight: 0", "weight: 1"), encoding="utf-8")
    assert main(["check-config", "cfg.yaml"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "cfg.yaml:5: pools.regions.members[1]: неизвестный менеджер «petrov»"
    ]


def test_a_missing_file_exits_one_with_a_clear_message(capsys):
    assert main(["check-config", "nope.yaml"]) == 1
    # No file, no language: the product's default, Russian.
    assert capsys.readouterr().err == (
        "nope.yaml: не удалось прочитать конфигурацию: такого файла нет; проверьте путь\n"
    )


def test_a_yaml_syntax_error_names_the_line(tmp_path, capsys):
    (tmp_path / "cfg.yaml").write_text("crm: {type: amocrm\nmanagers: [\n", encoding="utf-8")
    assert main(["check-config", "cfg.yaml"]) == 1
    err = capsys.readouterr().err
    assert (
        err.startswith("cfg.yaml:1: ошибка YAML в столбце 6: скобка") and "Traceback" not in err
    )  # the open {


def test_no_config_at_all_exits_two_with_a_hint(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["check-config"])
    assert caught.value.code == 2
    assert NO_CONFIG in capsys.readouterr().err


def test_secrets_from_the_environment_never_reach_the_output(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("LEADROUTER_AMOCRM_TOKEN", SECRET)
    monkeypatch.setenv("LEADROUTER_WEBHOOK_SECRET", SECRET)
    (tmp_path / "cfg.yaml").write_text(BROKEN, encoding="utf-8")
    main(["check-config", str(EXAMPLE)])
    main(["check-config", "cfg.yaml"])
    out, err = capsys.readouterr()
    assert SECRET not in out + err
    settings = Settings()
    assert settings.amocrm_token is not None and settings.amocrm_token.get_secret_value() == SECRET
    assert SECRET not in str(settings) + repr(settings)


def test_settings_read_a_dot_env_file_and_the_cli_value_wins(tmp_path):
    (tmp_path / ".env").write_text(
        "LEADROUTER_CONFIG=from-env.yaml\nLEADROUTER_ADMIN_TOKEN=t\n", encoding="utf-8"
    )
    settings = Settings()
    assert settings.config == Path("from-env.yaml") and settings.database_url == "sqlite:///leadrouter.db"
    assert resolve_config_path(None, settings) == Path("from-env.yaml")
    assert resolve_config_path("cli.yaml", settings) == Path("cli.yaml")
