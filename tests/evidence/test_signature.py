"""A signed pack: `verify --allowed-signers` checks it, and OpenSSH alone can too."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from .conftest import Scanned, run

pytestmark = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs OpenSSH")


def _keypair(folder: Path, name: str, principal: str) -> tuple[Path, Path]:
    key = folder / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", principal, "-f", str(key)],
        check=True,
        stdin=subprocess.DEVNULL,
    )
    allowed = folder / f"{name}.allowed_signers"
    public = (folder / f"{name}.pub").read_text().split()
    allowed.write_text(f"{principal} {public[0]} {public[1]}\n")
    return key, allowed


@pytest.fixture(scope="module")
def signed(scanned: Scanned) -> tuple[Path, Path, Path]:
    key, allowed = _keypair(scanned.root, "auditor_key", "auditor@example.com")
    pack = scanned.root / "signed.zip"
    code, out = run(
        "evidence", "build", "--history", str(scanned.history), "--journal", str(scanned.journal),
        "--sign-key", str(key), "-o", str(pack),
    )  # fmt: skip
    assert code == 0, out
    assert "(manifest signed)" in out
    return pack, key, allowed


def test_signed_pack_verifies_with_allowed_signers(signed: tuple[Path, Path, Path]) -> None:
    pack, _, allowed = signed
    code, out = run("evidence", "verify", str(pack), "--allowed-signers", str(allowed))
    assert code == 0, out
    assert "Signature: good, by auditor@example.com" in out
    code, out = run("evidence", "verify", str(pack))
    assert code == 0 and "manifest.json.sig is present but was not checked" in out


def test_signed_pack_verifies_with_ssh_keygen_alone(
    signed: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    pack, _, allowed = signed
    with zipfile.ZipFile(pack) as zf:
        manifest = zf.read("manifest.json")
        (tmp_path / "manifest.json.sig").write_bytes(zf.read("manifest.json.sig"))
    assert json.loads(manifest)["signature"]["namespace"] == "rdscan-evidence"
    proc = subprocess.run(
        [
            *("ssh-keygen", "-Y", "verify", "-f", str(allowed), "-I", "auditor@example.com"),
            *("-n", "rdscan-evidence", "-s", str(tmp_path / "manifest.json.sig")),
        ],
        input=manifest,
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert b"Good" in proc.stdout + proc.stderr


def test_edited_manifest_or_unknown_signer_fails(
    signed: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    pack, _, allowed = signed
    with zipfile.ZipFile(pack) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    manifest = json.loads(members["manifest.json"])
    manifest["scan"]["caller_arn"] = "acs:ram::1512345678901234:user/someone-else"
    members["manifest.json"] = json.dumps(manifest).encode()
    edited = tmp_path / "edited.zip"
    with zipfile.ZipFile(edited, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    code, out = run("evidence", "verify", str(edited), "--allowed-signers", str(allowed))
    assert code == 1 and "manifest.json.sig is not a good signature" in out

    _, other_allowed = _keypair(tmp_path, "other", "someone@example.com")
    code, out = run("evidence", "verify", str(pack), "--allowed-signers", str(other_allowed))
    assert code == 1 and "manifest.json.sig" in out and "not allowed" in out


def test_unsigned_pack_fails_when_a_signature_is_required(
    scanned: Scanned, signed: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, _, allowed = signed
    pack = tmp_path / "unsigned.zip"
    assert run("evidence", "build", "--history", str(scanned.history), "-o", str(pack))[0] == 0
    code, out = run("evidence", "verify", str(pack), "--allowed-signers", str(allowed))
    assert code == 1 and "the pack is not signed" in out


def test_a_bad_sign_key_is_one_clear_error(scanned: Scanned, tmp_path: Path) -> None:
    not_a_key = tmp_path / "key"
    not_a_key.write_text("not a key\n")
    code, out = run(
        "evidence", "build", "--history", str(scanned.history), "--sign-key", str(not_a_key),
        "-o", str(tmp_path / "p.zip"),
    )  # fmt: skip
    assert code == 2 and "ssh-keygen could not sign" in out and "Traceback" not in out
    assert not (tmp_path / "p.zip").exists()
