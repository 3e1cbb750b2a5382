"""Least-privilege RAM policy documents for the identities that run rdscan.

``audit``: read-only, enough to scan (the scanning identity can stay read-only).
``remediate``: what `rdscan remediate` calls: the read-only scan (it scans first when no
``--from`` is given), the caller check, GetAccount before and after, and Send and Bind. Attach it
to a separate identity used only for remediation.
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import ConfigError

AUDIT_ACTIONS: tuple[str, ...] = (
    "resourcemanager:GetResourceDirectory",
    "resourcemanager:ListAccounts",
    "resourcemanager:GetAccount",
    "resourcemanager:ListFoldersForParent",
    "resourcemanager:GetFolder",
)

# `rdscan remediate` without --from runs the same scan first: the remediate identity reads too.
REMEDIATE_READ_ACTIONS: tuple[str, ...] = AUDIT_ACTIONS

REMEDIATE_WRITE_ACTIONS: tuple[str, ...] = (
    "resourcemanager:SendVerificationCodeForBindSecureMobilePhone",
    "resourcemanager:BindSecureMobilePhone",
)

# sts:GetCallerIdentity needs no grant on Alibaba Cloud, but listing it documents the call and
# keeps the policy valid where an explicit allow is required.
STS_ACTIONS: tuple[str, ...] = ("sts:GetCallerIdentity",)

RAM_POLICY_KINDS = ("audit", "remediate")

# A RAM policy document as RAM takes it: {"Version": "1", "Statement": [{"Effect", "Action",
# "Resource"}, ...]} (never the YAML audit policy of ``scanner.policy``).
RamPolicyDocument = dict[str, Any]


def ram_policy_document(kind: str) -> RamPolicyDocument:
    """The RAM policy document (Version "1") for ``audit`` or ``remediate``."""
    if kind == "audit":
        statements = [
            {"Effect": "Allow", "Action": list(AUDIT_ACTIONS), "Resource": "*"},
            {"Effect": "Allow", "Action": list(STS_ACTIONS), "Resource": "*"},
        ]
    elif kind == "remediate":
        statements = [
            {"Effect": "Allow", "Action": list(REMEDIATE_READ_ACTIONS), "Resource": "*"},
            {"Effect": "Allow", "Action": list(REMEDIATE_WRITE_ACTIONS), "Resource": "*"},
            {"Effect": "Allow", "Action": list(STS_ACTIONS), "Resource": "*"},
        ]
    else:
        raise ConfigError(
            f"unknown RAM policy kind {kind!r}",
            hint="use `rdscan print-policy audit` or `rdscan print-policy remediate`",
        )
    return {"Version": "1", "Statement": statements}


def render_ram_policy(kind: str) -> str:
    """The RAM policy document for ``kind`` as indented JSON text (what ``print-policy`` prints)."""
    return json.dumps(ram_policy_document(kind), indent=2) + "\n"


def actions_of(document: RamPolicyDocument) -> set[str]:
    """Every action an Allow statement of ``document`` grants."""
    granted: set[str] = set()
    for st in document.get("Statement", []):
        if st.get("Effect") == "Allow":
            actions = st.get("Action", [])
            granted.update([actions] if isinstance(actions, str) else actions)
    return granted
