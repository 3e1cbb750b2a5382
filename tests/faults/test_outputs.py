"""Outputs: checked before the first API call, written as one set, a full disk named as such, and
no output encoding able to crash a command."""

from __future__ import annotations

import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.emulator import EmulatorServer, parse_fixture

from ..client.conftest import build_fixture
from ..conftest import child_process_env
from .conftest import AUDITOR

NAME = "财务-生产 🚀"


@pytest.fixture
def srv():
    data = build_fixture(12, depth=1)
    for account in data["accounts"]:
        account.pop("omit_phone_flag", None)
    unbound = [a for a in data["accounts"] if "secure_mobile_phone" not in a]
    unbound[0]["display_name"] = NAME  # among the top failing members
    unbound[0]["type"] = "ResourceAccount"
    server = EmulatorServer(parse_fixture(data), rate_limit=0).start()
    server.renamed = unbound[0]["id"]  # type: ignore[attr-defined]
    yield server
    server.stop()


def _rdscan(
    srv: EmulatorServer | None,
    cwd: Path,
    *args: str,
    env: dict[str, str] | None = None,
    limit_file_bytes: int | None = None,
) -> subprocess.CompletedProcess[str]:
    conn = ["--endpoint", srv.endpoint, "--protocol", "http", "--rate", "1000"] if srv else []
    cmd = [sys.executable, "-m", "scanner", *args[:1], *conn, *args[1:]]

    def limit() -> None:  # a "full disk": no file may grow beyond the limit (EFBIG, not SIGXFSZ)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_bytes, limit_file_bytes))

    return subprocess.run(
        cmd,
        env=child_process_env(AUDITOR, HOME=str(cwd / "home"), **(env or {})),
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=120,
        check=False,
        preexec_fn=limit if limit_file_bytes else None,
    )


# ---- every output path is checked before the first API call ---------------------------------


@pytest.mark.parametrize(
    ("prepare", "args", "message"),
    [
        (
            lambda d: (d / "out" / "report.csv").mkdir(parents=True),
            (),
            "report.csv: it is a folder",
        ),
        (
            lambda d: (d / "out" / "report.json").mkdir(parents=True),
            (),
            "report.json: it is a folder",
        ),
        (lambda d: (d / "out").write_text("x"), (), "'out' is a file"),
        (lambda d: (d / "h.sqlite").mkdir(), (), "'h.sqlite' is a directory"),
        (lambda d: (d / "hdir").write_text("x"), ("--history", "hdir/h.sqlite"), "is a file"),
        (
            lambda d: (d / "h.sqlite").write_text("not a database, not empty" * 100),
            (),
            "not a usable rdscan history",
        ),
    ],
)
def test_unwritable_outputs_fail_before_the_first_api_call(srv, tmp_path, prepare, args, message):
    prepare(tmp_path)
    history = ("--history", "h.sqlite") if "--history" not in args else ()
    run = _rdscan(srv, tmp_path, "scan", "--output-dir", "out", *history, *args)
    assert run.returncode == 2, run.stdout + run.stderr
    assert message in run.stderr
    assert "Traceback" not in run.stderr
    assert srv.call_counts() == {}, "an API call was made before the outputs were checked"


def test_a_folder_in_place_of_an_unrequested_format_does_not_matter(srv, tmp_path):
    (tmp_path / "out" / "report.csv").mkdir(parents=True)
    run = _rdscan(srv, tmp_path, "scan", "--output-dir", "out", "--no-history", "--format", "json")
    assert run.returncode == 1, run.stdout + run.stderr  # a FAIL: the scan ran


# ---- a report set is replaced whole or not at all --------------------------------------------


def _set(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_full_disk_while_writing_reports_keeps_the_old_set_and_the_scan(
    srv, tmp_path, monkeypatch, capsys
):
    """The disk fills up while the third report file is flushed (an injected ENOSPC on the
    real write path): the previous set stays whole, the scan keeps its exit code (1: FAIL)
    and its history entry."""
    import errno

    import scanner.report.results_file as rs
    from scanner.cli.scan_cmd import _build_options, execute_scan

    from .conftest import fast_settings

    def opts():
        return _build_options(
            policy_path=None,
            exemptions_path=None,
            formats="json,html,md,csv",
            output_dir=tmp_path / "out",
            history_path=tmp_path / "h.sqlite",
            no_history=False,
            no_progress=True,
            as_of=None,
            templates_dir=None,
        )

    settings = fast_settings(srv)
    assert execute_scan(settings, opts()) == 1
    old = _set(tmp_path / "out")
    assert set(old) == {"report.json", "report.html", "report.md", "report.csv"}
    real = rs.os.fsync
    flushed: list[int] = []

    def fsync(fd: int) -> None:
        if not os.readlink(f"/proc/self/fd/{fd}").rsplit("/", 1)[-1].startswith(".report."):
            real(fd)  # not a report being staged (e.g. the scan's checkpoint)
            return
        flushed.append(fd)
        if len(flushed) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fd)

    monkeypatch.setattr(rs.os, "fsync", fsync)
    capsys.readouterr()
    assert execute_scan(settings, opts()) == 1  # the scan's own code, not 2
    out, err = capsys.readouterr()
    assert "Error: the reports were not written: cannot write" in err
    assert "out of space (No space left on device)" in err
    assert "nothing scanned" not in out + err
    assert f"Reports: none written (the previous ones in {tmp_path / 'out'} are kept)" in out
    assert _set(tmp_path / "out") == old, "the old set was changed"
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")], "temp left"
    with sqlite3.connect(tmp_path / "h.sqlite") as db:
        assert db.execute("SELECT count(*) FROM scans").fetchone()[0] == 2  # both recorded


def test_full_disk_on_a_compliant_scan_exits_4_not_0(tmp_path):
    data = build_fixture(3, depth=1)
    for a in data["accounts"]:
        a.pop("omit_phone_flag", None)
        a["secure_mobile_phone"] = "86-13900001111"
    with EmulatorServer(parse_fixture(data), rate_limit=0) as srv:
        run = _rdscan(
            srv, tmp_path, "scan", "--output-dir", "out", "--no-history", limit_file_bytes=3000
        )
    assert run.returncode == 4, run.stdout + run.stderr
    assert "Exit code 4: compliant, but the reports could not be written" in run.stdout
    assert "out of space" in run.stderr
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_full_disk_under_the_history_is_named_and_keeps_the_scan(srv, tmp_path):
    sized = _rdscan(
        srv, tmp_path, "scan", "--output-dir", "sized", "--format", "json", "--no-history"
    )
    assert sized.returncode == 1, sized.stdout + sized.stderr
    # room for report.json; the history keeps report.json's bytes and more: it cannot fit
    limit = (tmp_path / "sized" / "report.json").stat().st_size + 2048
    run = _rdscan(
        srv,
        tmp_path,
        "scan",
        "--output-dir",
        "out",
        "--format",
        "json",
        "--history",
        "h.sqlite",
        limit_file_bytes=limit,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "not a usable rdscan history" not in run.stderr + run.stdout
    assert "this scan was not recorded in the history" in run.stderr
    assert "out of space or the disk refused the write" in run.stderr
    assert (tmp_path / "out" / "report.json").is_file()


# ---- no output encoding crashes a command ----------------------------------------------------


@pytest.mark.parametrize("encoding", ["ascii", "cp1252"])
def test_every_command_survives_an_encoding_that_cannot_show_a_name(srv, tmp_path, encoding):
    env = {"PYTHONIOENCODING": encoding}
    exemptions = tmp_path / "ex.yaml"
    exemptions.write_text(
        "exemptions:\n"
        "  - account: '1000000000000037'\n"
        f"    reason: 'owned by {NAME}'\n"
        f"    owner: '{NAME}'\n"
        "    ticket: 'T-1'\n"
        "    expires: '2099-01-01'\n",
        encoding="utf-8",
    )
    runs = {
        "scan": _rdscan(
            srv, tmp_path, "scan", "--output-dir", "out", "--history", "h.sqlite", env=env
        ),
        "scan2": _rdscan(
            srv,
            tmp_path,
            "scan",
            "--output-dir",
            "out",
            "--history",
            "h.sqlite",
            "--exemptions",
            str(exemptions),
            env=env,
        ),
    }
    runs["report"] = _rdscan(
        None, tmp_path, "report", "out/report.json", "--output-dir", "r2", env=env
    )
    for sub in (("list",), ("show", "latest"), ("diff",)):
        runs[" ".join(sub)] = _rdscan(
            None, tmp_path, "history", *sub, "--history", "h.sqlite", env=env
        )
    runs["policy validate"] = _rdscan(
        None, tmp_path, "policy", "validate", str(exemptions), env=env
    )
    runs["remediate dry-run"] = _rdscan(
        srv,
        tmp_path,
        "remediate",
        "--from",
        "out/report.json",
        "--phone-tag",
        "x",
        "--dry-run",
        env=env,
    )
    runs["help"] = _rdscan(None, tmp_path, "scan", "--help", env=env)
    for name, run in runs.items():
        assert "Traceback" not in run.stderr, f"{name}: {run.stderr}"
        assert "UnicodeEncodeError" not in run.stderr + run.stdout, name
        assert run.returncode in (0, 1, 2, 3), f"{name}: {run.returncode} {run.stderr}"
    scan = runs["scan"]
    assert scan.returncode == 1
    # the member's row in "Top failing members": its id in full, its name replaced or kept
    # (click writes UTF-8 to a stream that claims ASCII; cp1252 gets "?" for what it lacks)
    row = next(line for line in scan.stdout.splitlines() if line.startswith(srv.renamed))
    if encoding == "cp1252":
        assert "??-?? ?" in row
    doc = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert NAME in {a["display_name"] for a in doc["accounts"]}  # files keep the real name
