"""Bounds on one HTTP attempt of an API call: a total deadline and a cap on the answer's size.

The SDK (darabonba-core ``DaraCore.do_action``) sends through a ``requests`` session with a
(connect, read) timeout pair: the read timeout applies to each receive, so a server that
trickles one byte every few seconds keeps an attempt alive forever, and the whole body is read
into memory, however large. Neither the SDK's ``RuntimeOptions`` nor tea-openapi's ``Config``
offers a total deadline or a size limit, and the SDK has no way to pass in an HTTP client: its
sessions are built by the static ``DaraCore.get_adapter``. ``install()`` replaces that factory
(once, process-wide) with one building ``BoundedAdapter``, a ``requests`` adapter that:

- registers every connection an attempt uses with the attempt's watchdog, which shuts the
  socket down when the attempt's deadline passes, whatever phase it is in (sending, waiting for
  the status line, reading headers or body): the blocked receive returns at once;
- refuses an answer whose ``Content-Length`` exceeds the cap before reading it, and stops
  reading a body (after content decoding, so a gzip bomb counts too) as soon as it exceeds the
  cap: memory per attempt stays below the cap plus one 64 KiB chunk.

``Attempt`` is the context an ``RdClient`` wraps each attempt in; after a failure its
``expired``/``too_large`` say why, so the error names the bound rather than "connection reset".
Calls made outside an ``Attempt`` (credential providers) get ``DEFAULT_MAX_BODY_BYTES`` and no
deadline beyond the SDK's timeouts.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any

import requests
from darabonba import core as dara_core
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import HTTPError as Urllib3Error

DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024  # outside an Attempt (credential providers)
_CHUNK = 64 * 1024

_current = threading.local()


class BodyTooLarge(requests.ConnectionError):
    """The answer is larger than the cap (raised inside the SDK, classified by ``Attempt``)."""


class Attempt:
    """One attempt of one API call, on this thread: ``with Attempt(deadline_s, cap): send()``."""

    def __init__(self, deadline_s: float, max_body_bytes: int) -> None:
        self.deadline_s = deadline_s
        self.max_body_bytes = max_body_bytes
        self.expired = False
        self.too_large: int | None = None  # bytes announced or read when refused
        self._lock = threading.Lock()
        self._conns: list[Any] = []
        self._timer: threading.Timer | None = None

    def __enter__(self) -> Attempt:
        _current.attempt = self
        self._timer = threading.Timer(self.deadline_s, self._expire)
        self._timer.daemon = True
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._timer is not None:
            self._timer.cancel()
        _current.attempt = None
        with self._lock:
            self._conns.clear()

    def register(self, conn: Any) -> None:
        with self._lock:
            self._conns.append(conn)
            expired = self.expired
        if expired:
            _shut(conn)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            conns = list(self._conns)
        for conn in conns:
            _shut(conn)


def current() -> Attempt | None:
    return getattr(_current, "attempt", None)


def _shut(conn: Any) -> None:
    sock = getattr(conn, "sock", None)
    if sock is None:
        return
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _Registering:
    """Mixed into urllib3's pools: each request's connection joins the current attempt."""

    def _make_request(self, conn: Any, *args: Any, **kwargs: Any) -> Any:
        attempt = current()
        if attempt is not None:
            attempt.register(conn)
        return super()._make_request(conn, *args, **kwargs)  # type: ignore[misc]


class _Pool(_Registering, HTTPConnectionPool):
    pass


class _SPool(_Registering, HTTPSConnectionPool):
    pass


class BoundedAdapter(dara_core._TLSAdapter):
    """The SDK's adapter (TLS context and pool sizes as it sets them), with the bounds above."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _Pool, "https": _SPool}

    def send(self, request: Any, stream: bool = False, **kwargs: Any) -> Any:
        attempt = current()
        cap = attempt.max_body_bytes if attempt is not None else DEFAULT_MAX_BODY_BYTES
        resp = super().send(request, stream=True, **kwargs)
        try:
            announced = int(resp.headers.get("Content-Length") or 0)
        except ValueError:
            announced = 0
        if announced > cap:
            resp.close()
            self._refuse(attempt, announced, cap)
        chunks: list[bytes] = []
        total = 0
        try:
            for chunk in resp.raw.stream(_CHUNK, decode_content=True):
                total += len(chunk)
                if total > cap:
                    resp.close()
                    self._refuse(attempt, total, cap)
                chunks.append(chunk)
        except Urllib3Error as exc:  # cut short (deadline, reset): what requests would raise
            resp.close()
            raise requests.ConnectionError(str(exc), request=request) from None
        resp._content = b"".join(chunks)
        resp._content_consumed = True
        return resp

    @staticmethod
    def _refuse(attempt: Attempt | None, size: int, cap: int) -> None:
        if attempt is not None:
            attempt.too_large = size
        raise BodyTooLarge(f"answer larger than {cap} bytes ({size} announced or read)")


def close_sessions() -> None:
    """Close every HTTP session the SDK keeps (process-wide, one per endpoint, each with a pool
    of keep-alive connections) and forget them; the next call opens new ones. For a program
    (or a test run) that talks to many short-lived endpoints."""
    sessions = dara_core.DaraCore._sessions
    for session in list(sessions.values()):
        with contextlib.suppress(Exception):
            session.close()
    sessions.clear()


_installed = False
_install_lock = threading.Lock()


def install() -> None:
    """Make the SDK build ``BoundedAdapter`` for every session it creates from now on."""
    global _installed
    with _install_lock:
        if _installed:
            return
        original = dara_core.DaraCore.get_adapter

        def get_adapter(prefix: str, tls_min_version: Any = None, pool_size: Any = None) -> Any:
            base = original(prefix, tls_min_version, pool_size=pool_size)
            return BoundedAdapter(
                ssl_context=base.ssl_context,
                pool_connections=base._pool_connections,
                pool_maxsize=base._pool_maxsize,
            )

        dara_core.DaraCore.get_adapter = staticmethod(get_adapter)
        dara_core.DaraCore._sessions.clear()  # sessions built before used the plain adapter
        _installed = True
