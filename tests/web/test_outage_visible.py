"""A CRM outage is seen where an operator looks: /healthz, /metrics, the admin header and API."""

from __future__ import annotations

from tests.web.test_admin import BEARER, admin, conforms, login  # noqa: F401 (admin is a fixture)
from tests.web.test_hooks import amo_add, seed


def test_an_outage_shows_in_healthz_metrics_and_the_admin_header_until_the_crm_answers(admin):  # noqa: F811
    seed(admin, "1")
    admin.crm.down = True
    assert admin.hook(amo_add("1")).status_code == 200
    admin.worker.run_once()

    health = admin.client.get("/healthz").json
    assert health["status"] == "degraded"
    assert [(c["crm"], c["reachable"], c["jobs_waiting"]) for c in health["crm"]] == [("amocrm", False, 1)]
    metrics = admin.client.get("/metrics").get_data(as_text=True)
    assert 'leadrouter_waiting_for_crm{crm="amocrm",what="jobs"} 1.0' in metrics
    assert 'leadrouter_crm_unreachable_seconds{crm="amocrm"}' in metrics
    api = admin.client.get("/api/v1/health", headers=BEARER)
    conforms(api, "/api/v1/health")
    assert api.json["outage"]["jobs"] == 1 and "crm" in api.json["stale"]
    login(admin.client)
    assert "CRM не отвечает с" in admin.client.get("/admin").get_data(as_text=True)

    admin.crm.down = False
    admin.clock.advance(minutes=2)
    admin.worker.run_once()
    admin.worker.run_once()
    assert admin.crm.owner_of("1") == 101
    assert admin.client.get("/healthz").json["crm"] == []
    assert "CRM не отвечает" not in admin.client.get("/admin").get_data(as_text=True)
