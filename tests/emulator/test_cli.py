"""``rdscan emulator serve`` (as a subprocess) and ``rdscan emulator generate``."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time

import yaml
from alibabacloud_resourcemanager20200331 import models as rm_models
from alibabacloud_resourcemanager20200331.client import Client as RmClient
from alibabacloud_tea_openapi.models import Config
from click.testing import CliRunner

from scanner.cli import main
from scanner.emulator import parse_fixture


def _rdscan_cmd():
    exe = os.path.join(os.path.dirname(sys.executable), "rdscan")
    return (
        [exe]
        if os.path.exists(exe)
        else [sys.executable, "-c", "from scanner.cli import main; main()"]
    )


def _readline(proc, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            return proc.stdout.readline()
        if proc.poll() is not None:
            break
    raise AssertionError(f"no line from the emulator; stderr: {proc.stderr.read()}")


def test_serve_subprocess_prints_url_serves_and_stops_on_sigterm(tmp_path):
    outbox = tmp_path / "outbox.jsonl"
    proc = subprocess.Popen(
        [
            *_rdscan_cmd(),
            "emulator",
            "serve",
            "--port",
            "0",
            "--sms-outbox",
            str(outbox),
            "--log-requests",
            "--rate-limit",
            "1000",
            "--rate-limit",
            "GetAccount@2022-04-19=50",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = _readline(proc)
        prefix = "rdscan emulator listening on http://"
        assert line.startswith(prefix), line
        endpoint = line.strip()[len(prefix) :]
        assert endpoint.startswith("127.0.0.1:")
        client = RmClient(
            Config(
                access_key_id="LTAI-operator",
                access_key_secret="operator-secret",
                endpoint=endpoint,
                protocol="http",
            )
        )
        body = client.list_accounts(rm_models.ListAccountsRequest(page_size=5)).body
        assert len(body.accounts.account) == 5
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        log = proc.stderr.read()
        assert "ListAccounts 2020-03-31 LTAI-operator -> 200" in log
        assert "operator-secret" not in log
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_serve_with_bad_fixture_fails_cleanly(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "resource_directory: {id: rd-1, root_folder_id: r-1, master_account_id: '1'}\n"
        "accounts:\n  - {id: '1', display_name: x, type: Nope, folder: r-1}\n"
    )
    result = CliRunner().invoke(main, ["emulator", "serve", "--fixture", str(bad)])
    assert result.exit_code == 2
    assert "bad type 'Nope'" in result.output
    assert "Traceback" not in result.output


def test_generate_writes_a_valid_fixture():
    result = CliRunner().invoke(
        main, ["emulator", "generate", "--accounts", "40", "--seed", "2", "--missing-ratio", "0.5"]
    )
    assert result.exit_code == 0, result.output
    fx = parse_fixture(yaml.safe_load(result.output), source="stdout")
    assert len(fx.accounts) == 40


def test_serve_on_a_busy_port_is_a_clear_error():
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = CliRunner().invoke(main, ["emulator", "serve", "--port", str(port)])
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    assert "--port" in result.output


def test_serve_with_unwritable_outbox_is_a_clear_error(tmp_path):
    target = tmp_path / "no-such-dir" / "outbox.jsonl"
    result = CliRunner().invoke(main, ["emulator", "serve", "--sms-outbox", str(target)])
    assert result.exit_code == 2
    assert "cannot write the SMS outbox" in result.output
