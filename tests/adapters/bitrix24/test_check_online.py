"""`leadrouter check-config --online` against the Bitrix24 emulator: deal funnels, UF fields, users."""

from __future__ import annotations

from pathlib import Path

import pytest

from webhook_app.cli.main import main

CONFIG = """\
timezone: Europe/Moscow
head_of_sales: head
crm: {type: bitrix24, base_url: "%(url)s", domain: b24.example.ru, entity: deal}
managers:
  ivanova: {crm_user_id: 11, name: Анна Иванова}
  petrov: {crm_user_id: 12}
  head: {crm_user_id: 1}
  %(extra_manager)s
pools:
  sales: {members: [ivanova, petrov], strategy: round_robin}
  farmers: {members: [head], strategy: round_robin}
rules:
  - name: state
    when: {field_id: {UF_CRM_5: %(form)s}, field: {ИНН клиента: {exists: true}}}
    pool: sales
  - {name: default, pool: sales}
handoffs:
  - {name: qualified, on_stage: {pipeline: Общая, stage: %(stage)s}, to: sales}
  - {name: won, on_stage: {pipeline: Повторные продажи, stage: Сделка успешна}, to: farmers,
     keep_hunter_in_field: %(hunter)s}
"""


@pytest.fixture
def portal(emulator, tmp_path, monkeypatch):
    emulator.add_user(1, "Андрей", "Гусев")
    emulator.add_user(11, "Анна", "Иванова")
    emulator.add_user(12, "Пётр", "Петров")
    emulator.add_user(13, "Олег", "Уволенный", active=False)
    emulator.add_field("deal", "UF_CRM_5", "Форма собственности", {"1": "Госсектор", "2": "Частная"})
    emulator.add_field("deal", "UF_CRM_6", "ИНН клиента")
    emulator.add_field("deal", "UF_CRM_7", "Хантер")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LEADROUTER_DATABASE_URL", f"sqlite:///{tmp_path / 'lr.db'}")
    monkeypatch.setenv("LEADROUTER_BITRIX24_WEBHOOK_URL", emulator.add_webhook(secret="hook-Secret-5150"))
    return emulator


def write(tmp_path, emulator, **values: str) -> str:
    fields = {"form": "Госсектор", "stage": "Подготовка", "hunter": "Хантер", "extra_manager": ""}
    path = tmp_path / "b24.yaml"
    path.write_text(CONFIG % {"url": emulator.url, **fields, **values}, encoding="utf-8")
    return str(path)


def test_a_config_whose_names_all_exist_in_the_portal_passes(portal, tmp_path, capsys):
    assert main(["check-config", "--online", write(tmp_path, portal)]) == 0
    out = capsys.readouterr().out
    assert "найдены в Bitrix24" in out and "(воронок 2, полей 3, пользователей 4)" in out


def test_a_misspelt_stage_an_unknown_field_and_unknown_or_dismissed_users_are_named(portal, tmp_path, capsys):
    config = write(
        tmp_path,
        portal,
        form="Госсектр",
        stage="Подготвка",
        hunter="UF_CRM_99",
        extra_manager="gone: {crm_user_id: 13}\n  ghost: {crm_user_id: 77}",
    )
    assert main(["check-config", "--online", config]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{config}:8: managers.gone.crm_user_id: пользователь CRM 13 (Олег Уволенный) деактивирован или не "
        "может быть ответственным; напишите active: false или уберите менеджера",
        f"{config}:9: managers.ghost.crm_user_id: в CRM нет пользователя с номером 77; поправьте crm_user_id "
        "(список выводит leadrouter users)",
        f"{config}:15: rules[0].when.field_id.UF_CRM_5: в CRM не найдено: значение поля «Форма "
        "собственности» "
        "«Госсектр»; может быть, «Госсектор»?",
        f"{config}:19: handoffs[0].on_stage.stage: в CRM не найдено: этап «Подготвка» в воронке «Общая»; "
        "может быть, «Подготовка»?",
        f"{config}:21: handoffs[1].keep_hunter_in_field: в CRM не найдено: дополнительное поле «UF_CRM_99»",
    ]


def test_a_wrong_webhook_exits_2_without_printing_its_secret(portal, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LEADROUTER_BITRIX24_WEBHOOK_URL", f"{portal.url}/rest/1/wrong-Secret-777/")
    assert main(["check-config", "--online", write(tmp_path, portal)]) == 2
    err = capsys.readouterr().err
    assert "проверить онлайн не удалось: Bitrix24 по адресу" in err
    assert "wrong-Secret-777" not in err and "Traceback" not in err


def test_without_credentials_it_exits_2_naming_what_to_set(portal, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("LEADROUTER_BITRIX24_WEBHOOK_URL")
    assert main(["check-config", "--online", write(tmp_path, portal)]) == 2
    assert "LEADROUTER_BITRIX24_WEBHOOK_URL" in capsys.readouterr().err


def test_a_pool_following_a_department_takes_its_sub_departments_and_shows_them(portal, tmp_path, capsys):
    portal.add_department(1, "Компания")
    portal.add_department(5, "Отдел продаж", parent=1)
    portal.add_department(7, "Группа Москва", parent=5)
    portal.move_user(11, (5,))
    portal.move_user(12, (7,))  # a sub-department counts
    portal.add_user(14, "Юлия", "Новикова", departments=(7,))
    portal.add_user(15, "Игорь", "Бухгалтер", departments=(1,))  # above it: not in the team
    portal.add_user(16, "Олег", "Бывший", departments=(5,), active=False)
    path = Path(write(tmp_path, portal))
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("members: [ivanova, petrov]", "members: {department: Отдел продаж}"), "utf-8"
    )
    assert main(["check-config", "--online", str(path)]) == 0
    out = capsys.readouterr().out
    assert (
        "  sales ← «Отдел продаж»: Анна Иванова, petrov, Юлия Новикова "
        "(не могут быть ответственными: Олег Бывший)" in out
    )


def test_a_junk_loss_reason_needs_the_portals_field_and_a_failure_stage_of_that_name_is_hinted(
    portal, tmp_path, capsys
):
    portal.add_deal_stage("UC_SPAM", "Спам", sort=55)
    plain = "sales: {members: [ivanova, petrov], strategy: round_robin}"
    config = Path(write(tmp_path, portal))
    text = config.read_text(encoding="utf-8").replace(plain, plain[:-1] + ", junk: {loss_reason: Спам}}")
    config.write_text(text, encoding="utf-8")
    assert main(["check-config", "--online", str(config)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{config}:10: pools.sales.junk.loss_reason: в CRM не найдено: причина отказа «Спам» — CRM не "
        "знает ни одной причины (amoCRM: её собственные причины отказа; Bitrix24: поле-список «Причина "
        "отказа»); есть этап «Спам»: напишите junk: {stage: Спам}"
    ]
    portal.add_field("deal", "UF_CRM_8", "Причина отказа", {"61": "Дубль", "62": "Спам"})
    assert main(["check-config", "--online", str(config)]) == 0
