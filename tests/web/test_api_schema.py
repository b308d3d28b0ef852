"""schemathesis against `/api/v1`: requests generated from the app's own OpenAPI document.

With the token, valid and invalid requests alike must never get a 5xx, and every answer must be
one the document lists, with its content type and body schema. Without the token, every operation
answers 401. Each operation gets a fresh stack, so what one test pauses or loads cannot leak.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.web.conftest import Stack, make_stack
from tests.web.test_admin import BEARER, TOKEN, route
from webhook_app.web.admin.openapi import document

OPERATIONS = [(path, method.upper()) for path, methods in document()["paths"].items() for method in methods]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


@dataclass
class Seeded:
    """A stack with something in every answer, and the values a request can name in it."""

    stack: Stack
    known: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def seeded(tmp_path) -> Seeded:
    """Decisions (one skipping a paused manager), dead letters, a pause and a refused config."""
    stack = make_stack(tmp_path, admin_token=TOKEN)
    client = stack.client
    route(stack, "1", "2", "3")
    stack.crm.refuse_leads.add("4")
    route(stack, "4")
    client.post("/api/v1/managers/petrov/pause", json={"until": "2h", "reason": "обучение"}, headers=BEARER)
    route(stack, "5")
    client.post("/api/v1/config/validate", data="pools: [", content_type="text/yaml", headers=BEARER)
    client.post("/api/v1/config/load", data="rules: 5", content_type="text/yaml", headers=BEARER)
    decisions = [d["id"] for d in client.get("/api/v1/decisions", headers=BEARER).json["decisions"]]
    dead = [d["id"] for d in client.get("/api/v1/deadletters", headers=BEARER).json["deadletters"]]
    assert decisions and dead, "the seed must leave decisions and dead letters to look at"
    text = stack.services.config.current.raw.decode()
    names = [{"path_parameters": {"name": n}} for n in stack.services.config.current.policy.managers]
    configs = [
        {"body": {"yaml": text}, "media_type": "application/json"},
        {"body": text.replace("round_robin", "least_loaded"), "media_type": "text/yaml"},
    ]
    run = client.post("/api/v1/whatif", json={"days": 7, "wait": True}, headers=BEARER).json
    assert run["state"] == "done", run
    known = {
        "/api/v1/whatif": [{"body": {"days": 7, "wait": True}, "media_type": "application/json"}],
        "/api/v1/whatif/{id}": [{"path_parameters": {"id": run["id"]}}],
        "/api/v1/managers/{name}/pause": names,
        "/api/v1/managers/{name}/resume": names,
        "/api/v1/decisions/{id}": [{"path_parameters": {"id": i}} for i in decisions],
        "/api/v1/deadletters/{id}/replay": [{"path_parameters": {"id": i}} for i in dead],
        "/api/v1/leads/{lead_id}": [{"path_parameters": {"lead_id": i}} for i in ("1", "4")],
        "/api/v1/config/validate": configs,
        "/api/v1/config/load": configs,
    }
    return Seeded(stack, known)


def cases(seed: Seeded, path: str, method: str, mode: GenerationMode) -> st.SearchStrategy[Any]:
    """Generated requests; valid ones also name real managers, ids and configs of the seeded stack
    (a random name or id is only ever a 404)."""
    schema = schemathesis.openapi.from_wsgi(
        "/api/v1/openapi.json", seed.stack.client.application, headers=BEARER
    )
    operation = schema[path][method]
    options = [operation.as_strategy(mode)]
    if mode is GenerationMode.POSITIVE:
        options += [operation.as_strategy(mode, **values) for values in seed.known.get(path, [])]
    return st.one_of(options)


@pytest.mark.slow
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_with_the_token_no_5xx_and_every_answer_is_documented(tmp_path, path, method, mode):
    seed = seeded(tmp_path)
    statuses: set[int] = set()

    @FUZZ
    @given(case=cases(seed, path, method, mode))
    def run(case):
        # Negative cases may carry a made-up Authorization header; the real token replaces it.
        case.headers = {**(case.headers or {}), **BEARER}
        response = case.call_and_validate(checks=CHECKS)
        # The token is always right, so nothing may be refused as unauthorised or throttled.
        assert response.status_code not in (401, 429), response.text
        statuses.add(response.status_code)

    run()
    if mode is GenerationMode.POSITIVE:
        assert 200 in statuses, f"no generated request succeeded: {sorted(statuses)}"


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_without_the_token_every_operation_answers_401(tmp_path, path, method):
    seed = seeded(tmp_path)
    assert "401" in document()["paths"][path][method.lower()]["responses"]

    @settings(FUZZ, max_examples=10)
    @given(case=cases(seed, path, method, GenerationMode.POSITIVE))
    def run(case):
        case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        response = case.call_and_validate(checks=CHECKS)
        assert response.status_code == 401, response.text
        assert "Bearer" in response.json()["error"]

    run()
