"""`leadrouter check-config --online` against the amoCRM emulator: names resolved in the account."""

from __future__ import annotations

import socket

import pytest

from webhook_app.cli.main import main

GOOD = """\
timezone: Europe/Moscow
head_of_sales: head
crm: {type: amocrm, base_url: "%(url)s", account_id: %(account)s}
managers:
  ivanova: {crm_user_id: 504141, name: Иванова Анна}
  petrov: {crm_user_id: 504142}
  kozlova: {crm_user_id: 504144}
  head: {crm_user_id: 504100}
  gone: {crm_user_id: 504160, active: false}
pools:
  sales: {members: [ivanova, petrov], strategy: round_robin}
  farmers: {members: [kozlova], strategy: round_robin}
rules:
  - name: state
    when: {field: {"Форма собственности": [Госсектор, частный]}, pipeline: продажи}
    pool: sales
  - name: by-id
    when: {field_id: {"%(form)s": {in: [Компания]}}, stage: {equals: Переговоры}}
    pool: sales
  - {name: default, pool: sales}
handoffs:
  - {name: signed, on_stage: {pipeline: Продажи, stage: Договор подписан}, to: farmers,
     keep_hunter_in_field: хантер, unless: {field: {Город: Москва}}}
  - {name: month, after_days: 30, in_stage: Успешно реализовано, to: farmers}
"""

BAD = """\
timezone: Europe/Moscow
head_of_sales: head
crm: {type: amocrm, base_url: "%(url)s", account_id: %(account)s}
managers:
  ivanova: {crm_user_id: 504141, name: Иванова Анна}
  gone: {crm_user_id: 504160}
  viewer: {crm_user_id: 504150}
  ghost: {crm_user_id: 504199, name: Петров Пётр}
  head: {crm_user_id: 504100}
pools:
  sales: {members: [ivanova, gone, viewer, ghost], strategy: round_robin}
  farmers: {members: [ivanova], strategy: round_robin}
rules:
  - name: state
    when: {field: {"Форма собственности": Госсектр}}
    pool: sales
  - name: region
    when:
      any:
        - {field: {"Регион клиента": Москва}}
        - {field_id: {"999999": "1"}}
    pool: sales
  - name: service
    when: {not: {pipeline: Гарантия и сервис}}
    pool: sales
  - {name: default, pool: sales}
handoffs:
  - {name: signed, on_stage: {pipeline: Продажи, stage: Договор подписна}, to: farmers,
     keep_hunter_in_field: Хантр}
  - {name: month, after_days: 30, in_stage: {pipeline: Сервис, stage: Успешно}, to: farmers}
"""


@pytest.fixture
def env(tmp_path, monkeypatch, emu):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LEADROUTER_DATABASE_URL", f"sqlite:///{tmp_path / 'lr.db'}")
    monkeypatch.setenv("LEADROUTER_AMOCRM_TOKEN", emu.admin_token())
    return tmp_path


def write(path, text: str, emu, **extra: object):
    form = emu.account.field_by_name("leads", "Форма собственности").id
    path.write_text(
        text % {"url": emu.url, "account": emu.account.id, "form": form, **extra}, encoding="utf-8"
    )
    return str(path)


def test_a_config_whose_names_all_exist_in_the_account_passes(env, emu, capsys):
    config = write(env / "good.yaml", GOOD, emu)
    assert main(["check-config", "--online", config]) == 0
    out = capsys.readouterr().out
    assert f"Онлайн: все воронки, этапы, поля и пользователи найдены в amoCRM по адресу {emu.url}" in out


def test_every_name_the_account_lacks_is_named_with_its_line(env, emu, capsys):
    config = write(env / "bad.yaml", BAD, emu)
    assert main(["check-config", "--online", config]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"{config}:6: managers.gone.crm_user_id: пользователь CRM 504160 (Уволенный) деактивирован или не "
        "может быть ответственным; напишите active: false или уберите менеджера",
        f"{config}:7: managers.viewer.crm_user_id: пользователь CRM 504150 (Наблюдатель) деактивирован или "
        "не может быть ответственным; напишите active: false или уберите менеджера",
        f"{config}:8: managers.ghost.crm_user_id: в CRM нет пользователя с номером 504199; у «Петров Пётр» "
        "номер 504142; поправьте crm_user_id (список выводит leadrouter users)",
        f"{config}:15: rules[0].when.field.Форма собственности: в CRM не найдено: значение поля «Форма "
        "собственности» «Госсектр»; может быть, «Госсектор»?",
        f"{config}:20: rules[1].when.any[0].field.Регион клиента: в CRM не найдено: дополнительное поле "
        "«Регион клиента»",
        f"{config}:21: rules[1].when.any[1].field_id.999999: в CRM не найдено: номер дополнительного поля "
        "«999999»",
        f"{config}:24: rules[2].when.not.pipeline: в CRM не найдено: воронка «Гарантия и сервис»",
        f"{config}:28: handoffs[0].on_stage.stage: в CRM не найдено: этап «Договор подписна» в воронке "
        "«Продажи»; может быть, «Договор подписан»?",
        f"{config}:29: handoffs[0].keep_hunter_in_field: в CRM не найдено: дополнительное поле «Хантр»; "
        "может быть, «Хантер»?",
        f"{config}:30: handoffs[1].in_stage.pipeline: в CRM не найдено: воронка «Сервис»",
    ]


def test_without_a_token_it_exits_2_naming_what_to_set(env, emu, monkeypatch, capsys):
    monkeypatch.delenv("LEADROUTER_AMOCRM_TOKEN")
    config = write(env / "good.yaml", GOOD, emu)
    assert main(["check-config", "--online", config]) == 2
    err = capsys.readouterr().err
    assert (
        "проверить онлайн не удалось" in err and "LEADROUTER_AMOCRM_TOKEN" in err and "Traceback" not in err
    )


def test_an_unreachable_account_exits_2_without_showing_the_token(env, emu, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    config = write(env / "good.yaml", GOOD.replace('"%(url)s"', closed), emu)
    assert main(["check-config", "--online", config]) == 2
    err = capsys.readouterr().err
    assert f"проверить онлайн не удалось: amoCRM по адресу {closed}" in err
    assert emu.admin_token() not in err and "Traceback" not in err


def test_a_token_without_admin_rights_exits_2(env, emu, monkeypatch, capsys):
    token = emu.tokens.long_lived(504141)
    monkeypatch.setenv("LEADROUTER_AMOCRM_TOKEN", token)
    config = write(env / "good.yaml", GOOD, emu)
    assert main(["check-config", "--online", config]) == 2
    err = capsys.readouterr().err
    assert "нужен токен администратора аккаунта (ответ CRM: 403" in err and token not in err
    assert "listing users" not in err  # our words in the config's language, the CRM's quoted


def test_a_pool_following_a_group_shows_its_members_as_of_now_and_an_unknown_group_is_named(env, emu, capsys):
    emu.deactivate_user(504143)  # Сидоров, still in «Отдел продаж»
    emu.add_user(504146, "Новикова Юлия", group="Отдел продаж")
    team = GOOD.replace(
        "sales: {members: [ivanova, petrov], strategy: round_robin}",
        "sales: {members: [ivanova, {crm_group: Отдел продаж}], strategy: round_robin}",
    )
    config = write(env / "team.yaml", team, emu)
    assert main(["check-config", "--online", config]) == 0
    out = capsys.readouterr().out
    assert (
        "  sales ← «Отдел продаж»: Иванова Анна, petrov, Новикова Юлия "
        "(не могут быть ответственными: Сидоров Иван)" in out
    )
    typo = write(env / "typo.yaml", team.replace("Отдел продаж}", "Отдел продаж!}"), emu)
    assert main(["check-config", "--online", typo]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{typo}:11: pools.sales.members[1]: в CRM не найдено: группа пользователей amoCRM «Отдел продаж!» "
        "(в такой команде никого нет); может быть, «Отдел продаж»?"
    ]


def test_a_junk_loss_reason_must_be_one_of_the_accounts_reasons(env, emu, capsys):
    junk = "sales: {members: [ivanova, petrov], strategy: round_robin, junk: {loss_reason: %s}}"
    plain = "sales: {members: [ivanova, petrov], strategy: round_robin}"
    good = write(env / "good.yaml", GOOD.replace(plain, junk % "спам"), emu)
    assert main(["check-config", "--online", good]) == 0  # names compare without case
    typo = write(env / "typo.yaml", GOOD.replace(plain, junk % "Спамм"), emu)
    assert main(["check-config", "--online", typo]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{typo}:11: pools.sales.junk.loss_reason: в CRM не найдено: причина отказа «Спамм»; "
        "может быть, «Спам»?"
    ]
