"""The token bucket, driven by a fake clock (and once by real threads, briefly)."""

from __future__ import annotations

import threading
import time

import pytest

from bulk_update.api.pacing import TokenBucket


class FakeClock:
    """A clock that only moves when someone sleeps (or the test says so)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


def bucket(rate: float, burst: float = 1.0, **kw) -> tuple[TokenBucket, FakeClock]:
    clock = FakeClock()
    return TokenBucket(rate, burst, clock=clock, sleep=clock.sleep, **kw), clock


def test_writes_at_quota_are_spaced_by_the_interval():
    tb, clock = bucket(2.0)
    start = clock.now
    times = []
    for _ in range(6):
        tb.acquire()
        times.append(clock.now - start)
    assert times == pytest.approx([0.0, 0.5, 1.0, 1.5, 2.0, 2.5])


def test_kth_token_never_before_k_minus_one_intervals():
    tb, clock = bucket(1.0)
    first = None
    for k in range(1, 21):
        tb.acquire()
        first = clock.now if first is None else first
        assert clock.now - first >= (k - 1) / 1.0 - 1e-9


def test_burst_is_spent_at_once_then_paced():
    tb, clock = bucket(4.0, burst=3)
    start = clock.now
    waits = [tb.acquire() for _ in range(5)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert clock.now - start == pytest.approx(0.5)
    assert waits[3:] == pytest.approx([0.25, 0.25])


def test_tokens_accrue_continuously():
    tb, clock = bucket(2.0)
    tb.acquire()
    clock.advance(0.3)  # 0.6 of a token in hand
    assert tb.acquire() == pytest.approx(0.2)


def test_idle_time_saves_no_more_than_the_burst():
    tb, clock = bucket(10.0, burst=2)
    clock.advance(3600)
    assert [tb.try_acquire() for _ in range(3)] == [True, True, False]


def test_try_acquire_never_waits():
    tb, clock = bucket(1.0)
    assert tb.try_acquire()
    assert not tb.try_acquire()
    assert clock.sleeps == []
    clock.advance(1.0)
    assert tb.try_acquire()


def test_one_sleep_per_wait_and_early_wakeups_are_covered():
    clock = FakeClock()
    asked: list[float] = []

    def sleepy(seconds: float) -> None:  # wakes up 10% early
        asked.append(seconds)
        clock.advance(seconds * 0.9)

    tb = TokenBucket(1.0, clock=clock, sleep=sleepy)
    tb.acquire()
    start = clock.now
    tb.acquire()
    assert clock.now - start >= 1.0
    assert asked[0] == pytest.approx(1.0)  # first sleep asks for the whole wait


def test_reservations_are_first_come_first_served():
    tb, _ = bucket(2.0)
    assert [tb.reserve() for _ in range(4)] == pytest.approx([0.0, 0.5, 1.0, 1.5])


def test_slow_down_halves_the_rate_and_empties_the_bucket():
    tb, clock = bucket(10.0, burst=5)
    assert tb.slow_down() == pytest.approx(5.0)
    assert tb.rate == pytest.approx(5.0)
    assert not tb.try_acquire()  # the burst in hand is gone
    assert tb.acquire() == pytest.approx(0.2)  # a full interval at the new rate


def test_throttles_in_one_interval_count_once():
    tb, clock = bucket(8.0)
    tb.slow_down()
    tb.slow_down()
    tb.slow_down()
    assert tb.rate == pytest.approx(4.0)
    clock.advance(0.25)  # one interval at 4/s
    assert tb.slow_down() == pytest.approx(2.0)


def test_slow_down_stops_at_the_floor():
    tb, clock = bucket(8.0)
    for _ in range(10):
        tb.slow_down(min_rate=1.5)
        clock.advance(10)
    assert tb.rate == pytest.approx(1.5)
    tb2, clock2 = bucket(16.0)
    for _ in range(10):
        tb2.slow_down()
        clock2.advance(10)
    assert tb2.rate == pytest.approx(1.0)  # default floor: a sixteenth


def test_successes_recover_additively_to_the_configured_rate():
    tb, clock = bucket(10.0, recovery=0.1)
    tb.slow_down()
    rates = [tb.on_success() for _ in range(7)]
    assert rates == pytest.approx([6.0, 7.0, 8.0, 9.0, 10.0, 10.0, 10.0])
    assert tb.rate == tb.configured_rate == 10.0


def test_pacing_after_recovery_uses_the_rate_in_force():
    tb, clock = bucket(4.0)
    tb.acquire()
    tb.slow_down()  # 2/s
    start = clock.now
    tb.acquire()
    assert clock.now - start == pytest.approx(0.5)


@pytest.mark.parametrize("kwargs", [{"rate": 0}, {"rate": -1}, {"rate": 1, "burst": 0.5}])
def test_bad_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        TokenBucket(**kwargs)


def test_bad_slow_down_factor_is_refused():
    tb, _ = bucket(1.0)
    with pytest.raises(ValueError):
        tb.slow_down(factor=1.5)


def test_threads_share_the_quota_without_exceeding_it():
    rate, threads, each = 400.0, 8, 10
    tb = TokenBucket(rate)
    stamps: list[float] = []
    lock = threading.Lock()
    start = time.monotonic()

    def worker() -> None:
        for _ in range(each):
            tb.acquire()
            with lock:
                stamps.append(time.monotonic())

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    total = threads * each
    stamps.sort()
    for k, stamp in enumerate(stamps):
        assert stamp - start >= k / rate - 1e-6
    floor = (total - 1) / rate
    elapsed = stamps[-1] - start
    assert floor <= elapsed < floor * 1.25 + 0.02


def test_reserve_at_and_wait_until_split_the_wait():
    tb, clock = bucket(2.0)
    assert tb.reserve_at() == clock.now
    slot = tb.reserve_at()
    assert slot == pytest.approx(clock.now + 0.5)
    tb.wait_until(slot - 0.05)  # prepare the call while most of the wait passes
    tb.wait_until(slot)
    assert clock.now == pytest.approx(slot)


def test_on_wire_holds_a_send_that_follows_a_late_one():
    tb, clock = bucket(2.0)
    first = tb.reserve_at()
    second = tb.reserve_at()
    clock.advance(0.03)  # the first call left 30 ms late
    assert tb.on_wire() == 0.0
    tb.wait_until(second)
    assert tb.on_wire() == pytest.approx(0.03)  # sends stay 0.5 s apart
    assert clock.now - (first + 0.03) == pytest.approx(0.5)


def test_margin_widens_every_interval():
    tb, clock = bucket(10.0, margin=0.005)
    start = clock.now
    for _ in range(11):
        tb.acquire()
    assert clock.now - start == pytest.approx(10 * 0.105)
