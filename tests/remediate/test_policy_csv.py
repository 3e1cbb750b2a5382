"""print-policy documents, the phones CSV parser, verify-journal --expect-head."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli import main
from scanner.errors import ConfigError
from scanner.iam import AUDIT_ACTIONS, actions_of, policy_document
from scanner.journal import JournalWriter
from scanner.phone_sources import parse_phones_csv

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
    assert doc == policy_document("audit")
    assert doc["Version"] == "1"
    granted = actions_of(doc)
    assert granted >= READ
    assert not {SEND, BIND} & granted
    assert all(a.split(":")[1].startswith(("List", "Get")) for a in granted)
    assert all(st["Effect"] == "Allow" and st["Resource"] for st in doc["Statement"])
    assert "*" not in granted and not any(a.endswith("*") for a in granted)


def test_remediate_policy_adds_send_and_bind_only() -> None:
    doc = _printed("remediate")
    granted = actions_of(doc)
    assert {SEND, BIND, "resourcemanager:GetAccount", "sts:GetCallerIdentity"} == granted
    assert not (set(AUDIT_ACTIONS) - {"resourcemanager:GetAccount"}) & granted


def test_unknown_policy_kind_is_usage_error() -> None:
    result = CliRunner().invoke(main, ["print-policy", "admin"])
    assert result.exit_code == 2
    with pytest.raises(ConfigError):
        policy_document("admin")


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
