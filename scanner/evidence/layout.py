"""What an evidence pack holds and how ``manifest.json`` describes it (pure values).

Layout (every name fixed, so nothing from a user-named file reaches a path in the zip)::

    manifest.json             every other file: path, kind, size, SHA-256; scan id, caller,
                              time window, tool version
    manifest.json.sig         optional: ``ssh-keygen -Y sign -n rdscan-evidence`` of manifest.json
    report.json               the record, byte for byte as the scan wrote it
    report.html, report.md, report.csv    rendered from report.json by this rdscan
    inputs/policy.yaml        the policy file the scan used (digest in report.json)
    inputs/exemptions.yaml    the exemptions file, when the scan used one
    inputs/frameworks.yaml    the framework mapping, when report.json records one
    remediation-journal.jsonl the remediation journal, when given (hash-chained)
    tool-version.txt          the rdscan version that built the pack
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..report.registry import FILE_NAMES, RERENDERABLE

MANIFEST = "manifest.json"
SIGNATURE = "manifest.json.sig"
SIGNATURE_NAMESPACE = "rdscan-evidence"
PACK_FORMAT = "rdscan-evidence-pack"
PACK_VERSION = 1

REPORT_JSON = "report.json"
POLICY = "inputs/policy.yaml"
EXEMPTIONS = "inputs/exemptions.yaml"
FRAMEWORKS = "inputs/frameworks.yaml"
JOURNAL = "remediation-journal.jsonl"
TOOL_VERSION = "tool-version.txt"
REPORT_NAMES: Mapping[str, str] = {name: FILE_NAMES[name] for name in RERENDERABLE}


@dataclass(frozen=True)
class PackFile:
    path: str  # inside the zip
    kind: str  # report.json | report | policy | exemptions | frameworks | journal | tool-version
    data: bytes
    original_name: str = ""  # the file's own name when it came from a file (no folder)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def entry(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "kind": self.kind,
            "size": len(self.data),
            "sha256": self.sha256,
        }
        if self.original_name:
            out["original_name"] = self.original_name
        return out


def manifest_bytes(
    files: Sequence[PackFile],
    *,
    scan: Mapping[str, Any],
    time_window: Mapping[str, str],
    built_at: str,
    tool_version: str,
    journal: Mapping[str, Any] | None,
) -> bytes:
    """``manifest.json`` as UTF-8 bytes (sorted keys, two-space indent, trailing newline)."""
    doc = {
        "format": PACK_FORMAT,
        "format_version": PACK_VERSION,
        "built_at": built_at,
        "tool_version": tool_version,
        "scan": dict(scan),
        "time_window": dict(time_window),
        "journal": dict(journal) if journal is not None else None,
        "signature": {"file": SIGNATURE, "namespace": SIGNATURE_NAMESPACE},
        "files": [f.entry() for f in files],
    }
    return (json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
