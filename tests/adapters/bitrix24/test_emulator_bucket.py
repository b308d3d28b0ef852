"""The emulated portal's leaky bucket (bitrix24.md §5.1): +1 per request as it arrives, drains
`rate`/s, a request that would overflow `capacity` → 503 QUERY_LIMIT_EXCEEDED."""

from __future__ import annotations

import threading

import httpx

from sandbox.bitrix24.emulator import Bitrix24Emulator
from sandbox.bitrix24.portal import Bucket


def test_the_bucket_takes_its_capacity_at_once_then_drains_at_its_rate():
    bucket = Bucket(rate=2.0, capacity=50, at=100.0)
    assert [bucket.admit(100.0) for _ in range(51)] == [True] * 50 + [False]
    assert bucket.admit(100.4) is False  # 0.8 drained: still no room for a whole request
    assert bucket.admit(100.5) is True
    assert bucket.admit(100.5) is False


def test_a_refused_request_is_not_counted():
    bucket = Bucket(rate=2.0, capacity=2, at=0.0)
    assert [bucket.admit(0.0) for _ in range(5)] == [True, True, False, False, False]
    assert bucket.admit(0.5) is True


def test_an_arrival_handled_out_of_order_does_not_refill_the_bucket():
    bucket = Bucket(rate=2.0, capacity=3, at=10.0)
    assert [bucket.admit(10.0) for _ in range(3)] == [True] * 3
    assert bucket.admit(9.0) is False  # read a moment earlier by another thread: no drain, no refill
    assert bucket.admit(10.5) is True


def test_over_http_a_burst_past_the_bucket_gets_503_query_limit_exceeded_with_jitter():
    with Bitrix24Emulator(rate=2.0, burst=5, jitter=0.03) as emu:
        url = emu.add_webhook()
        answers: list[httpx.Response] = []

        def one() -> None:
            answers.append(httpx.post(f"{url}server.time.json", json={}, timeout=5))

        threads = [threading.Thread(target=one) for _ in range(7)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    refused = [a for a in answers if a.status_code == 503]
    assert len(refused) == 2 and len(answers) == 7
    assert refused[0].json()["error"] == "QUERY_LIMIT_EXCEEDED"
