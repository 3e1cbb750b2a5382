"""Journals from elsewhere and journals hurt by the machine: crafted fields, parse limits, a
torn last line from a failed append, symbolic links and other users' files, and what
`rdscan report --journal` accepts (issue 10)."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import scanner.remediate.journal as journal_module
from scanner.cli import main
from scanner.errors import ConfigError, ScannerError
from scanner.remediate.journal import (
    GENESIS,
    JournalError,
    JournalWriter,
    read_journal,
    verify_journal,
)
from scanner.report.results_file import load_results

from .conftest import UNBOUND

ARN = "acs:ram::1512345678901234:user/operator"
ESC = "\x1b"
CONTROL_OUT = ("\x1b", "\x07", "\u202e", "\x9b")


def _line(number: int, **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "v": 1,
        "seq": number,
        "time": "2099-01-01T00:00:00.000000Z",
        "operator_arn": ARN,
        "account_id": "",
        "phone_masked": "",
        "action": "session_start",
        "request_id": "",
        "outcome": "started",
        "detail": "",
        "scan_id": "scan-1",
    }
    data.update(fields)
    return data


def chain(path: Path, lines: list[dict[str, Any]], *, raw_last: bytes | None = None) -> str:
    """Write ``lines`` as a correctly chained journal (what an attacker with a text editor and
    sha256sum can do); returns the head."""
    prev = GENESIS
    out = b""
    for data in lines:
        data = {**data, "prev_sha256": prev}
        encoded = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        out += encoded + b"\n"
        prev = hashlib.sha256(encoded).hexdigest()
    if raw_last is not None:
        out += raw_last
    path.write_bytes(out)
    return prev


def _run(argv: list[str], *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """rdscan as a real process (the bytes a terminal would get)."""
    return subprocess.run(
        [*argv, *args], env=env, capture_output=True, text=True, encoding="utf-8", timeout=60
    )


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    """rdscan in this process (offline commands: fast, the same error handling)."""
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout, result.stderr)


def _clean(*texts: str) -> None:
    for text in texts:
        assert "Traceback" not in text
        for ch in CONTROL_OUT:
            assert ch not in text, repr(text[:300])


# ---- crafted fields never drive the terminal ------------------------------------------------


@pytest.mark.parametrize(
    "field,value",
    [
        ("action", f"{ESC}[2J{ESC}[31mverify"),  # clear screen, red
        ("outcome", f"{ESC}]0;owned\x07"),  # set the window title
        ("v", f"{ESC}[1A{ESC}[2Kfake OK"),  # cursor up, erase line
        ("v", "\u202eevil\u202c"),  # right-to-left override
        ("action", "\x9b31m"),  # C1 CSI
    ],
)
def test_verify_journal_prints_no_escape_sequence(
    tmp_path: Path, rdscan_argv: list[str], cli_env: Any, field: str, value: str
) -> None:
    path = tmp_path / "j.jsonl"
    chain(path, [_line(1), _line(2, **{field: value})])
    done = _run(rdscan_argv, "verify-journal", str(path), env=cli_env())
    assert done.returncode == 1
    assert "line 2" in done.stderr
    _clean(done.stdout, done.stderr)


def test_verify_journal_ok_line_and_file_name_are_terminal_safe(
    tmp_path: Path, rdscan_argv: list[str], cli_env: Any
) -> None:
    path = tmp_path / f"j{ESC}[31m\u202e.jsonl"
    chain(path, [_line(1)])
    done = _cli("verify-journal", str(path))
    assert done.returncode == 0 and "chain intact" in done.stdout
    _clean(done.stdout, done.stderr)


def test_a_ten_megabyte_field_stays_off_stderr(
    tmp_path: Path, rdscan_argv: list[str], cli_env: Any
) -> None:
    path = tmp_path / "j.jsonl"
    chain(path, [_line(1, v="A" * 10_000_000)])
    done = _cli("verify-journal", str(path))
    assert done.returncode == 1
    assert len(done.stderr) < 4000, len(done.stderr)
    assert "line 1" in done.stderr


# ---- parse limits -----------------------------------------------------------------------------

_PREFIX = '{"v":1,"seq":1,"time":"t","operator_arn":"a","account_id":"","phone_masked":"",'
_SUFFIX = f'"request_id":"","outcome":"started","detail":"","prev_sha256":"{GENESIS}"}}'


@pytest.mark.parametrize(
    "line,expected",
    [
        (_PREFIX + '"action":"session_start","x":Infinity,' + _SUFFIX, "Infinity"),
        (_PREFIX + '"action":"session_start","x":NaN,' + _SUFFIX, "NaN"),
        (_PREFIX + '"action":"session_start","x":-Infinity,' + _SUFFIX, "Infinity"),
        (_PREFIX + '"action":"session_start","x":1e999,' + _SUFFIX, "infinity"),
        (_PREFIX.replace('"seq":1', '"seq":' + "9" * 5000) + '"action":"x",' + _SUFFIX, "digit"),
        (
            _PREFIX + '"action":"session_start","x":' + "[" * 5000 + "]" * 5000 + "," + _SUFFIX,
            "nests",
        ),
        (_PREFIX + '"action":"session_start","x":' + "{}" + "," + _SUFFIX, None),
    ],
    ids=["Infinity", "NaN", "-Infinity", "1e999", "5000-digit", "5000-deep", "control-ok"],
)
def test_journal_lines_parsed_with_limits(
    tmp_path: Path, rdscan_argv: list[str], cli_env: Any, line: str, expected: str | None
) -> None:
    path = tmp_path / "j.jsonl"
    path.write_text(line + "\n")
    if expected is None:
        assert verify_journal(path).lines == 1
        return
    with pytest.raises(JournalError, match=expected):
        verify_journal(path)
    done = _cli("verify-journal", str(path))
    assert done.returncode == 1, done.stderr
    assert expected in done.stderr and done.stderr.startswith("Error: journal")
    _clean(done.stderr)


@pytest.mark.parametrize(
    "fields",
    [{"seq": True}, {"seq": 1.0}, {"seq": "1"}, {"detail": {"x": 1}}, {"account_id": 7}],
    ids=["bool-seq", "float-seq", "str-seq", "dict-detail", "int-account"],
)
def test_fields_of_the_wrong_type_are_refused(tmp_path: Path, fields: dict[str, Any]) -> None:
    path = tmp_path / "j.jsonl"
    chain(path, [_line(1, **fields)])
    with pytest.raises(JournalError, match="wrong type"):
        verify_journal(path)


def test_a_full_number_in_a_crafted_journal_is_masked_on_read(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    chain(
        path,
        [
            _line(1),
            _line(
                2,
                action="confirm",
                outcome="confirmed",
                account_id="1000000000015838",
                phone_masked="86-13912345678",
                detail="number 13912345678 refused",
            ),
        ],
    )
    entry = read_journal(path)[1]
    assert "13912345678" not in entry.phone_masked + entry.detail
    assert entry.phone_masked == "86-139****5678"


# ---- a torn last line (full disk during an append) -------------------------------------------


def _half_then_full(real_write: Any, cut: int = 17) -> Any:
    def write(fd: int, data: bytes) -> int:
        real_write(fd, data[:cut])
        raise OSError(errno.ENOSPC, "No space left on device")

    return write


def test_torn_line_is_named_verified_around_and_quarantined_on_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rdscan_argv: list[str], cli_env: Any
) -> None:
    path = tmp_path / "j.jsonl"
    real_write = os.write
    with JournalWriter(path, operator_arn=ARN, scan_id="scan-1") as j:
        j.append("session_start", "started")
        j.append("confirm", "confirmed", account_id="A1", phone_masked="86-139****1234")
        monkeypatch.setattr(journal_module.os, "write", _half_then_full(real_write))
        with pytest.raises(JournalError, match="out of disk space") as err:
            j.append("send", "sent", account_id="A1", phone_masked="86-139****1234")
        assert "no space left on device" in str(err.value)
        monkeypatch.setattr(journal_module.os, "write", real_write)
    torn_bytes = path.read_bytes()[path.read_bytes().rfind(b"\n") + 1 :]
    assert len(torn_bytes) == 17

    check = verify_journal(path)  # the good lines still verify
    assert (check.lines, check.torn_bytes) == (2, 17)
    done = _cli("verify-journal", str(path))
    assert done.returncode == 0, done.stderr
    assert "2 line(s)" in done.stdout and "17 byte(s)" in done.stderr
    assert "--resume" in done.stderr

    # the next writer (what --resume opens) sets the torn bytes aside, then appends
    from scanner.remediate.journal import torn_path

    with JournalWriter(path, operator_arn=ARN, scan_id="scan-1") as j:
        assert j.states["A1"].state == "pending"
        j.append("send", "sent", account_id="A1", phone_masked="86-139****1234", request_id="r")
        assert j.quarantined == torn_path(path)
    after = verify_journal(path)
    assert (after.lines, after.torn_bytes) == (3, 0)
    side = torn_path(path).read_bytes()
    assert side.endswith(torn_bytes + b"\n") and b"after line 2" in side
    assert oct(torn_path(path).stat().st_mode & 0o777) == "0o600"


def test_a_torn_first_line_leaves_an_empty_chain(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_bytes(b'{"v":1,"seq":1,"ti')
    assert (verify_journal(path).lines, verify_journal(path).torn_bytes) == (0, 18)
    with JournalWriter(path, operator_arn=ARN) as j:
        j.append("session_start", "started")
    assert verify_journal(path).lines == 1 and json.loads(path.read_text())["seq"] == 1


def test_garbage_in_the_middle_is_still_corruption(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    chain(path, [_line(1)], raw_last=b"garbage\n")
    with pytest.raises(JournalError, match="line 2 is not valid JSON"):
        verify_journal(path)


def test_out_of_space_while_setting_the_torn_line_aside_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "j.jsonl"
    chain(path, [_line(1)], raw_last=b'{"v":1')
    monkeypatch.setattr(journal_module.os, "write", _half_then_full(os.write, 0))
    writer = JournalWriter(path, operator_arn=ARN)
    with pytest.raises(JournalError, match="out of disk space"):
        writer.append("session_start", "started")
    monkeypatch.undo()
    assert path.read_bytes().endswith(b'{"v":1')  # nothing cut when the copy failed


# ---- links and other users' files ------------------------------------------------------------


@pytest.mark.parametrize("dangling", [True, False], ids=["dangling", "to-a-file"])
def test_writer_refuses_a_symlinked_journal(tmp_path: Path, dangling: bool) -> None:
    target = tmp_path / "authorized_keys"
    if not dangling:
        target.write_text("ssh-ed25519 AAAA precious\n")
    link = tmp_path / "j.jsonl"
    link.symlink_to(target)
    with pytest.raises(ConfigError, match="symbolic link") as err:
        JournalWriter(link, operator_arn=ARN).append("session_start", "started")
    assert err.value.exit_code == 2
    if dangling:
        assert not target.exists()
    else:
        assert target.read_text() == "ssh-ed25519 AAAA precious\n"


def test_writer_refuses_a_link_that_appears_after_it_was_opened(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    path = tmp_path / "j.jsonl"
    writer = JournalWriter(path, operator_arn=ARN)  # nothing there yet
    path.symlink_to(target)
    with pytest.raises(ConfigError, match="symbolic link"):
        writer.append("session_start", "started")
    assert not target.exists()


def test_writer_refuses_another_users_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "j.jsonl"
    chain(path, [_line(1)])
    before = path.read_bytes()
    monkeypatch.setattr(os, "geteuid", lambda: os.stat(path).st_uid + 1)
    with pytest.raises(ConfigError, match="belongs to user id"):
        JournalWriter(path, operator_arn=ARN)
    assert path.read_bytes() == before


def test_new_journal_is_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    old = os.umask(0)
    try:
        with JournalWriter(path, operator_arn=ARN) as j:
            j.append("session_start", "started")
    finally:
        os.umask(old)
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_remediate_cli_refuses_a_symlinked_journal(
    emulator: Any, report_file: Any, tmp_path: Path, rdscan_argv: list[str], cli_env: Any
) -> None:
    srv = emulator()
    report = report_file([UNBOUND[0]])
    target = tmp_path / "target.txt"
    target.write_text("keep me\n")
    link = tmp_path / "j.jsonl"
    link.symlink_to(target)
    phones = tmp_path / "phones.csv"
    phones.write_text(f"account_id,phone\n{UNBOUND[0]},86-13700002222\n")
    done = _run(
        rdscan_argv,
        "remediate",
        "--from",
        str(report),
        "--phones",
        str(phones),
        "--journal",
        str(link),
        "--endpoint",
        srv.endpoint,
        "--protocol",
        "http",
        env=cli_env(),
    )
    assert done.returncode == 2, done.stderr
    assert "symbolic link" in done.stderr and "Traceback" not in done.stderr
    assert target.read_text() == "keep me\n"
    assert srv.outbox() == []


# ---- rdscan report --journal: only the report's own lines -------------------------------------


def test_report_journal_keeps_only_this_scans_members(
    report_file: Any, tmp_path: Path, rdscan_argv: list[str], cli_env: Any
) -> None:
    """The issue's reproduction: a journal re-chained with an invented "verified" line for
    another member and another scan id, plus variants (right scan, stranger member; a line
    without any scan id)."""
    member, other = UNBOUND[0], UNBOUND[1]
    report = report_file([member])
    scan, _ = load_results(report)
    sid = scan.evidence.scan_id
    journal = tmp_path / "journal.jsonl"

    def verified(seq: int, account: str, scan_id: str) -> dict[str, Any]:
        return _line(
            seq,
            action="verify",
            outcome="verified",
            account_id=account,
            phone_masked="86-139****0000",
            scan_id=scan_id,
        )

    head = chain(
        journal,
        [
            _line(1, scan_id=sid),
            verified(2, member, sid),  # genuine
            verified(3, other, "scan-invented"),  # the forgery
            verified(4, other, sid),  # right scan, a member the report does not list
            verified(5, "1000000000999999", ""),  # no scan id at all
        ],
    )
    from scanner.remediate.journal import outcomes_for_report

    outcomes, source = outcomes_for_report(
        journal, scan_id=sid, account_ids=[r.account_id for r in scan.results]
    )
    assert [o.account_id for o in outcomes] == [member]
    assert (source.file_name, source.head_sha256, source.lines, source.used) == (
        "journal.jsonl",
        head,
        5,
        2,
    )
    assert any("scan-invented" in why and "2 line(s)" in why for why in source.left_out)
    assert any(other in why for why in source.left_out)

    out = tmp_path / "out"
    done = _cli(
        "report",
        str(report),
        "--journal",
        str(journal),
        "--output-dir",
        str(out),
        "--format",
        "html,md",
    )
    assert done.returncode == 0, done.stderr
    assert "scan-invented" in done.stderr and other in done.stderr
    assert head in done.stdout
    html = (out / "report.html").read_text()
    md = (out / "report.md").read_text()
    for text in (html, md):
        assert "journal.jsonl" in text and head in text
        assert member in text.split("Remediated since the scan")[1]
        assert other not in text.split("Remediated since the scan")[1].split("Left out")[0]

    wrong = _cli(
        "report",
        str(report),
        "--journal",
        str(journal),
        "--expect-head",
        "0" * 64,
        "--output-dir",
        str(tmp_path / "out2"),
    )
    assert wrong.returncode == 2 and "not the expected" in wrong.stderr
    assert not (tmp_path / "out2").exists()
    right = _cli(
        "report",
        str(report),
        "--journal",
        str(journal),
        "--expect-head",
        head.upper(),
        "--output-dir",
        str(tmp_path / "out3"),
    )
    assert right.returncode == 0, right.stderr


def test_expect_head_without_journal_is_a_usage_error(report_file: Any) -> None:
    from scanner.cli.report_cmd import _load_journal

    scan, _ = load_results(report_file([UNBOUND[0]]))
    with pytest.raises(ScannerError, match="needs --journal"):
        _load_journal(None, scan, "ab" * 32)
