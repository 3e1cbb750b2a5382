"""Build an evidence pack from a scan kept in the history, or from the files themselves.

Every input is checked against what report.json records before anything is written: the
policy file's SHA-256 against ``scan.policy.digest``, the exemptions file's against
``scan.policy.exemptions_digest``, the framework mapping's against ``scan.frameworks.digest``;
the journal's hash chain is verified. A mismatch is an ``EvidenceError`` naming the file, both
digests and the fix, and no pack is written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..errors import EvidenceError, ScannerError
from ..findings import RemediationOutcome, ScanResult
from ..history import History, ScanInput
from ..i18n import DEFAULT_LANG
from ..report import RERENDERABLE, render_rerendered
from ..report.results_file import parse_results
from . import layout, sshsig


@dataclass(frozen=True)
class PackSource:
    """What a pack is built from: report.json's exact bytes and the files the scan used."""

    report_json: bytes
    scan: ScanResult
    policy: ScanInput | None
    exemptions: ScanInput | None
    frameworks: ScanInput | None
    origin: str  # "history <path> scan <id>" or "files": for messages


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def source_from_history(history: History, ref: str) -> PackSource:
    """The scan ``ref`` (an id, ``latest``, ``previous``) with the files the history kept."""
    row = history.resolve(ref)
    kept = history.inputs(row.id)
    if "report.json" not in kept:
        raise EvidenceError(
            f"the history {history.path} has no report.json kept for scan {row.id} "
            "(recorded by an rdscan before evidence packs)",
            hint="build from the files: rdscan evidence build --results report.json "
            "--policy FILE [--exemptions FILE]",
        )
    raw = kept["report.json"].content
    origin = f"the history {history.path} (scan {row.id})"
    return PackSource(
        raw,
        parse_results(raw, f"report.json of scan {row.id}"),
        kept.get("policy"),
        kept.get("exemptions"),
        kept.get("frameworks"),
        origin,
    )


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise EvidenceError(
            f"cannot read the {what} {path}: {exc.strerror or exc}",
            hint=f"give the {what} that scan used",
        ) from None


def source_from_files(
    results: Path,
    policy: Path,
    exemptions: Path | None,
    frameworks: Path | None,
) -> PackSource:
    """A saved report.json and the policy / exemptions / framework mapping files named."""
    from ..report.results_file import load_results

    scan, raw = load_results(results)
    return PackSource(
        raw,
        scan,
        ScanInput("policy", policy.name, _read(policy, "policy file")),
        ScanInput("exemptions", exemptions.name, _read(exemptions, "exemptions file"))
        if exemptions is not None
        else None,
        ScanInput("frameworks", frameworks.name, _read(frameworks, "framework mapping"))
        if frameworks is not None
        else None,
        f"the files beside {results}",
    )


def _check_inputs(src: PackSource) -> None:
    ev = src.scan.evidence
    if src.policy is None:
        raise EvidenceError(
            f"{src.origin} keeps no policy file for scan {ev.scan_id}",
            hint="build from the files: rdscan evidence build --results report.json --policy FILE",
        )
    _same(src.policy, ev.policy_digest, "policy file", "--policy", ev.scan_id)
    if ev.exemptions_digest:
        if src.exemptions is None:
            raise EvidenceError(
                f"scan {ev.scan_id} used an exemptions file ({ev.exemptions_digest}) but none "
                "was given",
                hint="give the exemptions file that scan used with --exemptions FILE",
            )
        _same(src.exemptions, ev.exemptions_digest, "exemptions file", "--exemptions", ev.scan_id)
    elif src.exemptions is not None:
        raise EvidenceError(
            f"scan {ev.scan_id} used no exemptions file, but {src.exemptions.name} was given",
            hint="drop --exemptions: report.json records no exemptions digest",
        )
    mapping = ev.frameworks
    if mapping is not None:
        if src.frameworks is None:
            raise EvidenceError(
                f"scan {ev.scan_id} recorded the framework mapping {mapping.source} "
                f"({mapping.digest}) but it was not given",
                hint="give the mapping that scan used with --frameworks FILE",
            )
        _same(src.frameworks, mapping.digest, "framework mapping", "--frameworks", ev.scan_id)


def _same(item: ScanInput, recorded: str, what: str, option: str, scan_id: str) -> None:
    actual = _digest(item.content)
    if actual != recorded:
        raise EvidenceError(
            f"the {what} {item.name} is not the one scan {scan_id} used: its digest is "
            f"{actual}, report.json records {recorded}",
            hint=f"give the {what} that scan used with {option} FILE (the digest must match)",
        )


def _journal(path: Path) -> tuple[bytes, dict[str, object], list[RemediationOutcome]]:
    """The journal's bytes, its facts and outcomes, all from one read (a journal being
    appended to while the pack is built cannot give a pack whose facts and bytes differ)."""
    from ..remediate.journal import load_outcomes, verify_journal

    data = _read(path, "journal")
    with tempfile.TemporaryDirectory(prefix="rdscan-pack-") as tmp:
        copy = Path(tmp) / path.name
        copy.write_bytes(data)
        try:
            check = verify_journal(copy)  # names the first bad line
            outcomes = load_outcomes(copy)
        except ScannerError as exc:
            raise EvidenceError(
                f"journal {path}: {str(exc).replace(str(copy), path.name)}",
                hint="give an intact journal written by rdscan remediate (keep a broken one "
                "as evidence of its own)",
            ) from None
    info: dict[str, object] = {
        "lines": check.lines,
        "members": check.members,
        "last_sha256": check.last_sha256,
        "first_time": check.first_time,
        "last_time": check.last_time,
        "original_name": path.name,
    }
    if check.torn_bytes:  # a failed append's cut-off line after the chain: said, not hidden
        info["torn_bytes"] = check.torn_bytes
    return data, info, outcomes


def _utc_now() -> str:
    now = dt.datetime.now(dt.timezone.utc)
    return now.isoformat(timespec="seconds").replace("+00:00", "Z")


def pack_files(
    src: PackSource,
    journal: Path | None,
    formats: Sequence[str] = RERENDERABLE,
    lang: str = DEFAULT_LANG,
) -> tuple[list[layout.PackFile], dict[str, object] | None]:
    """Every file of the pack but the manifest (inputs checked first), and the journal facts."""
    _check_inputs(src)
    journal_data: bytes | None = None
    journal_info: dict[str, object] | None = None
    outcomes: list[RemediationOutcome] = []
    if journal is not None:
        journal_data, journal_info, outcomes = _journal(journal)
    source_sha256 = hashlib.sha256(src.report_json).hexdigest()
    texts = render_rerendered(
        src.scan,
        list(formats),
        source_sha256=source_sha256,
        remediations=outcomes,
        lang=lang,
    )
    files = [layout.PackFile(layout.REPORT_JSON, "report.json", src.report_json)]
    files += [
        layout.PackFile(layout.REPORT_NAMES[fmt], "report", text.encode("utf-8"))
        for fmt, text in texts.items()
    ]
    assert src.policy is not None
    files.append(layout.PackFile(layout.POLICY, "policy", src.policy.content, src.policy.name))
    if src.exemptions is not None:
        files.append(
            layout.PackFile(
                layout.EXEMPTIONS, "exemptions", src.exemptions.content, src.exemptions.name
            )
        )
    if src.frameworks is not None:
        files.append(
            layout.PackFile(
                layout.FRAMEWORKS, "frameworks", src.frameworks.content, src.frameworks.name
            )
        )
    if journal_data is not None:
        assert journal is not None
        files.append(layout.PackFile(layout.JOURNAL, "journal", journal_data, journal.name))
    files.append(
        layout.PackFile(layout.TOOL_VERSION, "tool-version", f"rdscan {__version__}\n".encode())
    )
    return files, journal_info


def build_pack(
    src: PackSource,
    output: Path,
    *,
    journal: Path | None = None,
    sign_key: Path | None = None,
    built_at: str | None = None,
    lang: str = DEFAULT_LANG,
) -> dict[str, object]:
    """Write the pack to ``output`` (atomically); returns a summary for the command line:
    ``{"path", "files", "scan_id", "signed"}``."""
    files, journal_info = pack_files(src, journal, lang=lang)
    ev = src.scan.evidence
    window_end = ev.finished_at
    if journal_info and str(journal_info.get("last_time") or "") > window_end:
        window_end = str(journal_info["last_time"])
    manifest = layout.manifest_bytes(
        files,
        scan={
            "id": ev.scan_id,
            "started_at": ev.started_at,
            "finished_at": ev.finished_at,
            "caller_arn": ev.caller.arn,
            "caller_identity_type": ev.caller.identity_type,
            "resource_directory_id": ev.resource_directory_id,
            "site": ev.site,
            "tool_version": ev.tool_version,
        },
        time_window={"from": ev.started_at, "to": window_end},
        built_at=built_at or _utc_now(),
        tool_version=__version__,
        journal=journal_info,
    )
    signature = sshsig.sign(manifest, sign_key) if sign_key is not None else None
    _write_zip(output, files, manifest, signature)
    return {
        "path": output,
        "files": len(files) + 1 + (1 if signature else 0),
        "scan_id": ev.scan_id,
        "signed": signature is not None,
    }


def _write_zip(
    output: Path, files: Sequence[layout.PackFile], manifest: bytes, signature: bytes | None
) -> None:
    folder = output.absolute().parent
    if not folder.is_dir():
        raise EvidenceError(
            f"cannot write {output}: the folder {folder} does not exist",
            hint="create the folder, or give -o a path in an existing one",
        )
    fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
            entries = [(layout.MANIFEST, manifest)]
            if signature is not None:
                entries.append((layout.SIGNATURE, signature))
            entries += [(f.path, f.data) for f in files]
            for name, data in entries:
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = (0o100644 & 0xFFFF) << 16
                zf.writestr(info, data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, output)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise EvidenceError(
            f"cannot write {output}: {exc.strerror or exc}", hint="choose a writable path with -o"
        ) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
