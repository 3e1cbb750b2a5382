"""Pure unit tests of the token bucket and the backoff, with a fake clock."""

from __future__ import annotations

import random
import threading

import pytest

from scanner.client.ratelimit import (
    Backoff,
    BackoffPolicy,
    RateLimiter,
    TokenBucket,
    backoff_delays,
)


class FakeClock:
    """A clock that only moves when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


def test_bucket_spaces_calls_at_the_rate_without_burst():
    clock = FakeClock()
    bucket = TokenBucket(20.0, clock=clock, sleep=clock.sleep)
    start = clock.now
    waits = [bucket.acquire() for _ in range(101)]
    assert waits[0] == 0.0
    assert all(w == pytest.approx(0.05) for w in waits[1:])
    # 101 calls at 20/s take exactly 100 intervals: the rate, and no faster
    assert clock.now - start == pytest.approx(5.0)


def test_bucket_capacity_allows_a_burst_then_the_rate():
    clock = FakeClock()
    bucket = TokenBucket(10.0, capacity=5, clock=clock, sleep=clock.sleep)
    waits = [bucket.acquire() for _ in range(8)]
    assert waits[:5] == [0.0] * 5
    assert waits[5:] == [pytest.approx(0.1)] * 3


def test_bucket_refills_while_idle_but_not_above_capacity():
    clock = FakeClock()
    bucket = TokenBucket(2.0, capacity=2, clock=clock, sleep=clock.sleep)
    bucket.acquire()
    bucket.acquire()
    clock.now += 100.0  # a long idle period stores at most `capacity` tokens
    assert [bucket.acquire() for _ in range(3)] == [0.0, 0.0, pytest.approx(0.5)]


def test_bucket_reservations_queue_concurrent_callers_in_order():
    """Callers that arrive together reserve consecutive slots (sleeping outside the lock)."""
    clock = FakeClock()
    bucket = TokenBucket(4.0, clock=clock, sleep=lambda s: None)
    waits = [bucket.reserve() for _ in range(5)]
    assert waits == [0.0, pytest.approx(0.25), pytest.approx(0.5), pytest.approx(0.75), 1.0]


def test_bucket_is_thread_safe_under_contention():
    clock = FakeClock()
    bucket = TokenBucket(50.0, clock=clock, sleep=lambda s: None)
    results: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(100):
            w = bucket.reserve()
            with lock:
                results.append(w)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # with the clock frozen, 800 reservations occupy 800 distinct consecutive slots
    slots = sorted(round(w * 50) for w in results)
    assert slots == list(range(800))


def test_bucket_rejects_bad_parameters():
    with pytest.raises(ValueError):
        TokenBucket(0)
    with pytest.raises(ValueError):
        TokenBucket(5, capacity=0.5)


def test_rate_limiter_keeps_one_bucket_per_action():
    clock = FakeClock()
    limiter = RateLimiter(10.0, clock=clock, sleep=clock.sleep)
    assert limiter.acquire("GetAccount") == 0.0
    assert limiter.acquire("ListAccounts") == 0.0  # another action has its own bucket
    assert limiter.acquire("GetAccount") == pytest.approx(0.1)
    assert limiter.bucket("GetAccount") is limiter.bucket("GetAccount")


def test_backoff_delays_are_full_jitter_within_the_exponential_cap():
    delays = list(backoff_delays(base=0.5, cap=3.0, attempts=7, rng=random.Random(1)))
    assert len(delays) == 6
    bounds = [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]
    assert all(0.0 <= d <= b for d, b in zip(delays, bounds, strict=True))
    # full jitter: not simply the upper bound every time
    assert delays != bounds


def test_backoff_bounds_the_attempts():
    clock = FakeClock()
    b = Backoff(BackoffPolicy(max_attempts=4, budget_s=1e6), clock=clock, rng=random.Random(3))
    delays = []
    while (d := b.next_delay()) is not None:
        delays.append(d)
        clock.sleep(d)
    assert len(delays) == 3  # 4 attempts in all: 3 waits
    assert b.attempts == 4
    assert "4 attempts" in b.gave_up_reason


def test_backoff_bounds_the_total_time():
    clock = FakeClock()
    policy = BackoffPolicy(max_attempts=100, budget_s=5.0, base_s=1.0, cap_s=2.0)
    b = Backoff(policy, clock=clock, rng=random.Random(7))
    start = clock.now
    while (d := b.next_delay()) is not None:
        clock.sleep(d)
    assert clock.now - start <= 5.0
    assert b.attempts < 100
    assert "retry budget" in b.gave_up_reason


def test_backoff_honours_the_server_retry_after():
    clock = FakeClock()
    b = Backoff(BackoffPolicy(base_s=0.01, cap_s=0.01), clock=clock, rng=random.Random(0))
    assert b.next_delay(retry_after_ms=1500) == pytest.approx(1.5)
    # a retry-after longer than the remaining budget ends the retries
    short = Backoff(BackoffPolicy(budget_s=1.0), clock=clock)
    assert short.next_delay(retry_after_ms=5000) is None


def test_backoff_with_one_attempt_never_retries():
    assert Backoff(BackoffPolicy(max_attempts=1)).next_delay() is None


def test_slow_down_cuts_the_rate_once_per_hold_and_not_below_the_floor():
    clock = FakeClock()
    bucket = TokenBucket(20.0, clock=clock, sleep=clock.sleep)
    assert bucket.slow_down() is True
    assert bucket.rate == pytest.approx(17.0)
    assert bucket.slow_down() is False  # a burst of throttles in one moment counts once
    assert bucket.rate == pytest.approx(17.0)
    for _ in range(200):
        clock.now += 1.0
        bucket.slow_down()
    assert bucket.rate == pytest.approx(bucket.min_rate)
    # the slower rate is what the bucket hands out
    start = clock.now
    bucket.acquire()
    bucket.acquire()
    assert clock.now - start == pytest.approx(1 / bucket.min_rate)


def test_speed_up_recovers_to_the_configured_rate_and_no_further():
    clock = FakeClock()
    bucket = TokenBucket(10.0, clock=clock, sleep=clock.sleep)
    bucket.speed_up()
    assert bucket.rate == 10.0  # never above the configured rate
    bucket.slow_down()
    assert bucket.rate == pytest.approx(8.5)
    for _ in range(29):
        bucket.speed_up()
    assert bucket.rate == pytest.approx(8.5 + 29 * 10.0 / 200)
    for _ in range(10):
        bucket.speed_up()
    assert bucket.rate == 10.0


def test_rate_limiter_adapts_per_action():
    clock = FakeClock()
    limiter = RateLimiter(10.0, clock=clock, sleep=clock.sleep)
    limiter.throttled("GetAccount")
    assert limiter.bucket("GetAccount").rate < 10.0
    assert limiter.bucket("ListAccounts").rate == 10.0
    limiter.succeeded("GetAccount")
    assert limiter.bucket("GetAccount").rate < 10.0
