"""Fixtures for the client and inventory tests: a generated directory served by the emulator."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from scanner.client.settings import Settings
from scanner.emulator import EmulatorServer, parse_fixture

MASTER = "1512345678901234"
OUTSIDER = "1998877665544332"
ROOT = "r-Wm0001"

CALLERS = [
    {
        "access_key_id": "LTAI-auditor",
        "access_key_secret": "auditor-secret",
        "arn": f"acs:ram::{MASTER}:user/auditor",
        "identity_type": "RAMUser",
        "allow": ["resourcemanager:List*", "resourcemanager:Get*"],
    },
    {
        "access_key_id": "LTAI-lister",
        "access_key_secret": "lister-secret",
        "arn": f"acs:ram::{MASTER}:user/lister",
        "identity_type": "RAMUser",
        "allow": ["resourcemanager:ListAccounts", "resourcemanager:GetResourceDirectory"],
    },
    {
        "access_key_id": "LTAI-outsider",
        "access_key_secret": "outsider-secret",
        "arn": f"acs:ram::{OUTSIDER}:user/someone",
        "identity_type": "RAMUser",
        "allow": ["*"],
    },
    {
        "access_key_id": "LTAI-operator",
        "access_key_secret": "operator-secret",
        "arn": f"acs:ram::{MASTER}:user/operator",
        "identity_type": "RAMUser",
        "allow": ["*"],
    },
]

STATUSES = ["CreateSuccess", "InviteSuccess", "PromoteVerifying", "PromoteSuccess"]


def build_fixture(members: int, *, seed: int = 7, depth: int = 3) -> dict[str, Any]:
    """A directory of ``members`` accounts spread over a nested folder tree (and the root)."""
    rng = random.Random(seed)
    folders: list[dict[str, str]] = []
    parents = [ROOT]
    for level in range(depth):
        next_parents = []
        for i, parent in enumerate(parents):
            for j in range(3 if level == 0 else 2):
                fid = f"fd-L{level}p{i}c{j}"
                folders.append({"id": fid, "name": f"Unit {level}.{i}.{j}", "parent": parent})
                next_parents.append(fid)
        parents = next_parents
    places = [ROOT] + [f["id"] for f in folders]
    accounts = []
    for n in range(members):
        kind = "CloudAccount" if n % 7 == 3 else "ResourceAccount"
        account: dict[str, Any] = {
            "id": f"{1000000000000000 + n * 37}",
            "display_name": f"member-{n:05d}",
            "type": kind,
            "status": STATUSES[n % len(STATUSES)],
            "folder": rng.choice(places),
            "join_method": "invited" if kind == "CloudAccount" else "created",
            "tags": {"env": rng.choice(["prod", "dev", "test"]), "idx": str(n)},
        }
        if rng.random() < 0.6:
            account["secure_mobile_phone"] = f"86-139{n:08d}"
        if n % 97 == 50:
            account["omit_phone_flag"] = True
        accounts.append(account)
    return {
        "site": "cn",
        "resource_directory": {
            "id": "rd-3G6R01",
            "root_folder_id": ROOT,
            "master_account_id": MASTER,
            "master_account_name": "ops@example.com",
        },
        "folders": folders,
        "accounts": accounts,
        "callers": CALLERS,
    }


def expected_paths(data: dict[str, Any]) -> dict[str, str]:
    by_id = {f["id"]: f for f in data["folders"]}
    paths = {ROOT: "Root"}

    def path(fid: str) -> str:
        if fid not in paths:
            f = by_id[fid]
            paths[fid] = f"{path(f['parent'])}/{f['name']}"
        return paths[fid]

    for fid in by_id:
        path(fid)
    return paths


StartEmulator = Callable[..., EmulatorServer]


@pytest.fixture
def start_emulator() -> Iterator[StartEmulator]:
    """``start_emulator(fixture_dict, rate_limit=0, latency_ms=0, ...)``: a running emulator."""
    servers: list[EmulatorServer] = []

    def start(data: dict[str, Any], **kwargs: Any) -> EmulatorServer:
        kwargs.setdefault("rate_limit", 0)
        srv = EmulatorServer(parse_fixture(data), **kwargs).start()
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.stop()


def settings_for(srv: EmulatorServer, who: str = "auditor", **kwargs: Any) -> Settings:
    """Settings pointing at ``srv`` as one of the sample callers (fast retries by default)."""
    kwargs.setdefault("rate", 1000.0)
    kwargs.setdefault("retry_base_s", 0.01)
    kwargs.setdefault("retry_cap_s", 0.1)
    kwargs.setdefault("retry_budget_s", 20.0)
    kwargs.setdefault("access_key_id", f"LTAI-{who}")
    kwargs.setdefault("access_key_secret", f"{who}-secret")
    return Settings(endpoint=srv.endpoint, protocol="http", **kwargs)


@pytest.fixture
def make_fixture() -> Callable[..., dict[str, Any]]:
    return build_fixture


@pytest.fixture
def make_settings() -> Callable[..., Settings]:
    return settings_for


@pytest.fixture
def paths_of() -> Callable[[dict[str, Any]], dict[str, str]]:
    return expected_paths
