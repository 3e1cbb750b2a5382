"""Shared fixtures for the remediation tests: a report.json of sample members, an RdClient on
the emulator, a scripted operator for in-process flows, and a pexpect runner for the CLI."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from scanner.client.settings import Settings
from scanner.emulator import EmulatorServer, Fixture
from scanner.findings import (
    Remediation,
    Result,
    ScanResult,
    Severity,
    Status,
)
from scanner.phones import mask_phone
from scanner.report.results_file import dumps

from ..cli_helpers import fixture_evidence
from ..conftest import child_process_env

# Members of the bundled sample used here (all unbound ResourceAccount, CreateSuccess).
UNBOUND = [
    "1000000000015838",  # data-prod-02
    "1000000000055433",  # billing-prod-07
    "1000000000087109",  # identity-prod-11
    "1000000000118785",  # billing-prod-15
]
CLOUD_ACCOUNT = "1000000000047514"  # search-prod-06, CloudAccount without a phone
NOT_VERIFIED = "1000000000419707"  # mobile-legacy-53: enterprise real-name not verified
BOUND = "1000000000007919"  # payments-prod-01: PASS
OPERATOR = ("LTAI-operator", "operator-secret")
ROOT = ("LTAI-root", "root-secret")


def _folder_path(fixture: Fixture, folder_id: str) -> str:
    names = {f.id: f for f in fixture.folders}
    parts: list[str] = []
    current = folder_id
    while current in names:
        parts.append(names[current].name)
        current = names[current].parent
    return "/".join(["Root", *reversed(parts)])


def result_for(fixture: Fixture, account_id: str) -> Result:
    spec = next(a for a in fixture.accounts if a.id == account_id)
    bound = bool(spec.secure_mobile_phone)
    if bound:
        status, remediation, severity = Status.PASS, Remediation.NONE, Severity.INFO
        reason = "a secure mobile phone is bound"
    else:
        status, severity = Status.FAIL, Severity.HIGH
        remediation = Remediation.API if spec.type == "ResourceAccount" else Remediation.MANUAL
        reason = "no secure mobile phone is bound"
    return Result(
        account_id=spec.id,
        display_name=spec.display_name,
        type=spec.type,
        member_status=spec.status,
        folder_path=_folder_path(fixture, spec.folder),
        has_secure_mobile_phone=bound,
        secure_mobile_phone_masked=mask_phone(spec.secure_mobile_phone),
        result=status,
        severity=severity,
        reason=reason,
        remediation=remediation,
        folder_id=spec.folder,
        tags=tuple(spec.tags),
    )


def scan_of(fixture: Fixture, account_ids: Iterable[str]) -> ScanResult:
    evidence = fixture_evidence(fixture, "scan-test-0001")
    return ScanResult(evidence, tuple(result_for(fixture, a) for a in account_ids))


@pytest.fixture
def report_file(sample_fixture: Fixture, tmp_path: Path) -> Callable[..., Path]:
    """``report_file(ids)`` -> path of a report.json with those sample members."""

    def make(account_ids: Iterable[str], name: str = "report.json") -> Path:
        path = tmp_path / "results" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dumps(scan_of(sample_fixture, account_ids)), encoding="utf-8")
        return path

    return make


@pytest.fixture
def settings_for() -> Callable[..., Settings]:
    def make(srv: EmulatorServer, caller: tuple[str, str] = OPERATOR, **kw: Any) -> Settings:
        kw.setdefault("max_attempts", 2)
        kw.setdefault("retry_base_s", 0.01)
        kw.setdefault("retry_cap_s", 0.05)
        kw.setdefault("retry_budget_s", 1.0)
        return Settings(
            endpoint=srv.endpoint,
            protocol="http",
            access_key_id=caller[0],
            access_key_secret=caller[1],
            **kw,
        )

    return make


class ScriptedOperator:
    """An operator that answers from a script; ``codes`` may be callables reading the outbox."""

    def __init__(
        self,
        *,
        confirm: dict[str, bool] | None = None,
        codes: list[Any] | None = None,
        phones: list[str] | None = None,
        resend: list[bool] | None = None,
        on_confirm: Callable[[str], None] | None = None,
    ) -> None:
        self.confirm_answers = confirm or {}
        self.codes = list(codes or [])
        self.phones = list(phones or [])
        self.resend = list(resend or [])
        self.on_confirm = on_confirm
        self.events: list[Any] = []
        self.asked: list[tuple[str, str]] = []

    def ask_phone(self, item: Any, problem: str) -> str | None:
        self.asked.append(("phone", item.account_id))
        return self.phones.pop(0) if self.phones else None

    def confirm(self, item: Any, phone: Any) -> bool:
        self.asked.append(("confirm", item.account_id))
        answer = self.confirm_answers.get(item.account_id, False)
        if answer and self.on_confirm:
            self.on_confirm(item.account_id)
        return answer

    def ask_code(self, item: Any, phone: Any, sent: Any, tries_left: int) -> str:
        self.asked.append(("code", item.account_id))
        if not self.codes:
            return ""
        code = self.codes.pop(0)
        return str(code(item.account_id) if callable(code) else code)

    def offer_resend(self, item: Any, reason: str) -> bool:
        self.asked.append(("resend", item.account_id))
        return self.resend.pop(0) if self.resend else False

    def notify(self, event: Any) -> None:
        self.events.append(event)

    def text(self) -> str:
        return "\n".join(f"{e.level} {e.account_id} {e.message} {e.hint}" for e in self.events)


@pytest.fixture
def scripted() -> type[ScriptedOperator]:
    return ScriptedOperator


def latest_code(srv: EmulatorServer, account_id: str) -> str:
    codes = [m["code"] for m in srv.outbox() if m["account_id"] == account_id]
    assert codes, f"no code was sent for {account_id}"
    return str(codes[-1])


@pytest.fixture
def code_of() -> Callable[[EmulatorServer, str], str]:
    return latest_code


@pytest.fixture
def cli_env() -> Callable[..., dict[str, str]]:
    """Environment for an `rdscan` child process talking to the emulator."""

    def make(caller: tuple[str, str] = OPERATOR) -> dict[str, str]:
        return child_process_env(caller)

    return make


@pytest.fixture
def rdscan_argv() -> list[str]:
    """The command that runs rdscan as a real process (the console script of this venv)."""
    script = Path(sys.executable).parent / "rdscan"
    assert script.exists(), f"{script} missing: pip install -e . first"
    return [str(script)]


@pytest.fixture
def sdk_phone_flag(sdk_config: Callable[..., Any]) -> Callable[[EmulatorServer, str], Any]:
    """GetAccount 2022-04-19 through the official SDK: the member's HasSecureMobilePhone."""
    from alibabacloud_resourcedirectorymaster20220419.client import Client
    from alibabacloud_resourcedirectorymaster20220419.models import GetAccountRequest

    def flag(srv: EmulatorServer, account_id: str) -> Any:
        client = Client(sdk_config(srv, "auditor"))
        body = client.get_account(GetAccountRequest(account_id=account_id)).body
        return body.account.has_secure_mobile_phone

    return flag
