"""What the report writer (``writer``) checks before a scan and says when a write fails.

The writer stages every file of a report set to a temporary file beside its target (flushed to
disk, ``results_file.stage_file``) and renames them over the targets only when all are written,
so a failure (a full disk, a file size limit, a permission) leaves the old set whole. A kill
between two renames leaves each file either old or new, never truncated (``os.replace`` is
atomic per file); the HTML and Markdown footers name their report.json by its SHA-256.

Errors are ``ReportWriteError`` (a ``ConfigError``) naming the file and the cause; a full disk
is named "out of space".
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable
from pathlib import Path

from ..errors import ConfigError

# errno values that mean "no room": the disk, the user's quota, or a file size limit
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


class ReportWriteError(ConfigError):
    """The reports could not be written; the old set (if any) is unchanged."""


def out_of_space(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in _NO_SPACE


def describe_os_error(exc: OSError) -> str:
    """``"out of space (No space left on device)"`` for a full disk, else the OS's words."""
    text = exc.strerror or str(exc)
    if out_of_space(exc):
        return f"out of space ({text})"
    return text


def check_writable(targets: Iterable[Path]) -> None:
    """Fail before a scan when any of ``targets`` could not be written afterwards: its folder
    (or the nearest existing parent) is a file or not writable, or the target itself is a
    folder. Creates nothing."""
    for target in targets:
        path = Path(target).absolute()
        if path.is_dir():
            raise ReportWriteError(
                f"cannot write {target}: it is a folder",
                hint=f"remove or rename the folder {target}, or choose another --output-dir",
            )
        existing = next((p for p in path.parents if p.exists()), None)
        if existing is None:
            continue
        if not existing.is_dir():
            raise ReportWriteError(
                f"cannot write {target}: {existing} is a file, not a folder",
                hint="choose another folder with --output-dir",
            )
        if not os.access(existing, os.W_OK | os.X_OK):
            raise ReportWriteError(
                f"cannot write {target}: {existing} is not writable",
                hint="choose a writable folder with --output-dir",
            )
