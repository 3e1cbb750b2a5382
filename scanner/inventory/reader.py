"""GetAccount for members as they are listed, keeping the quota busy at any latency.

``PhoneReader`` takes account ids one at a time (``submit``, from the listing as its pages
arrive) and reads each with GetAccount 2022-04-19 on worker threads. The client's token bucket
paces the calls at the action's rate (its documented quota, 50/s, or ``--rate``); the reader
keeps enough calls in flight for that rate whatever the round trip takes (Little's law:
in flight = rate x latency), from the latency the client observes, so a 1,000 ms round trip
gets ~60 calls in flight and a 5 ms one gets 2. ``--concurrency N`` fixes the number instead.

A member whose read failed after the client's retries is kept with the error; it is never
dropped. When reads keep failing to connect (the endpoint went away), the members left are
given that reason instead of each waiting out its own retries.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from ..client.model import AccountPhone
from ..client.sdk import RdClient
from ..errors import ApiError, AuthError, ConnectionFailed, NotFound
from ..findings import ReasonPart
from ..reasons import api_error_parts, part

BREAKER_MIN = 8  # consecutive connection failures before the remaining reads are skipped
MAX_IN_FLIGHT = 64  # 50/s at up to ~1 s per call, with headroom for retries
STOP_WAIT_S = 2.0  # how long an interrupted reader waits for the calls in flight
HEADROOM = 1.3  # more in flight than rate x latency: jitter, slow answers, retries

Outcome = AccountPhone | ApiError
OnRead = Callable[[str, Outcome], None]


class PhoneReader:
    """Reads GetAccount for each submitted account id, at most once per id; thread-safe.

    ``on_read(account_id, outcome)`` is called (on a worker thread, one at a time) after each
    read: an ``AccountPhone``, or the ``ApiError`` it ended with. ``close()`` waits for every
    submitted read; leaving the ``with`` block early (Ctrl-C, an error) stops the workers after
    their current call.
    """

    def __init__(
        self,
        client: RdClient,
        on_read: OnRead,
        *,
        rate: float,
        concurrency: int | None = None,
        max_in_flight: int = MAX_IN_FLIGHT,
        delegated: bool = False,
    ) -> None:
        self.client = client
        self.on_read = on_read
        self.rate = rate
        self.fixed = concurrency
        self.max_in_flight = max(1, concurrency or max_in_flight)
        self._cond = threading.Condition()
        self._queue: deque[str] = deque()
        self._seen: set[str] = set()
        self._threads: list[threading.Thread] = []
        self._busy = 0
        self._closed = False
        self._stopped = False
        self._fatal: BaseException | None = None  # what ended a worker: raised to the caller
        self._target = concurrency or 2
        self.peak_in_flight = 0
        self.breaker = Breaker(threshold=max(BREAKER_MIN, 2 * self.max_in_flight))
        self.delegated = delegated  # the caller is a delegated administrator, not the management
        self._denied: list[ApiError] = []  # ... and may not call GetAccount: every read says so

    # ---------------------------------------------------------------- feeding

    def submit(self, account_id: str, *, again: bool = False) -> bool:
        """Queue ``account_id`` for reading; False when it was submitted before (unless
        ``again``: read it once more, e.g. to confirm a member only an earlier pass listed)."""
        with self._cond:
            if self._fatal is not None:
                raise self._fatal
            if account_id in self._seen and not again:
                return False
            if self._closed:
                raise RuntimeError("submit after close")
            self._seen.add(account_id)
            self._queue.append(account_id)
            self._grow()
            self._cond.notify()
            return True

    @property
    def submitted(self) -> int:
        with self._cond:
            return len(self._seen)

    def close(self) -> None:
        """No more ids: wait until every submitted read has ended. Raises what stopped the
        reads, if anything did (e.g. the credentials could no longer be loaded)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        while True:  # a busy worker may start another while we wait: join until none is alive
            with self._cond:
                alive = [t for t in self._threads if t.is_alive()]
            if not alive:
                break
            for thread in alive:
                thread.join()
        if self._fatal is not None:
            raise self._fatal

    def stop(self) -> None:
        """Drop the reads not started; the workers end after their current call."""
        with self._cond:
            self._stopped = True
            self._queue.clear()
            self._cond.notify_all()

    def __enter__(self) -> PhoneReader:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:  # Ctrl-C, an error: the workers (daemons) end after their
            self.stop()  # current call; waited for a moment, not for their retries
            with self._cond:
                self._closed = True
                self._cond.notify_all()
            deadline = time.monotonic() + STOP_WAIT_S
            for thread in list(self._threads):
                thread.join(max(0.0, deadline - time.monotonic()))
            return
        self.close()

    # ---------------------------------------------------------------- workers

    def in_flight_target(self) -> int:
        """Calls to keep in flight: ``--concurrency``, else rate x observed latency (with
        headroom), between 2 and ``max_in_flight``."""
        if self.fixed:
            return self.fixed
        latency = self.client.latency("GetAccount")
        if latency is None:
            return 2
        wanted = math.ceil(self.rate * latency * HEADROOM) + 1
        return max(2, min(self.max_in_flight, wanted))

    def _grow(self) -> None:  # under the lock
        want = min(self._target, len(self._queue) + self._busy)
        while len(self._threads) < want:
            thread = threading.Thread(
                target=self._work, name=f"rdscan-read-{len(self._threads)}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def _work(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._stopped or (self._closed and not self._queue):
                        return
                    if self._queue and self._busy < self._target:
                        break
                    self._cond.wait()
                account_id = self._queue.popleft()
                self._busy += 1
                self.peak_in_flight = max(self.peak_in_flight, self._busy)
            try:
                outcome = self._read(account_id)
                with self._cond:
                    self._busy -= 1
                    self.on_read(account_id, outcome)
                    self._target = self.in_flight_target()
                    self._grow()
                    self._cond.notify_all()
            except BaseException as exc:  # not an API answer (credentials gone, disk full):
                with self._cond:  # every read stops, and the caller gets the exception
                    self._fatal = self._fatal or exc
                    self._stopped = True
                    self._queue.clear()
                    self._cond.notify_all()
                return

    def _read(self, account_id: str) -> Outcome:
        if self.breaker.open is not None:
            return ConnectionFailed(
                f"not read: the endpoint stopped answering ({self.breaker.open})",
                action="GetAccount",
                hint=self.breaker.hint,
                parts=self.breaker.parts,
            )
        if self._denied:
            return self._denied[0]
        try:
            phone = self.client.get_account_phone(account_id)
        except (AuthError, NotFound) as err:
            if self.delegated and (isinstance(err, AuthError) or denied_to_member(err)):
                refusal = AuthError(
                    "GetAccount (2022-04-19) is not allowed for this delegated administrator, "
                    f"so no member's phone could be read: {err}",
                    code=err.code,
                    status=err.status,
                    request_id=err.request_id,
                    action="GetAccount",
                    hint="scan with a RAM user or role of the management account",
                    parts=(part("error.delegated_refused"), *api_error_parts(err)),
                )
                self._denied.append(refusal)
                return refusal
            self.breaker.record(err)
            return err.with_traceback(None)
        except ApiError as err:  # after retries: the member is kept with the reason
            self.breaker.record(err)
            return err.with_traceback(None)  # kept per member: not its frames, SDK objects
        self.breaker.record(None)
        return phone


def denied_to_member(err: ApiError) -> bool:
    """What the RD APIs answer a member account for an action it may not call. UNVERIFIED:
    the documentation does not say; the emulator plays EntityNotExists.ResourceDirectory (the
    answer for a directory the caller cannot see) or NoPermission."""
    return isinstance(err, AuthError) or err.code == "EntityNotExists.ResourceDirectory"


class Breaker:
    """Stops calling once ``threshold`` reads in a row failed to connect (the endpoint went
    away): the members left are kept with that reason instead of each one waiting out its own
    retries."""

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold
        self._lock = threading.Lock()
        self._run = 0
        self.open: str | None = None
        self.parts: tuple[ReasonPart, ...] = ()  # what a member left unread is told
        self.hint: str | None = None

    def record(self, err: ApiError | None) -> None:
        with self._lock:
            if not isinstance(err, ConnectionFailed):
                self._run = 0
                return
            self._run += 1
            if self._run >= self.threshold and self.open is None:
                self.open = f"{self._run} reads in a row could not connect; last: {err}"
                self.parts = (part("error.breaker", count=self._run), *api_error_parts(err))
                self.hint = err.hint
