"""Machine formats through the registry: SARIF 2.1.0 (validated against the official schema in
tests/report/data), OCSF 1.5.0 Compliance Findings (required attributes, known attributes only)
and JUnit XML (parsed with xml.etree), each carrying every member it should, hostile names
included."""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from jsonschema import Draft4Validator

from scanner.errors import ConfigError
from scanner.findings import ScanResult, Status
from scanner.policy import load_frameworks
from scanner.report import BY_NAME, ReportInput, parse_formats
from scanner.resources import default_frameworks_path

DATA = Path(__file__).parent / "data"
SARIF_SCHEMA = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
OCSF = json.loads((DATA / "ocsf-1.5.0-compliance-finding.json").read_text(encoding="utf-8"))


def _with_control(scan: ScanResult) -> ScanResult:
    mapping, _ = load_frameworks(default_frameworks_path())
    ev = dataclasses.replace(
        scan.evidence,
        frameworks=mapping,
        policy_title="Every member has a secure <b>mobile</b> phone",
        policy_rationale="Codes reach\nthe phone.",
        policy_remediation="Run `rdscan remediate`.\nCloudAccount: ask the owner.",
    )
    return dataclasses.replace(scan, evidence=ev)


def _render(name: str, scan: ScanResult) -> str:
    return BY_NAME[name].render(ReportInput.of(scan, "0" * 64))


def test_the_registry_offers_them_but_does_not_write_them_by_default() -> None:
    from scanner.report import DEFAULT_FORMATS, FILE_NAMES

    assert parse_formats("sarif,ocsf,junit") == ["sarif", "ocsf", "junit"]
    assert {"sarif", "ocsf", "junit"}.isdisjoint(DEFAULT_FORMATS)
    assert FILE_NAMES["sarif"] == "report.sarif" and FILE_NAMES["junit"] == "report.junit.xml"


@pytest.mark.parametrize("which", ["golden", "hostile"])
def test_sarif_validates_and_has_one_result_per_fail_or_error(
    which: str, golden_scan, hostile_scan, nasty
) -> None:  # type: ignore[no-untyped-def]
    scan = _with_control(golden_scan if which == "golden" else hostile_scan(nasty(60)))
    log = json.loads(_render("sarif", scan))
    errors = sorted(Draft4Validator(SARIF_SCHEMA).iter_errors(log), key=str)
    assert not errors, errors[:3]
    run = log["runs"][0]
    rule = run["tool"]["driver"]["rules"][0]
    assert rule["id"] == scan.evidence.policy_id
    assert rule["help"]["text"].startswith("Run `rdscan remediate`.")
    assert "iso27001:A.8.5" in rule["properties"]["tags"]
    assert "mlps:8.1.4.1 d)" in rule["properties"]["tags"]
    expected = [r for r in scan.results if r.result in (Status.FAIL, Status.ERROR)]
    assert len(run["results"]) == len(expected)
    by_id = {r.account_id: r for r in scan.results}
    for res in run["results"]:
        member = by_id[res["properties"]["accountId"]]
        assert res["ruleId"] == rule["id"]
        assert res["kind"] == ("fail" if member.result is Status.FAIL else "open")
        assert (res["level"] == "none") == (member.result is Status.ERROR)
        assert res["properties"]["displayName"] == member.display_name  # text survives as data
        assert "markdown" not in res["message"]
    assert run["invocations"][0]["executionSuccessful"] is not any(
        r.result is Status.ERROR for r in scan.results
    )


def _check_object(name: str, value: object, where: str) -> None:
    spec = OCSF["objects"][name]
    assert isinstance(value, dict), where
    missing = [k for k in spec["required"] if k not in value]
    assert not missing, f"{where}: missing required {missing}"
    unknown = sorted(set(value) - set(spec["attributes"]))
    assert not unknown, f"{where}: attributes OCSF {OCSF['ocsf_version']} does not define {unknown}"
    if "at_least_one" in spec:
        assert any(value.get(k) for k in spec["at_least_one"]), where


@pytest.mark.parametrize("which", ["golden", "hostile"])
def test_ocsf_one_compliance_finding_per_member(
    which: str, golden_scan, hostile_scan, nasty
) -> None:  # type: ignore[no-untyped-def]
    scan = _with_control(golden_scan if which == "golden" else hostile_scan(nasty(60)))
    if which == "hostile":
        with pytest.raises(ConfigError, match="is not an RFC 3339 time"):
            _render("ocsf", scan)
        ev = dataclasses.replace(scan.evidence, finished_at="2026-11-27T09:00:42Z")
        scan = dataclasses.replace(scan, evidence=ev)
    findings = json.loads(_render("ocsf", scan))
    assert isinstance(findings, list)
    assert sorted(f["resources"][0]["uid"] for f in findings) == sorted(
        r.account_id for r in scan.results
    )
    assert len({f["finding_info"]["uid"] for f in findings}) == len(findings)
    event = OCSF["event"]
    by_id = {r.account_id: r for r in scan.results}
    for f in findings:
        where = f["finding_info"]["uid"]
        assert not [k for k in event["required"] if k not in f], where
        assert not sorted(set(f) - set(event["attributes"])), where
        assert (f["class_uid"], f["category_uid"], f["type_uid"]) == (2003, 2, 200301)
        assert isinstance(f["time"], int) and f["time"] > 1_700_000_000_000
        assert f["metadata"]["version"] == OCSF["ocsf_version"]
        for name in ("metadata", "finding_info", "compliance", "cloud", "remediation"):
            _check_object(name, f[name], f"{where}.{name}")
        _check_object("product", f["metadata"]["product"], f"{where}.metadata.product")
        _check_object("resource_details", f["resources"][0], f"{where}.resources[0]")
        member = by_id[f["resources"][0]["uid"]]
        assert f["resources"][0]["name"] == member.display_name
        status = {"PASS": 1, "FAIL": 3, "ERROR": 2, "EXEMPT": 99, "SKIPPED": 99}
        assert f["compliance"]["status_id"] == status[member.result.value]
        assert f["compliance"]["status_code"] == member.result.value
        assert "ISO/IEC 27001 Annex A 2022" in f["compliance"]["standards"]


@pytest.mark.parametrize("which", ["golden", "hostile"])
def test_junit_parses_with_a_testcase_per_member(
    which: str, golden_scan, hostile_scan, nasty
) -> None:  # type: ignore[no-untyped-def]
    scan = _with_control(golden_scan if which == "golden" else hostile_scan(nasty(80)))
    root = ET.fromstring(_render("junit", scan).encode("utf-8"))
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert len(cases) == len(scan.results) == int(root.get("tests", "-1"))
    counts = scan.summary
    assert (
        len(suite.findall("testcase/failure")) == counts["FAIL"] == int(suite.get("failures", ""))
    )
    assert len(suite.findall("testcase/error")) == counts["ERROR"] == int(suite.get("errors", ""))
    assert len(suite.findall("testcase/skipped")) == counts["EXEMPT"] + counts["SKIPPED"]
    names = {c.get("name", "") for c in cases}
    for r in scan.results:
        # XML 1.0 cannot hold most C0 controls: they become U+FFFD; the rest reads back exactly
        expected = "".join(
            ch if ch in "\t\n\r" or ord(ch) >= 0x20 else "\ufffd"
            for ch in f"{r.account_id} {r.display_name}".strip()
        )
        assert expected in names, (r.account_id, expected)
