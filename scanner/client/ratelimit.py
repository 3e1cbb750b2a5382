"""Client-side rate limiting and retry backoff. Pure: the clock and sleep are injected.

``TokenBucket`` paces calls to at most ``rate`` per second (bursts up to ``capacity``). Callers
that find the bucket empty *reserve* the next free slot under the lock and sleep outside it, so
waiting threads are served in arrival order and the bucket never hands out more than its rate.

``Backoff`` decides how long to wait before the next attempt of one call: exponential with full
jitter, capped, bounded both in attempts and in total time, and never shorter than a
``retry-after`` the server asked for.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass

from ..reasons import part

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class TokenBucket:
    """Thread-safe token bucket: ``rate`` tokens per second, at most ``capacity`` stored.

    ``capacity`` defaults to 1: calls are spaced evenly at ``1/rate`` and never burst, which is
    what a server-side limit of "N requests per second" tolerates best.

    The rate adapts when the server disagrees with it: ``slow_down()`` (on a throttling answer)
    cuts it by ``factor``, at most once per ``hold_s``, never below ``min_rate``;
    ``speed_up()`` (on a success) adds back ``max_rate / recovery_calls``, up to ``max_rate``.
    With a correct rate no throttling happens and the rate never moves.
    """

    factor = 0.85
    hold_s = 1.0
    recovery_calls = 200

    def __init__(
        self,
        rate: float,
        capacity: float | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self.rate = float(rate)
        self.max_rate = float(rate)
        self.min_rate = min(self.max_rate, 0.5)
        self._last_cut: float | None = None
        self.capacity = float(capacity) if capacity is not None else 1.0
        if self.capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = self.capacity  # may go negative: that many slots are reserved
        self._last = clock()

    def reserve(self) -> float:
        """Take one token now or reserve the next free one; return how long to wait for it."""
        with self._lock:
            self._refill(self._clock())
            self._tokens -= 1.0
            if self._tokens >= 0:
                return 0.0
            return -self._tokens / self.rate

    def try_take(self) -> bool:
        """Take one token if one is there now (never waits, never reserves); True if taken."""
        with self._lock:
            self._refill(self._clock())
            if self._tokens < 1.0:
                return False
            self._tokens -= 1.0
            return True

    def acquire(self) -> float:
        """Block until a token is available; return the seconds waited."""
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)
        return wait

    def slow_down(self) -> bool:
        """The server throttled us: lower the rate (once per ``hold_s``). True if lowered."""
        with self._lock:
            now = self._clock()
            if self._last_cut is not None and now - self._last_cut < self.hold_s:
                return False
            self._refill(now)
            self._last_cut = now
            self.rate = max(self.min_rate, self.rate * self.factor)
            return True

    def speed_up(self) -> None:
        """A call went through: creep back towards ``max_rate``."""
        with self._lock:
            if self.rate < self.max_rate:
                self._refill(self._clock())
                self.rate = min(self.max_rate, self.rate + self.max_rate / self.recovery_calls)

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._last)
        self._last = now
        self._tokens = min(self.capacity, self._tokens + elapsed * self.rate)


class RateLimiter:
    """One ``TokenBucket`` per key, created on first use; thread-safe.

    The one rate limiter of the package: ``RdClient`` paces its calls per action (``acquire``
    waits), the emulator enforces its quota per (AccessKeyId, action) (``try_acquire`` answers
    at once, as the API gateway does).

    ``rate`` is one rate for every key, or a function giving each key its own (``RdClient``
    passes ``Settings.rate_of``: each action at its documented quota).
    """

    def __init__(
        self,
        rate: float | Callable[[Hashable], float],
        capacity: float | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        rate_of: Callable[[Hashable], float]
        if callable(rate):
            rate_of = rate
        else:
            if rate <= 0:
                raise ValueError(f"rate must be positive, got {rate}")
            fixed = float(rate)

            def rate_of(_key: Hashable) -> float:
                return fixed

        self.rate_of = rate_of
        self._capacity = capacity
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[Hashable, TokenBucket] = {}
        self._lock = threading.Lock()

    def bucket(self, key: Hashable) -> TokenBucket:
        with self._lock:
            b = self._buckets.get(key)
            if b is None:
                b = TokenBucket(
                    self.rate_of(key), self._capacity, clock=self._clock, sleep=self._sleep
                )
                self._buckets[key] = b
            return b

    def acquire(self, key: Hashable) -> float:
        """Wait for the next token of ``key``'s bucket; return the seconds waited."""
        return self.bucket(key).acquire()

    def try_acquire(self, key: Hashable) -> bool:
        """A token of ``key``'s bucket now, or False (never waits)."""
        return self.bucket(key).try_take()

    def throttled(self, action: str) -> None:
        self.bucket(action).slow_down()

    def succeeded(self, action: str) -> None:
        self.bucket(action).speed_up()


def backoff_delays(
    base: float = 0.2,
    cap: float = 10.0,
    attempts: int = 6,
    rng: random.Random | None = None,
) -> Iterator[float]:
    """Full-jitter exponential delays before attempts 2..``attempts``.

    The n-th delay (n from 0) is uniform in ``[0, min(cap, base * 2**n)]``.
    """
    r = rng or random.Random()
    for n in range(max(0, attempts - 1)):
        yield r.uniform(0.0, min(cap, base * (2**n)))


@dataclass(frozen=True)
class BackoffPolicy:
    """How one call retries: attempts (first included), total time, base and cap of the delay."""

    max_attempts: int = 6
    budget_s: float = 60.0
    base_s: float = 0.2
    cap_s: float = 10.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.budget_s < 0 or self.base_s < 0 or self.cap_s < 0:
            raise ValueError("budget, base and cap must not be negative")


class Backoff:
    """The retry state of one call.

    Use: ``b = Backoff(policy)``; after a retryable failure ``d = b.next_delay(retry_after_ms)``;
    ``None`` means give up (attempts or time budget spent), otherwise sleep ``d`` and try again.
    """

    def __init__(
        self,
        policy: BackoffPolicy | None = None,
        *,
        clock: Clock = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.policy = policy or BackoffPolicy()
        self._clock = clock
        self._rng = rng or random.Random()
        self._start = clock()
        self.attempts = 1  # the first attempt is under way when the state is made
        self.gave_up_reason = ""
        self.gave_up_part = part("error.gave_up", attempts=0)  # set with gave_up_reason

    def next_delay(self, retry_after_ms: int | None = None) -> float | None:
        p = self.policy
        if self.attempts >= p.max_attempts:
            self.gave_up_reason = f"gave up after {self.attempts} attempts"
            self.gave_up_part = part("error.gave_up", attempts=self.attempts)
            return None
        n = self.attempts - 1
        delay = self._rng.uniform(0.0, min(p.cap_s, p.base_s * (2**n)))
        if retry_after_ms is not None and retry_after_ms > 0:
            delay = max(delay, retry_after_ms / 1000.0)
        spent = self._clock() - self._start
        if spent + delay > p.budget_s:
            self.gave_up_reason = (
                f"gave up after {self.attempts} attempts and {spent:.1f}s "
                f"(retry budget {p.budget_s:g}s)"
            )
            self.gave_up_part = part(
                "error.gave_up_budget",
                attempts=self.attempts,
                seconds=f"{spent:.1f}",
                budget=f"{p.budget_s:g}",
            )
            return None
        self.attempts += 1
        return delay
