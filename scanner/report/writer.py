"""The one place report files are written: each format rendered and written to a temporary
file, then all renamed into place together (a template error leaves the output folder as it
was). report.json (``results_file.dump_chunks``) and the formats that can stream
(``ReportFormat.stream``: HTML, Markdown, CSV) are written piece by piece as they are made, so
no report's whole text is held (25 MB for report.json at 50,000 members, and as much again
encoded).

``write_reports`` (a scan): report.json always, first, and the formats asked for, whose
footers name report.json by the SHA-256 of its exact bytes. ``write_rerendered``
(``rdscan report``): the human-readable formats again, from a report.json already on disk.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from ..errors import ConfigError
from ..findings import RemediationOutcome, RemediationSource, ScanResult
from ..i18n import DEFAULT_LANG
from .format import ReportInput
from .registry import BY_NAME, RECORD, parse_formats
from .report_set import ReportWriteError, check_writable, describe_os_error, out_of_space
from .results_file import dump_chunks, stage_chunks, stage_file


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_output_dir(output_dir: Path, formats: Sequence[str] = ()) -> None:
    """Fail before a long scan if the reports could not be written into ``output_dir``
    afterwards: a file in the way of the folder, a folder that is not writable, a folder where
    a report file of ``formats`` goes (``mkdir -p out/report.csv``); report.json is always
    checked. Creates nothing."""
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
    names = [
        RECORD.name,
        *(n for n in (parse_formats(formats) if formats else ()) if n != RECORD.name),
    ]
    check_writable(Path(output_dir) / BY_NAME[name].file_name for name in names)


def render_each(data: ReportInput, formats: Sequence[str]) -> Iterator[tuple[str, str]]:
    """``(format, text)`` for each of ``formats`` (registered names), in that order, rendered
    one at a time."""
    for name in formats:
        yield name, BY_NAME[name].render(data)


def render_all(data: ReportInput, formats: Sequence[str]) -> dict[str, str]:
    """``{format: text}`` for each of ``formats`` (registered names), in that order."""
    return dict(render_each(data, formats))


def render_rerendered(
    scan: ScanResult,
    formats: Sequence[str],
    *,
    source_sha256: str,
    remediations: Sequence[RemediationOutcome] = (),
    templates_dir: Path | None = None,
    journal: RemediationSource | None = None,
    lang: str = DEFAULT_LANG,
) -> dict[str, str]:
    """``{format: text}`` of ``formats`` (never report.json: the record they are made from,
    named by ``source_sha256``), rendered from ``scan``; nothing written. ``journal`` names
    the journal the ``remediations`` came from."""
    names = _rerenderable(formats)
    data = ReportInput.of(scan, source_sha256, remediations, templates_dir, journal, lang)
    return render_all(data, names)


def _rerenderable(formats: Sequence[str]) -> list[str]:
    return [n for n in parse_formats(formats) if n != RECORD.name] if formats else []


class _Staged:
    """Files written to temporary names next to their final ones, renamed into place only once
    every one is written; ``discard`` removes what an uncommitted run left (its temporary
    files and the folders it made)."""

    def __init__(self, output_dir: Path) -> None:
        self.output_dir = Path(output_dir)
        self.files: dict[str, tuple[Path, Path]] = {}  # format -> (temporary, final)
        self.committed = False
        absolute = self.output_dir.absolute()
        self._made = [d for d in (absolute, *absolute.parents) if not d.exists()]  # deepest first

    def add(self, name: str, text: str) -> None:
        path = self.output_dir / BY_NAME[name].file_name
        try:
            self.files[name] = (stage_file(path, text), path)  # exactly text.encode("utf-8")
        except OSError as exc:
            raise _cannot_write(path, exc) from None

    def add_chunks(self, name: str, chunks: Iterable[str]) -> str:
        """``add`` of the text made of ``chunks``, streamed; returns its bytes' SHA-256."""
        path = self.output_dir / BY_NAME[name].file_name
        try:
            tmp, digest = stage_chunks(path, chunks)
        except OSError as exc:
            raise _cannot_write(path, exc) from None
        self.files[name] = (tmp, path)
        return digest

    def commit(self) -> dict[str, Path]:
        self.committed = True
        for tmp, path in self.files.values():
            try:
                os.replace(tmp, path)
            except OSError as exc:
                raise _cannot_write(path, exc) from None
        return {name: path for name, (_, path) in self.files.items()}

    def discard(self) -> None:
        if self.committed:
            return
        for tmp, _ in self.files.values():
            tmp.unlink(missing_ok=True)
        for folder in self._made:
            try:
                folder.rmdir()
            except OSError:
                break


def _cannot_write(path: Path, exc: OSError) -> ConfigError:
    """Names a full disk (or quota, or file size limit) as "out of space"."""
    if out_of_space(exc):
        return ReportWriteError(
            f"cannot write {path}: {describe_os_error(exc)}",
            hint="free some space on that disk (or raise the quota), or choose another "
            "--output-dir; the previous reports there are unchanged",
        )
    return ReportWriteError(
        f"cannot write {path}: {exc.strerror or exc}",
        hint="choose a writable folder with --output-dir; the previous reports are unchanged",
    )


def _write_staged(staged: _Staged, rendered: Iterator[tuple[str, str]]) -> dict[str, Path]:
    try:
        for name, text in rendered:
            staged.add(name, text)
        return staged.commit()
    finally:
        staged.discard()


def _stream_staged(staged: _Staged, data: ReportInput, names: Sequence[str]) -> dict[str, Path]:
    """Each format of ``names`` streamed to its temporary file (``ReportFormat.chunks``), one
    after the other, then all renamed into place."""
    try:
        for name in names:
            staged.add_chunks(name, BY_NAME[name].chunks(data))
        return staged.commit()
    finally:
        staged.discard()


def write_files(texts: dict[str, str], output_dir: Path) -> dict[str, Path]:
    """Write each rendered text to its format's file in ``output_dir``: all written to
    temporary files first, then renamed into place."""
    return _write_staged(_Staged(output_dir), iter(texts.items()))


def write_reports(
    scan: ScanResult,
    formats: Sequence[str],
    output_dir: Path,
    *,
    remediations: Sequence[RemediationOutcome] = (),
    templates_dir: Path | None = None,
    lang: str = DEFAULT_LANG,
) -> dict[str, Path]:
    """Write report.json and the reports of ``formats`` into ``output_dir``; returns
    ``{format: path}`` (report.json first, and always, even when not among ``formats``)."""
    names = parse_formats(formats)
    data = ReportInput.of(scan, "", remediations, templates_dir, lang=lang)
    staged = _Staged(output_dir)
    try:
        # streamed to its file as it is made: the whole text is never held
        digest = staged.add_chunks(RECORD.name, dump_chunks(data.scan))
    except BaseException:
        staged.discard()
        raise
    data = dataclasses.replace(data, source_sha256=digest)
    others = [n for n in names if n != RECORD.name]
    return _stream_staged(staged, data, others)


def write_rerendered(
    scan: ScanResult,
    formats: Sequence[str],
    output_dir: Path,
    *,
    source_sha256: str,
    remediations: Sequence[RemediationOutcome] = (),
    templates_dir: Path | None = None,
    journal: RemediationSource | None = None,
    lang: str = DEFAULT_LANG,
) -> dict[str, Path]:
    """Write the reports of ``formats`` (never report.json, the record they are made from)
    into ``output_dir``, all rendered before any is renamed into place; returns
    ``{format: path}``."""
    data = ReportInput.of(scan, source_sha256, remediations, templates_dir, journal, lang)
    return _stream_staged(_Staged(output_dir), data, _rerenderable(formats))


def remove_other_reports(output_dir: Path, written: Mapping[str, Path]) -> list[Path]:
    """Remove from ``output_dir`` the files of the formats not written this time, so an earlier
    scan's report.html never sits beside this scan's report.json. Only rdscan's own report file
    names are touched (a symlink is removed, never its target). Returns the removed paths."""
    removed: list[Path] = []
    for name, fmt in BY_NAME.items():
        if name in written:
            continue
        path = Path(output_dir) / fmt.file_name
        if not (path.is_file() or path.is_symlink()):
            continue
        try:
            path.unlink()
        except OSError as exc:
            raise ConfigError(
                f"cannot remove {path}, an earlier scan's report beside this scan's: "
                f"{exc.strerror or exc}",
                hint="remove it by hand, or write the reports into an empty --output-dir",
            ) from None
        removed.append(path)
    return removed
