"""A fault-injecting HTTP proxy on 127.0.0.1 between rdscan (the real SDKs) and the emulator.

Each request is matched by its API action (the ``x-acs-action`` header, else the ``Action``
query or form field) against the faults added with ``FaultProxy.add``; an unmatched request is
forwarded to the emulator unchanged (the SDK's signature covers the path, query and headers,
which the proxy keeps as they are).

Faults (``Fault.kind``):

- ``rewrite``: forward, then ``edit(params, body) -> body`` on the emulator's JSON answer.
- ``raw``: answer ``status`` with ``body`` bytes as they are (invalid or truncated JSON).
- ``reset``: close the connection without an answer (RST).
- ``hang``: read the request and never answer (until the proxy stops).
- ``trickle``: headers announcing ``size`` bytes, then one byte every ``interval_s`` seconds.
- ``huge``: a 200 answer of ``size`` bytes, streamed (the start of a valid JSON document
  followed by padding inside a string), never held in memory.
"""

from __future__ import annotations

import http.client
import json
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

Params = dict[str, str]
Edit = Callable[[Params, dict[str, Any]], dict[str, Any]]


@dataclass
class Fault:
    kind: str  # rewrite | raw | reset | hang | trickle | huge
    edit: Edit | None = None
    status: int = 200
    body: bytes = b""
    size: int = 0
    interval_s: float = 3.0
    chunked: bool = False  # huge: no Content-Length, chunked transfer encoding
    when: Callable[[Params], bool] | None = None  # only requests whose params match


@dataclass
class _Entry:
    action: str
    fault: Fault
    remaining: int | None  # None: every matching request


@dataclass
class Seen:
    action: str
    params: Params
    fault: str | None


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream  # host:port of the emulator
        self._entries: list[_Entry] = []
        self._lock = threading.Lock()
        self.seen: list[Seen] = []
        self.huge_bytes_sent = 0  # body bytes the "huge" faults wrote before the client quit
        self._stop = threading.Event()
        proxy = self

        class Handler(_Handler):
            owner = proxy

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    # ---- life cycle
    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"{host}:{port}"

    # ---- faults
    def add(self, action: str, fault: Fault, count: int | None = None) -> None:
        """Apply ``fault`` to the next ``count`` matching requests of ``action`` ("*": any)."""
        with self._lock:
            self._entries.append(_Entry(action, fault, count))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def calls(self, action: str) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.action == action]

    def _pick(self, action: str, params: Params) -> Fault | None:
        with self._lock:
            chosen: Fault | None = None
            for entry in self._entries:
                if entry.action not in (action, "*"):
                    continue
                if entry.remaining is not None and entry.remaining <= 0:
                    continue
                if entry.fault.when is not None and not entry.fault.when(params):
                    continue
                if entry.remaining is not None:
                    entry.remaining -= 1
                chosen = entry.fault
                break
            self.seen.append(Seen(action, params, chosen.kind if chosen else None))
            return chosen


_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}


class _Handler(BaseHTTPRequestHandler):
    owner: FaultProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        params: Params = dict(parse_qsl(split.query, keep_blank_values=True))
        if body and "form-urlencoded" in (self.headers.get("Content-Type") or ""):
            params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        action = self.headers.get("x-acs-action") or params.get("Action") or ""
        fault = self.owner._pick(action, params)
        if fault is None:
            status, headers, data = self._forward(body)
            self._reply(status, data, headers)
            return
        getattr(self, f"_fault_{fault.kind}")(fault, params, body)

    do_GET = do_POST = do_PUT = do_DELETE = _serve

    def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(self.owner.upstream, timeout=30)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
            conn.request(self.command, self.path, body=body or None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            kept = [(k, v) for k, v in resp.getheaders() if k.lower() not in _HOP]
            return resp.status, kept, data
        finally:
            conn.close()

    def _reply(
        self, status: int, data: bytes, headers: list[tuple[str, str]] | None = None
    ) -> None:
        self.send_response(status)
        has_type = False
        for k, v in headers or []:
            has_type = has_type or k.lower() == "content-type"
            self.send_header(k, v)
        if not has_type:
            self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    # ---- the faults
    def _fault_rewrite(self, fault: Fault, params: Params, body: bytes) -> None:
        status, headers, data = self._forward(body)
        if status == 200 and fault.edit is not None:
            doc = json.loads(data)
            data = json.dumps(fault.edit(params, doc)).encode()
        self._reply(status, data, headers)

    def _fault_raw(self, fault: Fault, params: Params, body: bytes) -> None:
        self._reply(fault.status, fault.body)

    def _fault_reset(self, fault: Fault, params: Params, body: bytes) -> None:
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def _fault_hang(self, fault: Fault, params: Params, body: bytes) -> None:
        self.owner._stop.wait(120)
        self.close_connection = True

    def _fault_trickle(self, fault: Fault, params: Params, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(fault.size or 1000))
        self.end_headers()
        self.wfile.flush()
        try:
            for _ in range(fault.size or 1000):
                if self.owner._stop.wait(fault.interval_s):
                    break
                self.wfile.write(b" ")
                self.wfile.flush()
        except OSError:  # the client gave up: what the test wants
            pass
        self.close_connection = True

    def _fault_huge(self, fault: Fault, params: Params, body: bytes) -> None:
        head = b'{"RequestId":"huge","Account":{"HasSecureMobilePhone":true,"Pad":"'
        tail = b'"}}'
        pad = max(0, fault.size - len(head) - len(tail))
        self.send_response(200)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        if fault.chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(head) + pad + len(tail)))
        self.end_headers()
        chunk = b"x" * (1 << 16)

        def write(data: bytes) -> None:
            if fault.chunked:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            else:
                self.wfile.write(data)

        try:
            write(head)
            left = pad
            while left > 0 and not self.owner._stop.is_set():
                n = min(left, len(chunk))
                write(chunk[:n])
                left -= n
                self.owner.huge_bytes_sent += n
            write(tail)
            if fault.chunked:
                self.wfile.write(b"0\r\n\r\n")
        except OSError:  # the client stopped reading: what the test wants
            pass
        self.close_connection = True


@dataclass
class PageEdit:
    """Edit ListAccounts answers by page: ``pages[n](accounts, total) -> (accounts, total)``."""

    pages: dict[int, Callable[[list[Any], int], tuple[list[Any], int]]] = field(
        default_factory=dict
    )

    def __call__(self, params: Params, body: dict[str, Any]) -> dict[str, Any]:
        number = int(params.get("PageNumber") or 1)
        change = self.pages.get(number)
        if change is None:
            return body
        accounts = list((body.get("Accounts") or {}).get("Account") or [])
        accounts, total = change(accounts, int(body.get("TotalCount") or 0))
        return {**body, "Accounts": {"Account": accounts}, "TotalCount": total}
