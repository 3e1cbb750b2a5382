"""Evidence packs: one zip an auditor verifies offline.

``build`` gathers what a scan used and wrote (report.json, the reports rendered from it, the
policy, exemptions and framework mapping files, checked against the digests report.json
records, the remediation journal when given, the tool version) and lists every file with its
size and SHA-256 in ``manifest.json``; ``sshsig`` signs the manifest with OpenSSH
(``ssh-keygen -Y sign``, namespace ``rdscan-evidence``); ``verify`` reads a pack defensively
(``zipsafe``) and recomputes every hash, the cross-references and the journal chain.
"""

from .build import PackSource, build_pack, source_from_files, source_from_history
from .layout import MANIFEST, SIGNATURE, SIGNATURE_NAMESPACE
from .verify import VerifyResult, verify_pack

__all__ = [
    "MANIFEST",
    "SIGNATURE",
    "SIGNATURE_NAMESPACE",
    "PackSource",
    "VerifyResult",
    "build_pack",
    "source_from_files",
    "source_from_history",
    "verify_pack",
]
