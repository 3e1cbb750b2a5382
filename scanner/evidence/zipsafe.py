"""Read a zip someone else made without trusting it: no path traversal, no links, no
encrypted or duplicate entries, no zip bomb.

Limits are checked on the central directory before anything is decompressed (entry count,
declared sizes, compression ratio), and every read stops one byte past the declared size, so
a header that lies about a size cannot make rdscan inflate more than the limits allow.
"""

from __future__ import annotations

import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MAX_ENTRIES = 64  # a pack holds about ten files
MAX_TOTAL_BYTES = 1 << 30  # all files uncompressed (a 50,000-member pack is ~100 MB)
MAX_RATIO = 200  # uncompressed / compressed, for entries larger than RATIO_FLOOR
RATIO_FLOOR = 1 << 20
_CHUNK = 1 << 16


class UnsafeZip(Exception):
    """The zip is refused; the message names the entry and the reason."""


@dataclass(frozen=True)
class Limits:
    max_entries: int = MAX_ENTRIES
    max_total_bytes: int = MAX_TOTAL_BYTES
    max_ratio: int = MAX_RATIO
    ratio_floor: int = RATIO_FLOOR


DEFAULT_LIMITS = Limits()


def _check_name(name: str) -> None:
    if not name or len(name) > 255:
        raise UnsafeZip(f"entry name {name[:80]!r} is empty or too long")
    if any(ord(c) < 32 or ord(c) == 127 for c in name) or "\\" in name or ":" in name:
        raise UnsafeZip(f"entry {name!r} has a control character, '\\\\' or ':' in its name")
    path = PurePosixPath(name)
    if path.is_absolute() or name.startswith("/"):
        raise UnsafeZip(f"entry {name!r} is an absolute path")
    if any(part in ("..", ".", "") for part in name.split("/")):
        raise UnsafeZip(f"entry {name!r} climbs out of the pack ('..') or has an empty part")


def entries(zf: zipfile.ZipFile, limits: Limits = DEFAULT_LIMITS) -> dict[str, zipfile.ZipInfo]:
    """The zip's entries by name, after every check that needs no decompression."""
    infos = zf.infolist()
    if len(infos) > limits.max_entries:
        raise UnsafeZip(
            f"the zip has {len(infos):,} entries (a pack has at most {limits.max_entries})"
        )
    out: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        name = info.filename
        _check_name(name)
        if name in out:
            raise UnsafeZip(f"entry {name!r} appears twice")
        if info.is_dir():
            raise UnsafeZip(f"entry {name!r} is a folder; a pack holds files only")
        mode = info.external_attr >> 16
        if stat.S_IFMT(mode) not in (0, stat.S_IFREG):  # 0: a tool that records no file type
            raise UnsafeZip(f"entry {name!r} is a link or special file, not a regular file")
        if info.flag_bits & 0x1:
            raise UnsafeZip(f"entry {name!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise UnsafeZip(f"entry {name!r} uses compression method {info.compress_type}")
        total += info.file_size
        if total > limits.max_total_bytes:
            raise UnsafeZip(
                f"entry {name!r}: the files would unpack to more than "
                f"{limits.max_total_bytes:,} bytes (zip bomb?)"
            )
        if info.file_size > limits.ratio_floor and info.file_size > limits.max_ratio * max(
            info.compress_size, 1
        ):
            raise UnsafeZip(
                f"entry {name!r} unpacks {info.file_size:,} bytes from {info.compress_size:,} "
                f"(more than {limits.max_ratio}:1; zip bomb?)"
            )
        out[name] = info
    return out


def read(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """The entry's bytes, never more than its declared size (a longer stream is refused).
    CRC and truncation errors become ``UnsafeZip`` naming the entry."""
    chunks: list[bytes] = []
    got = 0
    try:
        with zf.open(info) as fh:
            while True:
                chunk = fh.read(min(_CHUNK, info.file_size - got + 1))
                if not chunk:
                    break
                got += len(chunk)
                if got > info.file_size:
                    raise UnsafeZip(f"entry {info.filename!r} is longer than its header says")
                chunks.append(chunk)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib.error) as exc:
        raise UnsafeZip(f"entry {info.filename!r} cannot be read: {exc}") from None
    return b"".join(chunks)


def open_zip(path: Path) -> zipfile.ZipFile:
    """Open ``path`` as a zip; ``UnsafeZip`` when it is missing or not a zip."""
    try:
        return zipfile.ZipFile(path)
    except FileNotFoundError:
        raise UnsafeZip(f"{path} does not exist") from None
    except IsADirectoryError:
        raise UnsafeZip(f"{path} is a folder, not a zip file") from None
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnsafeZip(f"{path} is not a readable zip file ({exc})") from None
