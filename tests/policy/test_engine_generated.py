"""A generated directory of 1,200 members: every result checked against an expectation derived
from how each member was generated (not from the engine's own matching code)."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from scanner.engine import evaluate, exit_code, soon_to_expire
from scanner.findings import Remediation, Severity, Status, coverage_of, summarize
from scanner.inventory.model import Directory, Folder, Inventory, Member
from scanner.policy import CloudAccountRule, Exemption, Exemptions, Policy, Scope, TagRule

TODAY = dt.date(2026, 11, 27)
MEMBERS = 1200
ROOT = "r-gen001"
STATUSES = (
    "CreateSuccess",
    "InviteSuccess",
    "PromoteVerifying",
    "PromoteFailed",
    "PromoteExpired",
    "PromoteCancelled",
    "PromoteSuccess",
)


@dataclass(frozen=True)
class Node:
    """A generated folder and the facts the expectation needs about it."""

    folder: Folder
    top: str  # name of its top-level folder ("" for the root)
    in_lab: bool  # Root/Sandbox/Lab or below (excluded by path)
    in_legacy: bool  # Root/Shared/Legacy or below (expired folder exemption, by id)


def build_tree(rng: random.Random) -> list[Node]:
    root = Folder(ROOT, "Root", None, "Root")
    nodes = [Node(root, "", False, False)]
    fixed = {
        "Production": ["Apps", "Data"],
        "Sandbox": ["Lab", "LabX", "Team"],
        "Shared": ["Legacy", "Tools"],
        "Dev": ["Web"],
    }
    n = 0

    def add(parent: Node, name: str, top: str) -> Node:
        nonlocal n
        n += 1
        path = f"{parent.folder.path}/{name}"
        fid = "fd-legacy" if path == "Root/Shared/Legacy" else f"fd-{n:04d}"
        if path == "Root/Dev":
            fid = "fd-dev"
        node = Node(
            Folder(fid, name, parent.folder.id, path),
            top,
            parent.in_lab or path == "Root/Sandbox/Lab",
            parent.in_legacy or path == "Root/Shared/Legacy",
        )
        nodes.append(node)
        return node

    for top, children in fixed.items():
        t = add(nodes[0], top, top)
        for child in children:
            c = add(t, child, top)
            for i in range(rng.randint(1 if child == "Legacy" else 0, 2)):  # grandchildren
                add(c, f"Sub{i}", top)
    return nodes


def test_generated_directory_every_result_matches():
    rng = random.Random(20261127)
    nodes = build_tree(rng)
    by_id = {n.folder.id: n for n in nodes}
    members = []
    for i in range(MEMBERS):
        node = rng.choice(nodes)
        kind = rng.random()
        phone: bool | None = kind < 0.5
        read_error = None
        if kind > 0.95:
            phone = None
            if rng.random() < 0.6:
                read_error = f"GetAccount: Throttling.User retries exhausted (member {i})"
        tags: dict[str, str] = {"env": rng.choice(["prod", "dev", "test"])}
        if rng.random() < 0.05:
            tags["lifecycle"] = "retiring"
        elif rng.random() < 0.05:
            tags["lifecycle"] = "active"
        members.append(
            Member(
                account_id=f"{1000000000000000 + i}",
                display_name=f"member-{i}",
                type="CloudAccount" if rng.random() < 0.2 else "ResourceAccount",
                status=rng.choice(STATUSES),
                folder_id=node.folder.id,
                folder_path=node.folder.path,
                tags=tuple(sorted(tags.items())),
                has_secure_mobile_phone=phone,
                secure_mobile_phone_masked="86-139****0000" if phone else None,
                read_error=read_error,
            )
        )
    inventory = Inventory(
        Directory("rd-gen", ROOT, "1512345678901234"),
        {n.folder.id: n.folder for n in nodes},
        tuple(members),
    )

    policy = Policy(
        id="gen",
        title="generated",
        severity=Severity.HIGH,
        rationale="r",
        remediation="m",
        related_controls=(),
        scope=Scope(
            statuses=tuple(s for s in STATUSES if s != "PromoteCancelled"),
            exclude_folders=("fd-dev", "Root/Sandbox/Lab"),
            exclude_tags=(TagRule("lifecycle", "retiring"),),
        ),
        cloud_account_without_phone=CloudAccountRule(Status.FAIL, Severity.MEDIUM),
        digest="sha256:x",
        source="<generated>",
    )

    # Account exemptions for 60 random members: valid (far or soon) or expired.
    account_expiry: dict[str, dt.date] = {}
    for m in rng.sample(members, 60):
        account_expiry[m.account_id] = TODAY + dt.timedelta(days=rng.choice([-40, -1, 0, 10, 90]))
    entries = [
        Exemption(aid, None, "r", "o", f"T-{aid}", exp, 0) for aid, exp in account_expiry.items()
    ]
    shared_expiry = TODAY + dt.timedelta(days=120)
    legacy_expiry = TODAY - dt.timedelta(days=5)
    entries += [
        Exemption(None, "Root/Shared", "shared", "o", "T-shared", shared_expiry, 0),
        Exemption(None, "fd-legacy", "legacy", "o", "T-legacy", legacy_expiry, 0),
    ]
    exemptions = Exemptions(tuple(entries), "sha256:y", "<generated>")

    results = evaluate(policy, exemptions, inventory, TODAY)

    assert len(results) == MEMBERS
    assert [r.account_id for r in results] == [m.account_id for m in members]
    seen: dict[Status, int] = dict.fromkeys(Status, 0)
    for m, r in zip(members, results, strict=True):
        node = by_id[m.folder_id]
        tags = dict(m.tags)
        # --- expectation, from the generator's own facts
        if m.status == "PromoteCancelled":
            want, why = Status.SKIPPED, "PromoteCancelled"
        elif node.top == "Dev":
            want, why = Status.SKIPPED, "fd-dev"
        elif node.in_lab:
            want, why = Status.SKIPPED, "Root/Sandbox/Lab"
        elif tags.get("lifecycle") == "retiring":
            want, why = Status.SKIPPED, "lifecycle=retiring"
        elif m.read_error:
            want, why = Status.ERROR, m.read_error
        elif m.has_secure_mobile_phone is None:
            want, why = Status.ERROR, "lacks HasSecureMobilePhone"
        elif m.has_secure_mobile_phone:
            want, why = Status.PASS, "bound"
        else:
            expiry = None
            scope = None
            if m.account_id in account_expiry:
                expiry, scope = account_expiry[m.account_id], f"account:{m.account_id}"
            elif node.in_legacy:
                expiry, scope = legacy_expiry, "folder:fd-legacy"
            elif node.top == "Shared":
                expiry, scope = shared_expiry, "folder:Root/Shared"
            want = Status.EXEMPT if expiry is not None and expiry >= TODAY else Status.FAIL
            why = "expired on" if expiry is not None and expiry < TODAY else ""
            assert (r.exemption.scope if r.exemption else None) == scope, m
            if expiry is not None:
                assert r.exemption is not None
                assert r.exemption.expired is (expiry < TODAY)
                assert r.exemption.days_left == (expiry - TODAY).days
        assert r.result is want, (m, r.reason)
        assert why in r.reason, (m, r.reason)
        seen[want] += 1
        # --- severity and remediation for each outcome
        if want in (Status.PASS, Status.SKIPPED):
            assert r.severity is Severity.INFO
            assert r.remediation is Remediation.NONE
            assert r.exemption is None
        elif want is Status.ERROR:
            assert r.severity is Severity.HIGH and r.exemption is None
        else:
            cloud = m.type == "CloudAccount"
            assert r.severity is (Severity.MEDIUM if cloud else Severity.HIGH)
            assert r.remediation is (Remediation.MANUAL if cloud else Remediation.API)
        assert r.reason.strip()

    # the prefix trap: Root/Sandbox/LabX is not under the excluded Root/Sandbox/Lab
    labx = [r for r in results if r.folder_path.startswith("Root/Sandbox/LabX")]
    assert labx and not any("Root/Sandbox/Lab" in r.reason for r in labx)
    assert any(r.folder_path.startswith("Root/Shared/Legacy/") for r in results)  # sub-folder
    # every status occurs in this directory, and the summary agrees
    assert all(seen[s] > 0 for s in Status), seen
    assert summarize(results) == {s.value: n for s, n in seen.items()}
    cov = coverage_of(results)
    assert (cov.members, cov.errors) == (MEMBERS, seen[Status.ERROR])
    assert exit_code(results) == 3
    soon = soon_to_expire(results)
    assert soon and all(0 <= (r.exemption.days_left if r.exemption else -1) <= 30 for r in soon)
    # the engine is pure: the same inputs give the same results
    assert evaluate(policy, exemptions, inventory, TODAY) == results
