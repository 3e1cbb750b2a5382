"""Synthetic ScanResult values for the report tests (no network: reports are pure renderers)."""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from scanner.findings import (
    Caller,
    ControlRef,
    Evidence,
    ExemptionInfo,
    Remediation,
    RemediationOutcome,
    Result,
    ScanResult,
    Severity,
    Status,
)

CHROMIUM = Path("/usr/bin/chromium")  # Debian's chromium and chromium-driver (.ci/run installs)
CHROMEDRIVER = Path("/usr/bin/chromedriver")


@contextmanager
def chromium(profile: Path, window_size: str, *tools: str) -> Iterator[object]:
    """A headless Chromium (selenium) with a fresh profile folder, quit on exit. Skips the test
    when Chromium, its driver or one of ``tools`` (commands, e.g. ``pdftotext``) is missing,
    and fails it instead under ``RDSCAN_REQUIRE_BROWSER=1`` (CI)."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    missing += [t for t in tools if shutil.which(t) is None]
    if missing:
        if os.environ.get("RDSCAN_REQUIRE_BROWSER") == "1":
            pytest.fail(f"RDSCAN_REQUIRE_BROWSER=1 but {', '.join(missing)} missing")
        pytest.skip(f"not installed: {', '.join(missing)}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        "--disable-quic",
        f"--window-size={window_size}",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(arg)
    drv = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    try:
        yield drv
    finally:
        drv.quit()


XSS = "<img src=x onerror=alert(1)>"

# Names that try to break out of HTML, Markdown tables, CSV cells and JS.
HOSTILE = (
    XSS,
    "<script>window.__pwned=1</script>",
    '"><svg onload=alert(2)>',
    "' onmouseover='alert(3)",
    "pipe | in | name",
    "`code` and ``double``",
    "*bold* _em_ **strong** ~~strike~~",
    "[link](javascript:alert(4))",
    "![img](x)",
    "line one\nline two\r\nline three\rfour",
    "# heading",
    "- list item",
    "+ plus item",
    "= setext",
    "1. ordered",
    "2) ordered",
    "> quote",
    "back\\slash\\",
    "&lt;b&gt;entity&lt;/b&gt; &amp; R&D",
    '=HYPERLINK("http://evil.example","click")',
    "+SUM(1,2)",
    "-2+3",
    "@cmd",
    "\tTAB start",
    "$x^2$ math",
    "<https://autolink.example>",
    "a\x00b\x1bc\x7fd",
    "emoji 🚀 ünïcödé 中文",
    "|",
    "\\|",
    "</td></tr></table><b>x</b>",
    "{{ 7*7 }} {% raw %}",
    "    indented code",
    "---",
    "***",
    "<!-- comment -->",
    "x\u2028y\u2029z",
)


def _evidence(n_calls: int) -> Evidence:
    return Evidence(
        scan_id="scan-20261127-0001",
        started_at="2026-11-27T09:00:00Z",
        finished_at="2026-11-27T09:00:42Z",
        tool_version="0.1.0",
        site="cn",
        caller=Caller(
            arn="acs:ram::1512345678901234:user/auditor",
            account_id="1512345678901234",
            identity_type="RAMUser",
        ),
        resource_directory_id="rd-3G6R01",
        master_account_id="1512345678901234",
        policy_id="secure-mobile-phone",
        policy_digest="sha256:" + "ab" * 32,
        api_calls={"ListAccounts": 2, "GetAccount": n_calls, "GetCallerIdentity": 1},
        exemptions_digest="sha256:" + "cd" * 32,
        policy_title="Every member has a secure mobile phone",
        policy_rationale="The secure phone receives verification codes.",
        policy_remediation="Run rdscan remediate.",
        policy_severity="high",
        related_controls=(
            ControlRef(
                "CIS Alibaba Cloud Benchmark v1.0.0", "1.3", "Ensure <MFA> | *now*", "supporting"
            ),
            ControlRef("Own <framework>", "SEC-1", "", "equivalent"),
        ),
        as_of="2026-12-01",  # not the scan date: the reports say so
        exemptions_name="exemptions.yaml",
        exemptions_count=3,
    )


def _ex(
    days_left: int, *, ticket: str = "SEC-101", owner: str = "alice@example.com"
) -> ExemptionInfo:
    return ExemptionInfo(
        scope="account:x",
        reason="legacy billing account | migrating",
        owner=owner,
        ticket=ticket,
        expires=f"2026-{12 if days_left >= 0 else 10:02d}-15",
        expired=days_left < 0,
        days_left=days_left,
    )


def make_golden_scan() -> ScanResult:
    """The fixed scan the golden files are made from: every status, hostile names, exemptions."""
    R, C = "ResourceAccount", "CloudAccount"
    rows: list[Result] = []

    def add(i: int, name: str, typ: str, folder: str, result: Status, **kw: object) -> None:
        defaults: dict[str, object] = {
            "has_secure_mobile_phone": result is Status.PASS,
            "secure_mobile_phone_masked": "86-139****1234" if result is Status.PASS else None,
            "severity": Severity.HIGH if result in (Status.FAIL, Status.ERROR) else Severity.INFO,
            "reason": {
                Status.PASS: "secure mobile phone bound",
                Status.FAIL: "no secure mobile phone bound",
                Status.EXEMPT: "exempted: legacy billing account",
                Status.SKIPPED: "out of scope: status PromoteVerifying",
                Status.ERROR: "GetAccount: NoPermission (HTTP 403)",
            }[result],
            "remediation": Remediation.NONE,
            "member_status": "CreateSuccess",
        }
        defaults.update(kw)
        rows.append(
            Result(
                account_id=f"10000000000000{i:02d}",
                display_name=name,
                type=typ,
                folder_path=folder,
                folder_id=f"fd-{i:03d}",
                result=result,
                **defaults,  # type: ignore[arg-type]
            )
        )

    prod, apps, sandbox = "Root/Production", "Root/Production/Apps/Web", "Root/Sandbox"
    add(1, "prod-web", R, apps, Status.PASS, tags=(("env", "prod"),))
    add(2, "prod-db", R, prod, Status.PASS, secure_mobile_phone_masked="86-13900005678")
    add(3, XSS, R, apps, Status.FAIL, remediation=Remediation.API)
    add(4, "pipe | in | name", C, prod, Status.FAIL, remediation=Remediation.MANUAL)
    add(
        5,
        "line one\nline two",
        R,
        sandbox,
        Status.FAIL,
        remediation=Remediation.API,
        severity=Severity.CRITICAL,
    )
    add(
        6,
        '=HYPERLINK("http://evil.example","x")',
        C,
        sandbox,
        Status.FAIL,
        remediation=Remediation.MANUAL,
        severity=Severity.MEDIUM,
    )
    add(7, "billing-legacy", R, prod, Status.EXEMPT, exemption=_ex(120))
    add(8, "soon-to-expire", R, prod, Status.EXEMPT, exemption=_ex(5, ticket="SEC-7"))
    add(
        9,
        "expired *exemption*",
        R,
        apps,
        Status.FAIL,
        remediation=Remediation.API,
        reason="exemption expired on 2026-10-15; no secure mobile phone bound",
        exemption=_ex(-43, ticket="SEC-3", owner="bob@example.com"),
    )
    add(10, "`rm -rf`", R, sandbox, Status.SKIPPED, member_status="PromoteVerifying")
    add(11, "no-access", R, "Root", Status.ERROR, has_secure_mobile_phone=None)
    add(
        12,
        "# not a heading",
        C,
        "Root/Sandbox/Team [A]",
        Status.ERROR,
        has_secure_mobile_phone=None,
        reason="GetAccount: response lacks HasSecureMobilePhone; caller 86-13912345678 |x",
    )
    return ScanResult(evidence=_evidence(12), results=tuple(rows))


def make_outcomes() -> tuple[RemediationOutcome, ...]:
    return (
        RemediationOutcome(
            account_id="1000000000000003",
            phone_masked="86-13900009999",  # deliberately unmasked: the report must mask it
            outcome="verified",
            at="2026-11-27T10:05:00Z",
            operator_arn="acs:ram::1512345678901234:user/operator",
            request_id="4D7F-REQ-1",
            detail="bound and verified by GetAccount",
        ),
        RemediationOutcome(
            account_id="1000000000000005",
            phone_masked="86-139****0000",
            outcome="failed",
            at="2026-11-27T10:07:00Z",
            operator_arn="acs:ram::1512345678901234:user/operator",
            detail="InvalidVerificationCode <b>",
        ),
    )


def make_synthetic_scan(n: int, seed: int = 7, hostile_every: int = 0) -> ScanResult:
    """``n`` members spread over nested folders, statuses in realistic proportions."""
    rng = random.Random(seed)
    folders = ["Root"] + [
        f"Root/{top}/{sub}" for top in ("Production", "Staging", "Sandbox") for sub in "ABCDEFG"
    ]
    statuses = [Status.PASS] * 70 + [Status.FAIL] * 15 + [Status.EXEMPT] * 5
    statuses += [Status.SKIPPED] * 5 + [Status.ERROR] * 5
    rows = []
    for i in range(n):
        st = rng.choice(statuses)
        typ = rng.choice(("ResourceAccount", "ResourceAccount", "CloudAccount"))
        name = f"acct-{i:05d}"
        if hostile_every and i % hostile_every == 0:
            name = HOSTILE[(i // hostile_every) % len(HOSTILE)]
        rows.append(
            Result(
                account_id=f"{1000000000000000 + i}",
                display_name=name,
                type=typ,
                member_status="CreateSuccess",
                folder_path=rng.choice(folders),
                folder_id=f"fd-{i % 22:03d}",
                has_secure_mobile_phone=None if st is Status.ERROR else st is Status.PASS,
                secure_mobile_phone_masked="86-139****1234" if st is Status.PASS else None,
                result=st,
                severity=Severity.HIGH if st is Status.FAIL else Severity.INFO,
                reason=f"reason for {st.value.lower()}",
                remediation=(
                    (Remediation.API if typ == "ResourceAccount" else Remediation.MANUAL)
                    if st is Status.FAIL
                    else Remediation.NONE
                ),
                exemption=_ex(rng.randint(0, 200)) if st is Status.EXEMPT else None,
            )
        )
    return ScanResult(evidence=_evidence(n), results=tuple(rows))


@pytest.fixture
def golden_scan() -> ScanResult:
    return make_golden_scan()


@pytest.fixture
def outcomes() -> tuple[RemediationOutcome, ...]:
    return make_outcomes()


@pytest.fixture
def synthetic_scan() -> Callable[..., ScanResult]:
    return make_synthetic_scan


@pytest.fixture
def hostile_names() -> tuple[str, ...]:
    return HOSTILE


@pytest.fixture
def golden_dir() -> Path:
    return Path(__file__).parent / "golden"


NASTY_ALPHABET = "|`*_[]()<>#-+=!\\\n\r\t&;~$ :/aZ0@\"'{}%.\x00\u2028é中"


def nasty_strings(count: int, seed: int = 20261127) -> list[str]:
    """Seeded random strings made of Markdown/HTML/CSV metacharacters (hypothesis-like)."""
    rng = random.Random(seed)
    out = list(HOSTILE)
    for _ in range(count):
        n = rng.randint(1, 24)
        out.append("".join(rng.choice(NASTY_ALPHABET) for _ in range(n)))
    return out


def make_hostile_scan(names: list[str]) -> ScanResult:
    """A scan where every text field of every member (and the evidence) is hostile."""
    statuses = list(Status)
    rows = []
    for i, name in enumerate(names):
        st = statuses[i % len(statuses)]
        other = names[(i + 1) % len(names)]
        third = names[(i + 2) % len(names)]
        rows.append(
            Result(
                account_id=f"{2000000000000000 + i}",
                display_name=name,
                type=other,
                member_status=third,
                folder_path=other,
                folder_id=third,
                tags=((name, other),),
                has_secure_mobile_phone=None if st is Status.ERROR else st is Status.PASS,
                secure_mobile_phone_masked=None,
                result=st,
                severity=Severity.HIGH,
                reason=third,
                remediation=Remediation.API if st is Status.FAIL else Remediation.NONE,
                exemption=(
                    ExemptionInfo(
                        scope=name,
                        reason=other,
                        owner=third,
                        ticket=name,
                        expires=other,
                        expired=i % 3 == 0,
                        days_left=-1 if i % 3 == 0 else 10,
                    )
                    if st in (Status.EXEMPT, Status.FAIL)
                    else None
                ),
            )
        )
    hostile = HOSTILE[0]
    ev = Evidence(
        scan_id=HOSTILE[4],
        started_at=HOSTILE[5],
        finished_at=HOSTILE[6],
        tool_version=HOSTILE[9],
        site=HOSTILE[10],
        caller=Caller(arn=hostile, account_id=HOSTILE[1], identity_type=HOSTILE[7]),
        resource_directory_id=HOSTILE[2],
        master_account_id=HOSTILE[3],
        policy_id=HOSTILE[8],
        policy_digest=HOSTILE[11],
        api_calls={HOSTILE[12]: 3, hostile: 1},
        exemptions_digest=HOSTILE[13],
    )
    return ScanResult(evidence=ev, results=tuple(rows))


def make_hostile_outcomes(names: list[str]) -> tuple[RemediationOutcome, ...]:
    return tuple(
        RemediationOutcome(
            account_id=f"{2000000000000000 + i}",
            phone_masked="86-139****0000",
            outcome=name,
            at=names[-1 - i],
            operator_arn=name,
            request_id=names[i + 1],
            detail=names[i + 2],
        )
        for i, name in enumerate(names[:20])
    )


@pytest.fixture
def hostile_scan() -> Callable[..., ScanResult]:
    return make_hostile_scan


@pytest.fixture
def hostile_outcomes() -> Callable[..., tuple[RemediationOutcome, ...]]:
    return make_hostile_outcomes


@pytest.fixture
def nasty() -> Callable[..., list[str]]:
    return nasty_strings
