"""Opening the files rdscan keeps (journal, history) so that nobody else's file is written.

A path that is a symbolic link (dangling or not) or a file owned by another user is refused
before anything is opened: appending to it would write into a file someone else chose (a link
to ``~/.ssh/authorized_keys``, a journal planted to be "continued"). New files are created
owner-only (0600) with ``O_EXCL | O_NOFOLLOW``, so a link that appears in between is not
followed either.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import ConfigError
from .safe_text import clip

PRIVATE_MODE = 0o600


def refuse_unsafe(path: Path, what: str, *, option: str) -> bool:
    """Raise ConfigError (exit 2) if ``path`` is a symlink, not a regular file, or a file not
    owned by the caller. Returns whether the file exists. Touches nothing."""
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):  # nothing there (a parent may be a file)
        return False
    except OSError as exc:
        raise ConfigError(
            f"cannot check {what} {path}: {exc.strerror or exc}",
            hint=f"give another {option}",
        ) from None
    if stat.S_ISLNK(st.st_mode):
        raise ConfigError(
            f"{what} {path} is a symbolic link (to {_link_target(path)}); rdscan does not "
            "write through links, the target was left untouched",
            hint=f"give the real file's path with {option}",
        )
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(
            f"{what} {path} is not a regular file",
            hint=f"give a file path with {option}",
        )
    uid = os.geteuid()
    if st.st_uid != uid:
        raise ConfigError(
            f"{what} {path} belongs to user id {st.st_uid}, not to you (user id {uid}); "
            "rdscan writes only its own files, the file was left untouched",
            hint=f"copy it if you mean to continue it, or give another {option}",
        )
    return True


def create_private(path: Path) -> None:
    """Create an empty owner-only file; never through a link (O_EXCL | O_NOFOLLOW)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE_MODE)
    os.close(fd)


def _link_target(path: Path) -> str:
    try:
        return clip(os.readlink(path), 200)
    except OSError:  # pragma: no cover - raced away
        return "?"


class TooLarge(OSError):
    """A file is larger than any file of its kind rdscan writes (or not a regular file)."""


def read_limited(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes.

    Raises TooLarge (an OSError whose ``strerror`` says why) for a bigger file or one that is
    not a regular file (``/dev/zero``, a FIFO: reading it would never end), FileNotFoundError
    and the other OSErrors as ``open`` does.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO must not block the open
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise TooLarge(0, "not a regular file (a device, FIFO or socket)")
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(0, f"larger than {limit:,} bytes, more than rdscan ever writes there")
    return data
