"""The emulator counts requests as amoCRM does (§4): more than 7 arriving within any one second → 429,
on arrival time, after an optional seeded network jitter."""

from __future__ import annotations

import httpx

from sandbox.amocrm import AmoEmulator
from sandbox.amocrm.guard import Limiter


class Moment:
    """A clock the test sets; the limiter's jitter "sleeps" are recorded, not slept."""

    def __init__(self) -> None:
        self.now = 5_000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def limiter(**options) -> tuple[Limiter, Moment]:
    t = Moment()
    return Limiter(clock=t.clock, sleep=t.sleep, **options), t


def answers_at(lim: Limiter, t: Moment, moments: list[float]) -> list[str | None]:
    out = []
    for moment in moments:
        t.now = 5_000.0 + moment
        out.append(lim.check())
    return out


def test_eight_requests_within_one_second_get_a_429():
    lim, t = limiter()
    assert answers_at(lim, t, [i * 0.13 for i in range(8)]) == [None] * 7 + ["429"]
    assert lim.limited == 1


def test_seven_a_second_spread_out_are_all_served():
    lim, t = limiter()
    assert answers_at(lim, t, [i / 7 + 0.001 * i for i in range(70)]) == [None] * 70


def test_the_window_slides_a_whole_second_past_each_arrival():
    lim, t = limiter()
    assert answers_at(lim, t, [0.0] * 7) == [None] * 7
    assert answers_at(lim, t, [0.999]) == ["429"]  # the seven are still within its second
    assert answers_at(lim, t, [1.0]) == [None]  # the first seven arrived a whole second before
    assert answers_at(lim, t, [1.5] * 6) == [None] * 6  # the seven at 0.0 have left the window
    assert answers_at(lim, t, [1.999]) == ["429"]  # seven since 1.0 (a refusal is not counted)
    assert answers_at(lim, t, [2.0]) == [None]


def test_exact_one_seventh_spacing_meets_a_429_once_the_network_reorders_two_calls():
    """The finding of issue 19: calls sent exactly 1/7 s apart, the first delayed 5 ms by the
    network, the eighth not: eight arrive within one second."""
    lim, t = limiter()
    arrivals = sorted([0.005] + [k / 7 for k in range(1, 8)])
    assert "429" in answers_at(lim, t, arrivals)


def test_refusals_that_keep_coming_end_in_a_ban():
    lim, t = limiter(ban_after=3)
    answers = answers_at(lim, t, [0.0] * 10)
    assert answers[7:] == ["429", "429", "429"]
    assert answers_at(lim, t, [30.0]) == ["403"]  # even a request well within the rate
    assert answers_at(lim, t, [61.0]) == [None]  # the ban (60 s here) is over


def test_the_jitter_is_a_seeded_delay_before_the_request_is_counted():
    runs = []
    for _ in range(2):
        lim, t = limiter(jitter=0.05, seed=11)
        for _ in range(20):
            lim.arrive()
        runs.append(t.slept)
    assert runs[0] == runs[1]  # the same seed, the same network
    assert all(0 <= s <= 0.05 for s in runs[0]) and len(set(runs[0])) == 20
    lim, t = limiter(jitter=0.0)
    lim.arrive()
    assert t.slept == []


def test_over_http_eight_in_a_row_with_jitter_get_a_429():
    with AmoEmulator(rate=7, jitter=0.03, hook_threads=1) as emu:
        headers = {"Authorization": f"Bearer {emu.admin_token()}"}
        with httpx.Client(base_url=emu.url, headers=headers, timeout=5) as http:
            statuses = [http.get("/api/v4/account").status_code for _ in range(8)]
    assert statuses == [200] * 7 + [429]
    assert emu.limiter.limited == 1
