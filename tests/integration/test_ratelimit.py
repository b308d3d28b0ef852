from __future__ import annotations

import threading

from adapters.ratelimit import SharedRateLimiter


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += 0  # sleeping does not move shared time: each caller reports its own wait


def limiter(engine, rate, burst, t):
    return SharedRateLimiter(engine, "crm", rate, burst, clock=t.clock, sleep=t.sleep)


def test_calls_are_spaced_one_over_rate_apart_without_a_burst(engine):
    t = FakeTime()
    waits = [limiter(engine, 7, 1, t).acquire() for _ in range(8)]
    assert waits[0] == 0
    assert [round(w, 4) for w in waits] == [round(i / 7, 4) for i in range(8)]


def test_a_burst_goes_at_once_then_the_leak_rate_applies(engine):
    t = FakeTime()
    lim = limiter(engine, 2, 50, t)
    waits = [lim.acquire() for _ in range(52)]
    assert waits[:50] == [0.0] * 50
    assert [round(w, 3) for w in waits[50:]] == [0.5, 1.0]


def test_two_limiters_on_one_database_share_the_budget(engine):
    t = FakeTime()
    a, b = limiter(engine, 7, 1, t), limiter(engine, 7, 1, t)
    waits = [a.acquire(), b.acquire(), a.acquire(), b.acquire()]
    assert [round(w, 4) for w in waits] == [0, round(1 / 7, 4), round(2 / 7, 4), round(3 / 7, 4)]


def test_the_bucket_refills_with_time(engine):
    t = FakeTime()
    lim = limiter(engine, 2, 4, t)
    assert [lim.acquire() for _ in range(4)] == [0.0] * 4
    t.now += 2.0  # four slots leak away
    assert [lim.acquire() for _ in range(4)] == [0.0] * 4
    assert lim.acquire() == 0.5


def test_a_clock_stepped_back_does_not_stop_the_calls_for_the_length_of_the_step(engine):
    t = FakeTime()
    lim = limiter(engine, 7, 1, t)
    lim.acquire()
    t.now -= 240  # NTP steps the wall clock four minutes back
    assert lim.acquire() == 0.0  # not 240 s: the stored slot is from before the step
    assert round(lim.acquire(), 4) == round(1 / 7, 4)  # and the spacing holds from there on
