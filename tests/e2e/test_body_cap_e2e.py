"""The body cap through the real server: a chunked body over 1 MiB is 413 and stores nothing."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
from sqlalchemy import func, select

from adapters.storage.engine import make_engine
from adapters.storage.tables import inbox
from tests.e2e.web_process import SECRET, leadrouter_web
from tests.web.test_body_cap import FORM, padded


def chunks(body: bytes) -> Iterator[bytes]:
    """The body in 64 KiB pieces: httpx sends an iterator with `Transfer-Encoding: chunked`."""
    for start in range(0, len(body), 64 * 1024):
        yield body[start : start + 64 * 1024]


def stored(directory) -> int:
    engine = make_engine(f"sqlite:///{directory / 'lr.db'}")
    with engine.connect() as connection:
        count = int(connection.execute(select(func.count()).select_from(inbox)).scalar_one())
    engine.dispose()
    return count


def test_a_chunked_body_over_the_cap_gets_413_from_the_real_server_and_nothing_is_stored(tmp_path):
    with leadrouter_web(tmp_path) as server:
        big = httpx.post(server.hook, content=chunks(padded(2 * 1024 * 1024)), headers={"content-type": FORM})
        assert big.status_code == 413
        small = httpx.post(server.hook, content=chunks(padded(10_000)), headers={"content-type": FORM})
        assert small.status_code == 200 and small.json()["stored"] == 1
    assert stored(tmp_path) == 1  # the small one only
    assert '/hooks/amocrm/*** HTTP/1.1" 413' in server.output and SECRET not in server.output
