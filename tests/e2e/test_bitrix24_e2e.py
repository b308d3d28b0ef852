"""End to end over loopback: `leadrouter serve` and the Bitrix24 emulator, events both ways.

A lead (or deal) created on the portal reaches us as ONCRMLEADADD (ONCRMDEALADD) through an
outgoing webhook — only its ID (bitrix24.md §1.2); we fetch it, route it, and write the
responsible, a to-do and a timeline comment with the reason. Our own responsible write comes back
as ONCRMLEADUPDATE (§1.2: no filter for one's own changes), which must be recognised as our echo
and never cause a second decision.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator

import pytest

from sandbox.bitrix24.emulator import Bitrix24Emulator
from tests.e2e.test_amocrm_e2e import LEADROUTER, ROOT, _healthy, free_port, wait_for

SECRET = "e2e-b24-hook-Secret-31"
APP_TOKEN = "b24-outgoing-app-token-8Hq"
CONFIG = """
language: ru
timezone: Europe/Moscow
head_of_sales: head
crm: {type: bitrix24, base_url: "%(url)s", domain: b24.example.ru, entity: %(entity)s}
managers:
  ivanova: {crm_user_id: 101, name: Иванова}
  petrov: {crm_user_id: 102, name: Петров}
  head: {crm_user_id: 100, name: Руководитель}
pools:
  sales: {members: [ivanova, petrov], strategy: round_robin}
rules:
  - {name: default, pool: sales}
on_assign:
  task: {text: "Связаться с клиентом", due_minutes: 15}
  note: true
"""
EVENTS = {"lead": ["ONCRMLEADADD", "ONCRMLEADUPDATE"], "deal": ["ONCRMDEALADD", "ONCRMDEALUPDATE"]}


def run(env: dict[str, str], cwd: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LEADROUTER, *args], cwd=cwd, env=env, capture_output=True, text=True)


@pytest.fixture(params=["lead", "deal"])
def stack(request, tmp_path) -> Iterator[tuple[Bitrix24Emulator, dict[str, str], str, str]]:
    entity = request.param
    with Bitrix24Emulator() as emu:
        config = tmp_path / "config.yaml"
        config.write_text(CONFIG % {"url": emu.url, "entity": entity}, encoding="utf-8")
        webhook = emu.add_webhook(user=1)
        env = os.environ | {
            "PYTHONPATH": str(ROOT),
            "LEADROUTER_CONFIG": str(config),
            "LEADROUTER_DATABASE_URL": f"sqlite:///{tmp_path / 'leadrouter.db'}",
            "LEADROUTER_WEBHOOK_SECRET": SECRET,
            "LEADROUTER_BITRIX24_WEBHOOK_URL": webhook,
            "LEADROUTER_BITRIX24_APP_TOKEN": APP_TOKEN,
        }
        port = free_port()
        public = f"http://127.0.0.1:{port}"
        installed = run(env, str(tmp_path), "install", "--public-url", public)
        assert installed.returncode == 0, installed.stderr
        # A webhook URL may not bind events: install says what to paste, with the secret masked.
        assert f"{public}/hooks/bitrix24/***" in installed.stdout and SECRET not in installed.stdout
        assert f"  URL обработчика:  {public}/hooks/bitrix24/***" in installed.stdout  # the config's ru
        assert "LEADROUTER_BITRIX24_APP_TOKEN" in installed.stdout and EVENTS[entity][0] in installed.stdout
        # … which the admin does: an outgoing webhook to our hook URL, its token in our env.
        emu.add_outgoing_webhook(f"{public}/hooks/bitrix24/{SECRET}", EVENTS[entity], token=APP_TOKEN)
        server = subprocess.Popen(
            [*LEADROUTER, "serve", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_for(lambda: _healthy(public), what="leadrouter serve to answer /healthz")
            yield emu, env, str(tmp_path), entity
        finally:
            server.terminate()
            _, errors = server.communicate(timeout=20)
            assert SECRET not in errors and webhook.split("/")[-2] not in errors


def audit(env: dict[str, str], cwd: str, lead_id: str) -> list[dict]:
    done = run(env, cwd, "audit", "--lead", lead_id, "--format", "json")
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def test_a_new_lead_or_deal_gets_a_responsible_a_todo_and_a_comment_and_its_echo_decides_nothing(stack):
    emu, env, cwd, entity = stack
    number = emu.create(entity, {"TITLE": "Заявка с сайта"})
    lead_id = f"{entity}:{number}"
    wait_for(lambda: emu.portal.comments, what="the timeline comment with the reason")
    assert emu.record(entity, number)["ASSIGNED_BY_ID"] == "101"
    todo = emu.portal.activities[0]
    assert (todo["ownerTypeId"], todo["ownerId"], todo["responsibleId"]) == (
        {"lead": "1", "deal": "2"}[entity],
        str(number),
        "101",
    )
    assert todo["title"] == "Связаться с клиентом"
    comment = emu.portal.comments[0]
    assert (comment["ENTITY_TYPE"], comment["ENTITY_ID"]) == (entity, str(number))
    assert comment["COMMENT"].startswith("leadrouter: ") and "default" in comment["COMMENT"]
    assert "Иванова" in comment["COMMENT"]
    wait_for(lambda: any(e["kind"] == "echo" for e in audit(env, cwd, lead_id)), what="the echo")
    kinds = [e["kind"] for e in audit(env, cwd, lead_id)]
    assert kinds.count("decision") == 1 and kinds.count("crm_write") == 3
    assert emu.record(entity, number)["ASSIGNED_BY_ID"] == "101"  # nobody wrote it twice
    updates = [e for e in emu.log if f"crm.{entity}.update" in e.commands]
    assert len(updates) == 1


HANDOFF_CONFIG = (
    CONFIG.replace(
        "  head: {crm_user_id: 100, name: Руководитель}\n",
        "  head: {crm_user_id: 100, name: Руководитель}\n  farmer: {crm_user_id: 201, name: Фермер}\n",
    ).replace(
        "  sales: {members: [ivanova, petrov], strategy: round_robin}\n",
        "  sales: {members: [ivanova, petrov], strategy: round_robin}\n"
        "  farmers: {members: [farmer], strategy: least_loaded}\n",
    )
    + "handoffs:\n  - {name: prepared, on_stage: Подготовка, to: farmers, keep_hunter_in_field: Хантер}\n"
)


def test_a_deal_moved_into_the_handoff_stage_is_handed_over_once(tmp_path):
    with Bitrix24Emulator() as emu:
        emu.add_field("deal", "UF_CRM_HUNTER", "Хантер")
        config = tmp_path / "config.yaml"
        config.write_text(HANDOFF_CONFIG % {"url": emu.url, "entity": "deal"}, encoding="utf-8")
        env = os.environ | {
            "PYTHONPATH": str(ROOT),
            "LEADROUTER_CONFIG": str(config),
            "LEADROUTER_DATABASE_URL": f"sqlite:///{tmp_path / 'leadrouter.db'}",
            "LEADROUTER_WEBHOOK_SECRET": SECRET,
            "LEADROUTER_BITRIX24_WEBHOOK_URL": emu.add_webhook(user=1),
            "LEADROUTER_BITRIX24_APP_TOKEN": APP_TOKEN,
        }
        port = free_port()
        public = f"http://127.0.0.1:{port}"
        emu.add_outgoing_webhook(f"{public}/hooks/bitrix24/{SECRET}", EVENTS["deal"], token=APP_TOKEN)
        command = [*LEADROUTER, "serve", "--port", str(port)]
        server = subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            wait_for(lambda: _healthy(public), what="leadrouter serve to answer /healthz")
            number = emu.create("deal", {"TITLE": "Поставка"})
            wait_for(lambda: emu.record("deal", number)["ASSIGNED_BY_ID"] == "101", what="the first owner")
            emu.update("deal", number, {"STAGE_ID": "PREPARATION"})  # a person moves the deal on
            wait_for(lambda: emu.record("deal", number)["ASSIGNED_BY_ID"] == "201", what="the handoff")
            emu.update("deal", number, {"TITLE": "Поставка (уточнено)"})  # it stays in the stage
            wait_for(lambda: emu.record("deal", number).get("UF_CRM_HUNTER") == "Иванова", what="the hunter")
            kinds = [e["kind"] for e in audit(env, str(tmp_path), f"deal:{number}")]
            assert kinds.count("handoff") == 1 and kinds.count("decision") == 1
        finally:
            server.terminate()
            server.communicate(timeout=20)
