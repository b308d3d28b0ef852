"""A real app over a temporary SQLite database and a small amoCRM config, plus the fake CRM."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.fakes.crm import FakeCrm
from tests.integration.helpers import Clock
from webhook_app.bootstrap import Services, build_services, build_worker
from webhook_app.pipeline.worker import Worker
from webhook_app.settings import Settings
from webhook_app.web.app import create_app

SECRET = "hook-s3cret-Zq7"
APP_TOKEN = "b24-app-token-Kx9"
ACCOUNT_ID = "29604535"

CONFIG = """
language: ru
timezone: Europe/Moscow
head_of_sales: head
crm: {type: %(crm)s, base_url: https://example.%(crm)s.ru, %(crm_extra)s}
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
CRM_EXTRA = {"amocrm": f"account_id: {ACCOUNT_ID}, subdomain: example", "bitrix24": "domain: b24.example.ru"}


@dataclass
class Stack:
    """The app, its services, the fake CRM, the clock and a worker, wired like production."""

    client: FlaskClient
    services: Services
    crm: FakeCrm
    clock: Clock
    worker: Worker

    def hook(self, body: bytes | str, *, crm: str = "amocrm", secret: str = SECRET, **kw: object):
        """POST a form body to our hook URL."""
        return self.client.post(
            f"/hooks/{crm}/{secret}", data=body, content_type="application/x-www-form-urlencoded", **kw
        )


def make_stack(tmp_path: Path, crm_type: str = "amocrm", admin_token: str | None = None) -> Stack:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG % {"crm": crm_type, "crm_extra": CRM_EXTRA[crm_type]}, encoding="utf-8")
    settings = Settings(
        config=config,
        database_url=f"sqlite:///{tmp_path / 'lr.db'}",
        webhook_secret=SECRET,
        bitrix24_app_token=APP_TOKEN,
        admin_token=admin_token,
    )  # type: ignore[arg-type]
    crm, clock = FakeCrm(name=crm_type), Clock()
    services = build_services(settings, crm=crm, clock=clock)
    app = create_app(services=services)
    return Stack(app.test_client(), services, crm, clock, build_worker(services, "test-worker"))


@pytest.fixture
def stack(tmp_path) -> Stack:
    return make_stack(tmp_path)


@pytest.fixture
def b24_stack(tmp_path) -> Stack:
    return make_stack(tmp_path, "bitrix24")
