"""Fixtures for the policy, exemptions and engine tests: small inventories built directly."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scanner.findings import Severity
from scanner.inventory.model import Directory, Folder, Inventory, Member
from scanner.policy import CloudAccountRule, Exemption, Exemptions, Policy, Scope

ROOT = "r-root01"


@pytest.fixture
def folders() -> dict[str, Folder]:
    """Root / Production / Apps, Root / Sandbox / Team, and Root / SandboxProd (a prefix trap)."""
    items = [
        Folder(ROOT, "Root", None, "Root"),
        Folder("fd-prod", "Production", ROOT, "Root/Production"),
        Folder("fd-apps", "Apps", "fd-prod", "Root/Production/Apps"),
        Folder("fd-sbx", "Sandbox", ROOT, "Root/Sandbox"),
        Folder("fd-team", "Team", "fd-sbx", "Root/Sandbox/Team"),
        Folder("fd-sbxprod", "SandboxProd", ROOT, "Root/SandboxProd"),
    ]
    return {f.id: f for f in items}


@pytest.fixture
def make_member(folders: dict[str, Folder]) -> Callable[..., Member]:
    counter = iter(range(1, 10**6))

    def make(**kw: Any) -> Member:
        folder_id = kw.pop("folder_id", "fd-prod")
        tags = kw.pop("tags", {})
        values: dict[str, Any] = {
            "account_id": f"1{next(counter):015d}",
            "display_name": "member",
            "type": "ResourceAccount",
            "status": "CreateSuccess",
            "folder_id": folder_id,
            "folder_path": folders[folder_id].path if folder_id in folders else folder_id,
            "tags": tuple(sorted(tags.items())),
            "has_secure_mobile_phone": False,
        }
        values.update(kw)
        return Member(**values)

    return make


@pytest.fixture
def make_inventory(folders: dict[str, Folder]) -> Callable[..., Inventory]:
    def make(*members: Member) -> Inventory:
        return Inventory(
            directory=Directory("rd-test01", ROOT, "1512345678901234"),
            folders=folders,
            members=tuple(members),
        )

    return make


@pytest.fixture
def make_policy() -> Callable[..., Policy]:
    def make(
        *,
        severity: Severity = Severity.HIGH,
        cloud: CloudAccountRule | None = None,
        **scope: Any,
    ) -> Policy:
        return Policy(
            id="test-policy",
            title="Test policy",
            severity=severity,
            rationale="why",
            remediation="how",
            related_controls=(),
            scope=Scope(**scope),
            cloud_account_without_phone=cloud or CloudAccountRule(),
            digest="sha256:" + "0" * 64,
            source="<test>",
        )

    return make


@pytest.fixture
def make_exemptions() -> Callable[..., Exemptions]:
    """make_exemptions(("account", "1000...", date), ("folder", "Root/Sandbox", date), ...)"""

    def make(*specs: tuple[str, str, dt.date]) -> Exemptions:
        entries = []
        for n, (kind, target, expires) in enumerate(specs, start=1):
            entries.append(
                Exemption(
                    account_id=target if kind == "account" else None,
                    folder=target if kind == "folder" else None,
                    reason=f"reason {n}",
                    owner=f"owner{n}@example.com",
                    ticket=f"SEC-{n}",
                    expires=expires,
                    line=n,
                )
            )
        return Exemptions(tuple(entries), "sha256:" + "1" * 64, "<test>")

    return make


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """write(name, text) -> the path of a new file holding ``text`` (or bytes)."""

    def make(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return make
