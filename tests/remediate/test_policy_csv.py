"""print-policy documents, the phones CSV parser, verify-journal --expect-head."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli import main
from scanner.client.ram_policy import AUDIT_ACTIONS, actions_of, ram_policy_document
from scanner.errors import ConfigError
from scanner.remediate.journal import JournalWriter
from scanner.remediate.phone_sources import parse_phones_csv

SEND = "resourcemanager:SendVerificationCodeForBindSecureMobilePhone"
BIND = "resourcemanager:BindSecureMobilePhone"
READ = {
    "resourcemanager:ListAccounts",
    "resourcemanager:GetAccount",
    "resourcemanager:ListFoldersForParent",
    "resourcemanager:GetFolder",
    "resourcemanager:GetResourceDirectory",
    "sts:GetCallerIdentity",
}


def _printed(kind: str) -> dict:
    result = CliRunner().invoke(main, ["print-policy", kind])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_audit_policy_is_read_only() -> None:
    doc = _printed("audit")
    assert doc == ram_policy_document("audit")
    assert doc["Version"] == "1"
    granted = actions_of(doc)
    assert granted >= READ
    assert not {SEND, BIND} & granted
    assert all(a.split(":")[1].startswith(("List", "Get")) for a in granted)
    assert all(st["Effect"] == "Allow" and st["Resource"] for st in doc["Statement"])
    assert "*" not in granted and not any(a.endswith("*") for a in granted)


def test_remediate_policy_adds_send_and_bind_only() -> None:
    # `rdscan remediate` without --from scans first: the remediate identity needs the read-only
    # actions too, plus Send and Bind and nothing else.
    doc = _printed("remediate")
    granted = actions_of(doc)
    assert granted == READ | {SEND, BIND}
    assert set(AUDIT_ACTIONS) <= granted


def test_unknown_policy_kind_is_usage_error() -> None:
    result = CliRunner().invoke(main, ["print-policy", "admin"])
    assert result.exit_code == 2
    with pytest.raises(ConfigError):
        ram_policy_document("admin")


def test_phones_csv_parsing() -> None:
    text = "\ufeffAccount_ID , Phone\n1000,86-13700001111\n\n2000 , +86-13700002222 \n"
    assert parse_phones_csv(text) == {"1000": "86-13700001111", "2000": "+86-13700002222"}
    with pytest.raises(ConfigError, match="header must name the columns"):
        parse_phones_csv("1000,86-13700001111\n")
    with pytest.raises(ConfigError, match="line 3: expected the columns"):
        parse_phones_csv("account_id,phone\n1,86-1\n2\n")
    with pytest.raises(ConfigError, match="listed twice") as info:
        parse_phones_csv("account_id,phone\n1,86-13700001111\n1,86-13700009999\n")
    assert "13700001111" not in info.value.message and "86-137****1111" in info.value.message
    with pytest.raises(ConfigError, match="is empty"):
        parse_phones_csv("")


def test_verify_journal_expect_head_detects_cut_last_line(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    with JournalWriter(path, operator_arn="arn") as j:
        j.append("confirm", "confirmed", account_id="A1")
        j.append("verify", "verified", account_id="A1")
    runner = CliRunner()
    ok = runner.invoke(main, ["verify-journal", str(path)])
    assert ok.exit_code == 0, ok.output
    head = ok.output.rsplit("head sha256 ", 1)[1].strip()
    assert runner.invoke(main, ["verify-journal", str(path), "--expect-head", head]).exit_code == 0
    path.write_bytes(path.read_bytes().split(b"\n", 1)[0] + b"\n")  # drop the last line
    assert runner.invoke(main, ["verify-journal", str(path)]).exit_code == 0  # chain alone: ok
    cut = runner.invoke(main, ["verify-journal", str(path), "--expect-head", head])
    assert cut.exit_code == 1
    assert "not the expected" in cut.output


def test_audit_policy_grants_only_what_the_scan_calls() -> None:
    # ListAccountsForParent is never called by rdscan: least privilege leaves it out.
    assert actions_of(ram_policy_document("audit")) == READ


def _caller_with(fixture, key: str, document: dict):
    base = fixture.caller("LTAI-operator")
    assert base is not None
    return dataclasses.replace(
        base,
        access_key_id=key,
        access_key_secret=key + "-secret",
        arn=base.arn.rsplit("/", 1)[0] + "/" + key.lower(),
        allow=tuple(sorted(actions_of(document))),
    )


def test_printed_policies_suffice_on_the_emulator(
    emulator, sample_fixture, settings_for, scripted, code_of, tmp_path
) -> None:
    """A caller allowed exactly the audit policy scans without an ERROR; one allowed exactly the
    remediate policy scans too (remediate without --from) and remediates. Every action called is
    granted."""
    from scanner.client.sdk import RdClient
    from scanner.policy import load_exemptions, load_policy
    from scanner.remediate import RdClientApi, build_plan, run_flow
    from scanner.remediate.journal import JournalWriter
    from scanner.remediate.phone_sources import PhoneSources
    from scanner.resources import default_policy_path
    from scanner.scan import ScanRequest, run_scan

    audit = _caller_with(sample_fixture, "LTAI-policy-audit", ram_policy_document("audit"))
    fix = _caller_with(sample_fixture, "LTAI-policy-fix", ram_policy_document("remediate"))
    fixture = dataclasses.replace(sample_fixture, callers=(*sample_fixture.callers, audit, fix))
    srv = emulator(fixture)

    client = RdClient(settings_for(srv, (audit.access_key_id, audit.access_key_secret)))
    scan = run_scan(
        ScanRequest(
            settings=client.settings,
            policy=load_policy(default_policy_path()),
            exemptions=load_exemptions(None),
        ),
        client=client,
    )
    assert not [r for r in scan.results if r.result.value == "ERROR"]
    assert {a.split(":")[1] for a in actions_of(ram_policy_document("audit"))} >= set(
        client.api_calls()
    )

    fixer = RdClient(settings_for(srv, (fix.access_key_id, fix.access_key_secret)))
    scan = run_scan(
        ScanRequest(
            settings=fixer.settings,
            policy=load_policy(default_policy_path()),
            exemptions=load_exemptions(None),
        ),
        client=fixer,
    )
    assert not [r for r in scan.results if r.result.value == "ERROR"]
    target = next(
        r for r in scan.results if r.result.value == "FAIL" and r.remediation.value == "api"
    )
    plan = build_plan(
        scan,
        site=fixture.site,
        accounts=[target.account_id],
        phones=PhoneSources(by_account={target.account_id: "86-13700003333"}),
    )
    op = scripted(confirm={target.account_id: True}, codes=[lambda aid: code_of(srv, aid)])
    with JournalWriter(tmp_path / "j.jsonl") as writer:
        summary = run_flow(plan, RdClientApi(fixer), writer, op)
    assert [o.outcome for o in summary.outcomes] == ["verified"], op.text()
    granted = {a.split(":")[1] for a in actions_of(ram_policy_document("remediate"))}
    assert granted >= set(fixer.api_calls())


def test_phones_csv_with_swapped_columns_never_shows_a_number(
    emulator, report_file, cli_env, tmp_path: Path
) -> None:
    """Values in the wrong columns: the 'account ids' are phone numbers. They were printed in
    full as accounts not found in the results; now the file is refused, numbers masked."""
    with pytest.raises(ConfigError, match="line 2") as info:
        parse_phones_csv("account_id,phone\n86-13700001111,1000000000015838\n")
    assert "13700001111" not in info.value.message + (info.value.hint or "")
    assert "86-137****1111" in info.value.message
    assert "swapped" in (info.value.hint or "")

    srv = emulator()
    report = report_file(["1000000000015838"])
    phones = tmp_path / "phones.csv"
    phones.write_text("phone,account_id\n1000000000015838,+86-13700001111\n")
    args = ["remediate", "--from", str(report), "--phones", str(phones), "--dry-run"]
    args += ["--endpoint", srv.endpoint, "--protocol", "http"]
    result = CliRunner().invoke(main, args, env=cli_env())
    assert "13700001111" not in result.output, result.output
    assert result.exit_code == 2 and "swapped" in result.output
    assert srv.call_counts().get("SendVerificationCodeForBindSecureMobilePhone", 0) == 0
