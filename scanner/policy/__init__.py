"""The audit policy stage: the policy and exemptions as values (``model``), read and checked
from YAML with every problem and its line (``files``, ``yamlcheck``).

The audit policy is the YAML file that says which members the secure-phone check covers; it
is not a RAM policy document (those live in ``scanner.client.ram_policy``).
"""

from __future__ import annotations

from .files import (
    FIX_HINT,
    FileCheck,
    check_file,
    load_exemptions,
    load_policy,
    validate_file,
    validate_files,
)
from .frameworks import (
    MAPPING_RELATIONS,
    FrameworkItem,
    FrameworkMapping,
    check_control,
    check_frameworks,
    load_frameworks,
    select_frameworks,
)
from .model import (
    ACTIVE_STATUSES,
    CLOUD_ACCOUNT_RESULTS,
    MEMBER_STATUSES,
    MEMBER_TYPES,
    RELATIONS,
    SOON_DAYS,
    CloudAccountRule,
    Exemption,
    Exemptions,
    Policy,
    RelatedControl,
    Scope,
    TagRule,
    expires_soon,
    is_known_status,
)

__all__ = [
    "ACTIVE_STATUSES",
    "CLOUD_ACCOUNT_RESULTS",
    "FIX_HINT",
    "MAPPING_RELATIONS",
    "MEMBER_STATUSES",
    "MEMBER_TYPES",
    "RELATIONS",
    "SOON_DAYS",
    "CloudAccountRule",
    "Exemption",
    "Exemptions",
    "FileCheck",
    "FrameworkItem",
    "FrameworkMapping",
    "Policy",
    "RelatedControl",
    "Scope",
    "TagRule",
    "check_control",
    "check_file",
    "check_frameworks",
    "expires_soon",
    "is_known_status",
    "load_exemptions",
    "load_frameworks",
    "load_policy",
    "select_frameworks",
    "validate_file",
    "validate_files",
]
