"""A silenced webhook is seen where an operator looks: /healthz, /metrics, the admin header and API;
and so is a config that runs from the database because the file was refused at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field

from adapters.admin import HookStatus
from adapters.errors import CrmError
from tests.web.test_admin import BEARER, admin, conforms, login  # noqa: F401 (admin is a fixture)
from tests.web.test_config_fallback import break_file
from webhook_app.config.live import ConfigHolder

DISABLED = HookStatus(found=True, disabled=True, handler="https://x.example/hooks/amocrm/s3cret")


@dataclass
class ScriptedKeeper:
    """Our hook as a test wants the CRM to have it; repairs fail while `broken` is set."""

    status: HookStatus = field(default_factory=lambda: DISABLED)
    broken: str = ""
    repairs: int = 0

    def hook_status(self) -> HookStatus:
        return self.status

    def repair_hook(self, status: HookStatus, public_url: str | None) -> HookStatus:
        if self.broken:
            raise CrmError(self.broken)
        self.repairs += 1
        self.status = HookStatus(found=True, handler=status.handler)
        return self.status


def metric(text: str, name: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_a_hook_that_stays_off_degrades_healthz_and_turns_the_header_red_until_repaired(admin):  # noqa: F811
    keeper = ScriptedKeeper(broken="422 Unprocessable Entity")
    admin.worker.ctx.hooks = keeper
    admin.worker.keep_reconciling(admin.clock())
    admin.worker.run_once()

    health = admin.client.get("/healthz").json
    assert health["status"] == "degraded"
    (hook,) = health["hooks"]
    assert (hook["crm"], hook["state"], hook["problem"]) == ("amocrm", "down", "the webhook is disabled")
    assert "repair failed: 422" in hook["error"] and hook["since"] == admin.clock().isoformat()
    metrics = admin.client.get("/metrics").get_data(as_text=True)
    assert metric(metrics, 'leadrouter_hook_state{crm="amocrm",state="down"}') == 1.0
    assert metric(metrics, 'leadrouter_hook_state{crm="amocrm",state="ok"}') == 0.0
    assert metric(metrics, 'leadrouter_hook_repairs_total{crm="amocrm"}') == 0.0
    api = admin.client.get("/api/v1/health", headers=BEARER)
    conforms(api, "/api/v1/health")
    assert "hook" in api.json["stale"] and api.json["hooks"][0]["state"] == "down"
    login(admin.client)
    page = admin.client.get("/admin").get_data(as_text=True)
    assert 'id="hook-down-amocrm"' in page and "Вебхук amoCRM отключён с" in page
    assert "s3cret" not in page  # the hook URL holds the webhook secret

    keeper.broken = ""
    admin.clock.advance(minutes=1)
    admin.worker.run_once()
    health = admin.client.get("/healthz").json
    assert health["status"] == "ok" and health["hooks"][0]["state"] == "ok"
    assert health["hooks"][0]["repaired_at"] == admin.clock().isoformat()
    metrics = admin.client.get("/metrics").get_data(as_text=True)
    assert metric(metrics, 'leadrouter_hook_state{crm="amocrm",state="ok"}') == 1.0
    assert metric(metrics, 'leadrouter_hook_repairs_total{crm="amocrm"}') == 1.0
    page = admin.client.get("/admin").get_data(as_text=True)
    assert 'id="hook-down-amocrm"' not in page and "Вебхук amoCRM был отключён и включён снова" in page
    admin.clock.advance(hours=25)
    assert "включён снова" not in admin.client.get("/admin").get_data(as_text=True)


def test_a_hook_that_cannot_be_read_is_a_note_not_an_alarm(admin):  # noqa: F811
    admin.worker.ctx.hooks = ScriptedKeeper(status=HookStatus(checkable=False, note="webhook setup"))
    admin.worker.keep_reconciling(admin.clock())
    admin.worker.run_once()
    health = admin.client.get("/healthz").json
    assert health["status"] == "ok" and health["hooks"][0]["state"] == "unchecked"
    login(admin.client)
    assert 'id="hook-' not in admin.client.get("/admin").get_data(as_text=True)


def test_the_header_says_when_a_refused_file_left_a_stored_version_running(admin):  # noqa: F811
    good = admin.services.config.current.version
    path = admin.services.config.path
    break_file(path)
    ConfigHolder(path, admin.services.engine, admin.clock)  # a process started on the broken file
    login(admin.client)
    page = admin.client.get("/admin").get_data(as_text=True)
    assert 'id="config-fallback"' in page and "отклонён при запуске" in page and good in page
    api = admin.client.get("/api/v1/health", headers=BEARER)
    conforms(api, "/api/v1/health")
    assert api.json["config_fallback"]["running"] == good and "config_fallback" in api.json["stale"]
