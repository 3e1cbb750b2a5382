"""The scan checkpoint: what an interrupted scan had read, so ``rdscan scan --resume`` goes on.

One JSON object per line, appended as the scan goes, in the output folder
(``scan-checkpoint.jsonl``, mode 0600):

- first, the scan it belongs to: ``{"rdscan_checkpoint": 1, "tool_version", "policy_id",
  "policy_digest", "exemptions_digest", "site", "endpoint", "output_dir", "scan_id",
  "started_at"}``;
- once GetResourceDirectory answered: ``{"directory": id, "master_account_id",
  "caller_account_id"}``;
- after each successful GetAccount: ``{"read": account id, "has_phone": true|false|null,
  "masked": "86-139****1234"|null, "type": ...}`` (a failed read is not kept: a resumed scan
  reads it again).

A resumed scan lists the directory again (only a listing made now, whose passes agree, says
who is a member) and reads with GetAccount only the members the checkpoint has no answer for.
It refuses a checkpoint of another tool version, policy or exemptions file, site,
endpoint, output folder or resource directory (``CheckpointError``, exit 2, naming the
difference). A torn last line (the process was killed while writing it) is ignored. The file
holds no secret and no full phone number (numbers are masked by the client).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..client.model import AccountPhone
from ..errors import ConfigError
from ..json_limits import JsonLimitError, loads_bounded
from ..safe_paths import read_limited, refuse_unsafe

FILE_NAME = "scan-checkpoint.jsonl"
VERSION = 1
SYNC_EVERY = 200  # reads between fsyncs: a machine reboot loses at most these


class CheckpointError(ConfigError):
    """A checkpoint that cannot be resumed (missing, unreadable, or of another scan)."""


@dataclass(frozen=True)
class ScanIdentity:
    """What a checkpoint must match to be resumed (known before the first API call)."""

    tool_version: str
    policy_id: str
    policy_digest: str
    exemptions_digest: str
    site: str
    endpoint: str
    output_dir: str  # absolute

    def header(self, scan_id: str, started_at: str) -> dict[str, Any]:
        return {
            "rdscan_checkpoint": VERSION,
            **self.__dict__,
            "scan_id": scan_id,
            "started_at": started_at,
        }


_NAMES = {
    "tool_version": "rdscan version",
    "policy_id": "policy",
    "policy_digest": "policy file (its SHA-256)",
    "exemptions_digest": "exemptions file (its SHA-256)",
    "site": "site",
    "endpoint": "endpoint",
    "output_dir": "output folder",
}


@dataclass(frozen=True)
class Resumed:
    """What an interrupted scan left: the reads it made, and which scan it was."""

    path: Path
    scan_id: str
    started_at: str
    directory: str  # "" when the scan was interrupted before GetResourceDirectory answered
    reads: Mapping[str, AccountPhone]

    def check_directory(self, directory_id: str) -> None:
        if self.directory and self.directory != directory_id:
            raise CheckpointError(
                f"the checkpoint {self.path} is of resource directory {self.directory}; "
                f"these credentials see {directory_id}",
                hint="run without --resume to scan this directory from the start, or use "
                "the credentials of the interrupted scan",
            )


MAX_CHECKPOINT_BYTES = 1024 * 1024 * 1024  # ~200 bytes a member: far above any directory


def path_in(output_dir: Path) -> Path:
    return Path(output_dir) / FILE_NAME


def load(output_dir: Path, identity: ScanIdentity) -> Resumed:
    """The checkpoint in ``output_dir``, checked against this scan; CheckpointError when there
    is none or it is of another scan."""
    path = path_in(output_dir)
    try:
        refuse_unsafe(path, "scan checkpoint", option="--output-dir")  # no link, not another's
        text = read_limited(path, MAX_CHECKPOINT_BYTES).decode("utf-8")
    except FileNotFoundError:
        raise CheckpointError(
            f"there is no interrupted scan to resume in {output_dir} (no {FILE_NAME})",
            hint="run without --resume, or give the --output-dir of the interrupted scan",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"cannot read the checkpoint {path}: {exc}") from None
    lines = text.split("\n")
    records: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = loads_bounded(line, max_depth=8)
        except JsonLimitError as exc:
            raise CheckpointError(
                f"the checkpoint {path} line {number} is not one rdscan wrote: {exc}",
                hint="run without --resume to scan from the start",
            ) from None
        except json.JSONDecodeError:
            if number >= len(lines) - 1:  # a torn last line: the process died writing it
                break
            raise CheckpointError(
                f"the checkpoint {path} is corrupt (line {number})",
                hint="run without --resume to scan from the start",
            ) from None
        if isinstance(record, dict):
            records.append(record)
    header = records[0] if records else {}
    if header.get("rdscan_checkpoint") != VERSION:
        raise CheckpointError(
            f"{path} is not an rdscan scan checkpoint this version reads",
            hint="run without --resume to scan from the start",
        )
    for key, name in _NAMES.items():
        theirs, ours = header.get(key), getattr(identity, key)
        if theirs != ours:
            raise CheckpointError(
                f"the checkpoint {path} is of another scan: its {name} is {theirs!r}, "
                f"this scan's is {ours!r}",
                hint="resume with the same rdscan version, policy, exemptions, site, endpoint "
                "and output folder, or run without --resume to scan from the start",
            )
    directory = ""
    reads: dict[str, AccountPhone] = {}
    for record in records[1:]:
        if "directory" in record:
            directory = str(record["directory"])
        elif "read" in record:
            flag = record.get("has_phone")
            masked = record.get("masked")
            kind = record.get("type")
            reads[str(record["read"])] = AccountPhone(
                has_secure_mobile_phone=flag if isinstance(flag, bool) else None,
                secure_mobile_phone_masked=str(masked) if masked else None,
                account_type=str(kind) if kind else None,
            )
    return Resumed(
        path=path,
        scan_id=str(header.get("scan_id") or ""),
        started_at=str(header.get("started_at") or ""),
        directory=directory,
        reads=reads,
    )


def describe_os_error(exc: OSError) -> str:
    """A failed write in words: "out of space" for ENOSPC, EDQUOT and EFBIG."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return f"out of space ({exc.strerror or exc})"
    return exc.strerror or str(exc)


class Checkpoint:
    """Appends a scan's progress to its checkpoint file; thread-safe."""

    def __init__(self, path: Path, fh: IO[str], made: list[Path] | None = None) -> None:
        self.path = path
        self._fh = fh
        self._lock = threading.Lock()
        self._unsynced = 0
        self.reads = 0  # answers written by this run
        self._made = made or []  # folders created for the checkpoint, deepest first
        # why the checkpoint stopped being written (a full disk, an I/O error), or None; the
        # scan goes on without it and says that it cannot be resumed
        self.problem: str | None = None

    @classmethod
    def start(
        cls, output_dir: Path, header: Mapping[str, Any], *, append: bool = False
    ) -> Checkpoint:
        """A new checkpoint (replacing any), or with ``append`` the resumed one, continued."""
        path = path_in(output_dir)
        absolute = path.parent.absolute()
        made = [d for d in (absolute, *absolute.parents) if not d.exists()]
        refuse_unsafe(path, "scan checkpoint", option="--output-dir")  # no link, not another's
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW
            flags |= os.O_APPEND if append else os.O_TRUNC
            fd = os.open(path, flags, 0o600)
            fh = os.fdopen(fd, "a" if append else "w", encoding="utf-8")
        except OSError as exc:
            raise CheckpointError(
                f"cannot write the scan checkpoint {path}: {exc.strerror or exc}",
                hint="choose a writable folder with --output-dir",
            ) from None
        checkpoint = cls(path, fh, made)
        if not append:
            checkpoint._write(dict(header), sync=True)
        return checkpoint

    def directory(self, directory_id: str, master_account_id: str, caller_account: str) -> None:
        self._write(
            {
                "directory": directory_id,
                "master_account_id": master_account_id,
                "caller_account_id": caller_account,
            },
            sync=True,
        )

    def read(self, account_id: str, phone: AccountPhone) -> None:
        self.reads += 1
        self._write(
            {
                "read": account_id,
                "has_phone": phone.has_secure_mobile_phone,
                "masked": phone.secure_mobile_phone_masked,
                "type": phone.account_type,
            }
        )

    def _write(self, record: Mapping[str, Any], *, sync: bool = False) -> None:
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock:
            if self.problem is not None:
                return
            try:
                self._fh.write(line)
                self._fh.flush()  # in the kernel: survives a kill -9
                self._unsynced += 1
                if sync or self._unsynced >= SYNC_EVERY:
                    os.fsync(self._fh.fileno())  # on disk: survives a reboot
                    self._unsynced = 0
            except OSError as exc:
                self._give_up(exc)

    def _give_up(self, exc: OSError) -> None:
        """A write failed (ENOSPC, EIO, ...): the checkpoint is dropped whole (a torn one must
        not be resumed from) and the scan goes on without it. Called holding the lock."""
        self.problem = describe_os_error(exc)
        with contextlib.suppress(OSError):
            self._fh.close()
        with contextlib.suppress(OSError):
            self.path.unlink(missing_ok=True)

    def close(self) -> None:
        with self._lock:
            if self._fh.closed:
                return
            try:
                self._fh.flush()
                os.fsync(self._fh.fileno())
                self._fh.close()
            except OSError as exc:
                self._give_up(exc)

    def remove(self) -> None:
        """The scan is complete and its reports written: nothing to resume."""
        self.close()
        self.path.unlink(missing_ok=True)

    def discard(self) -> None:
        """A new scan that failed before reading any member: nothing worth resuming; the
        checkpoint and the folders made for it are removed (the output folder as it was)."""
        self.remove()
        for folder in self._made:
            try:
                folder.rmdir()
            except OSError:
                break
