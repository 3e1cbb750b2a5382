"""`rdscan evidence build` / `verify`: a pack from a real scan with exemptions and a
remediation journal verifies; a byte changed in any file is named; inputs that are not the
scan's are refused."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from scanner.resources import policies_dir

from .conftest import Scanned, run


def _build(scanned: Scanned, pack: Path, *extra: str) -> tuple[int, str]:
    return run(
        "evidence", "build", "--history", str(scanned.history), "--scan", "latest",
        "--journal", str(scanned.journal), "-o", str(pack), *extra,
    )  # fmt: skip


@pytest.fixture(scope="module")
def pack(scanned: Scanned) -> Path:
    path = scanned.root / "pack.zip"
    code, out = _build(scanned, path)
    assert code == 0, out
    return path


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def _rewrite(src: Path, dst: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return dst


def test_pack_holds_every_file_with_its_hash_and_verifies(scanned: Scanned, pack: Path) -> None:
    members = _members(pack)
    manifest = json.loads(members["manifest.json"])
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == set(members) - {"manifest.json"}
    assert {f["kind"] for f in manifest["files"]} == {
        "report.json", "report", "policy", "exemptions", "frameworks", "journal", "tool-version",
    }  # fmt: skip
    for name, entry in listed.items():
        assert entry["size"] == len(members[name])
        assert entry["sha256"] == hashlib.sha256(members[name]).hexdigest()
    # report.json is the scan's own bytes; the inputs are the files the scan used
    assert members["report.json"] == (scanned.out / "report.json").read_bytes()
    assert members["inputs/exemptions.yaml"] == scanned.exemptions.read_bytes()
    assert listed["inputs/exemptions.yaml"]["original_name"] == "my-exemptions.yaml"
    assert (
        members["inputs/policy.yaml"] == (policies_dir() / "secure-mobile-phone.yaml").read_bytes()
    )
    assert members["remediation-journal.jsonl"] == scanned.journal.read_bytes()
    report = json.loads(members["report.json"])
    scan = manifest["scan"]
    assert scan["id"] == report["scan"]["id"]
    assert scan["caller_arn"] == report["scan"]["caller"]["arn"]
    assert manifest["time_window"]["from"] == report["scan"]["started_at"]
    assert manifest["time_window"]["to"] >= report["scan"]["finished_at"]
    assert manifest["journal"]["lines"] == 6
    assert members["tool-version.txt"].startswith(b"rdscan ")
    # the reports carry the journal's outcome and the Control section
    html = members["report.html"].decode()
    assert "Remediated since the scan" in html and scanned.failing_id in html
    assert "ISO/IEC 27001" in html and "A.8.5" in html

    code, out = run("evidence", "verify", str(pack))
    assert code == 0, out
    assert f"scan {scan['id']}" in out and "files match manifest.json" in out


def _flip(data: bytes, at: int | None = None) -> bytes:
    i = len(data) // 2 if at is None else at
    return data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1 :]


@pytest.mark.parametrize(
    "name",
    [
        "manifest.json",
        "report.json",
        "report.html",
        "report.md",
        "report.csv",
        "report.sarif",
        "report.ocsf.json",
        "report.junit.xml",
        "inputs/policy.yaml",
        "inputs/exemptions.yaml",
        "inputs/frameworks.yaml",
        "remediation-journal.jsonl",
        "tool-version.txt",
    ],
)
def test_a_flipped_byte_in_any_file_is_named(pack: Path, tmp_path: Path, name: str) -> None:
    members = _members(pack)
    if name == "manifest.json":  # a checked field: the manifest's hash of report.json
        at = members[name].index(hashlib.sha256(members["report.json"]).hexdigest().encode())
        members[name] = _flip(members[name], at + 32)
    else:
        members[name] = _flip(members[name])
    bad = _rewrite(pack, tmp_path / "bad.zip", members)
    code, out = run("evidence", "verify", str(bad))
    assert code == 1, out
    assert out.startswith("NOT VERIFIED: ")
    assert name in out.splitlines()[0]


def test_a_consistently_edited_journal_fails_its_chain(pack: Path, tmp_path: Path) -> None:
    """Rewriting the manifest's hash along with the journal does not hide an edited step."""
    members = _members(pack)
    journal = members["remediation-journal.jsonl"].replace(b'"verified"', b'"not_verified"', 1)
    members["remediation-journal.jsonl"] = journal
    manifest = json.loads(members["manifest.json"])
    for f in manifest["files"]:
        if f["path"] == "remediation-journal.jsonl":
            f["size"], f["sha256"] = len(journal), hashlib.sha256(journal).hexdigest()
    members["manifest.json"] = json.dumps(manifest).encode()
    code, out = run("evidence", "verify", str(_rewrite(pack, tmp_path / "j.zip", members)))
    assert code == 1
    assert "remediation-journal.jsonl line 6: the hash chain is broken" in out


def test_a_swapped_policy_fails_against_report_json(pack: Path, tmp_path: Path) -> None:
    """A policy replaced together with its manifest hash still differs from report.json's digest."""
    members = _members(pack)
    policy = members["inputs/policy.yaml"].replace(b"severity: high", b"severity: low")
    members["inputs/policy.yaml"] = policy
    manifest = json.loads(members["manifest.json"])
    for f in manifest["files"]:
        if f["path"] == "inputs/policy.yaml":
            f["size"], f["sha256"] = len(policy), hashlib.sha256(policy).hexdigest()
    members["manifest.json"] = json.dumps(manifest).encode()
    code, out = run("evidence", "verify", str(_rewrite(pack, tmp_path / "p.zip", members)))
    assert code == 1
    assert "inputs/policy.yaml is not the policy file scan" in out


def test_missing_and_extra_files_are_named(pack: Path, tmp_path: Path) -> None:
    members = _members(pack)
    del members["report.md"]
    code, out = run("evidence", "verify", str(_rewrite(pack, tmp_path / "m.zip", members)))
    assert code == 1 and "report.md is listed in manifest.json but missing" in out
    members = _members(pack)
    members["notes.txt"] = b"added later"
    code, out = run("evidence", "verify", str(_rewrite(pack, tmp_path / "x.zip", members)))
    assert code == 1 and "notes.txt is in the pack but not listed" in out


# ---- refusing to build a pack from files that are not the scan's ---------------------------------


def test_build_from_files_refuses_another_exemptions_file(scanned: Scanned, tmp_path: Path) -> None:
    other = tmp_path / "exemptions.yaml"
    other.write_bytes(scanned.exemptions.read_bytes() + b"# edited after the scan\n")
    out_zip = tmp_path / "pack.zip"
    code, out = run(
        "evidence", "build", "--results", str(scanned.out / "report.json"),
        "--exemptions", str(other), "-o", str(out_zip),
    )  # fmt: skip
    assert code == 2
    assert "the exemptions file exemptions.yaml is not the one scan" in out
    assert "report.json records sha256:" in out and "Fix: give the exemptions file" in out
    assert not out_zip.exists()
    code, out = run(
        "evidence", "build", "--results", str(scanned.out / "report.json"), "-o", str(out_zip)
    )
    assert code == 2 and "used an exemptions file" in out and "--exemptions FILE" in out
    code, out = run(
        "evidence", "build", "--results", str(scanned.out / "report.json"),
        "--exemptions", str(scanned.exemptions), "-o", str(out_zip),
    )  # fmt: skip
    assert code == 0, out
    assert run("evidence", "verify", str(out_zip))[0] == 0


def test_build_refuses_a_broken_journal(scanned: Scanned, tmp_path: Path) -> None:
    journal = tmp_path / "journal.jsonl"
    lines = scanned.journal.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b'"sent"', b'"failed"')
    journal.write_bytes(b"\n".join(lines))
    code, out = run(
        "evidence", "build", "--history", str(scanned.history), "--journal", str(journal),
        "-o", str(tmp_path / "pack.zip"),
    )  # fmt: skip
    assert code == 2 and "journal" in out and "line 4" in out
    assert not (tmp_path / "pack.zip").exists()


def test_a_pack_in_chinese_verifies(scanned: Scanned, tmp_path: Path) -> None:
    pack = tmp_path / "zh.zip"
    code, out = run(
        "evidence", "build", "--history", str(scanned.history), "--lang", "zh-CN", "-o", str(pack)
    )
    assert code == 0, out
    members = _members(pack)
    assert '<html lang="zh-CN">' in members["report.html"].decode()
    assert members["report.md"].decode().startswith("# 安全手机合规审计")
    assert run("evidence", "verify", str(pack))[0] == 0


def test_every_byte_of_the_manifest_is_checked_but_its_informational_fields(
    pack: Path, tmp_path: Path
) -> None:
    """A flipped byte anywhere in an unsigned manifest fails verification, except inside the two
    fields nothing else in the pack records (built_at and the policy file's original name), which
    only a signature protects (docs: README, Evidence for auditors)."""
    from scanner.evidence.verify import verify_pack

    members = _members(pack)
    manifest = members["manifest.json"]
    text = manifest.decode("utf-8")
    free: set[int] = set()
    for value in (json.loads(text)["built_at"], "secure-mobile-phone.yaml"):
        start = text.index(json.dumps(value))
        free.update(range(start + 1, start + len(json.dumps(value)) - 1))
    missed = []
    for i in range(0, len(manifest), 5):
        flipped = dict(members, **{"manifest.json": _flip(manifest, i)})
        result = verify_pack(_rewrite(pack, tmp_path / "f.zip", flipped))
        if result.ok and i not in free:
            missed.append((i, text[max(0, i - 20) : i + 20]))
    assert not missed, missed[:5]
