"""A value shaped like a phone number is never written or printed in full, wherever it comes
from: member tags, API error messages, phones CSV cells, report.json and journals from elsewhere
(issue 10). One rule, ``scanner.phones.mask_phones_in``, applied where values enter."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from scanner.client.sdk import RdClient
from scanner.emulator import sample_fixture_path
from scanner.errors import ConfigError
from scanner.remediate import FlowOptions, RdClientApi, build_plan, run_flow
from scanner.remediate.journal import JournalWriter
from scanner.remediate.phone_sources import PhoneSources, parse_phones_csv
from scanner.report.results_file import load_results

from .conftest import UNBOUND, scan_of

A, B, C = UNBOUND[0], UNBOUND[1], UNBOUND[2]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("86-13912345678", "86-139****5678"),
        ("secure-phone: 86-13912345678", "secure-phone: 86-139****5678"),
        ("+86 139 1234 5678", "861****5678"),
        ("(86) 139-1234-5678", "861****5678"),
        ("13912345678,1000000000348436", "139****5678,1000000000348436"),
        ("手机13912345678", "手机139****5678"),
        ("tel:+442071234567", "tel:442****4567"),
        ("1000000000348436-13912345678", "1000000000348436-139****5678"),
        ("１３９１２３４５６７８", "１３９****５６７８"),  # full-width digits are digits
        ("86-139****5678", "86-139****5678"),  # masked stays masked
        ("account 1000000000348436", "account 1000000000348436"),  # account ids are kept
        ("expires 2026-11-30", "expires 2026-11-30"),  # ISO dates are kept
        ("127.0.0.1:8080 after 3 tries", "127.0.0.1:8080 after 3 tries"),
        ("", ""),
    ],
)
def test_mask_phones_in(text: str, expected: str) -> None:
    from scanner.phones import mask_phones_in

    assert mask_phones_in(text) == expected
    assert mask_phones_in(expected) == expected


# ---- member tags --------------------------------------------------------------------------------

TAGGED = {  # member -> (tag key, tag value); every digit string below must never be written
    A: ("secure-phone", "86-13912345678"),
    B: ("secure-phone", "+86 139 1234 5670"),
    C: ("contact", "oncall 13912345671 or 手机13912345672"),
}
FULL = (
    "13912345678",
    "13912345670",
    "139 1234 5670",
    "13912345671",
    "13912345672",
    "13912345673",
)


@pytest.fixture
def tagged_fixture() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(sample_fixture_path().read_text(encoding="utf-8"))
    for account in data["accounts"]:
        if account["id"] in TAGGED:
            key, value = TAGGED[account["id"]]
            account.setdefault("tags", {})[key] = value
        if account["id"] == UNBOUND[3]:
            account["display_name"] = "13912345673"  # a member named by its owner's number
    return data


def test_phone_numbers_in_tags_never_reach_reports_or_history(
    emulator: Any,
    tagged_fixture: dict[str, Any],
    tmp_path: Path,
    rdscan_argv: list[str],
    cli_env: Any,
) -> None:
    """The issue's reproduction (tag ``secure-phone: 86-13912345678`` in report.json and
    report.csv) and variants: a spaced +86 number, numbers inside free text. `--phone-tag` still
    works: remediation reads the tag live from GetAccount."""
    srv = emulator(tagged_fixture)
    out = tmp_path / "out"
    history = tmp_path / "h.sqlite"
    scan = subprocess.run(
        [
            *rdscan_argv,
            "scan",
            "--endpoint",
            srv.endpoint,
            "--protocol",
            "http",
            "--output-dir",
            str(out),
            "--history",
            str(history),
            "--fail-on",
            "none",
        ],
        env=cli_env(("LTAI-auditor", "auditor-secret")),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert scan.returncode in (0, 3), scan.stderr
    written = [out / n for n in ("report.json", "report.csv", "report.html", "report.md")]
    texts = [p.read_text(encoding="utf-8-sig") for p in written]
    with sqlite3.connect(history) as db:
        texts.append(json.dumps(db.execute("SELECT * FROM results").fetchall()))
    texts.append(history.read_bytes().decode("utf-8", "replace"))
    for text in [*texts, scan.stdout, scan.stderr]:
        for full in FULL:
            assert full not in text
    report = json.loads(texts[0])
    tags = {a["account_id"]: a["tags"] for a in report["accounts"]}
    assert tags[A]["secure-phone"] == "86-139****5678"
    assert tags[C]["contact"] == "oncall 139****5671 or 手机139****5672"

    plan = subprocess.run(
        [
            *rdscan_argv,
            "remediate",
            "--from",
            str(out / "report.json"),
            "--account",
            A,
            "--phone-tag",
            "secure-phone",
            "--dry-run",
            "--endpoint",
            srv.endpoint,
            "--protocol",
            "http",
        ],
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "86-139****5678" in plan.stdout and "send a code" in plan.stdout
    for full in FULL:
        assert full not in plan.stdout + plan.stderr


def test_phone_tag_from_the_results_file_alone_is_refused_clearly(sample_fixture: Any) -> None:
    scan = scan_of(sample_fixture, [A])
    result = scan.results[0]
    from dataclasses import replace

    masked = replace(result, tags=(("secure-phone", "86-139****5678"),))
    plan = build_plan(
        replace(scan, results=(masked,)), site="cn", phones=PhoneSources(tag="secure-phone")
    )
    assert plan.items[0].kind == "bad_phone"
    assert "from report.json" in plan.items[0].problem


def test_crafted_report_json_is_masked_on_read(tmp_path: Path, report_file: Any) -> None:
    path = report_file([A])
    data = json.loads(path.read_text())
    data["accounts"][0]["tags"] = {"secure-phone": "86-13912345678"}
    data["accounts"][0]["secure_mobile_phone_masked"] = "86-13912345679"
    data["accounts"][0]["reason"] = "call 13912345670"
    data["accounts"][0]["display_name"] = "+86 139 1234 5672"
    data["scan"]["warnings"] = ["member 13912345671 odd"]
    path.write_text(json.dumps(data))
    scan, _ = load_results(path)
    text = repr(scan)
    for full in ("13912345678", "13912345679", "13912345670", "13912345671", "139 1234 5672"):
        assert full not in text


# ---- API error messages -------------------------------------------------------------------------


def test_api_error_quoting_the_number_is_masked_in_events_and_journal(
    emulator: Any, sample_fixture: Any, settings_for: Any, scripted: Any, tmp_path: Path
) -> None:
    srv = emulator()
    srv.script_fault(
        "SendVerificationCodeForBindSecureMobilePhone",
        code="InvalidParameter.SecureMobilePhone",
        status=400,
        message="The SecureMobilePhone 86-13700001111 (+86 137 0000 1111) is not valid.",
    )
    plan = build_plan(
        scan_of(sample_fixture, [A]),
        site="cn",
        phones=PhoneSources(by_account={A: "86-13700001111"}),
    )
    op = scripted(confirm={A: True})
    journal = tmp_path / "j.jsonl"
    with JournalWriter(journal) as writer:
        summary = run_flow(
            plan, RdClientApi(RdClient(settings_for(srv))), writer, op, FlowOptions()
        )
    assert summary.count("failed") == 1
    shown = op.text() + journal.read_text() + repr(summary)
    assert "86-137****1111" in shown
    assert "13700001111" not in shown and "137 0000 1111" not in shown


def test_journal_writer_masks_a_number_in_a_detail(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    with JournalWriter(path) as j:
        j.append("session_start", "started", detail="typed 86-13912345678 then +8613912345679")
        j.append("confirm", "confirmed", account_id=A, phone_masked="86-13912345678")
    text = path.read_text()
    assert "13912345678" not in text and "13912345679" not in text


# ---- phones CSV ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "13912345678,1000000000348436",  # the swapped columns with a bare number
        "+8613912345678,1000000000348436",
        "139 1234 5678,1000000000348436",
        "86-13912345678,1000000000348436",
        "(86)13912345678,1000000000348436",
    ],
)
def test_swapped_phones_csv_is_refused_without_the_number(line: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_phones_csv(f"account_id,phone\n{line}\n")
    message = str(err.value) + (err.value.hint or "")
    assert "holds a phone number" in message and "swapped" in message
    assert "13912345678" not in message and "139 1234 5678" not in message


def test_swapped_phones_csv_cli_prints_no_number(
    tmp_path: Path, report_file: Any, rdscan_argv: list[str], cli_env: Any
) -> None:
    phones = tmp_path / "phones.csv"
    phones.write_text("account_id,phone\n13912345678,1000000000348436\n")
    done = subprocess.run(
        [
            *rdscan_argv,
            "remediate",
            "--from",
            str(report_file([A])),
            "--phones",
            str(phones),
            "--dry-run",
            "--endpoint",
            "127.0.0.1:9",
            "--protocol",
            "http",
        ],
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "139****5678" in done.stderr
    assert "13912345678" not in done.stdout + done.stderr


def test_an_odd_phone_shaped_id_beside_a_good_number_is_kept_and_shown_masked(
    sample_fixture: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from scanner.cli.remediate_cmd import _warn_unused_numbers

    numbers = parse_phones_csv("account_id,phone\n13912345678,86-13700001111\n")
    assert list(numbers) == ["13912345678"]
    _warn_unused_numbers(numbers, scan_of(sample_fixture, [A]))
    err = capsys.readouterr().err
    assert "139****5678" in err and "13912345678" not in err
