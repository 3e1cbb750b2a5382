"""The remediation journal: append-only JSON lines, each chained to the previous one by SHA-256.

One line per step (time, operator ARN, member, masked number, action, RequestId, outcome). Each
line carries ``prev_sha256``, the SHA-256 of the previous line's bytes (without its newline); the
first line carries 64 zeros. Editing, inserting, deleting or reordering a line breaks the chain,
and :func:`verify_journal` names the first line where it breaks. Each line is written with one
``write`` on a file opened for appending and fsynced before the next step, so a process killed
mid-member loses nothing that was already done; one writer at a time holds the file (``flock``),
and after a failed write nothing more is appended.

A full phone number never reaches the journal: entries take the masked form only, and the writer
refuses a value that still shows more digits than a masked number does.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import signal
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..clock import rfc3339, utc_now
from ..errors import RemediationError
from ..findings import Outcome, RemediationOutcome
from ..phones import mask_phone

JOURNAL_VERSION = 1
GENESIS = "0" * 64
DEFAULT_JOURNAL_NAME = "remediation-journal.jsonl"

# Actions (one per step) and the outcomes each may carry.
ACTIONS: Mapping[str, tuple[str, ...]] = {
    "session_start": ("started",),
    "session_end": ("finished", "interrupted", "stopped"),
    "skip": ("skipped", "already_bound"),
    "confirm": ("confirmed", "declined"),
    "send": ("sent", "failed"),
    "bind": ("bound", "wrong_code", "expired_code", "already_bound", "failed"),
    "verify": ("verified", "not_verified", "failed"),
}

# A member once in one of these states is done: a later run only skips it.
DONE_STATES = frozenset({Outcome.VERIFIED, Outcome.ALREADY_BOUND})

_REQUIRED_KEYS = (
    "v",
    "seq",
    "time",
    "operator_arn",
    "account_id",
    "phone_masked",
    "action",
    "request_id",
    "outcome",
    "detail",
    "prev_sha256",
)


_WRITE_FAILED_HINT = (
    "free space or fix the disk; keep this journal as evidence (its last line may be cut) and "
    "run again with --journal NEW_FILE (members already bound are found through GetAccount)"
)


class JournalError(RemediationError):
    """The journal is missing, unreadable, corrupt or tampered with."""


@dataclass(frozen=True)
class JournalEntry:
    seq: int
    time: str
    operator_arn: str
    account_id: str
    phone_masked: str
    action: str
    outcome: str
    request_id: str = ""
    detail: str = ""
    scan_id: str = ""
    prev_sha256: str = GENESIS
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "v": JOURNAL_VERSION,
            "seq": self.seq,
            "time": self.time,
            "operator_arn": self.operator_arn,
            "account_id": self.account_id,
            "phone_masked": self.phone_masked,
            "action": self.action,
            "request_id": self.request_id,
            "outcome": self.outcome,
            "detail": self.detail,
            "scan_id": self.scan_id,
        }
        if self.extra:
            data["extra"] = dict(self.extra)
        data["prev_sha256"] = self.prev_sha256
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JournalEntry:
        return cls(
            seq=int(data["seq"]),
            time=str(data["time"]),
            operator_arn=str(data["operator_arn"]),
            account_id=str(data["account_id"]),
            phone_masked=str(data["phone_masked"]),
            action=str(data["action"]),
            outcome=str(data["outcome"]),
            request_id=str(data["request_id"]),
            detail=str(data["detail"]),
            scan_id=str(data.get("scan_id") or ""),
            prev_sha256=str(data["prev_sha256"]),
            extra=dict(data.get("extra") or {}),
        )


@dataclass(frozen=True)
class JournalCheck:
    """What :func:`verify_journal` found on an intact journal."""

    path: Path
    lines: int
    last_sha256: str  # the chain head: keep it elsewhere to detect truncation later
    members: int
    first_time: str
    last_time: str


@dataclass(frozen=True)
class MemberState:
    account_id: str
    state: Outcome  # verified | already_bound | failed | declined | skipped | pending
    phone_masked: str
    at: str
    operator_arn: str
    request_id: str
    detail: str
    last_action: str


def _sha256(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()


def _encode(entry: JournalEntry) -> bytes:
    return json.dumps(entry.to_dict(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _safe_masked(value: str) -> str:
    """Never let a full number into the journal: re-mask anything that is not masked enough."""
    if not value:
        return ""
    return mask_phone(value) or ""


def _read_entries(path: Path) -> tuple[list[JournalEntry], str]:
    """Parse and verify the chain. Returns the entries and the SHA-256 of the last line."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise JournalError(
            f"journal {path} does not exist",
            hint="give the journal written by `rdscan remediate` (--journal), "
            f"by default {DEFAULT_JOURNAL_NAME} beside the results",
        ) from None
    except OSError as exc:
        raise JournalError(f"cannot read journal {path}: {exc.strerror}") from None
    if raw and not raw.endswith(b"\n"):
        last = raw.count(b"\n") + 1
        raise JournalError(
            f"journal {path} ends with an incomplete line (line {last}): "
            "it was cut off while being written, or edited",
            hint="keep this file as evidence and start a new journal with --journal NEW_FILE",
        )
    entries: list[JournalEntry] = []
    prev = GENESIS
    for number, line in enumerate(raw.split(b"\n")[:-1], start=1):
        where = f"journal {path} line {number}"
        try:
            data = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise JournalError(
                f"{where} is not valid JSON: the journal is corrupt or was edited",
                hint="keep this file as evidence and start a new journal with --journal NEW_FILE",
            ) from None
        if not isinstance(data, dict) or any(k not in data for k in _REQUIRED_KEYS):
            missing = [k for k in _REQUIRED_KEYS if not isinstance(data, dict) or k not in data]
            raise JournalError(
                f"{where} lacks the field(s) {', '.join(missing)}: not an rdscan journal line",
                hint="give the journal written by `rdscan remediate`",
            )
        if data["v"] != JOURNAL_VERSION:
            raise JournalError(
                f"{where} has journal version {data['v']!r}; this rdscan reads version "
                f"{JOURNAL_VERSION}",
                hint="verify it with the rdscan version that wrote it",
            )
        if data["prev_sha256"] != prev:
            raise JournalError(
                f"{where}: the hash chain is broken (prev_sha256 does not match the line before): "
                "a line was edited, inserted, deleted or reordered",
                hint="treat the journal as tampered with; keep it as evidence and compare it "
                "with a backup copy",
            )
        try:
            entry = JournalEntry.from_dict(data)
        except (KeyError, TypeError, ValueError):
            raise JournalError(f"{where} has a field of the wrong type") from None
        if entry.seq != number:
            raise JournalError(
                f"{where} carries sequence number {entry.seq}: lines were reordered or removed",
                hint="treat the journal as tampered with",
            )
        if entry.action not in ACTIONS or entry.outcome not in ACTIONS[entry.action]:
            raise JournalError(
                f"{where} has an unknown step {entry.action}/{entry.outcome}",
                hint="give the journal written by `rdscan remediate`",
            )
        entries.append(entry)
        prev = _sha256(line)
    return entries, prev


def read_journal(path: str | Path) -> list[JournalEntry]:
    """All entries of a verified journal; raises JournalError if the chain is broken."""
    entries, _ = _read_entries(Path(path))
    return entries


def verify_journal(path: str | Path) -> JournalCheck:
    """Recompute the chain of a journal; raise JournalError naming the first bad line."""
    p = Path(path)
    entries, head = _read_entries(p)
    members = {e.account_id for e in entries if e.account_id}
    return JournalCheck(
        path=p,
        lines=len(entries),
        last_sha256=head,
        members=len(members),
        first_time=entries[0].time if entries else "",
        last_time=entries[-1].time if entries else "",
    )


def _state_of(entry: JournalEntry) -> Outcome | None:
    """The member state a step leaves behind; None for session lines."""
    if not entry.account_id or entry.action in ("session_start", "session_end"):
        return None
    if entry.outcome == Outcome.ALREADY_BOUND:
        return Outcome.ALREADY_BOUND
    if entry.action == "verify":
        return Outcome.VERIFIED if entry.outcome == Outcome.VERIFIED else Outcome.FAILED
    if entry.action == "confirm":
        return Outcome.DECLINED if entry.outcome == Outcome.DECLINED else Outcome.PENDING
    if entry.action == "skip":
        return Outcome.SKIPPED
    if entry.outcome == Outcome.FAILED:
        return Outcome.FAILED
    return Outcome.PENDING  # sent, bound (not yet verified), wrong_code, expired_code


def member_states(entries: Iterable[JournalEntry]) -> dict[str, MemberState]:
    """The state of every member named in the journal, in the order first seen.

    A member once verified or already bound stays so (a later run only skips it). Otherwise the
    last step wins, and a member whose last step is not final is ``pending``.
    """
    states: dict[str, MemberState] = {}
    for entry in entries:
        state = _state_of(entry)
        if state is None:
            continue
        current = states.get(entry.account_id)
        if current is not None and current.state in DONE_STATES and state not in DONE_STATES:
            continue
        states[entry.account_id] = MemberState(
            account_id=entry.account_id,
            state=state,
            phone_masked=entry.phone_masked or (current.phone_masked if current else ""),
            at=entry.time,
            operator_arn=entry.operator_arn,
            request_id=entry.request_id or (current.request_id if current else ""),
            detail=entry.detail,
            last_action=entry.action,
        )
    return states


def load_outcomes(path: str | Path) -> list[RemediationOutcome]:
    """One RemediationOutcome per member in a verified journal (for the reports).

    Raises JournalError (a ScannerError) if the journal is missing, corrupt or tampered with.
    A member left mid-flow (e.g. a Send with no Bind after a crash) is reported as ``failed``
    with a detail saying so.
    """
    outcomes = []
    for st in member_states(read_journal(path)).values():
        outcome, detail = st.state, st.detail
        if outcome == Outcome.PENDING:
            outcome = Outcome.FAILED
            detail = f"interrupted after {st.last_action}; not completed" + (
                f" ({detail})" if detail else ""
            )
        outcomes.append(
            RemediationOutcome(
                account_id=st.account_id,
                phone_masked=st.phone_masked,
                outcome=outcome,
                at=st.at,
                operator_arn=st.operator_arn,
                request_id=st.request_id,
                detail=detail,
            )
        )
    return outcomes


class JournalWriter:
    """Appends chained, fsynced lines to a journal. Verifies an existing file before appending."""

    def __init__(self, path: str | Path, *, operator_arn: str = "", scan_id: str = "") -> None:
        self.path = Path(path)
        self._operator_arn = operator_arn
        self._scan_id = scan_id
        if self.path.exists():
            entries, head = _read_entries(self.path)
        else:
            entries, head = [], GENESIS
        self.entries: list[JournalEntry] = entries
        self._prev = head
        self._fd: int | None = None
        self._broken = ""  # why nothing more may be appended (a write failed mid-line)

    @property
    def states(self) -> dict[str, MemberState]:
        return member_states(self.entries)

    @property
    def operator_arn(self) -> str:
        """The caller ARN written into every line from now on."""
        return self._operator_arn

    @property
    def scan_id(self) -> str:
        """The scan whose results this session remediates (written into every line)."""
        return self._scan_id

    def start_session(
        self,
        operator_arn: str,
        scan_id: str,
        *,
        detail: str = "",
        extra: Mapping[str, Any] | None = None,
    ) -> JournalEntry:
        """Append the ``session_start`` line; this and every later line carry ``operator_arn``
        and ``scan_id``."""
        self._operator_arn = operator_arn
        self._scan_id = scan_id
        return self.append("session_start", "started", detail=detail, extra=extra)

    def _open(self) -> int:
        if self._fd is None:
            created = not self.path.exists()
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            except OSError as exc:
                raise JournalError(
                    f"cannot open journal {self.path} for writing: {exc.strerror}",
                    hint="give a writable path with --journal",
                ) from None
            try:  # one writer at a time, for as long as it is open: lines never interleave
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise JournalError(
                    f"journal {self.path} is being written by another rdscan remediate",
                    hint="let that run finish first, or give this one another --journal",
                ) from None
            try:  # a run that finished since this writer read the file moved the chain on
                self.entries, self._prev = _read_entries(self.path)
            except JournalError:
                os.close(fd)
                raise
            self._fd = fd
            if created:
                _fsync_dir(self.path.parent)
        return self._fd

    def append(
        self,
        action: str,
        outcome: str,
        *,
        account_id: str = "",
        phone_masked: str = "",
        request_id: str = "",
        detail: str = "",
        extra: Mapping[str, Any] | None = None,
    ) -> JournalEntry:
        if action not in ACTIONS or outcome not in ACTIONS[action]:
            raise ValueError(f"unknown journal step {action}/{outcome}")
        if self._broken:
            raise JournalError(
                f"journal {self.path}: nothing more is written to it after a failed write "
                f"({self._broken})",
                hint=_WRITE_FAILED_HINT,
            )
        fd = self._open()
        entry = JournalEntry(
            seq=len(self.entries) + 1,
            time=rfc3339(utc_now(), "microseconds"),
            operator_arn=self._operator_arn,
            account_id=account_id,
            phone_masked=_safe_masked(phone_masked),
            action=action,
            outcome=outcome,
            request_id=request_id,
            detail=detail,
            scan_id=self._scan_id,
            prev_sha256=self._prev,
            extra=dict(extra or {}),
        )
        line = _encode(entry)
        data = line + b"\n"
        with _sigint_deferred():  # a Ctrl-C here must not split the file from our chain state
            try:
                written = os.write(fd, data)
                while written < len(data):  # pragma: no cover - short writes are rare
                    written += os.write(fd, data[written:])
                os.fsync(fd)
            except OSError as exc:  # e.g. disk full: a part of the line may be in the file
                self._broken = exc.strerror or str(exc)
                raise JournalError(
                    f"cannot write journal {self.path}: {self._broken}; nothing more is sent",
                    hint=_WRITE_FAILED_HINT,
                ) from None
            self.entries.append(entry)
            self._prev = _sha256(line)
        return entry

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> JournalWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Hold a SIGINT (Ctrl-C) until the block is done, then raise KeyboardInterrupt."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def hold(signum: int, frame: object) -> None:
        received.append(signum)

    try:
        previous = signal.signal(signal.SIGINT, hold)
    except ValueError:  # pragma: no cover - not in the main interpreter
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
