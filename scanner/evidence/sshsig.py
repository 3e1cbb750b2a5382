"""Sign and check an evidence pack's manifest with OpenSSH's ``ssh-keygen -Y`` (OpenSSH 8.2+).

An auditor needs only OpenSSH to check a signed pack::

    ssh-keygen -Y verify -f allowed_signers -I SIGNER -n rdscan-evidence \\
        -s manifest.json.sig < manifest.json

``allowed_signers`` is OpenSSH's format (``principal keytype base64-key``, see
ssh-keygen(1) "ALLOWED SIGNERS"). Errors are ``EvidenceError`` with ssh-keygen's own words.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import EvidenceError
from .layout import SIGNATURE_NAMESPACE

TIMEOUT_S = 60


@dataclass(frozen=True)
class SignatureCheck:
    ok: bool
    signer: str  # the allowed-signers principal that matched ("" when none did)
    detail: str  # ssh-keygen's answer, one line


def _ssh_keygen() -> str:
    path = shutil.which("ssh-keygen")
    if path is None:
        raise EvidenceError(
            "ssh-keygen (OpenSSH) is not installed, so the manifest cannot be signed or checked",
            hint="install OpenSSH's client tools (Debian: apt-get install openssh-client)",
        )
    return path


def _one_line(text: str) -> str:
    return " ".join(text.split())[:500]


def sign(manifest: bytes, key: Path) -> bytes:
    """The SSH signature (armoured text) of ``manifest`` made with private key ``key``."""
    if not key.is_file():
        raise EvidenceError(
            f"signing key {key} does not exist or is not a file",
            hint="give --sign-key the private key file (e.g. ~/.ssh/id_ed25519)",
        )
    with tempfile.TemporaryDirectory(prefix="rdscan-sign-") as tmp:
        target = Path(tmp) / "manifest.json"
        target.write_bytes(manifest)
        try:
            proc = subprocess.run(
                [
                    _ssh_keygen(),
                    "-Y",
                    "sign",
                    "-f",
                    str(key),
                    "-n",
                    SIGNATURE_NAMESPACE,
                    str(target),
                ],
                capture_output=True,
                text=True,
                timeout=TIMEOUT_S,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            raise EvidenceError(
                f"ssh-keygen did not finish signing within {TIMEOUT_S} s",
                hint="use a key without a passphrase prompt, or load it into ssh-agent first",
            ) from None
        sig = target.with_name("manifest.json.sig")
        if proc.returncode != 0 or not sig.is_file():
            reason = _one_line(proc.stderr) or "no reason given"
            raise EvidenceError(
                f"ssh-keygen could not sign with {key}: {reason}",
                hint="check the key file (a private key; a passphrase needs ssh-agent)",
            )
        return sig.read_bytes()


def check(manifest: bytes, signature: bytes, allowed_signers: Path) -> SignatureCheck:
    """Whether ``signature`` is a good ``rdscan-evidence`` signature of ``manifest`` by a key
    in ``allowed_signers`` (found with ``-Y find-principals``, checked with ``-Y verify``)."""
    if not allowed_signers.is_file():
        raise EvidenceError(
            f"allowed signers file {allowed_signers} does not exist",
            hint="give --allowed-signers a file of lines 'principal keytype base64-key' "
            "(ssh-keygen(1), ALLOWED SIGNERS)",
        )
    exe = _ssh_keygen()
    with tempfile.TemporaryDirectory(prefix="rdscan-verify-") as tmp:
        sig = Path(tmp) / "manifest.json.sig"
        sig.write_bytes(signature)
        try:
            found = subprocess.run(
                [exe, "-Y", "find-principals", "-s", str(sig), "-f", str(allowed_signers)],
                capture_output=True,
                text=True,
                timeout=TIMEOUT_S,
                stdin=subprocess.DEVNULL,
            )
            principals = [p.strip() for p in found.stdout.splitlines() if p.strip()]
            if found.returncode != 0 or not principals:
                detail = _one_line(found.stderr) or "no principal of the allowed signers file"
                return SignatureCheck(False, "", f"the signing key is not allowed ({detail})")
            for principal in principals:
                proc = subprocess.run(
                    [
                        exe,
                        "-Y",
                        "verify",
                        "-f",
                        str(allowed_signers),
                        "-I",
                        principal,
                        "-n",
                        SIGNATURE_NAMESPACE,
                        "-s",
                        str(sig),
                    ],
                    input=manifest,
                    capture_output=True,
                    timeout=TIMEOUT_S,
                )
                answer = _one_line((proc.stdout + proc.stderr).decode("utf-8", "replace"))
                if proc.returncode == 0:
                    return SignatureCheck(True, principal, answer)
            return SignatureCheck(False, "", answer or "signature does not match manifest.json")
        except subprocess.TimeoutExpired:
            return SignatureCheck(False, "", f"ssh-keygen did not answer within {TIMEOUT_S} s")
