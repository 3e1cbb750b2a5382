"""The remediation journal: chain, tamper detection, member states, outcomes for the reports."""

from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path

import pytest

from scanner.errors import ScannerError
from scanner.remediate.journal import (
    GENESIS,
    JournalError,
    JournalWriter,
    load_outcomes,
    member_states,
    read_journal,
    verify_journal,
)

ARN = "acs:ram::1512345678901234:user/operator"


def _write_sample(path: Path) -> None:
    with JournalWriter(path, operator_arn=ARN, scan_id="scan-1") as j:
        j.append("session_start", "started", detail="mode=interactive")
        j.append("confirm", "confirmed", account_id="A1", phone_masked="86-139****1234")
        j.append("send", "sent", account_id="A1", phone_masked="86-139****1234", request_id="r1")
        j.append("bind", "bound", account_id="A1", phone_masked="86-139****1234", request_id="r2")
        j.append("verify", "verified", account_id="A1", phone_masked="86-139****1234")
        j.append("confirm", "declined", account_id="A2", phone_masked="86-139****5678")
        j.append("confirm", "confirmed", account_id="A3", phone_masked="86-139****0000")
        j.append("send", "sent", account_id="A3", phone_masked="86-139****0000", request_id="r3")
        j.append("skip", "skipped", account_id="A4", detail="CloudAccount: manual")
        j.append("bind", "already_bound", account_id="A5", phone_masked="86-139****1111")


def test_chain_verifies_and_lines_link(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    _write_sample(path)
    check = verify_journal(path)
    assert check.lines == 10
    assert check.members == 5
    lines = path.read_bytes().split(b"\n")[:-1]
    assert json.loads(lines[0])["prev_sha256"] == GENESIS
    for before, after in itertools.pairwise(lines):
        assert json.loads(after)["prev_sha256"] == hashlib.sha256(before).hexdigest()
    assert check.last_sha256 == hashlib.sha256(lines[-1]).hexdigest()


def test_member_states_and_outcomes(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    _write_sample(path)
    states = member_states(read_journal(path))
    assert {k: v.state for k, v in states.items()} == {
        "A1": "verified",
        "A2": "declined",
        "A3": "pending",
        "A4": "skipped",
        "A5": "already_bound",
    }
    outcomes = {o.account_id: o for o in load_outcomes(path)}
    assert outcomes["A1"].outcome == "verified"
    assert outcomes["A1"].request_id == "r2"
    assert outcomes["A1"].operator_arn == ARN
    assert outcomes["A3"].outcome == "failed"
    assert "interrupted after send" in outcomes["A3"].detail
    assert outcomes["A5"].outcome == "already_bound"


def test_verified_is_sticky_and_resume_appends_to_chain(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    _write_sample(path)
    with JournalWriter(path, operator_arn=ARN) as j:
        assert j.states["A3"].state == "pending"
        j.append("skip", "skipped", account_id="A1", detail="resume")
        j.append("bind", "bound", account_id="A3", request_id="r9")
        j.append("verify", "verified", account_id="A3")
    assert verify_journal(path).lines == 13
    outcomes = {o.account_id: o.outcome for o in load_outcomes(path)}
    assert outcomes["A1"] == "verified"
    assert outcomes["A3"] == "verified"


def test_full_number_never_written(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    with JournalWriter(path, operator_arn=ARN) as j:
        j.append("confirm", "confirmed", account_id="A1", phone_masked="86-13900001234")
    text = path.read_text()
    assert "13900001234" not in text
    assert "86-139****1234" in text


@pytest.mark.parametrize(
    "tamper",
    [
        lambda ls: [ls[0], ls[1].replace(b'"verified"', b'"not_verified"'), *ls[2:]],
        lambda ls: [ls[0], *ls[2:]],  # a line deleted
        lambda ls: [ls[1], ls[0], *ls[2:]],  # reordered
        lambda ls: [ls[0], ls[1].replace(b"86-139****1234", b"86-139****9999"), *ls[2:]],
    ],
    ids=["edited-outcome", "deleted", "reordered", "edited-number"],
)
def test_tampering_detected(tmp_path: Path, tamper) -> None:
    path = tmp_path / "j.jsonl"
    with JournalWriter(path, operator_arn=ARN) as j:
        j.append("confirm", "confirmed", account_id="A1", phone_masked="86-139****1234")
        j.append("verify", "verified", account_id="A1", phone_masked="86-139****1234")
        j.append("confirm", "declined", account_id="A2")
    lines = path.read_bytes().split(b"\n")[:-1]
    path.write_bytes(b"\n".join(tamper(lines)) + b"\n")
    with pytest.raises(JournalError) as info:
        verify_journal(path)
    assert "line" in info.value.message
    with pytest.raises(ScannerError):
        load_outcomes(path)
    with pytest.raises(JournalError):
        JournalWriter(path)  # never append to a broken chain


def test_truncated_and_garbage_and_missing(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    _write_sample(path)
    raw = path.read_bytes()
    full_head = verify_journal(path).last_sha256
    path.write_bytes(raw[:-10])
    # a cut last line is a torn tail, not part of the chain: the good lines verify, the cut is
    # reported, and the head moved back (what --expect-head catches)
    check = verify_journal(path)
    assert check.torn_bytes > 0 and check.last_sha256 != full_head
    path.write_bytes(b"not json\n")
    with pytest.raises(JournalError, match="line 1 is not valid JSON"):
        load_outcomes(path)
    with pytest.raises(JournalError, match="does not exist"):
        load_outcomes(tmp_path / "nope.jsonl")


def test_empty_journal_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_bytes(b"")
    assert verify_journal(path).lines == 0
    assert load_outcomes(path) == []


def test_ctrl_c_during_append_keeps_chain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import signal

    import scanner.remediate.journal as journal_module

    path = tmp_path / "j.jsonl"
    real_fsync = os.fsync
    fired: list[bool] = []

    def fsync_with_ctrl_c(fd: int) -> None:
        if not fired:
            fired.append(True)
            signal.raise_signal(signal.SIGINT)  # arrives in the middle of the append
        real_fsync(fd)

    with JournalWriter(path, operator_arn=ARN) as j:
        j.append("session_start", "started")
        monkeypatch.setattr(journal_module.os, "fsync", fsync_with_ctrl_c)
        with pytest.raises(KeyboardInterrupt):
            j.append("confirm", "confirmed", account_id="A1")
        assert fired
        assert len(j.entries) == 2  # the line and the chain state were both completed
        j.append("session_end", "interrupted")
    assert verify_journal(path).lines == 3


def test_two_writers_never_interleave(tmp_path: Path) -> None:
    """A second `rdscan remediate` on the same journal (e.g. another --account in a second
    terminal) must not append lines chained to a head that the first one has moved on from."""
    path = tmp_path / "j.jsonl"
    first = JournalWriter(path, operator_arn=ARN)
    second = JournalWriter(path, operator_arn=ARN)
    first.append("session_start", "started")
    with pytest.raises(JournalError, match="another rdscan remediate") as info:
        second.append("session_start", "started")
    assert info.value.hint
    first.append("confirm", "declined", account_id="A1")
    first.close()
    second.append("session_start", "started")  # the first one is done: chained after its lines
    second.close()
    assert verify_journal(path).lines == 3


def test_failed_write_stops_the_journal_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Disk full mid-line: a JournalError (no traceback), and no line is ever appended after the
    half one (which would hide it inside a corrupt line)."""
    import errno

    import scanner.remediate.journal as journal_module

    path = tmp_path / "j.jsonl"
    real_write = journal_module.os.write
    with JournalWriter(path, operator_arn=ARN) as j:
        j.append("session_start", "started")

        def half_then_full(fd: int, data: bytes) -> int:
            real_write(fd, data[:10])
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(journal_module.os, "write", half_then_full)
        with pytest.raises(JournalError, match="out of disk space"):
            j.append("confirm", "confirmed", account_id="A1")
        monkeypatch.setattr(journal_module.os, "write", real_write)
        with pytest.raises(JournalError):
            j.append("session_end", "stopped")
    assert path.read_bytes().count(b"\n") == 1
    check = verify_journal(path)  # the good line verifies; the torn one is named, not chained
    assert check.lines == 1 and check.torn_bytes == 10
