"""The emulator's HTTP server: routing, the error envelope, rate limits, faults, latency.

``EmulatorServer`` runs a ``ThreadingHTTPServer`` (HTTP/1.1, keep-alive) in a background
thread. Each request is answered in its own thread; injected latency sleeps only there.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import socket
import ssl
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .api import REQUIRED_PARAMS, ROUTES, Call, Route
from .auth import Authenticator, Incoming
from .errors import ApiFault, missing
from .fixture import CallerSpec, Fixture, load_fixture, parse_fixture
from .limits import ApiQuota, FaultPlan, QuotaOverride, Quotas, ScriptedFault, parse_rate_limit
from .state import DirectoryState
from .tls import make_server_context
from .xmlbody import CONTENT_TYPE as XML_CONTENT_TYPE
from .xmlbody import to_xml, wants_xml

_DEFAULT_HOST = "resourcemanager.aliyuncs.com"
_INTL_HOSTS = {"resourcedirectory.aliyuncs.com": "resourcedirectory-intl.aliyuncs.com"}
MAX_BODY_BYTES = 1 << 20  # the RD APIs take a few short parameters; refuse anything larger
_METHODS = ("GET", "POST")


class _Dropped(Exception):
    """A scripted drop: the handler closes the connection without answering."""


def _request_id() -> str:
    return str(uuid.uuid4()).upper()


def _allowed(caller: CallerSpec, ram_action: str) -> bool:
    wanted = ram_action.lower()
    return any(fnmatch.fnmatchcase(wanted, pattern.lower()) for pattern in caller.allow)


def _access_denied(caller: CallerSpec, ram_action: str) -> ApiFault:
    principal = {"RAMUser": "SubUser", "AssumedRoleUser": "AssumedRoleUser"}.get(
        caller.identity_type, "Account"
    )
    detail = {
        "AuthAction": ram_action,
        "AuthPrincipalType": principal,
        "AuthPrincipalOwnerId": caller.account_id,
        "AuthPrincipalDisplayName": caller.arn.rsplit("/", 1)[-1],
        "NoPermissionType": "ImplicitDeny",
        "PolicyType": "AccountLevelIdentityBasedPolicy",
        "EncodedDiagnosticMessage": "",
    }
    return ApiFault("NoPermission", extra={"AccessDeniedDetail": detail})  # documented message


@dataclass(frozen=True)
class RequestLog:
    """What ``on_request`` gets for each request: no parameters, no secrets, no phones."""

    action: str
    version: str
    access_key_id: str
    status: int
    code: str  # the error code, "" on success
    request_id: str


def _quotas(rate_limit: float | Quotas | None, rate_limits: Mapping[str, float] | None) -> Quotas:
    if isinstance(rate_limit, Quotas):
        overrides = list(rate_limit.overrides)
    else:
        overrides = [] if rate_limit is None else [QuotaOverride(float(rate_limit))]
    known = {action for _, action in ROUTES}
    for name, rate in (rate_limits or {}).items():
        overrides.append(parse_rate_limit(f"{name}={rate}", known))
    return Quotas(overrides)


class _Http(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(address, handler)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        self._ssl_context = ssl_context

    def get_request(self) -> tuple[socket.socket, Any]:
        """HTTPS: wrap the accepted socket; the handshake runs in the connection's thread."""
        sock, address = super().get_request()
        if self._ssl_context is not None:
            sock = self._ssl_context.wrap_socket(
                sock, server_side=True, do_handshake_on_connect=False
            )
        return sock, address

    def finish_request(self, request: Any, client_address: Any) -> None:
        if isinstance(request, ssl.SSLSocket):
            request.settimeout(10)
            try:
                request.do_handshake()
            except (ssl.SSLError, OSError):
                return  # e.g. a client that does not trust the emulator's CA: it says so
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-request is normal: no traceback on stderr for it."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, ssl.SSLError)):
            return
        super().handle_error(request, client_address)

    def process_request(self, request: Any, client_address: Any) -> None:
        """One daemon thread per connection, named after this server's port."""
        with self._open_lock:
            self._open.add(request)
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=f"rdscan-emulator-{self.server_address[1]}-conn",
            daemon=True,
        )
        thread.start()

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End idle keep-alive connections so their threads finish now, not at the timeout."""
        with self._open_lock:
            open_now = list(self._open)
        for sock in open_now:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class EmulatorServer:
    """The local RD API. Start it, point the SDKs at ``endpoint`` with ``protocol='http'``.

    ``fixture`` is a loaded ``Fixture``, fixture data (a dict) or a path to a fixture file.
    ``clock_skew_s``: the emulator's clock runs this many seconds ahead of the local one
    (negative: behind), to play a client whose clock is off.
    ``tls_dir``: serve HTTPS with a fresh private CA whose certificate is written to
    ``tls_dir/ca.pem`` (``ca_path``); clients use ``protocol`` and trust that file.
    ``rate_limit``: None = the documented quota of each action (``limits.DOCUMENTED_QUOTAS``),
    a number = every action at that rate (0 = unlimited), or a ``Quotas``; ``rate_limits``
    maps ``Action`` or ``Action@Version`` to a rate, on top. Requests per second, one bucket
    per caller's account.
    """

    def __init__(
        self,
        fixture: Fixture | Mapping[str, Any] | str | Path,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limit: float | Quotas | None = None,
        rate_limits: Mapping[str, float] | None = None,
        latency_ms: float = 0,
        fault_rate: float = 0.0,
        sms_outbox: str | Path | None = None,
        code_ttl_s: float | None = None,
        daily_send_limit: int | None = None,
        seed: int | None = None,
        on_request: Callable[[RequestLog], None] | None = None,
        tls_dir: str | Path | None = None,
        clock_skew_s: float = 0.0,
    ) -> None:
        self.clock_skew_s = float(clock_skew_s)
        if isinstance(fixture, Mapping):
            fixture = parse_fixture(fixture, source="<dict>")
        elif not isinstance(fixture, Fixture):
            fixture = load_fixture(fixture)
        self.fixture = fixture
        self.state = DirectoryState(
            fixture,
            sms_outbox=sms_outbox,
            code_ttl_s=code_ttl_s,
            daily_send_limit=daily_send_limit,
            seed=seed,
            clock=self.now,
        )
        self.latency_ms = latency_ms
        self.on_request = on_request
        self._auth = Authenticator(fixture, clock=self.now, sessions=self.state.sessions)
        self.tls_dir = Path(tls_dir) if tls_dir is not None else None
        self.ca_path: Path | None = None  # tls_dir/ca.pem once started with TLS
        self._limiter = ApiQuota(_quotas(rate_limit, rate_limits))
        self._faults = FaultPlan(fault_rate, seed)
        self._counts: Counter[str] = Counter()
        self._counts_lock = threading.Lock()
        self._host = host
        self._port = port
        self._httpd: _Http | None = None
        self._thread: threading.Thread | None = None

    def now(self) -> float:
        """The emulator's clock (epoch seconds): the local one plus ``clock_skew_s``. It stamps
        the ``Date`` header, checks request timestamps (15 min) and ages codes and sessions."""
        return time.time() + self.clock_skew_s

    # ---- life cycle ----------------------------------------------------------------------
    def start(self) -> EmulatorServer:
        if self._httpd is not None:
            return self
        handler = type("EmulatorHandler", (_Handler,), {"emulator": self})
        context = None
        if self.tls_dir is not None:
            context, self.ca_path = make_server_context(self.tls_dir)
        self._httpd = _Http((self._host, self._port), handler, context)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="rdscan-emulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        self._httpd.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def address(self) -> tuple[str, int]:
        if self._httpd is None:
            raise RuntimeError("the emulator is not running")
        host, port = self._httpd.server_address[:2]
        return str(host), int(port)

    @property
    def endpoint(self) -> str:
        host, port = self.address
        return f"{host}:{port}"

    @property
    def protocol(self) -> str:
        """``https`` when started with ``tls_dir``, else ``http`` (for the SDK's Config)."""
        return "https" if self.tls_dir is not None else "http"

    @property
    def url(self) -> str:
        return f"{self.protocol}://{self.endpoint}"

    # ---- test and benchmark controls --------------------------------------------------------
    def script_fault(
        self,
        action: str = "*",
        count: int = 1,
        code: str = "ServiceUnavailable",
        status: int | None = None,
        retry_after_ms: int | None = None,
        message: str = "",
    ) -> None:
        """The next ``count`` calls of ``action`` ("*" = any) fail with ``code``."""
        probe = ApiFault(code, message, status=status or 0)
        self._faults.script(
            action, count, ScriptedFault(probe.code, probe.status, probe.message, retry_after_ms)
        )

    def script_drop(self, action: str = "*", count: int = 1) -> None:
        """The next ``count`` calls of ``action`` ("*" = any) get no answer: the emulator
        closes the connection after reading the request (the client sees a connection error,
        as in an outage or a reset by a middlebox)."""
        self._faults.script(action, count, ScriptedFault("", 0, drop=True))

    def update_caller(self, access_key_id: str, **changes: Any) -> None:
        """Change a caller while serving: ``active=False`` revokes its AccessKey
        (InvalidAccessKeyId.Inactive from the next request), ``security_token_expired=True``
        expires its STS token (InvalidSecurityToken.Expired)."""
        self._auth.update_caller(access_key_id, **changes)

    def clear_faults(self) -> None:
        self._faults.clear()

    @property
    def fault_rate(self) -> float:
        return self._faults.fault_rate

    @fault_rate.setter
    def fault_rate(self, value: float) -> None:
        self._faults.fault_rate = value

    def set_rate_limit(self, rate: float | None, action: str | None = None) -> None:
        """Every action at ``rate``/s (None: the documented quotas again), or only ``action``
        (every version of it). 0 = unlimited. Every bucket refills."""
        self._limiter.set_rate(rate, action)

    def quotas(self) -> dict[tuple[str, str], float]:
        """The rate in force for each served (version, action), requests per second per
        account (0 = unlimited)."""
        return self._limiter.quotas.table(ROUTES)

    def call_counts(self) -> dict[str, int]:
        with self._counts_lock:
            return dict(self._counts)

    def reset_counts(self) -> None:
        with self._counts_lock:
            self._counts.clear()

    def outbox(self) -> list[dict[str, Any]]:
        return self.state.outbox()

    def expire_codes(self) -> None:
        self.state.expire_codes()

    # ---- request processing (called from handler threads) ---------------------------------
    def _count(self, action: str) -> None:
        with self._counts_lock:
            self._counts[action] += 1

    def handle(self, req: Incoming) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Answer one request: (HTTP status, JSON body, extra headers); status 0: no answer."""
        status, body, headers = self._handle(req)
        if self.on_request is not None:
            key_id = req.params.get("AccessKeyId") or ""
            auth = req.header("authorization") or ""
            if "Credential=" in auth:
                key_id = auth.split("Credential=", 1)[1].split(",", 1)[0]
            self.on_request(
                RequestLog(
                    action=req.header("x-acs-action") or req.params.get("Action") or "",
                    version=req.header("x-acs-version") or req.params.get("Version") or "",
                    access_key_id=key_id,
                    status=status,
                    code=str(body.get("Code", "")),
                    request_id=str(body.get("RequestId", "")),
                )
            )
        return status, body, headers

    def _handle(self, req: Incoming) -> tuple[int, dict[str, Any], dict[str, str]]:
        request_id = _request_id()
        action = req.header("x-acs-action") or req.params.get("Action") or ""
        version = req.header("x-acs-version") or req.params.get("Version") or ""
        route = ROUTES.get((version, action))
        host = route.host if route else _DEFAULT_HOST
        if self.state.site == "intl":
            host = _INTL_HOSTS.get(host, host)
        product = route.product if route else "ResourceManager"
        self._count(action or "(none)")
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000.0)
        try:
            if req.method not in _METHODS:
                raise ApiFault("UnsupportedHTTPMethod")
            if route is None:
                if not action:
                    raise ApiFault("MissingParameter", "Action is mandatory for this action.")
                raise ApiFault("InvalidApi.NotFound")
            body = self._dispatch(req, route, action, version)
        except _Dropped:
            return 0, {}, {}
        except ApiFault as fault:
            return self._error(fault, request_id, host, product)
        except Exception as exc:  # a bug in the emulator: still a JSON answer
            internal = ApiFault("InternalError", f"InternalError: {type(exc).__name__}: {exc}")
            return self._error(internal, request_id, host, product)
        return 200, {"RequestId": request_id, **body}, {}

    def _dispatch(self, req: Incoming, route: Route, action: str, version: str) -> dict[str, Any]:
        scripted = self._faults.next_fault(action)
        if scripted is not None and scripted.drop:
            raise _Dropped()
        if scripted is not None:
            headers = {}
            if scripted.retry_after_ms:
                headers["x-acs-retry-after"] = str(scripted.retry_after_ms)
            raise ApiFault(scripted.code, scripted.message, scripted.status, headers)
        caller = self._auth.authenticate(req)
        if not self._limiter.allow(caller.account_id, action, version):
            raise ApiFault("Throttling.User")
        if self.fixture.undocumented.missing_parameter_before_permission:
            for name in REQUIRED_PARAMS.get(action, ()):
                if not (req.params.get(name) or "").strip():
                    raise missing(name)
        if route.ram_action is not None and not _allowed(caller, route.ram_action):
            raise _access_denied(caller, route.ram_action)
        call = Call(self.state, caller, req.params, version, action)
        return route.handler(call)

    @staticmethod
    def _error(
        fault: ApiFault, request_id: str, host: str, product: str
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        body = {
            "RequestId": request_id,
            "HostId": host,
            "Code": fault.code,
            "Message": fault.message,
            "Recommend": f"https://api.aliyun.com/troubleshoot?q={fault.code}&product={product}",
            **fault.extra,
        }
        return fault.status, body, dict(fault.headers)


class _Handler(BaseHTTPRequestHandler):
    emulator: EmulatorServer
    protocol_version = "HTTP/1.1"
    server_version = "rdscan-emulator"
    sys_version = ""
    timeout = 60  # idle keep-alive connections are closed after a minute
    disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms stalls

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header, by the emulator's (possibly skewed) clock."""
        return super().date_time_string(self.emulator.now() if timestamp is None else timestamp)

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr logging
        return

    def _read_body(self) -> bytes:
        """The request body; ValueError when malformed, OverflowError when too large."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                total += size
                if size < 0:
                    raise ValueError("negative chunk size")
                if total > MAX_BODY_BYTES:
                    raise OverflowError(total)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        if length > MAX_BODY_BYTES:
            raise OverflowError(length)
        body = self.rfile.read(length) if length > 0 else b""
        if len(body) < length:  # the client went away mid-body: nobody to answer
            raise ConnectionError("request body cut short")
        return body

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except ValueError:
            self.close_connection = True
            self._answer(400, {"Code": "InvalidParameter", "Message": "Malformed request body."})
            return
        except OverflowError:
            self.close_connection = True  # the unread body must not be parsed as a request
            fault = ApiFault("RequestEntityTooLarge")
            self._answer(fault.status, {"Code": fault.code, "Message": fault.message})
            return
        except ConnectionError:
            self.close_connection = True
            return
        split = urlsplit(self.path)
        query = tuple(parse_qsl(split.query, keep_blank_values=True))
        form: tuple[tuple[str, str], ...] = ()
        ctype = (self.headers.get("Content-Type") or "").lower()
        if body and ctype.startswith("application/x-www-form-urlencoded"):
            form = tuple(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        headers = self.headers

        def header_values(name: str) -> list[str]:
            return list(headers.get_all(name) or [])

        req = Incoming(self.command, split.path or "/", query, form, body, header_values)
        status, payload, extra = self.emulator.handle(req)
        if status == 0:  # a scripted drop: no answer at all
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        xml_root = None
        if wants_xml(req.params):
            action = req.header("x-acs-action") or req.params.get("Action") or ""
            xml_root = f"{action}Response" if status < 400 else "Error"
        self._answer(status, payload, extra, xml_root=xml_root)

    def _answer(
        self,
        status: int,
        payload: dict[str, Any],
        extra: dict[str, str] | None = None,
        xml_root: str | None = None,
    ) -> None:
        if "RequestId" not in payload:
            payload = {
                "RequestId": _request_id(),
                "HostId": _DEFAULT_HOST,
                "Recommend": "https://api.aliyun.com/troubleshoot",
                **payload,
            }
        if xml_root:
            data, ctype = to_xml(xml_root, payload), XML_CONTENT_TYPE
        else:
            data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            ctype = "application/json;charset=utf-8"
        if self.request_version == "HTTP/0.9":  # garbage or 0.9 request: answer with 1.1 headers
            self.request_version = "HTTP/1.1"
            self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-acs-request-id", str(payload.get("RequestId", "")))
        if self.close_connection:
            self.send_header("Connection", "close")
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol-level errors (bad request line, oversized headers) as JSON too."""
        self.close_connection = True
        body = {"Code": "InvalidRequest", "Message": message or explain or f"HTTP {code}"}
        if not hasattr(self, "headers"):
            self.headers = self.MessageClass()
        self._answer(code, body)

    do_GET = _serve
    do_POST = _serve
    do_PUT = _serve
    do_DELETE = _serve
    do_PATCH = _serve
    do_HEAD = _serve
    do_OPTIONS = _serve
