"""Quotas (per management account, per action token buckets) and injected faults.

The documented quotas (``DOCUMENTED_QUOTAS``, requests per second) come from the quota pages
quoted in alibaba-rd-api.md section 8:

- ResourceDirectoryMaster 2022-04-19: GetAccount 50, ListAccounts 20, ListAccountsForParent 50,
  BindSecureMobilePhone 20
  (https://help.aliyun.com/zh/resource-management/developer-reference/api-resourcedirectorymaster-2022-04-19-quota);
- ResourceManager 2020-03-31: SendVerificationCodeForBindSecureMobilePhone 10,
  BindSecureMobilePhone 20, ListAccounts 20 (one snapshot of the page says 50),
  ListFoldersForParent 50, GetResourceDirectory 50, ListAccountsForParent 50
  (https://help.aliyun.com/zh/resource-management/resource-directory/developer-reference/api-resourcemanager-2020-03-31-quota).

Anything else (Send 2022-04-19, GetAccount 2020-03-31, GetFolder, STS) has no documented quota:
``UNDOCUMENTED_QUOTA`` (20/s) is assumed. UNVERIFIED.

The cloud counts a quota per account (dimension ``regionId, API, ParentUid``): every AccessKey,
STS token and assumed role of one account draws from one bucket. The emulator keeps one bucket
per (caller's account id, API version, action). UNVERIFIED: whether the 2020-03-31 and
2022-04-19 quotas of one action name are one bucket or two; the emulator counts them apart
(two products, two quota pages).
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from ..client.ratelimit import TokenBucket

V2020 = "2020-03-31"
V2022 = "2022-04-19"

DOCUMENTED_QUOTAS: Mapping[tuple[str, str], float] = {
    (V2022, "GetAccount"): 50.0,
    (V2022, "ListAccounts"): 20.0,
    (V2022, "ListAccountsForParent"): 50.0,
    (V2022, "BindSecureMobilePhone"): 20.0,
    (V2020, "SendVerificationCodeForBindSecureMobilePhone"): 10.0,
    (V2020, "BindSecureMobilePhone"): 20.0,
    (V2020, "ListAccounts"): 20.0,
    (V2020, "ListFoldersForParent"): 50.0,
    (V2020, "GetResourceDirectory"): 50.0,
    (V2020, "ListAccountsForParent"): 50.0,
}
UNDOCUMENTED_QUOTA = 20.0  # UNVERIFIED: assumed for every action without a quota page


@dataclass(frozen=True)
class QuotaOverride:
    """One ``--rate-limit`` setting: ``action`` None = every action; ``version`` None = every
    version of the action. ``rate`` in requests per second; 0 or less = unlimited."""

    rate: float
    action: str | None = None
    version: str | None = None

    @property
    def specificity(self) -> int:
        return (self.action is not None) + (self.version is not None)


def parse_rate_limit(text: str, known_actions: Iterable[str]) -> QuotaOverride:
    """``N`` (every action), ``ACTION=N`` or ``ACTION@VERSION=N``; ValueError naming the problem."""
    raw = text.strip()
    action: str | None = None
    version: str | None = None
    number = raw
    if "=" in raw:
        name, number = (part.strip() for part in raw.split("=", 1))
        if "@" in name:
            name, version = (part.strip() for part in name.split("@", 1))
        known = sorted(set(known_actions))
        match = {k.lower(): k for k in known}.get(name.lower())
        if match is None:
            raise ValueError(f"unknown action {name!r} in {raw!r}; known: {', '.join(known)}")
        if version is not None and version not in (V2020, V2022, "2015-04-01"):
            raise ValueError(
                f"unknown API version {version!r} in {raw!r}; use 2020-03-31, 2022-04-19 or "
                "2015-04-01"
            )
        action = match
    try:
        rate = float(number)
    except ValueError:
        raise ValueError(
            f"{raw!r} is not N, ACTION=N or ACTION@VERSION=N (N requests per second)"
        ) from None
    if rate != rate or rate < 0 or rate == float("inf"):
        raise ValueError(f"{raw!r}: the rate must be a number >= 0 (0: unlimited)")
    return QuotaOverride(rate, action, version)


class Quotas:
    """The rate (requests/s) of each (version, action): the most specific override, else the
    documented quota, else ``UNDOCUMENTED_QUOTA``."""

    def __init__(self, overrides: Iterable[QuotaOverride] = ()) -> None:
        self._overrides = tuple(overrides)

    @property
    def overrides(self) -> tuple[QuotaOverride, ...]:
        return self._overrides

    def with_override(self, override: QuotaOverride) -> Quotas:
        """A new table: an override for every action replaces all earlier ones."""
        if override.action is None:
            return Quotas([override])
        kept = [
            o
            for o in self._overrides
            if (o.action, o.version) != (override.action, override.version)
        ]
        return Quotas([*kept, override])

    def rate(self, version: str, action: str) -> float:
        best: QuotaOverride | None = None
        for o in self._overrides:
            if o.action not in (None, action) or o.version not in (None, version):
                continue
            if best is None or o.specificity >= best.specificity:
                best = o
        if best is not None:
            return best.rate
        return DOCUMENTED_QUOTAS.get((version, action), UNDOCUMENTED_QUOTA)

    def table(self, routes: Iterable[tuple[str, str]]) -> dict[tuple[str, str], float]:
        """The rate of each (version, action) in ``routes``."""
        return {key: self.rate(*key) for key in sorted(routes)}


class ApiQuota:
    """The emulated gateway's quota: one token bucket per (account id, version, action),
    ``rate`` tokens/s, capacity ``rate`` (a 1 s burst; at least 1). A rate of 0 or less
    disables limiting. The buckets are the package's one token bucket
    (``scanner.client.ratelimit.TokenBucket``), answered at once (``try_take``) as a gateway
    does, where the client waits for its turn.

    ``rate`` is a number (every action) or a ``Quotas`` table.
    """

    def __init__(
        self, rate: float | Quotas | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._quotas = self._table(rate)
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str, str], TokenBucket] = {}

    @staticmethod
    def _table(rate: float | Quotas | None) -> Quotas:
        if rate is None:
            return Quotas()
        if isinstance(rate, Quotas):
            return rate
        return Quotas([QuotaOverride(float(rate))])

    @property
    def quotas(self) -> Quotas:
        return self._quotas

    def set_rate(self, rate: float | Quotas | None, action: str | None = None) -> None:
        """Every action (``action`` None) or one action, in every version; buckets refill."""
        with self._lock:
            if action is None or rate is None or isinstance(rate, Quotas):
                self._quotas = self._table(rate)
            else:
                self._quotas = self._quotas.with_override(QuotaOverride(float(rate), action))
            self._buckets.clear()

    def allow(self, account: str, action: str, version: str = "") -> bool:
        with self._lock:
            rate = self._quotas.rate(version, action)
            if rate <= 0:
                return True
            key = (account, version, action)
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = TokenBucket(rate, capacity=max(rate, 1.0), clock=self._clock)
                self._buckets[key] = bucket
        return bucket.try_take()


@dataclass(frozen=True)
class ScriptedFault:
    code: str
    status: int
    message: str = ""
    retry_after_ms: int | None = None
    drop: bool = False  # close the connection without an answer (an outage, not an API error)


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
