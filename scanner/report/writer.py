"""The one place report files are written: every format rendered first, then each file
written atomically (a template error leaves the output folder as it was).

``write_reports`` (a scan): report.json always, first, and the formats asked for, whose
footers name report.json by the SHA-256 of its exact bytes. ``write_rerendered``
(``rdscan report``): the human-readable formats again, from a report.json already on disk.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from ..errors import ConfigError
from ..findings import RemediationOutcome, ScanResult
from .format import ReportInput
from .registry import BY_NAME, RECORD, parse_formats
from .results_file import write_atomic


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_output_dir(output_dir: Path) -> None:
    """Fail before a long scan if the reports could not be written into ``output_dir``
    afterwards (a file in the way, a folder that is not writable). Creates nothing."""
    path = Path(output_dir).absolute()
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    if existing is None:
        return
    if not existing.is_dir():
        raise ConfigError(
            f"cannot write reports into {output_dir}: {existing} is a file, not a folder",
            hint="choose another folder with --output-dir",
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(
            f"cannot write reports into {output_dir}: {existing} is not writable",
            hint="choose a writable folder with --output-dir",
        )


def render_all(data: ReportInput, formats: Sequence[str]) -> dict[str, str]:
    """``{format: text}`` for each of ``formats`` (registered names), in that order."""
    return {name: BY_NAME[name].render(data) for name in formats}


def render_rerendered(
    scan: ScanResult,
    formats: Sequence[str],
    *,
    source_sha256: str,
    remediations: Sequence[RemediationOutcome] = (),
    templates_dir: Path | None = None,
) -> dict[str, str]:
    """``{format: text}`` of ``formats`` (never report.json: the record they are made from,
    named by ``source_sha256``), rendered from ``scan``; nothing written."""
    names = [n for n in parse_formats(formats) if n != RECORD.name] if formats else []
    data = ReportInput.of(scan, source_sha256, remediations, templates_dir)
    return render_all(data, names)


def write_files(texts: dict[str, str], output_dir: Path) -> dict[str, Path]:
    """Write each rendered text to its format's file in ``output_dir``, atomically."""
    written: dict[str, Path] = {}
    for name, text in texts.items():
        path = Path(output_dir) / BY_NAME[name].file_name
        try:
            write_atomic(path, text)  # writes exactly text.encode("utf-8")
        except OSError as exc:
            raise ConfigError(
                f"cannot write {path}: {exc.strerror or exc}",
                hint="choose a writable folder with --output-dir",
            ) from None
        written[name] = path
    return written


def write_reports(
    scan: ScanResult,
    formats: Sequence[str],
    output_dir: Path,
    *,
    remediations: Sequence[RemediationOutcome] = (),
    templates_dir: Path | None = None,
) -> dict[str, Path]:
    """Write report.json and the reports of ``formats`` into ``output_dir``; returns
    ``{format: path}`` (report.json first, and always, even when not among ``formats``)."""
    names = parse_formats(formats)
    data = ReportInput.of(scan, "", remediations, templates_dir)
    record = RECORD.render(data)
    data = ReportInput(
        scan=data.scan,
        source_sha256=sha256_hex(record.encode("utf-8")),
        remediations=data.remediations,
        templates_dir=templates_dir,
    )
    others = [n for n in names if n != RECORD.name]
    return write_files({RECORD.name: record, **render_all(data, others)}, output_dir)


def write_rerendered(
    scan: ScanResult,
    formats: Sequence[str],
    output_dir: Path,
    *,
    source_sha256: str,
    remediations: Sequence[RemediationOutcome] = (),
    templates_dir: Path | None = None,
) -> dict[str, Path]:
    """Write the reports of ``formats`` (never report.json, the record they are made from)
    into ``output_dir``, all rendered before any is written; returns ``{format: path}``."""
    texts = render_rerendered(
        scan,
        formats,
        source_sha256=source_sha256,
        remediations=remediations,
        templates_dir=templates_dir,
    )
    return write_files(texts, output_dir)
