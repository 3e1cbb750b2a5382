"""Read and write report.json (schema_version 1), refusing corrupt or foreign files clearly."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from ..errors import ResultsFileError
from ..findings import SCHEMA_VERSION, ScanResult
from ..json_limits import JsonLimitError, loads_bounded
from ..phones import mask_scan
from ..safe_paths import read_limited
from ..safe_text import clip, quote


def dumps(scan: ScanResult) -> str:
    """report.json text: indented, except that each member is one line.

    One line per member keeps the file readable and diffable, and lets the C encoder write
    each line (``indent`` makes ``json`` fall back to its pure-Python encoder: 50,000 members
    took seconds); members are turned into dicts one at a time (all at once: ~60 MB at 50,000).
    """
    parts: list[str] = ["{\n"]
    for index, (key, value) in enumerate(scan.to_dict(accounts=False).items()):
        parts.append(",\n" if index else "")
        parts.append(f"  {json.dumps(key)}: ")
        if key == "accounts" and scan.results:
            parts.append("[\n    ")
            for number, r in enumerate(scan.results):
                if number:
                    parts.append(",\n    ")
                parts.append(json.dumps(scan.account_dict(r), ensure_ascii=False))
            parts.append("\n  ]")
        else:
            parts.append(json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n  "))
    parts.append("\n}\n")
    return "".join(parts)


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
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.chmod(tmp, REPORT_MODE & ~_umask())
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())  # on disk before it is renamed: never a renamed empty file
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def load_results(path: str | Path) -> tuple[ScanResult, bytes]:
    """Load a saved report.json. Returns the scan and the raw bytes (for a SHA-256 footer)."""
    p = Path(path)
    try:
        raw = read_limited(p, MAX_RESULTS_BYTES)
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
    return parse_results(raw, str(p)), raw


def parse_results(raw: bytes, p: str) -> ScanResult:
    """A report.json's bytes as a ScanResult; ``p`` names the source in messages."""
    try:
        data: Any = loads_bounded(raw.decode("utf-8-sig"))  # the text is dropped at once
    except JsonLimitError as exc:
        raise ResultsFileError(
            f"report.json {p} is not a report.json rdscan reads: {exc}",
            hint="the file was not written by `rdscan scan` (or was edited); re-run the scan",
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
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
