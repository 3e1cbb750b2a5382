"""Files from elsewhere and files in the way (issue 10): report.json parsed with limits, crafted
values bounded and terminal-safe in messages, control and bidi characters refused in policy
text, YAML bombs refused quickly, symbolic links and other users' files never written through,
and the modes of the files rdscan creates."""

from __future__ import annotations

import json
import os
import resource
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli import main
from scanner.errors import ConfigError
from scanner.findings import (
    Caller,
    Evidence,
    Remediation,
    Result,
    ScanResult,
    Severity,
    Status,
)
from scanner.history import History
from scanner.report import write_reports
from scanner.report.results_file import load_results

CONTROL_OUT = ("\x1b", "\x07", "\u202e", "\u2066", "\x9b", "\r")


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _clean(*texts: str) -> None:
    for text in texts:
        assert "Traceback" not in text
        for ch in CONTROL_OUT:
            assert ch not in text, repr(text[:300])


def _scan(scan_id: str = "scan-h-1") -> ScanResult:
    result = Result(
        account_id="1000000000000001",
        display_name="m",
        type="ResourceAccount",
        member_status="CreateSuccess",
        folder_path="Root",
        has_secure_mobile_phone=False,
        secure_mobile_phone_masked=None,
        result=Status.FAIL,
        severity=Severity.HIGH,
        reason="no phone",
        remediation=Remediation.API,
    )
    evidence = Evidence(
        scan_id=scan_id,
        started_at="2026-11-27T09:00:00Z",
        finished_at="2026-11-27T09:00:01Z",
        tool_version="0.1.0",
        site="cn",
        caller=Caller("acs:ram::1:user/a", "1", "RAMUser"),
        resource_directory_id="rd-1",
        master_account_id="1",
        policy_id="p",
        policy_digest="sha256:" + "0" * 64,
    )
    return ScanResult(evidence=evidence, results=(result,))


@pytest.fixture
def report_json(tmp_path: Path) -> Path:
    return write_reports(_scan(), ["json"], tmp_path / "scan")["json"]


# ---- report.json parsed with limits -------------------------------------------------------------


def _replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    "old,new,needle",
    [
        ('"members": 1', '"members": Infinity', "Infinity"),
        ('"members": 1', '"members": NaN', "NaN"),
        ('"members": 1', '"members": -Infinity', "Infinity"),
        ('"members": 1', '"members": 1e999', "infinity"),
        ('"members": 1', '"members": ' + "7" * 5000, "5000-digit"),
        ('"warnings": []', '"warnings": ' + "[" * 5000 + "]" * 5000, "5002 levels deep"),
        ('"warnings": []', '"warnings": ' + '{"a":' * 5000 + "0" + "}" * 5000, "nests"),
        ('"result": "FAIL"', '"result": "' + "\\u001b[2J" * 10 + "X" * 10_000_000 + '"', "bad or"),
        (
            '"schema_version": 1',
            '"schema_version": "\\u001b]0;owned\\u0007' + "Y" * 10**6 + '"',
            "schema",
        ),
    ],
    ids=[
        "Infinity",
        "NaN",
        "-Infinity",
        "1e999",
        "5000-digit-int",
        "5000-nested-lists",
        "5000-nested-objects",
        "10MB-escape-field",
        "1MB-schema-version",
    ],
)
def test_crafted_report_json_is_one_clear_bounded_error(
    report_json: Path, old: str, new: str, needle: str
) -> None:
    _replace_in(report_json, old, new)
    code, out, err = _cli("report", str(report_json), "--output-dir", str(report_json.parent / "o"))
    assert code == 2
    assert err.startswith("Error: report.json ") and needle in err
    assert len(err) < 2000, len(err)
    _clean(out, err)
    assert not (report_json.parent / "o").exists()


def test_a_fine_report_json_still_loads(report_json: Path) -> None:
    scan, _ = load_results(report_json)
    assert scan.evidence.scan_id == "scan-h-1"


# ---- terminal output ----------------------------------------------------------------------------


def test_printable_strips_every_control_and_bidi_character() -> None:
    from scanner.cli.common import printable, safe_message

    hostile = "a\x1b[31mb\x07c\u202ed\u2066e\x9bf\rg\nh\u2028i\u200fj\u061ck\x00l"
    assert printable(hostile) == "a?[31mb?c?d?e?f?g?h?i?j?k?l"
    assert len(printable("x" * 10_000_000)) < 2100
    many = "\n".join(["line"] * 10_000)
    assert safe_message(many).count("\n") == 200


# ---- policy text --------------------------------------------------------------------------------

_EXEMPTION = (
    "exemptions:\n"
    "  - account_id: '1000000000000001'\n"
    "    reason: {reason}\n"
    "    owner: {owner}\n"
    "    ticket: SEC-1\n"
    "    expires: 2099-01-01\n"
)


@pytest.mark.parametrize(
    "reason,owner,needle",
    [
        ('"ok \\u202Egnp.exe"', "alice", "U+202E"),  # right-to-left override in the reason
        ('"fine"', '"bob\\u2066x\\u2069"', "U+2066"),  # isolate in the owner
        ('"red \\e[31m text"', "alice", "U+001B"),  # ESC
        ('"a\\u200Fb"', "alice", "U+200F"),  # right-to-left mark
        ('"bell \\a"', "alice", "U+0007"),
        ('"c1 \\x9b31m"', "alice", "U+009B"),
    ],
)
def test_policy_validate_refuses_control_and_bidi_text(
    tmp_path: Path, reason: str, owner: str, needle: str
) -> None:
    path = tmp_path / "e.yaml"
    path.write_text(_EXEMPTION.format(reason=reason, owner=owner), encoding="utf-8")
    code, out, err = _cli("policy", "validate", str(path))
    assert code == 2
    assert needle in out + err and "bidirectional" in out + err
    _clean(out, err)


def test_multi_line_exemption_reason_is_still_fine(tmp_path: Path) -> None:
    path = tmp_path / "e.yaml"
    path.write_text(_EXEMPTION.format(reason='"line one\\nline two\\twith tab"', owner="alice"))
    code, out, err = _cli("policy", "validate", str(path))
    assert code == 0, out + err


def _bomb(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    lines.append(f"exemptions: *a{levels - 1}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "content,needle",
    [
        (_bomb(), "anchors and aliases"),
        (
            "exemptions:\n  - &x {account_id: '1', reason: r, owner: o, ticket: t, "
            "expires: 2099-01-01}\n  - *x\n",
            "anchors and aliases",
        ),
        ("exemptions: " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
        ("exemptions:\n" + "".join("  " * i + "- \n" for i in range(1, 400)), "nested too deeply"),
        ("id: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n", "nested too deeply"),
    ],
    ids=["billion-laughs", "alias-of-an-entry", "5000-flow-lists", "400-block-lists", "3000-maps"],
)
def test_yaml_bombs_and_deep_nesting_are_refused_quickly(
    tmp_path: Path, content: str, needle: str
) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(content)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.process_time()
    code, out, err = _cli("policy", "validate", str(path))
    spent = time.process_time() - start
    assert code == 2 and needle in out + err, out + err
    assert spent < 5  # CPU seconds; the bound is linear in the file's size
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 200_000
    _clean(out, err)


# ---- links, owners, modes ---------------------------------------------------------------


@pytest.mark.parametrize("dangling", [True, False], ids=["dangling", "to-a-file"])
def test_history_refuses_a_symlink(tmp_path: Path, dangling: bool) -> None:
    target = tmp_path / "target.sqlite"
    if not dangling:
        target.write_bytes(b"not yours")
    link = tmp_path / "h.sqlite"
    link.symlink_to(target)
    with pytest.raises(ConfigError, match="symbolic link") as err:
        History(link).record(_scan())
    assert err.value.exit_code == 2
    with pytest.raises(ConfigError, match="symbolic link"):
        History(link).check()
    assert (not target.exists()) if dangling else target.read_bytes() == b"not yours"


def test_scan_cli_refuses_a_symlinked_history_before_any_call(tmp_path: Path) -> None:
    target = tmp_path / "somewhere" / "db.sqlite"
    link = tmp_path / "h.sqlite"
    link.symlink_to(target)
    code, _, err = _cli(
        "scan",
        "--endpoint",
        "127.0.0.1:9",
        "--protocol",
        "http",
        "--history",
        str(link),
        "--output-dir",
        str(tmp_path / "out"),
    )
    assert code == 2 and "symbolic link" in err, err
    assert not target.exists() and not target.parent.exists()


def test_history_refuses_another_users_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "h.sqlite"
    History(path).record(_scan())
    before = path.read_bytes()
    monkeypatch.setattr(os, "geteuid", lambda: os.stat(path).st_uid + 1)
    with pytest.raises(ConfigError, match="belongs to user id"):
        History(path).record(_scan("scan-h-2"))
    assert path.read_bytes() == before


def test_new_history_is_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "h.sqlite"
    old = os.umask(0)
    try:
        History(path).record(_scan())
    finally:
        os.umask(old)
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_reports_replace_a_symlink_instead_of_following_it(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    victims = {}
    for name in ("report.json", "report.html", "report.md", "report.csv"):
        victim = tmp_path / f"victim-{name}"
        victim.write_text("precious\n")
        (out / name).symlink_to(victim)
        victims[name] = victim
    old = os.umask(0)
    try:
        write_reports(_scan(), ["json", "html", "md", "csv"], out)
    finally:
        os.umask(old)
    for name, victim in victims.items():
        assert victim.read_text() == "precious\n"
        assert not (out / name).is_symlink()
        assert oct((out / name).stat().st_mode & 0o777) == "0o644"  # no group/world write
    assert json.loads((out / "report.json").read_text())["scan"]["id"] == "scan-h-1"


def test_any_os_error_in_safe_paths_is_a_config_error(tmp_path: Path) -> None:
    from scanner.safe_paths import refuse_unsafe

    folder = tmp_path / "dir"
    folder.mkdir()
    with pytest.raises(ConfigError, match="not a regular file"):
        refuse_unsafe(folder, "journal", option="--journal")
    assert refuse_unsafe(tmp_path / "absent", "journal", option="--journal") is False


# ---- files that never end ------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["device", "fifo"])
@pytest.mark.parametrize(
    "command,needle",
    [
        (["verify-journal"], "cannot read journal"),
        (["report"], "cannot read report.json"),
        (["remediate", "--from", "/dev/null", "--dry-run", "--phones"], "cannot read phones"),
    ],
    ids=["verify-journal", "report", "phones"],
)
def test_a_device_or_fifo_is_refused_without_reading_forever(
    tmp_path: Path, kind: str, command: list[str], needle: str
) -> None:
    if kind == "device":
        path = Path("/dev/zero")
    else:
        path = tmp_path / "fifo"
        os.mkfifo(path)
    code, _, err = _cli(*command, str(path))
    assert code in (1, 2) and needle in err and "not a regular file" in err, err


def test_a_results_file_or_journal_larger_than_any_rdscan_writes_is_refused(
    report_json: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import scanner.remediate.journal as journal_module
    import scanner.report.results_file as results_module

    monkeypatch.setattr(results_module, "MAX_RESULTS_BYTES", 100)
    monkeypatch.setattr(journal_module, "MAX_JOURNAL_BYTES", 10)
    code, _, err = _cli("report", str(report_json))
    assert code == 2 and "larger than 100 bytes" in err
    journal = tmp_path / "j.jsonl"
    journal.write_text("x" * 11)
    code, _, err = _cli("verify-journal", str(journal))
    assert code == 1 and "larger than 10 bytes" in err


@pytest.mark.parametrize("suffix", ["-journal", "-wal", "-shm"])
def test_history_refuses_a_symlinked_sqlite_side_file(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / "h.sqlite"
    History(path).record(_scan())
    target = tmp_path / "precious"
    target.write_text("keep\n")
    (tmp_path / f"h.sqlite{suffix}").symlink_to(target)
    with pytest.raises(ConfigError, match="symbolic link"):
        History(path).record(_scan("scan-h-3"))
    assert target.read_text() == "keep\n"


def test_scan_checkpoint_refuses_a_symlink_and_crafted_lines(tmp_path: Path) -> None:
    from scanner.inventory import checkpoint

    target = tmp_path / "precious"
    target.write_text("keep\n")
    out = tmp_path / "out"
    out.mkdir()
    checkpoint.path_in(out).symlink_to(target)
    with pytest.raises(ConfigError, match="symbolic link"):
        checkpoint.Checkpoint.start(out, {"rdscan_checkpoint": checkpoint.VERSION})
    assert target.read_text() == "keep\n"
    checkpoint.path_in(out).unlink()
    checkpoint.path_in(out).write_text('{"rdscan_checkpoint": ' + "[" * 5000 + "]" * 5000 + "}\n")
    with pytest.raises(ConfigError, match="nests"):
        checkpoint.load(out, None)  # type: ignore[arg-type]
