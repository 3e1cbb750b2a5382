"""Synthetic fixtures of any size for ``rdscan emulator generate``; deterministic per seed."""

from __future__ import annotations

import random
from typing import Any

READ_ONLY_ACTIONS = [
    "resourcemanager:ListAccounts",
    "resourcemanager:GetAccount",
    "resourcemanager:ListFoldersForParent",
    "resourcemanager:ListAccountsForParent",
    "resourcemanager:GetFolder",
    "resourcemanager:GetResourceDirectory",
    "sts:GetCallerIdentity",
]
MASTER_ACCOUNT_ID = "1512345678901234"
OUTSIDER_ACCOUNT_ID = "1999999999999999"


def standard_callers(master_account_id: str = MASTER_ACCOUNT_ID) -> list[dict[str, Any]]:
    """The callers every bundled and generated fixture carries (documented in the sample)."""
    m = master_account_id
    return [
        {
            "access_key_id": "LTAI-auditor",
            "access_key_secret": "auditor-secret",
            "arn": f"acs:ram::{m}:user/auditor",
            "identity_type": "RAMUser",
            "allow": list(READ_ONLY_ACTIONS),
        },
        {
            "access_key_id": "LTAI-operator",
            "access_key_secret": "operator-secret",
            "arn": f"acs:ram::{m}:user/operator",
            "identity_type": "RAMUser",
            "allow": ["*"],
        },
        {
            "access_key_id": "LTAI-root",
            "access_key_secret": "root-secret",
            "arn": f"acs:ram::{m}:root",
            "identity_type": "Account",
            "allow": ["*"],
        },
        {
            "access_key_id": "LTAI-lister",
            "access_key_secret": "lister-secret",
            "arn": f"acs:ram::{m}:user/lister",
            "identity_type": "RAMUser",
            "allow": [
                "resourcemanager:ListAccounts",
                "resourcemanager:GetResourceDirectory",
                "sts:GetCallerIdentity",
            ],
        },
        {
            "access_key_id": "LTAI-outsider",
            "access_key_secret": "outsider-secret",
            "arn": f"acs:ram::{OUTSIDER_ACCOUNT_ID}:user/outsider",
            "identity_type": "RAMUser",
            "account_id": OUTSIDER_ACCOUNT_ID,
            "allow": ["*"],
        },
        {
            "access_key_id": "STS.auditor-session",
            "access_key_secret": "sts-secret",
            "security_token": "sts-token-auditor",
            "arn": f"acs:ram::{m}:assumed-role/rdscan-audit/rdscan-session",
            "identity_type": "AssumedRoleUser",
            "allow": ["*"],
        },
    ]


_STATUS_WEIGHTS = [
    ("CreateSuccess", 80),
    ("InviteSuccess", 8),
    ("PromoteVerifying", 3),
    ("PromoteFailed", 3),
    ("CreateVerifying", 2),
    ("PromoteSuccess", 4),
]
_ENVS = ["prod", "staging", "dev", "sandbox"]
_TEAMS = ["payments", "web", "data", "identity", "platform", "mobile", "search", "ml"]


def generate_fixture(
    accounts: int = 1000,
    seed: int = 1,
    missing_ratio: float = 0.3,
    site: str = "cn",
) -> dict[str, Any]:
    """A fixture dict (docs/fixture.md format) with ``accounts`` members, the management account
    first, and the standard callers. About ``missing_ratio`` of the other members have no
    secure mobile phone bound."""
    if accounts < 1:
        raise ValueError("accounts must be at least 1")
    if not 0.0 <= missing_ratio <= 1.0:
        raise ValueError("missing_ratio must be between 0 and 1")
    rng = random.Random(seed)
    root = "r-Gen001"
    folders: list[dict[str, Any]] = []
    leaf_ids: list[str] = [root]
    for i, env in enumerate(_ENVS, start=1):
        env_id = f"fd-gen{i:03d}"
        folders.append({"id": env_id, "name": env.capitalize(), "parent": root})
        leaf_ids.append(env_id)
        for j, team in enumerate(_TEAMS[: 2 + i], start=1):
            team_id = f"fd-gen{i:03d}{j:02d}"
            folders.append({"id": team_id, "name": team.capitalize(), "parent": env_id})
            leaf_ids.append(team_id)
            if j == 1:
                apps_id = f"{team_id}a"
                folders.append({"id": apps_id, "name": "Apps", "parent": team_id})
                leaf_ids.append(apps_id)
    prefix = "86-139" if site == "cn" else "65-8"
    members: list[dict[str, Any]] = [
        {
            "id": MASTER_ACCOUNT_ID,
            "display_name": "management",
            "type": "CloudAccount",
            "status": "CreateSuccess",
            "folder": root,
            "join_method": "created",
            "join_time": "2023-01-01T00:00:00Z",
            "secure_mobile_phone": f"{prefix}00000000"[: len(prefix) + 8],
        }
    ]
    for n in range(1, accounts):
        kind = "ResourceAccount" if rng.random() < 0.8 else "CloudAccount"
        status = rng.choices(
            [s for s, _ in _STATUS_WEIGHTS], weights=[w for _, w in _STATUS_WEIGHTS]
        )[0]
        if kind == "CloudAccount":
            status = "InviteSuccess"
        elif status == "InviteSuccess":
            status = "CreateSuccess"
        env = rng.choice(_ENVS)
        team = rng.choice(_TEAMS)
        entry: dict[str, Any] = {
            "id": str(1000000000000000 + n),
            "display_name": f"{team}-{env}-{n:05d}",
            "type": kind,
            "status": status,
            "folder": rng.choice(leaf_ids),
            "join_method": "created" if kind == "ResourceAccount" else "invited",
            "join_time": f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T08:00:00Z",
            "tags": {"env": env, "team": team},
        }
        if rng.random() >= missing_ratio:
            entry["secure_mobile_phone"] = f"{prefix}{rng.randrange(10**8):08d}"
        members.append(entry)
    return {
        "site": site,
        "resource_directory": {
            "id": "rd-Gen001",
            "root_folder_id": root,
            "master_account_id": MASTER_ACCOUNT_ID,
            "master_account_name": "ops@example.com",
        },
        "folders": folders,
        "accounts": members,
        "callers": standard_callers(),
    }
