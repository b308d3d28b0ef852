from __future__ import annotations

import threading

from adapters.ratelimit import SharedRateLimiter, SlidingWindowLimiter


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


# -- the sliding window amoCRM is paced by ----------------------------------------------------------


def window(engine, t, limit=7, margin=0.1):
    return SlidingWindowLimiter(engine, "amo", limit, margin=margin, clock=t.clock, sleep=t.sleep)


def sent_at(lim, t, count):
    """Send times of `count` calls, each going at its reserved moment (time advances to it)."""
    times = []
    for _ in range(count):
        t.now += lim.acquire()
        times.append(t.now)
    return times


def most_in_any_second(times):
    """As the server counts: at each arrival, the arrivals of the second up to it."""
    return max(sum(1 for u in times if a - 1.0 < u <= a) for a in times)


def test_seven_go_at_once_and_the_eighth_waits_a_second_and_the_margin(engine):
    t = FakeTime()
    times = sent_at(window(engine, t), t, 15)
    start = times[0]
    assert [round(x - start, 4) for x in times] == [0.0] * 7 + [1.1] * 7 + [2.2]


def test_no_second_of_sends_holds_more_than_seven_even_if_each_call_lands_up_to_the_margin_late(engine):
    """The property the CRM sees: sends shifted by any delay in [0, margin) still never put eight
    in one second of arrival."""
    import random

    t = FakeTime()
    lim = window(engine, t)
    rng = random.Random(3)
    sends = []
    for _ in range(200):
        t.now += rng.uniform(0, 0.05)  # callers come at uneven moments
        t.now += lim.acquire()
        sends.append(t.now)
    for seed in range(20):
        jitter = random.Random(seed)
        arrivals = sorted(s + jitter.uniform(0, 0.099) for s in sends)
        assert most_in_any_second(arrivals) <= 7


def test_two_processes_share_the_window(engine):
    t = FakeTime()
    a, b = window(engine, t), window(engine, t)
    waits = [(a if i % 2 else b).acquire() for i in range(9)]
    assert waits[:7] == [0.0] * 7 and [round(w, 4) for w in waits[7:]] == [1.1, 1.1]


def test_the_window_slides_with_time(engine):
    t = FakeTime()
    lim = window(engine, t)
    assert [lim.acquire() for _ in range(7)] == [0.0] * 7
    t.now += 0.6
    assert round(lim.acquire(), 4) == 0.5  # the first of the seven leaves the window at +1.1
    t.now += 2.0
    assert [lim.acquire() for _ in range(6)] == [0.0] * 6  # six of the last seven have left


def test_a_429_slows_every_process_and_the_slowdown_wears_off(engine):
    t = FakeTime()
    a, b = window(engine, t), window(engine, t)
    assert a.slow_down() == 0.1
    times = sent_at(b, t, 8)
    assert round(times[7] - times[0], 4) == 1.2  # 1 s, the margin, and what the 429 added
    t.now += 3600
    times = sent_at(b, t, 8)
    assert round(times[7] - times[0], 4) == 1.1


def test_repeated_429s_widen_the_margin_only_up_to_its_cap(engine):
    t = FakeTime()
    lim = window(engine, t)
    assert [round(lim.slow_down(), 2) for _ in range(8)] == [0.1, 0.2, 0.3, 0.4, 0.5, 0.5, 0.5, 0.5]


def test_a_fractional_rate_becomes_whole_calls_per_window(engine):
    t = FakeTime()
    lim = SlidingWindowLimiter.per_second(engine, "slow", 0.5, margin=0.0, clock=t.clock, sleep=t.sleep)
    assert (lim.limit, lim.window) == (1, 2.0)
    assert [round(x - 1_000_000.0, 3) for x in sent_at(lim, t, 3)] == [0.0, 2.0, 4.0]


def test_the_window_survives_a_clock_stepped_back(engine):
    t = FakeTime()
    lim = window(engine, t)
    sent_at(lim, t, 8)
    t.now -= 240  # NTP steps the wall clock four minutes back
    assert lim.acquire() == 0.0  # not 240 s: the stored moments are from before the step
    assert [lim.acquire() for _ in range(6)] == [0.0] * 6
    assert round(lim.acquire(), 4) == 1.1  # and the window holds from there on


def test_the_admin_page_still_reads_how_far_ahead_the_gate_is_booked(engine):
    from adapters.storage.engine import reading
    from adapters.storage.kv import read_value

    t = FakeTime()
    lim = window(engine, t)
    for _ in range(9):
        lim.acquire()
    with reading(engine) as connection:
        value = read_value(connection, lim.key)
    assert round(value["tat"] - t.now, 4) == 1.1


class Oversleeping(FakeTime):
    """Time that moves with each sleep, and once (`late`) further than asked: a thread woken late."""

    def __init__(self, late: float) -> None:
        super().__init__()
        self.late = late

    def sleep(self, seconds: float) -> None:
        self.now += seconds + self.late
        self.late = 0.0


def test_a_call_woken_too_late_takes_a_new_moment_and_leaves_the_old_one_booked(engine):
    from adapters.storage.engine import reading
    from adapters.storage.kv import read_value

    t = Oversleeping(late=0.2)
    lim = window(engine, t, margin=0.15)
    assert [lim.acquire() for _ in range(7)] == [0.0] * 7
    lim.acquire()  # booked for +1.15, woken at +1.35: more than a sixth of the margin late
    with reading(engine) as connection:
        slots = [round(s - 1_000_000.0, 4) for s in read_value(connection, lim.key)["slots"]]
    assert slots[-2:] == [1.15, 1.35]  # went at a moment booked when it woke; the first stays booked


def test_a_call_a_little_late_goes_on_its_moment(engine):
    from adapters.storage.engine import reading
    from adapters.storage.kv import read_value

    t = Oversleeping(late=0.02)
    lim = window(engine, t, margin=0.15)
    for _ in range(8):
        lim.acquire()
    with reading(engine) as connection:
        slots = [round(s - 1_000_000.0, 4) for s in read_value(connection, lim.key)["slots"]]
    assert slots[-1] == 1.15 and len(set(slots)) == 2  # seven at 0, one at 1.15: nothing re-booked
