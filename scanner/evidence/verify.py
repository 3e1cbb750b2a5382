"""Verify an evidence pack offline: every file against ``manifest.json``, the cross-references
between them, the journal's hash chain and, when asked, the manifest's SSH signature.

The first problem found ends the check and names the file it is in. Order: the zip itself
(``zipsafe``), the manifest, the signature, each listed file in manifest order (size, then
SHA-256), files the manifest does not list, the digests report.json records for the policy,
exemptions and framework mapping, the reports' footer naming report.json's SHA-256, the journal
chain and its head as recorded in the manifest.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ScannerError
from ..report.results_file import parse_results
from . import layout, sshsig, zipsafe


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    problem: str = ""  # the first problem, naming its file ("" when ok)
    file: str = ""  # the file the problem is in
    scan_id: str = ""
    files: int = 0  # files checked against the manifest
    signer: str = ""  # the allowed-signers principal of a good signature
    notes: tuple[str, ...] = field(default=())  # facts for the reader (e.g. signature unchecked)


class _Bad(Exception):
    def __init__(self, file: str, message: str) -> None:
        super().__init__(message)
        self.file = file


def verify_pack(
    path: Path,
    *,
    allowed_signers: Path | None = None,
    limits: zipsafe.Limits = zipsafe.DEFAULT_LIMITS,
) -> VerifyResult:
    """Check the pack at ``path``. Never raises for a bad pack (``ok`` False, ``problem`` says
    why); raises ``EvidenceError`` only when ``allowed_signers`` cannot be used."""
    try:
        zf = zipsafe.open_zip(path)
    except zipsafe.UnsafeZip as exc:
        return VerifyResult(False, str(exc), str(path))
    with zf:
        try:
            return _verify(zf, allowed_signers, limits)
        except zipsafe.UnsafeZip as exc:
            return VerifyResult(False, f"unsafe zip: {exc}", _entry_of(str(exc)))
        except _Bad as bad:
            return VerifyResult(False, str(bad), bad.file)


def _entry_of(message: str) -> str:
    parts = message.split("'")
    return parts[1] if len(parts) > 2 else ""


def _verify(
    zf: zipfile.ZipFile, allowed_signers: Path | None, limits: zipsafe.Limits
) -> VerifyResult:
    entries = zipsafe.entries(zf, limits)
    if layout.MANIFEST not in entries:
        raise _Bad(layout.MANIFEST, f"{layout.MANIFEST} is missing: this is not an evidence pack")
    manifest_raw = zipsafe.read(zf, entries[layout.MANIFEST])
    manifest = _manifest(manifest_raw)
    notes: list[str] = []
    signer = ""
    if layout.SIGNATURE in entries:
        signature = zipsafe.read(zf, entries[layout.SIGNATURE])
        if allowed_signers is None:
            notes.append(
                f"{layout.SIGNATURE} is present but was not checked (give --allowed-signers FILE)"
            )
        else:
            check = sshsig.check(manifest_raw, signature, allowed_signers)
            if not check.ok:
                raise _Bad(
                    layout.SIGNATURE,
                    f"{layout.SIGNATURE} is not a good signature of {layout.MANIFEST} by an "
                    f"allowed signer: {check.detail}",
                )
            signer = check.signer
    elif allowed_signers is not None:
        raise _Bad(layout.SIGNATURE, f"the pack is not signed ({layout.SIGNATURE} is missing)")
    listed: dict[str, dict[str, Any]] = {}
    data: dict[str, bytes] = {}
    for item in manifest["files"]:
        name = item["path"]
        if name in listed or name in (layout.MANIFEST, layout.SIGNATURE):
            raise _Bad(layout.MANIFEST, f"{layout.MANIFEST} lists {name!r} twice or as itself")
        expected_kind = _KIND_OF.get(name)
        if expected_kind is None:
            raise _Bad(layout.MANIFEST, f"{layout.MANIFEST} lists {name!r}, not a file of a pack")
        if item["kind"] != expected_kind:
            raise _Bad(
                layout.MANIFEST,
                f"{layout.MANIFEST} lists {name} as {item['kind']!r}; that file is "
                f"{expected_kind!r}",
            )
        listed[name] = item
        if name not in entries:
            raise _Bad(name, f"{name} is listed in {layout.MANIFEST} but missing from the pack")
        info = entries[name]
        if info.file_size != item["size"]:
            raise _Bad(
                name,
                f"{name} differs: {info.file_size:,} bytes, {layout.MANIFEST} says "
                f"{item['size']:,}",
            )
        content = zipsafe.read(zf, info)
        digest = hashlib.sha256(content).hexdigest()
        if digest != item["sha256"]:
            raise _Bad(
                name,
                f"{name} differs: its SHA-256 is {digest}, {layout.MANIFEST} says {item['sha256']}",
            )
        data[name] = content
    extra = sorted(set(entries) - set(listed) - {layout.MANIFEST, layout.SIGNATURE})
    if extra:
        raise _Bad(extra[0], f"{extra[0]} is in the pack but not listed in {layout.MANIFEST}")
    scan_id = _cross_check(manifest, listed, data)
    return VerifyResult(True, scan_id=scan_id, files=len(listed), signer=signer, notes=tuple(notes))


def _manifest(raw: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _Bad(layout.MANIFEST, f"{layout.MANIFEST} is not valid JSON ({exc})") from None
    ok = (
        isinstance(doc, dict)
        and doc.get("format") == layout.PACK_FORMAT
        and isinstance(doc.get("files"), list)
        and isinstance(doc.get("scan"), dict)
    )
    if not ok:
        raise _Bad(layout.MANIFEST, f"{layout.MANIFEST} is not an rdscan evidence manifest")
    if doc.get("format_version") != layout.PACK_VERSION:
        raise _Bad(
            layout.MANIFEST,
            f"{layout.MANIFEST} has format_version {doc.get('format_version')!r}; this rdscan "
            f"reads {layout.PACK_VERSION}",
        )
    if set(doc) != _MANIFEST_KEYS:
        raise _Bad(
            layout.MANIFEST,
            f"{layout.MANIFEST} has the keys {sorted(doc)}; a pack's manifest has "
            f"{sorted(_MANIFEST_KEYS)}",
        )
    if not _RFC3339_Z.fullmatch(str(doc.get("built_at"))):
        raise _Bad(layout.MANIFEST, f"{layout.MANIFEST} has no valid built_at time")
    if doc.get("signature") != {"file": layout.SIGNATURE, "namespace": layout.SIGNATURE_NAMESPACE}:
        raise _Bad(layout.MANIFEST, f"{layout.MANIFEST} has an altered signature block")
    for item in doc["files"]:
        good = (
            isinstance(item, dict)
            and isinstance(item.get("path"), str)
            and isinstance(item.get("size"), int)
            and isinstance(item.get("sha256"), str)
            and isinstance(item.get("kind"), str)
            and set(item) <= _FILE_KEYS
            and isinstance(item.get("original_name", ""), str)
            and "/" not in item.get("original_name", "")
        )
        if not good:
            raise _Bad(layout.MANIFEST, f"{layout.MANIFEST} has a malformed file entry: {item!r}")
    return doc


def _cross_check(
    manifest: dict[str, Any], listed: dict[str, dict[str, Any]], data: dict[str, bytes]
) -> str:
    """What the files say about each other. Returns the scan id."""
    raw = data.get(layout.REPORT_JSON)
    if raw is None:
        raise _Bad(layout.REPORT_JSON, f"{layout.REPORT_JSON} is missing from the pack")
    try:
        scan = parse_results(raw, layout.REPORT_JSON)
    except ScannerError as exc:
        raise _Bad(layout.REPORT_JSON, str(exc)) from None
    ev = scan.evidence
    if manifest["scan"].get("id") != ev.scan_id:
        raise _Bad(
            layout.MANIFEST,
            f"{layout.MANIFEST} names scan {manifest['scan'].get('id')!r}, report.json is scan "
            f"{ev.scan_id!r}",
        )
    _check_manifest_scan(manifest, ev, data)
    exemptions_item = listed.get(layout.EXEMPTIONS)
    if (
        exemptions_item is not None
        and ev.exemptions_name
        and exemptions_item.get("original_name", ev.exemptions_name) != ev.exemptions_name
    ):
        raise _Bad(
            layout.MANIFEST,
            f"{layout.MANIFEST} names the exemptions file "
            f"{exemptions_item.get('original_name')!r}; report.json records "
            f"{ev.exemptions_name!r}",
        )
    frameworks_item = listed.get(layout.FRAMEWORKS)
    if (
        frameworks_item is not None
        and ev.frameworks is not None
        and frameworks_item.get("original_name", ev.frameworks.source) != ev.frameworks.source
    ):
        raise _Bad(
            layout.MANIFEST,
            f"{layout.MANIFEST} names the framework mapping "
            f"{frameworks_item.get('original_name')!r}; report.json records "
            f"{ev.frameworks.source!r}",
        )
    journal_item = listed.get(layout.JOURNAL)
    if journal_item is not None and journal_item.get("original_name") != (
        manifest.get("journal") or {}
    ).get("original_name"):
        raise _Bad(layout.MANIFEST, f"{layout.MANIFEST} names the journal file two ways")
    by_kind = {item["kind"]: name for name, item in listed.items()}
    recorded = {
        "policy": ev.policy_digest,
        "exemptions": ev.exemptions_digest,
        "frameworks": ev.frameworks.digest if ev.frameworks else None,
    }
    for kind, digest in recorded.items():
        name = by_kind.get(kind)
        if digest and name is None:
            raise _Bad(
                layout.REPORT_JSON,
                f"report.json records a {kind} file ({digest}) that the pack does not hold",
            )
        if name is not None:
            actual = "sha256:" + hashlib.sha256(data[name]).hexdigest()
            if actual != digest:
                raise _Bad(
                    name,
                    f"{name} is not the {kind} file scan {ev.scan_id} used: its digest is "
                    f"{actual}, report.json records {digest}",
                )
    source = hashlib.sha256(raw).hexdigest()
    for name in (n for n, i in listed.items() if i["kind"] == "report"):
        if name.endswith((".html", ".md")) and source.encode() not in data[name]:
            raise _Bad(name, f"{name} was not rendered from this report.json (footer SHA-256)")
    journal = by_kind.get("journal")
    if journal is not None:
        _check_journal(journal, data[journal], manifest.get("journal") or {})
    return ev.scan_id


def _check_journal(name: str, content: bytes, recorded: dict[str, Any]) -> None:
    from ..remediate.journal import verify_journal

    with tempfile.TemporaryDirectory(prefix="rdscan-verify-") as tmp:
        copy = Path(tmp) / "journal.jsonl"
        copy.write_bytes(content)
        try:
            check = verify_journal(copy)
        except ScannerError as exc:
            raise _Bad(name, str(exc).replace(str(copy), name)) from None
    expected: dict[str, Any] = {
        "lines": check.lines,
        "members": check.members,
        "last_sha256": check.last_sha256,
        "first_time": check.first_time,
        "last_time": check.last_time,
    }
    if check.torn_bytes:
        expected["torn_bytes"] = check.torn_bytes
    told = {k: v for k, v in recorded.items() if k != "original_name"}
    if told != expected:
        raise _Bad(
            name,
            f"{name} differs from {layout.MANIFEST}: {check.lines} lines ending in "
            f"{check.last_sha256}, the manifest says {recorded.get('lines')} lines ending in "
            f"{recorded.get('last_sha256')}",
        )


# What a manifest holds. built_at and each file's original_name are informational: nothing else
# in the pack records them, so only a signature (--sign-key) protects them; every other field is
# checked against the files themselves.
_MANIFEST_KEYS = frozenset(
    {"format", "format_version", "built_at", "tool_version", "scan", "time_window", "journal"}
    | {"signature", "files"}
)
_FILE_KEYS = frozenset({"path", "kind", "size", "sha256", "original_name"})
_RFC3339_Z = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z")

# every file a pack may hold, by its fixed path, and the kind the manifest must give it
_KIND_OF: dict[str, str] = {
    layout.REPORT_JSON: "report.json",
    layout.POLICY: "policy",
    layout.EXEMPTIONS: "exemptions",
    layout.FRAMEWORKS: "frameworks",
    layout.JOURNAL: "journal",
    layout.TOOL_VERSION: "tool-version",
    **{name: "report" for name in layout.REPORT_NAMES.values()},
}


def _check_manifest_scan(manifest: dict[str, Any], ev: Any, data: dict[str, bytes]) -> None:
    """What the manifest says of the scan is what report.json says: an unsigned manifest can
    still not name another caller, directory or time than the record it lists."""
    expected = {
        "started_at": ev.started_at,
        "finished_at": ev.finished_at,
        "caller_arn": ev.caller.arn,
        "caller_identity_type": ev.caller.identity_type,
        "resource_directory_id": ev.resource_directory_id,
        "site": ev.site,
        "tool_version": ev.tool_version,
    }
    scan = manifest["scan"]
    for key, value in expected.items():
        if scan.get(key) != value:
            raise _Bad(
                layout.MANIFEST,
                f"{layout.MANIFEST} says the scan's {key} is {scan.get(key)!r}; report.json "
                f"says {value!r}",
            )
    window = manifest.get("time_window")
    journal_end = str((manifest.get("journal") or {}).get("last_time") or "")
    ok_window = (
        isinstance(window, dict)
        and window.get("from") == ev.started_at
        and window.get("to") in {ev.finished_at, journal_end}
    )
    if not ok_window:
        raise _Bad(
            layout.MANIFEST,
            f"{layout.MANIFEST} has the time window {window!r}; report.json's scan ran from "
            f"{ev.started_at} to {ev.finished_at}",
        )
    tool = data.get(layout.TOOL_VERSION)
    if tool is not None and tool.decode("utf-8", "replace").strip() != (
        f"rdscan {manifest.get('tool_version')}"
    ):
        raise _Bad(
            layout.MANIFEST,
            f"{layout.MANIFEST} names tool version {manifest.get('tool_version')!r}; "
            f"{layout.TOOL_VERSION} says {tool.decode('utf-8', 'replace').strip()!r}",
        )
