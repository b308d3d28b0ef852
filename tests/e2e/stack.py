"""What the handoff end-to-end tests stand on: a CRM emulator behind one small driver per CRM, the
real `leadrouter` processes over loopback, and deadline-bound waits for what happens asynchronously.

A driver acts as the CRM's people act (create a lead or deal, drag it to a stage, edit it) through
the emulator, which then sends its real webhooks in the CRM's real form encoding; and it reads
back what the CRM holds (responsible, tasks, notes, custom fields). The tests are written once
against this interface and run on both CRMs.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

import httpx

from sandbox.amocrm import AmoEmulator
from sandbox.amocrm.changes import apply_lead_changes
from sandbox.amocrm.state import User
from sandbox.bitrix24.emulator import Bitrix24Emulator
from tests.e2e.test_amocrm_e2e import LEADROUTER, ROOT, _healthy, free_port

SECRET = "e2e-handoff-Secret-5d"
APP_TOKEN = "b24-handoff-app-token-Qx"
# One staff on both CRMs (the amoCRM emulator's seeded users, plus one more on each).
EXTRA_USER = (504145, "Смирнова", "Ольга")
STAGES = ("Квалифицирован", "Договор подписан")


def wait_for(
    check: Callable[[], object],
    *,
    timeout: float = 20.0,
    what: str,
    pump: Callable[[], object] = lambda: None,
) -> None:
    """Poll `check` (running `pump` between polls) until it is true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pump()
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class CrmDriver(Protocol):
    """One emulated CRM, seen the way the tests need it."""

    name: str
    url: str

    def crm_line(self) -> str: ...
    def env(self) -> dict[str, str]: ...
    def connect(self, public: str, env: dict[str, str], cwd: Path) -> None: ...
    def create(self) -> int: ...
    def audit_id(self, number: int) -> str: ...
    def owner(self, number: int) -> int: ...
    def move(self, number: int, stage: str) -> None: ...
    def edit(self, number: int) -> None: ...
    def stage_event_again(self, number: int, previous: str) -> None: ...
    def duplicate_next_events(self, count: int) -> None: ...
    def tasks(self, number: int) -> list[tuple[int, str]]: ...
    def notes(self, number: int) -> list[str]: ...
    def field(self, number: int, label: str) -> str | None: ...
    def idle(self) -> bool: ...
    def secrets(self) -> list[str]: ...


class AmoDriver:
    """amoCRM: a lead in the «Продажи» pipeline; stage moves send `status_lead` + `update_lead`."""

    name = "amocrm"

    def __init__(self, emu: AmoEmulator) -> None:
        self.emu = emu
        self.url = emu.url
        self.token = emu.admin_token()
        account = emu.account
        with account.lock:
            uid, first, last = EXTRA_USER
            account.users[uid] = User(uid, f"{first} {last}", "smirnova@example.ru", group_id=0)
            pipeline = account.pipelines[5723341][1]
            pipeline[50288842] = (
                STAGES[0],
                0,
            )  # an admin adds «Квалифицирован»; «Договор подписан» is seeded
            account.add_field("leads", "Колл-менеджер")
        self.stage_ids = {name: sid for sid, (name, _) in pipeline.items()}

    def crm_line(self) -> str:
        return f'{{type: amocrm, base_url: "{self.url}", account_id: {self.emu.account.id}}}'

    def env(self) -> dict[str, str]:
        return {"LEADROUTER_AMOCRM_TOKEN": self.token}

    def connect(self, public: str, env: dict[str, str], cwd: Path) -> None:
        done = run(env, cwd, "install", "--public-url", public)  # registers our account webhook
        assert done.returncode == 0, done.stderr

    def create(self) -> int:
        return self.emu.create_lead(name="Заявка с сайта").id

    def audit_id(self, number: int) -> str:
        return str(number)

    def owner(self, number: int) -> int:
        return self.emu.account.leads[number].responsible_user_id

    def move(self, number: int, stage: str) -> None:
        self.emu.person_moves(number, self.stage_ids[stage])

    def edit(self, number: int) -> None:
        """A person edits the budget: `update_lead` only, the stage as it was."""
        lead = self.emu.account.leads[number]
        apply_lead_changes(self.emu.account, self.emu.hooks, [(lead, {"price": lead.price + 1000})], 504100)

    def stage_event_again(self, number: int, previous: str) -> None:
        """The stage's Digital Pipeline «send webhook» (§1.8): a bare `leads[status]`, once more."""
        destination = next(iter(self.emu.account.webhooks))
        self.emu.dp_webhook(destination, number, self.stage_ids[previous])

    def duplicate_next_events(self, count: int) -> None:
        self.emu.faults.duplicate_hooks = 1.0 if count else 0.0

    def tasks(self, number: int) -> list[tuple[int, str]]:
        return [(t["responsible_user_id"], t["text"]) for t in self.emu.tasks_for(number)]

    def notes(self, number: int) -> list[str]:
        return [n["params"]["text"] for n in self.emu.notes_for(number)]

    def field(self, number: int, label: str) -> str | None:
        definition = self.emu.account.field_by_name("leads", label)
        assert definition is not None
        values = self.emu.account.leads[number].fields.get(definition.id) or []
        return str(values[0]["value"]) if values else None

    def idle(self) -> bool:
        return self.emu.hooks.wait(timeout=5.0)

    def secrets(self) -> list[str]:
        return [self.token]


class Bitrix24Driver:
    """Bitrix24: a deal in the General funnel; every change sends ONCRMDEALUPDATE with only the ID."""

    name = "bitrix24"
    fields: ClassVar[dict[str, str]] = {"Колл-менеджер": "UF_CRM_CALLER", "Хантер": "UF_CRM_HUNTER"}

    def __init__(self, emu: Bitrix24Emulator) -> None:
        self.emu = emu
        self.url = emu.url
        for uid, first, last in [
            (504100, "Руководитель", ""),
            (504141, "Анна", "Иванова"),
            (504142, "Пётр", "Петров"),
            (504143, "Иван", "Сидоров"),
            (504144, "Мария", "Козлова"),
            (EXTRA_USER[0], EXTRA_USER[2], EXTRA_USER[1]),
        ]:
            emu.add_user(uid, first, last)
        self.stage_ids = {
            "Новая": "NEW",
            STAGES[0]: emu.add_deal_stage("UC_QUALIFIED", STAGES[0], sort=15),
            STAGES[1]: emu.add_deal_stage("UC_SIGNED", STAGES[1], sort=17),
        }
        for label, uf in self.fields.items():
            emu.add_field("deal", uf, label)
        self.webhook = emu.add_webhook(user=1)

    def crm_line(self) -> str:
        return f'{{type: bitrix24, base_url: "{self.url}", domain: b24.example.ru, entity: deal}}'

    def env(self) -> dict[str, str]:
        return {"LEADROUTER_BITRIX24_WEBHOOK_URL": self.webhook, "LEADROUTER_BITRIX24_APP_TOKEN": APP_TOKEN}

    def connect(self, public: str, env: dict[str, str], cwd: Path) -> None:
        """The admin's outgoing webhook to our hook URL (a webhook URL cannot bind events)."""
        events = ["ONCRMDEALADD", "ONCRMDEALUPDATE"]
        self.emu.add_outgoing_webhook(f"{public}/hooks/bitrix24/{SECRET}", events, token=APP_TOKEN)

    def create(self) -> int:
        return self.emu.create("deal", {"TITLE": "Заявка с сайта"})

    def audit_id(self, number: int) -> str:
        return f"deal:{number}"

    def owner(self, number: int) -> int:
        return int(self.emu.record("deal", number)["ASSIGNED_BY_ID"])

    def move(self, number: int, stage: str) -> None:
        self.emu.update("deal", number, {"STAGE_ID": self.stage_ids[stage]})

    def edit(self, number: int) -> None:
        """A person edits the amount: ONCRMDEALUPDATE, the stage as it was."""
        amount = float(self.emu.record("deal", number).get("OPPORTUNITY") or 0)
        self.emu.update("deal", number, {"OPPORTUNITY": f"{amount + 1000:.2f}"})

    def stage_event_again(self, number: int, previous: str) -> None:
        """The same ONCRMDEALUPDATE once more (Bitrix24 may deliver an event twice, §9.3)."""
        with self.emu.portal.lock:
            self.emu.events.emit("ONCRMDEALUPDATE", str(number))

    def duplicate_next_events(self, count: int) -> None:
        self.emu.events.faults.duplicate_next = count

    def tasks(self, number: int) -> list[tuple[int, str]]:
        return [
            (int(a["responsibleId"]), str(a["title"]))
            for a in self.emu.portal.activities
            if (str(a["ownerTypeId"]), str(a["ownerId"])) == ("2", str(number))
        ]

    def notes(self, number: int) -> list[str]:
        return [
            str(c["COMMENT"])
            for c in self.emu.portal.comments
            if (str(c["ENTITY_TYPE"]).lower(), str(c["ENTITY_ID"])) == ("deal", str(number))
        ]

    def field(self, number: int, label: str) -> str | None:
        value = self.emu.record("deal", number).get(self.fields[label])
        return str(value) if value else None

    def idle(self) -> bool:
        return self.emu.events.wait_idle(timeout=5.0)

    def secrets(self) -> list[str]:
        return [self.webhook.split("/")[-2], APP_TOKEN]


@contextmanager
def emulated(crm: str) -> Iterator[CrmDriver]:
    """The emulator of `crm`, started, with our staff, stages and fields in it."""
    if crm == "amocrm":
        with AmoEmulator(rate=7) as amo:
            yield AmoDriver(amo)
    else:
        with Bitrix24Emulator() as b24:
            yield Bitrix24Driver(b24)


def run(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """One `leadrouter` command."""
    return subprocess.run([*LEADROUTER, *args], cwd=cwd, env=env, capture_output=True, text=True)


class AuditLog(list[dict[str, Any]]):
    """One lead's audit rows, oldest first, with the questions the tests ask of them."""

    def kinds(self) -> list[str]:
        return [entry["kind"] for entry in self]

    def handoffs(self) -> list[tuple[str, str]]:
        """(purpose, manager) of every handover, in order."""
        return [(e["detail"]["purpose"], e["manager"]) for e in self if e["kind"] == "handoff"]

    def writes(self, kind: str) -> int:
        """CRM writes of one kind (responsible, task, note, field) made."""
        return sum(1 for e in self if e["kind"] == "crm_write" and e["detail"]["write"] == kind)

    def arrived(self) -> int:
        """Webhooks about the lead that reached us (stored, or recognised as a redelivery)."""
        return sum(1 for e in self if e["kind"] in ("received", "duplicate"))


@dataclass
class Service:
    """`leadrouter serve` (or `web`) running against an emulator."""

    crm: CrmDriver
    env: dict[str, str]
    cwd: Path
    public: str

    def audit(self, number: int) -> AuditLog:
        """`leadrouter audit --lead ID --format json`, parsed."""
        done = run(self.env, self.cwd, "audit", "--lead", self.crm.audit_id(number), "--format", "json")
        assert done.returncode == 0, done.stderr
        return AuditLog([json.loads(line) for line in done.stdout.splitlines() if line.strip()])

    def settle(self, timeout: float = 20.0, pump: Callable[[], object] = lambda: None) -> None:
        """Wait until nothing is in flight: the CRM's webhooks all delivered, no due or running job
        and no unsent write in leadrouter (read from /metrics) — three times in a row. `pump`
        runs an in-process worker between the looks."""
        calm = 0

        def quiet() -> bool:
            nonlocal calm
            calm = calm + 1 if self.crm.idle() and _service_idle(self.public) else 0
            return calm >= 3

        wait_for(quiet, timeout=timeout, what="webhooks and jobs to settle", pump=pump)


def _service_idle(public: str) -> bool:
    text = httpx.get(f"{public}/metrics", timeout=5).text
    values: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    busy = (
        values.get('leadrouter_jobs{state="running"}', 0)
        + values.get('leadrouter_outbox{state="pending"}', 0)
        + values.get('leadrouter_outbox{state="sending"}', 0)
        + values.get("leadrouter_oldest_due_job_seconds", 0)
    )
    return busy == 0


def base_env(crm: CrmDriver, config: Path, tmp_path: Path) -> dict[str, str]:
    return os.environ | {
        "PYTHONPATH": str(ROOT),
        "LEADROUTER_CONFIG": str(config),
        "LEADROUTER_DATABASE_URL": f"sqlite:///{tmp_path / 'leadrouter.db'}",
        "LEADROUTER_WEBHOOK_SECRET": SECRET,
        **crm.env(),
    }


@contextmanager
def service(crm: CrmDriver, config_text: str, tmp_path: Path, command: str = "serve") -> Iterator[Service]:
    """Write the config, connect the CRM's webhooks to us, run `leadrouter <command>` until the end."""
    config = tmp_path / "config.yaml"
    config.write_text(config_text, encoding="utf-8")
    env = base_env(crm, config, tmp_path)
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    crm.connect(public, env, tmp_path)
    extra = ["--workers", "1"] if command == "web" else []
    # A file, not a pipe nobody reads while the service runs: a full pipe would block its logging.
    log_path = tmp_path / f"{command}.log"
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            [*LEADROUTER, command, "--port", str(port), *extra],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
            text=True,
        )
    try:
        wait_for(lambda: _healthy(public) or process.poll() is not None, what=f"leadrouter {command}")
        assert process.poll() is None, f"leadrouter {command} exited: {log_path.read_text(encoding='utf-8')}"
        yield Service(crm, env, tmp_path, public)
    finally:
        process.terminate()
        process.wait(timeout=20)
        errors = log_path.read_text(encoding="utf-8")
        assert not any(secret in errors for secret in [SECRET, *crm.secrets()]), "a secret was logged"
