"""The remediation journal: append-only JSON lines, each chained to the previous one by SHA-256.

One line per step (time, operator ARN, member, masked number, action, RequestId, outcome). Each
line carries ``prev_sha256``, the SHA-256 of the previous line's bytes (without its newline); the
first line carries 64 zeros. Editing, inserting, deleting or reordering a line breaks the chain,
and :func:`verify_journal` names the first line where it breaks. Each line is written with one
``write`` on a file opened for appending and fsynced before the next step, so a process killed
mid-member loses nothing that was already done; one writer at a time holds the file (``flock``),
and after a failed write nothing more is appended.

A full phone number never reaches the journal: entries take the masked form only, the writer
masks again a value that still shows more digits than a masked number does, and a ``detail``
(an API message may quote the number) goes through ``scanner.phones.mask_phones_in``.

Hostile files: a journal may come from elsewhere. Each line is parsed with limits
(``scanner.json_limits``: no Infinity/NaN, no overlong numbers, at most 4 levels of nesting, at
most 64 KiB), fields must have their types, and values are masked again when read. The writer
refuses a journal path that is a symbolic link or another user's file (``scanner.safe_paths``)
and creates a new journal owner-only (0600).

A failed append (a full disk) may leave a last line without its newline. That torn line is never
part of the chain: :func:`verify_journal` checks the complete lines and reports the torn bytes,
and the next writer moves them to ``<journal>.torn`` (nothing is deleted) before appending.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import signal
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..clock import rfc3339, utc_now
from ..errors import RemediationError
from ..findings import Outcome, RemediationOutcome, RemediationSource
from ..json_limits import JsonLimitError, loads_bounded
from ..phones import mask_phone, mask_phones_in
from ..safe_paths import create_private, read_limited, refuse_unsafe
from ..safe_text import quote

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
        """From one parsed line; raises TypeError for a field of the wrong type. Values are
        masked again on the way in (a journal may come from elsewhere)."""
        seq = data["seq"]
        if not isinstance(seq, int) or isinstance(seq, bool):
            raise TypeError("seq")
        text = {}
        for key in _TEXT_KEYS:
            value = data.get(key, "") if key == "scan_id" else data[key]
            if value is None and key == "scan_id":
                value = ""
            if not isinstance(value, str):
                raise TypeError(key)
            text[key] = value
        extra = data.get("extra") or {}
        if not isinstance(extra, dict):
            raise TypeError("extra")
        return cls(
            seq=seq,
            time=text["time"],
            operator_arn=text["operator_arn"],
            account_id=text["account_id"],
            phone_masked=_safe_masked(text["phone_masked"]),
            action=text["action"],
            outcome=text["outcome"],
            request_id=text["request_id"],
            detail=mask_phones_in(text["detail"]),
            scan_id=text["scan_id"],
            prev_sha256=text["prev_sha256"],
            extra=extra,
        )


_TEXT_KEYS = (
    "time",
    "operator_arn",
    "account_id",
    "phone_masked",
    "action",
    "outcome",
    "request_id",
    "detail",
    "scan_id",
    "prev_sha256",
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
    torn_bytes: int = 0  # a cut-off last line (failed append) after the chain, not part of it
    scan_ids: tuple[str, ...] = ()  # the scans the lines name, in order of first appearance


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
    # the last code sent and still usable per the journal (its ExpirationDate and the Send's
    # RequestId): "" once it was bound, refused as expired, or the member moved on
    code_expires_at: str = ""
    code_request_id: str = ""


def _sha256(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()


def _encode(entry: JournalEntry) -> bytes:
    return json.dumps(entry.to_dict(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _safe_masked(value: str) -> str:
    """Never let a full number into the journal: re-mask anything that is not masked enough."""
    if not value:
        return ""
    return mask_phone(value) or ""


MAX_LINE_BYTES = 64 * 1024  # an rdscan journal line is well under 1 KiB
MAX_JOURNAL_BYTES = 256 * 1024 * 1024  # ~500,000 members' worth of steps


@dataclass(frozen=True)
class _Parsed:
    entries: list[JournalEntry]
    head: str  # SHA-256 of the last good line (GENESIS when there is none)
    good_bytes: int  # length of the intact part (every line ended by a newline)
    torn: bytes  # bytes after the last newline: a line cut off by a failed append


def _bad_line(where: str, problem: str, hint: str | None = None) -> JournalError:
    return JournalError(
        f"{where}{'' if problem.startswith(':') else ' '}{problem}",
        hint=hint or "keep this file as evidence and start a new journal with --journal NEW_FILE",
    )


def _parse(path: Path) -> _Parsed:
    """Parse and verify the chain. A last line without its newline is not part of the chain: it
    is what a failed append (a full disk) leaves, reported as ``torn``, never as an entry."""
    try:
        raw = read_limited(path, MAX_JOURNAL_BYTES)
    except FileNotFoundError:
        raise JournalError(
            f"journal {path} does not exist",
            hint="give the journal written by `rdscan remediate` (--journal), "
            f"by default {DEFAULT_JOURNAL_NAME} beside the results",
        ) from None
    except IsADirectoryError:
        raise JournalError(f"journal {path} is a folder, not a file") from None
    except OSError as exc:
        raise JournalError(f"cannot read journal {path}: {exc.strerror}") from None
    good_bytes = raw.rfind(b"\n") + 1
    torn = raw[good_bytes:]
    entries: list[JournalEntry] = []
    prev = GENESIS
    for number, line in enumerate(raw[:good_bytes].split(b"\n")[:-1], start=1):
        where = f"journal {path} line {number}"
        if len(line) > MAX_LINE_BYTES:
            raise _bad_line(
                where, f"is {len(line)} bytes long, longer than any rdscan journal line"
            )
        try:
            data = loads_bounded(line.decode("utf-8"), max_depth=4)
        except JsonLimitError as exc:
            raise _bad_line(where, f"is not an rdscan journal line: {exc}") from None
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise _bad_line(
                where, "is not valid JSON: the journal is corrupt or was edited"
            ) from None
        if not isinstance(data, dict) or any(k not in data for k in _REQUIRED_KEYS):
            missing = [k for k in _REQUIRED_KEYS if not isinstance(data, dict) or k not in data]
            raise _bad_line(
                where,
                f"lacks the field(s) {', '.join(missing)}: not an rdscan journal line",
                "give the journal written by `rdscan remediate`",
            )
        if data["v"] != JOURNAL_VERSION:
            raise _bad_line(
                where,
                f"has journal version {quote(data['v'])}; this rdscan reads version "
                f"{JOURNAL_VERSION}",
                "verify it with the rdscan version that wrote it",
            )
        if data["prev_sha256"] != prev:
            raise _bad_line(
                where,
                ": the hash chain is broken (prev_sha256 does not match the line before): "
                "a line was edited, inserted, deleted or reordered",
                "treat the journal as tampered with; keep it as evidence and compare it "
                "with a backup copy",
            )
        try:
            entry = JournalEntry.from_dict(data)
        except (KeyError, TypeError, ValueError):
            raise _bad_line(where, "has a field of the wrong type") from None
        if entry.seq != number:
            raise _bad_line(
                where,
                f"carries sequence number {entry.seq}: lines were reordered or removed",
                "treat the journal as tampered with",
            )
        if entry.action not in ACTIONS or entry.outcome not in ACTIONS[entry.action]:
            raise _bad_line(
                where,
                f"has an unknown step {quote(entry.action, 40)}/{quote(entry.outcome, 40)}",
                "give the journal written by `rdscan remediate`",
            )
        entries.append(entry)
        prev = _sha256(line)
    return _Parsed(entries=entries, head=prev, good_bytes=good_bytes, torn=torn)


def _read_entries(path: Path) -> tuple[list[JournalEntry], str]:
    parsed = _parse(path)
    return parsed.entries, parsed.head


def read_journal(path: str | Path) -> list[JournalEntry]:
    """All entries of a verified journal; raises JournalError if the chain is broken."""
    entries, _ = _read_entries(Path(path))
    return entries


def verify_journal(path: str | Path) -> JournalCheck:
    """Recompute the chain of a journal; raise JournalError naming the first bad line."""
    p = Path(path)
    parsed = _parse(p)
    entries = parsed.entries
    members = {e.account_id for e in entries if e.account_id}
    return JournalCheck(
        path=p,
        lines=len(entries),
        last_sha256=parsed.head,
        members=len(members),
        first_time=entries[0].time if entries else "",
        last_time=entries[-1].time if entries else "",
        torn_bytes=len(parsed.torn),
        scan_ids=tuple(dict.fromkeys(e.scan_id for e in entries if e.scan_id)),
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
        expires = current.code_expires_at if current else ""
        code_rid = current.code_request_id if current else ""
        if entry.action == "send":
            sent = entry.outcome == "sent"
            expires = str(entry.extra.get("expires_at") or "") if sent else ""
            code_rid = entry.request_id if sent else ""
        elif not (entry.action == "bind" and entry.outcome == "wrong_code"):
            expires, code_rid = "", ""  # bound, expired, failed, verified, skipped, declined
        states[entry.account_id] = MemberState(
            code_expires_at=expires,
            code_request_id=code_rid,
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
    return _outcomes(read_journal(path))


def _outcomes(entries: Iterable[JournalEntry]) -> list[RemediationOutcome]:
    outcomes = []
    for st in member_states(entries).values():
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


_NAMED = 5  # scan ids or members named in a left-out sentence


def _named(values: Sequence[str]) -> str:
    shown = ", ".join(quote(v, 60) for v in values[:_NAMED])
    return shown + (f" and {len(values) - _NAMED} more" if len(values) > _NAMED else "")


def outcomes_for_report(
    path: str | Path,
    *,
    scan_id: str,
    account_ids: Iterable[str],
    expect_head: str | None = None,
) -> tuple[list[RemediationOutcome], RemediationSource]:
    """The outcomes of a verified journal that belong to one report, and where they came from.

    A journal is a claim made by whoever wrote it: only lines carrying the report's scan id and
    naming one of its members are used; the others are counted and named in
    ``RemediationSource.left_out``. ``expect_head`` (the head printed by the remediation run)
    also catches lines cut or re-chained at the end. Raises JournalError when the journal is
    missing, corrupt, tampered with or not the expected one.
    """
    p = Path(path)
    parsed = _parse(p)
    if expect_head is not None and parsed.head != expect_head.strip().lower():
        raise JournalError(
            f"journal {p}: the chain head is {parsed.head}, not the expected "
            f"{quote(expect_head, 80)}: lines were removed, added or edited at the end",
            hint="treat the journal as tampered with; compare it with a backup copy",
        )
    members = set(account_ids)
    used: list[JournalEntry] = []
    other_scans: dict[str, int] = {}
    strangers: dict[str, int] = {}
    for entry in parsed.entries:
        if entry.scan_id != scan_id:
            key = entry.scan_id or "(none)"
            other_scans[key] = other_scans.get(key, 0) + 1
        elif entry.account_id and entry.account_id not in members:
            strangers[entry.account_id] = strangers.get(entry.account_id, 0) + 1
        else:
            used.append(entry)
    left_out = []
    if other_scans:
        left_out.append(
            f"{sum(other_scans.values())} line(s) of another scan than {scan_id} "
            f"({_named(list(other_scans))})"
        )
    if strangers:
        left_out.append(
            f"{sum(strangers.values())} line(s) naming member(s) this report does not list "
            f"({_named(list(strangers))})"
        )
    if parsed.torn:
        left_out.append(f"a cut-off last line of {len(parsed.torn)} byte(s) (a failed append)")
    source = RemediationSource(
        file_name=p.name,
        head_sha256=parsed.head,
        lines=len(parsed.entries),
        used=len(used),
        left_out=tuple(left_out),
    )
    return _outcomes(used), source


class JournalWriter:
    """Appends chained, fsynced lines to a journal. Verifies an existing file before appending."""

    def __init__(self, path: str | Path, *, operator_arn: str = "", scan_id: str = "") -> None:
        self.path = Path(path)
        self._operator_arn = operator_arn
        self._scan_id = scan_id
        # a link or another user's file is refused before it is read or written (exit 2)
        if refuse_unsafe(self.path, "journal", option="--journal"):
            parsed = _parse(self.path)
            entries, head = parsed.entries, parsed.head
            self.torn_bytes = len(parsed.torn)
        else:
            entries, head = [], GENESIS
            self.torn_bytes = 0
        self.entries: list[JournalEntry] = entries
        self._prev = head
        self._fd: int | None = None
        self._broken = ""  # why nothing more may be appended (a write failed mid-line)
        self.quarantined: Path | None = None  # where a torn last line was moved

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
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                created = not refuse_unsafe(self.path, "journal", option="--journal")
                if created:
                    create_private(self.path)
                fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_NOFOLLOW)
            except FileExistsError:
                raise JournalError(
                    f"journal {self.path} appeared while rdscan was creating it",
                    hint="another program is writing there: give another --journal",
                ) from None
            except OSError as exc:
                raise JournalError(
                    f"cannot open journal {self.path} for writing: {os_reason(exc)}",
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
                parsed = _parse(self.path)
                if parsed.torn:
                    self.quarantined = _quarantine(self.path, fd, parsed)
                self.entries, self._prev = parsed.entries, parsed.head
            except (JournalError, OSError) as exc:
                os.close(fd)
                if isinstance(exc, OSError):
                    raise JournalError(
                        f"cannot set aside the cut-off last line of journal {self.path}: "
                        f"{os_reason(exc)}",
                        hint=_WRITE_FAILED_HINT,
                    ) from None
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
            detail=mask_phones_in(detail),
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
                self._broken = os_reason(exc)
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


def os_reason(exc: OSError) -> str:
    """The reason of a failed file operation in words; a full disk is named as such."""
    if exc.errno == errno.ENOSPC:
        return "out of disk space (no space left on device)"
    if exc.errno == errno.EDQUOT:
        return "out of disk quota (disk quota exceeded)"
    return exc.strerror or str(exc)


def torn_path(path: Path) -> Path:
    """Where the cut-off last line of ``path`` is set aside."""
    return path.with_name(path.name + ".torn")


def _quarantine(path: Path, fd: int, parsed: _Parsed) -> Path:
    """Move a torn last line (a failed append) out of the journal, under its lock: its bytes go
    to ``<journal>.torn`` (appended, owner-only, never through a link), then the journal is cut
    back to its last complete line. Nothing is lost and the chain continues from the last good
    line."""
    side = torn_path(path)
    refuse_unsafe(side, "journal quarantine file", option="--journal")
    out = os.open(side, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        record = (
            f"# {rfc3339(utc_now())} cut-off last line of {path.name} after line "
            f"{len(parsed.entries)} (chain head {parsed.head}), {len(parsed.torn)} bytes:\n"
        ).encode()
        os.write(out, record + parsed.torn + b"\n")
        os.fsync(out)
    finally:
        os.close(out)
    os.ftruncate(fd, parsed.good_bytes)
    os.fsync(fd)
    return side


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
