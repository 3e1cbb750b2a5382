"""Read and write report.json (schema_version 1), refusing corrupt or foreign files clearly."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ..errors import ResultsFileError
from ..findings import SCHEMA_VERSION, ParsedMember, ScanResult
from ..json_limits import JsonLimitError, check_nesting, loads_bounded_converting
from ..phones import mask_scan
from ..safe_paths import read_limited
from ..safe_text import clip, quote


def dumps(scan: ScanResult) -> str:
    """report.json text (:func:`dump_chunks` joined)."""
    return "".join(dump_chunks(scan))


def dump_chunks(scan: ScanResult) -> Iterator[str]:
    """report.json text in pieces: indented, except that each member is one line.

    One line per member keeps the file readable and diffable, and lets the C encoder write
    each line (``indent`` makes ``json`` fall back to its pure-Python encoder: 50,000 members
    took seconds); members are turned into dicts and text one at a time, so a writer that
    streams the pieces (:func:`stage_chunks`) never holds the whole text (25 MB at 50,000
    members, and as much again encoded).
    """
    yield "{\n"
    for index, (key, value) in enumerate(scan.to_dict(accounts=False).items()):
        yield (",\n" if index else "") + f"  {json.dumps(key)}: "
        if key == "accounts" and scan.results:
            yield "[\n    "
            for number, r in enumerate(scan.results):
                if number:
                    yield ",\n    "
                yield json.dumps(scan.account_dict(r), ensure_ascii=False)
            yield "\n  ]"
        else:
            yield json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n  ")
    yield "\n}\n"


# report.json is ~500 bytes a member (25 MB at 50,000): far above any real directory
MAX_RESULTS_BYTES = 1024 * 1024 * 1024
REPORT_MODE = 0o644  # readable by all, written by the owner only


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file, so a crash leaves no half file.

    The file gets 0644 less the umask (not mkstemp's private 0600: reports are meant to be
    read by others, but never written by them). A symbolic link at ``path`` is replaced by the
    file, never followed: its target is left untouched.
    """
    tmp = stage_file(path, text)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def stage_file(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8, exactly these bytes) to a new hidden temporary file next to
    ``path`` and return its name; ``os.replace`` it onto ``path`` to publish it."""
    step = 1 << 20  # encoded a megabyte at a time, not all at once (a second copy of it)
    tmp, _ = stage_chunks(path, (text[i : i + step] for i in range(0, len(text), step)))
    return tmp


def stage_chunks(path: Path, chunks: Iterable[str]) -> tuple[Path, str]:
    """``stage_file`` of the text made of ``chunks``, written as they come; returns the
    temporary file and the SHA-256 (hex) of the bytes written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    digest = hashlib.sha256()
    try:
        os.chmod(tmp, REPORT_MODE & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                data = chunk.encode("utf-8")
                digest.update(data)
                fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())  # on disk before it is renamed: never a renamed empty file
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp), digest.hexdigest()


def load_results(path: str | Path) -> tuple[ScanResult, bytes]:
    """Load a saved report.json. Returns the scan and the raw bytes (for a SHA-256 footer)."""
    p = Path(path)
    raw = _read(p)
    return parse_results(raw, str(p)), raw


def _read(p: Path) -> bytes:
    try:
        return read_limited(p, MAX_RESULTS_BYTES)
    except FileNotFoundError:
        raise ResultsFileError(
            f"report.json {p} does not exist",
            hint="give the report.json written by `rdscan scan` "
            "(default: rdscan-report/report.json)",
        ) from None
    except IsADirectoryError:
        raise ResultsFileError(f"report.json {p} is a folder, not a file") from None
    except OSError as exc:
        raise ResultsFileError(f"cannot read report.json {p}: {exc.strerror}") from None


def load_results_digest(path: str | Path) -> tuple[ScanResult, str]:
    """``load_results`` that returns the SHA-256 (hex) of the file's bytes instead of the
    bytes, which it drops before parsing (25 MB at 50,000 members not held beside the rest)."""
    p = Path(path)
    raw = _read(p)
    digest = hashlib.sha256(raw).hexdigest()
    text = _text_of(raw, str(p))
    del raw
    return _parse_text(text, str(p)), digest


def parse_results(raw: bytes, p: str) -> ScanResult:
    """A report.json's bytes as a ScanResult; ``p`` names the source in messages."""
    return _parse_text(_text_of(raw, p), p)


def _text_of(raw: bytes, p: str) -> str:
    """The text of a report.json's bytes, its nesting checked (on the bytes: C speed)."""
    try:
        text = raw.decode("utf-8")  # then the BOM cut off: the utf-8-sig codec is 5x slower
        check_nesting(raw)
    except UnicodeDecodeError as exc:
        raise ResultsFileError(
            f"report.json {p} is not valid JSON ({clip(str(exc), 200)})",
            hint="the file is corrupt or truncated; re-run `rdscan scan` to produce a new one",
        ) from None
    except JsonLimitError as exc:
        raise _not_ours(p, exc) from None
    return text[1:] if text.startswith("\ufeff") else text


def _not_ours(p: str, exc: JsonLimitError) -> ResultsFileError:
    return ResultsFileError(
        f"report.json {p} is not a report.json rdscan reads: {exc}",
        hint="the file was not written by `rdscan scan` (or was edited); re-run the scan",
    )


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused while 50,000 members are made (it ran over the
    growing heap again and again: a quarter of the load time); the members hold no cycle."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _parse_text(text: str, p: str) -> ScanResult:
    """Each member becomes a Result as it is parsed (``ParsedMember``): the member dicts are
    never all held at once."""
    shared: dict[str, str] = {}

    def member(item: Any) -> Any:
        try:
            return ParsedMember.from_dict(item, shared)
        except (KeyError, TypeError, ValueError, AttributeError):
            # kept as read: refused below, after the checks of the whole file, with its field
            return item

    try:
        with _collector_paused():
            data: Any = loads_bounded_converting(text, "accounts", member, nesting_checked=True)
    except JsonLimitError as exc:
        raise _not_ours(p, exc) from None
    except json.JSONDecodeError as exc:
        raise ResultsFileError(
            f"report.json {p} is not valid JSON ({clip(str(exc), 200)})",
            hint="the file is corrupt or truncated; re-run `rdscan scan` to produce a new one",
        ) from None
    if not isinstance(data, dict) or "schema_version" not in data:
        raise ResultsFileError(
            f"report.json {p} is not an rdscan report.json (no schema_version)",
            hint="give the report.json written by `rdscan scan`",
        )
    if data["schema_version"] != SCHEMA_VERSION:
        raise ResultsFileError(
            f"report.json {p} has schema_version {quote(data['schema_version'])}; "
            f"this rdscan reads schema_version {SCHEMA_VERSION}",
            hint="re-render it with the rdscan version that wrote it, or re-run the scan",
        )
    try:
        scan = ScanResult.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ResultsFileError(
            f"report.json {p} is incomplete or corrupt: bad or missing field {quote(exc, 200)}",
            hint="re-run `rdscan scan` to produce a new one",
        ) from None
    return mask_scan(scan)  # it may come from elsewhere: masked as a scan is
