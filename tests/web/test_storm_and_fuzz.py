"""Abuse of the hook: duplicate storms over real HTTP, and random or hostile bodies."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.serving import make_server

from adapters.storage.tables import assignments, inbox
from core.model import Lead
from core.ports import WriteKind
from tests.web.conftest import SECRET, make_stack
from tests.web.test_hooks import amo_add


@pytest.mark.slow
def test_a_duplicate_storm_gives_one_decision_and_one_write_per_lead(tmp_path):
    stack = make_stack(tmp_path)
    ids = [str(1000 + i) for i in range(1000)]
    for lead_id in ids:
        stack.crm.leads[lead_id] = Lead(id=lead_id, created_at=stack.clock(), stage_id="1")
    server = make_server("127.0.0.1", 0, stack.client.application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/hooks/amocrm/{SECRET}"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}

    def post(lead_id: str) -> int:
        with httpx.Client(timeout=30) as client:
            return client.post(url, content=amo_add(lead_id), headers=headers).status_code

    try:
        # Every lead three times: the first two copies race each other, the third comes later.
        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(post, ids + ids))
            statuses += list(pool.map(post, ids))
    finally:
        server.shutdown()
    assert Counter(statuses) == {200: 3000}
    while stack.worker.run_once():
        pass
    engine = stack.services.engine
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(inbox)).scalar() == 1000
        assert c.execute(select(func.count()).select_from(assignments)).scalar() == 1000
    owners = Counter(w.lead_id for w in stack.crm.writes if w.kind is WriteKind.RESPONSIBLE)
    assert len(owners) == 1000 and max(owners.values()) == 1


hostile_text = st.text(st.characters(codec="utf-8"), max_size=60)
pairs = st.lists(st.tuples(hostile_text, hostile_text), max_size=12)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(st.binary(max_size=300), pairs.map(lambda ps: httpx.QueryParams(ps).__str__())))
def test_random_bodies_only_ever_get_400_403_or_413_and_nothing_is_stored(tmp_path_factory, body):
    stack = _fuzz_stack(tmp_path_factory)
    for crm in ("amocrm", "bitrix24"):
        response = stack.hook(body, crm=crm)
        assert response.status_code in (200, 400, 403, 404, 413), response.status_code
        if response.status_code == 200:  # a valid, empty amoCRM POST (no lead events) stores nothing
            assert response.json["stored"] == 0
    with stack.services.engine.connect() as c:
        assert c.execute(select(func.count()).select_from(inbox)).scalar() == 0


_STACKS: dict[str, object] = {}


def _fuzz_stack(factory):
    if "stack" not in _STACKS:
        _STACKS["stack"] = make_stack(factory.mktemp("fuzz"))
    return _STACKS["stack"]
