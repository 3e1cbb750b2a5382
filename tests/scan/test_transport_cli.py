"""Transport and credentials end to end: rdscan as a real process, the real SDKs, the emulator
over HTTP, a real forward proxy on 127.0.0.1, and a host name that resolves through glibc's
HOSTALIASES (test-only, no /etc/hosts change)."""

from __future__ import annotations

import http.client
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from scanner.emulator import generate_fixture

from ..conftest import child_process_env

AUDITOR = ("LTAI-auditor", "auditor-secret")


class _ForwardProxy(ThreadingHTTPServer):
    """A plain-HTTP forward proxy: counts every request it is sent and passes it on to
    ``target`` (the emulator), whatever host the absolute URL names."""

    daemon_threads = True

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.seen: list[str] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _ProxyHandler)


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ForwardProxy

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _forward(self) -> None:
        with self.server.lock:
            self.server.seen.append(f"{self.command} {urlsplit(self.path).netloc}")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        url = urlsplit(self.path)
        conn = http.client.HTTPConnection(*self.server.target, timeout=10)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "proxy-connection"}
        conn.request(self.command, url.path + (f"?{url.query}" if url.query else ""), body, headers)
        resp = conn.getresponse()
        data = resp.read()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        conn.close()

    do_GET = do_POST = _forward


@pytest.fixture
def small_emulator(emulator):
    return emulator(generate_fixture(accounts=12, seed=3), rate_limit=1000)


@pytest.fixture
def proxy(small_emulator) -> Iterator[_ForwardProxy]:
    server = _ForwardProxy(small_emulator.address)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def vm_host(tmp_path: Path) -> dict[str, str]:
    """Environment that makes the single-label host name ``vm`` resolve to 127.0.0.1."""
    aliases = tmp_path / "hostaliases"
    aliases.write_text("vm localhost\n")
    return {"HOSTALIASES": str(aliases)}


def _run(tmp_path: Path, *args: str, key=AUDITOR, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scanner", *args],
        env=child_process_env(key, HOME=str(tmp_path / "home"), **env),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _scan(port: int, host: str = "vm") -> list[str]:
    return ["scan", "--endpoint", f"{host}:{port}", "--protocol", "http", "--no-history",
            "--format", "json"]  # fmt: skip


def test_vm_resolves_to_loopback_in_the_child(tmp_path, small_emulator, vm_host):
    """The premise of the proxy tests: without any proxy, `vm` reaches the emulator."""
    proc = _run(tmp_path, *_scan(small_emulator.address[1]), **vm_host)
    assert proc.returncode in (0, 1), proc.stderr
    assert small_emulator.call_counts().get("GetAccount", 0) >= 12


@pytest.mark.parametrize("no_proxy", ["vm", "other.example,vm", "*"])
def test_no_proxy_names_the_endpoint_so_the_proxy_sees_nothing(
    tmp_path, small_emulator, proxy, vm_host, no_proxy
):
    proxy_url = f"http://127.0.0.1:{proxy.server_address[1]}"
    proc = _run(
        tmp_path,
        *_scan(small_emulator.address[1]),
        HTTP_PROXY=proxy_url,
        http_proxy=proxy_url,
        NO_PROXY=no_proxy,
        no_proxy=no_proxy,
        **vm_host,
    )
    assert proc.returncode in (0, 1), proc.stderr
    assert proxy.seen == []
    assert small_emulator.call_counts().get("GetAccount", 0) >= 12


def test_without_no_proxy_every_request_goes_through_the_proxy(
    tmp_path, small_emulator, proxy, vm_host
):
    """The control: the same scan, NO_PROXY naming another host, goes through the proxy (so the
    test above can fail)."""
    proxy_url = f"http://127.0.0.1:{proxy.server_address[1]}"
    proc = _run(
        tmp_path,
        *_scan(small_emulator.address[1]),
        HTTP_PROXY=proxy_url,
        NO_PROXY="other.example",
        no_proxy="other.example",
        **vm_host,
    )
    assert proc.returncode in (0, 1), proc.stderr
    total = sum(small_emulator.call_counts().values())
    assert len(proxy.seen) == total >= 12
    assert all(line.endswith(f"vm:{small_emulator.address[1]}") for line in proxy.seen)


@pytest.mark.parametrize(
    "env",
    [
        {"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAI-auditor"},
        {"ALIBABA_CLOUD_ACCESS_KEY_SECRET": "auditor-secret"},
    ],
)
def test_half_a_key_pair_is_exit_2_before_any_call(tmp_path, small_emulator, env):
    # a complete, valid profile exists: the chain would silently have used it
    cli = tmp_path / "home" / ".aliyun"
    cli.mkdir(parents=True)
    (cli / "config.json").write_text(
        '{"current": "default", "profiles": [{"name": "default", "mode": "AK", '
        '"access_key_id": "LTAI-operator", "access_key_secret": "operator-secret"}]}'
    )
    proc = _run(
        tmp_path,
        *_scan(small_emulator.address[1], host="127.0.0.1"),
        key=None,
        ALIBABA_CLOUD_CLI_PROFILE_DISABLED="false",
        **env,
    )
    assert proc.returncode == 2, proc.stderr
    assert "half a key pair" in proc.stderr
    assert "auditor-secret" not in proc.stderr + proc.stdout
    assert small_emulator.call_counts() == {}
    assert not (tmp_path / "rdscan-report").exists()


def test_a_bad_ca_bundle_is_exit_2_before_any_call(tmp_path, small_emulator):
    proc = _run(
        tmp_path,
        *_scan(small_emulator.address[1], host="127.0.0.1"),
        REQUESTS_CA_BUNDLE=str(tmp_path / "nope.pem"),
    )
    assert proc.returncode == 2, proc.stderr
    assert "REQUESTS_CA_BUNDLE" in proc.stderr and "nope.pem" in proc.stderr
    assert small_emulator.call_counts() == {}


@pytest.mark.parametrize(
    ("action", "code", "reason"),
    [
        ("ListAccounts", "Throttling.User", "Throttling.User"),
        ("GetCallerIdentity", "ServiceUnavailable", "ServiceUnavailable"),
        ("GetResourceDirectory", "InternalError", "InternalError"),
    ],
)
def test_an_outage_of_the_listing_or_identity_calls_is_exit_3(
    tmp_path, small_emulator, action, code, reason
):
    small_emulator.script_fault(action, count=50, code=code)
    proc = _run(
        tmp_path,
        *_scan(small_emulator.address[1], host="127.0.0.1"),
        "--max-attempts", "3", "--retry-budget", "2",
    )  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    assert reason in proc.stderr and "retry later" in proc.stderr
    assert "gave up after 3 attempts" in proc.stderr
    assert "Traceback" not in proc.stderr
