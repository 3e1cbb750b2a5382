"""Rate limits (per caller, per action token buckets) and injected faults."""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


class RateLimiter:
    """One token bucket per (AccessKeyId, action): ``rate`` tokens/s, capacity ``rate`` (a 1 s
    burst; at least 1).

    A rate of 0 or less disables limiting.
    """

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = float(rate)
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}

    @property
    def rate(self) -> float:
        return self._rate

    def set_rate(self, rate: float) -> None:
        with self._lock:
            self._rate = float(rate)
            self._buckets.clear()

    def allow(self, caller: str, action: str) -> bool:
        with self._lock:
            rate = self._rate
            if rate <= 0:
                return True
            now = self._clock()
            capacity = max(rate, 1.0)  # a 1 s burst, and at least one request
            tokens, last = self._buckets.get((caller, action), (capacity, now))
            tokens = min(capacity, tokens + (now - last) * rate)
            if tokens < 1.0:
                self._buckets[(caller, action)] = (tokens, now)
                return False
            self._buckets[(caller, action)] = (tokens - 1.0, now)
            return True


@dataclass(frozen=True)
class ScriptedFault:
    code: str
    status: int
    message: str = ""
    retry_after_ms: int | None = None


class FaultPlan:
    """Scripted faults (the next N calls of an action fail so) and a random fault rate."""

    def __init__(self, fault_rate: float = 0.0, seed: int | None = None) -> None:
        self.fault_rate = fault_rate
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._scripted: dict[str, deque[ScriptedFault]] = {}

    def script(self, action: str, count: int, fault: ScriptedFault) -> None:
        with self._lock:
            queue = self._scripted.setdefault(action, deque())
            queue.extend([fault] * count)

    def clear(self) -> None:
        with self._lock:
            self._scripted.clear()

    def next_fault(self, action: str) -> ScriptedFault | None:
        with self._lock:
            for key in (action, "*"):
                queue = self._scripted.get(key)
                if queue:
                    return queue.popleft()
            if self.fault_rate > 0 and self._rng.random() < self.fault_rate:
                return ScriptedFault("ServiceUnavailable", 503)
        return None
