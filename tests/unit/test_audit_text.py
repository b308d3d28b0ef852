"""Audit rows in words when read (core/audit_text.py): kinds, events and writes in the reader's
language, people by name, a CRM user we do not know said to be so, older rows as they were stored."""

from __future__ import annotations

from core.audit_text import AuditText
from core.reasons import Renderer
from tests.builders import manager, policy, pool


def words(language: str = "ru") -> AuditText:
    p = policy(
        [
            manager("kuznetsova", 6102311, name="Кузнецова Мария"),
            manager("fedorov", 6102352, name="Федоров Павел"),
        ],
        [pool("shared", ["kuznetsova", "fedorov"])],
        language=language,
    )
    return AuditText(Renderer(p))


def test_a_persons_change_names_the_manager_or_says_the_user_is_not_ours():
    w = words()
    detail = {"responsible_user_id": 6102352, "previous": "kuznetsova", "counted": None}
    assert w.message("override", "responsible changed in the CRM to user 6102352", detail) == (
        "ответственный изменён в CRM вручную: Федоров Павел"
    )
    stranger = {**detail, "responsible_user_id": 7000001}
    assert w.message("override", "…", stranger) == (
        "ответственный изменён в CRM вручную: пользователь 7000001 (не из конфигурации)"
    )
    counted = {**detail, "counted": {"to": "fedorov", "pool": "shared"}}
    assert w.message("override", "…", counted).endswith("; засчитано Федоров Павел в пуле «shared»")
    assert words("en").message("override", "…", stranger) == (
        "responsible changed in the CRM by a person: user 7000001 (not in the config)"
    )


def test_events_writes_and_kinds_are_words():
    w = words()
    assert w.message("received", "add received", {"event": "add"}) == "получено событие: создание"
    bitrix = {"event": "ONCRMDEALUPDATE", "action": "update"}  # the adapter names what happened
    assert w.message("received", "…", bitrix) == "получено событие: изменение"
    assert w.message("crm_write", "task written", {"write": "task"}) == "записано в CRM: задача"
    retry = {"write": "responsible", "error": "HTTP 503"}
    assert w.message("crm_retry", "responsible failed, retry in 12s: HTTP 503", retry) == (
        "ответственный: ошибка CRM, повтор через 12 с: HTTP 503"
    )
    assert w.kind("dead_letter") == "не доставлено" and words("en").kind("dead_letter") == "dead letter"
    stage = {"stage_before": "Новый", "stage": "В работе"}
    assert w.message("stage_changed", "stage Новый → В работе", stage) == "этап: Новый → В работе"
    assert w.message("echo", "echo of our own write", {}) == (
        "отголосок нашей записи (или изменение, на которое мы не реагируем)"
    )


def test_a_pause_names_the_manager_and_its_end_in_local_time():
    detail = {"until": "2026-12-02T15:00:00+00:00", "reason": "обучение", "by": "anna (cli)"}
    text = words().message("pause", "kuznetsova paused until … by anna (cli)", detail, "kuznetsova")
    assert text == "Кузнецова Мария на паузе до 02.12.2026 18:00 (кто поставил: anna (cli)): обучение"


def test_a_decision_keeps_the_words_it_was_made_with_and_an_old_row_its_message():
    w = words()
    reason = "правило «default» → пул «shared» (по очереди); выбран: Кузнецова Мария"
    assert w.message("decision", reason, {"lead_id": "1"}) == reason
    assert w.message("crm_write", "responsible written", {}) == "responsible written"  # no data: as stored
    assert w.message("some_future_kind", "as stored", {}) == "as stored"


def test_rows_written_with_their_data_need_no_parsing_of_the_stored_text():
    w = words()
    retry = {"write": "task", "error": "HTTP 429", "retry_in": 30}
    assert w.message("crm_retry", "(any text)", retry) == "задача: ошибка CRM, повтор через 30 с: HTTP 429"
    assert w.message("reconciled", "(any text)", {"missed": 4}) == (
        "сверка: 4 событий, не пришедших вебхуком, переданы в обработку"
    )
    assert w.message("handoff_done", "(any text)", {"handoff": "qualified"}) == (
        "передача «qualified» уже выполнена"
    )
    assert w.message("crm_down", "(any text)", {"error": "timeout"}).startswith("CRM не отвечает (timeout)")


def test_a_deletion_a_cancelled_write_a_restore_and_a_clock_step_are_words_with_their_figures():
    w = words()
    deleted = {"source": "webhook", "writes": 3, "jobs": 1}
    assert w.message("deleted", "Lead deleted in the CRM: …", deleted) == (
        "Лид удалён в CRM: отменено отложенных записей 3, таймеров и задач очереди 1"
    )
    assert w.message("deleted", "lead deleted", {}) == "лид удалён в CRM"  # an older row: no figures
    gone = {"write": "task", "error": "Entity not found"}
    assert w.message("write_cancelled", "task not written, …", gone) == (
        "задача: не записано, лида больше нет в CRM (Entity not found)"
    )
    assert w.message("restored", "lead restored in the CRM after its deletion", {}) == (
        "лид восстановлен в CRM после удаления"
    )
    step = {"seconds": 1200.0, "timers": 7, "before": "2026-12-07T10:00:00+00:00"}
    assert (
        words("en").message("clock_step", "…", step).startswith("The system clock was set forward by 1200 s")
    )
    assert [w.kind(k) for k in ("deleted", "write_cancelled", "restored", "clock_step")] == [
        "удалён",
        "запись отменена",
        "восстановлен",
        "перевод часов",
    ]


def test_a_webhook_repaired_or_down_is_said_in_words():
    w = words()
    repaired = {"problem": "the webhook is disabled", "repairs": 2}
    assert w.message("hook_repaired", "our webhook was off (…)", repaired) == (
        "наш вебхук в CRM не работал; он включён снова, события снова приходят (восстановлений всего: 2)"
    )
    down = {"problem": "no webhook of ours is registered", "error": "HTTP 403"}
    assert w.message("hook_down", "…", down).startswith(
        "наш вебхук в CRM отключён и не восстанавливается (HTTP 403)"
    )
    assert (w.kind("hook_repaired"), w.kind("hook_down")) == ("вебхук восстановлен", "вебхук отключён")


def test_a_junk_credit_names_the_manager_the_stage_and_the_weeks_count():
    detail = {"pool": "shared", "why": "Некачественный лид", "value": 0.0, "tier": None}
    detail |= {"week": "2026-W50", "credits": 2, "max_per_week": 3}
    text = words().message("junk_credit", "junk credit: …", detail, "fedorov")
    assert text == (
        "Федоров Павел: лид отмечен «Некачественный лид» вскоре после получения и больше не "
        "засчитывается в долю в пуле «shared» (зачтено за неделю: 2 из 3)"
    )
    refused = words().message("junk_refused", "…", {**detail, "credits": 3}, "fedorov")
    assert refused == "Федоров Павел: зачёт брака не дан — за эту неделю в пуле «shared» уже зачтено 3"


def test_a_team_read_refused_for_want_of_an_admin_says_so_in_words_and_quotes_the_crm():
    said = "HTTP 403: Access denied"
    detail = {"error": said, "admin_needed": True}
    text = words().message("team", "the CRM's users could not be read; …", detail)
    assert text.startswith("пользователи CRM не прочитаны: список пользователей отдаётся только по токену")
    assert text.endswith("Ответ CRM: HTTP 403: Access denied") and "listing users" not in text
    assert "listing users needs an account admin's token" in words("en").message("team", "…", detail)
    other = words().message("team", "…", {"error": "TransientCrmError: HTTP 502"})
    assert other == (
        "пользователи CRM не прочитаны, действует последняя прочитанная команда: TransientCrmError: HTTP 502"
    )
