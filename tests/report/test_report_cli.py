"""`rdscan report REPORT.json`: offline re-render, refusals with clear messages, --journal."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from click.testing import CliRunner

from scanner.cli import main
from scanner.report import write_reports


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _saved(tmp_path: Path, scan) -> Path:  # type: ignore[no-untyped-def]
    return write_reports(scan, ["json"], tmp_path / "scan")["json"]


def test_report_rerenders_beside_the_results(tmp_path, golden_scan) -> None:  # type: ignore[no-untyped-def]
    results = _saved(tmp_path, golden_scan)
    before = results.read_bytes()
    code, out, err = _run("report", str(results), "--format", "html,md,csv")
    assert (code, err) == (0, "")
    for name in ("report.html", "report.md", "report.csv"):
        assert (results.parent / name).is_file()
        assert name in out
    assert results.read_bytes() == before  # the source is never rewritten
    digest = hashlib.sha256(before).hexdigest()
    assert digest in (results.parent / "report.html").read_text(encoding="utf-8")
    assert digest in (results.parent / "report.md").read_text(encoding="utf-8")


def test_report_output_dir_and_one_format(tmp_path, golden_scan) -> None:  # type: ignore[no-untyped-def]
    results = _saved(tmp_path, golden_scan)
    code, _, _ = _run("report", str(results), "--format", "md", "--output-dir", str(tmp_path / "o"))
    assert code == 0
    assert [p.name for p in (tmp_path / "o").iterdir()] == ["report.md"]


def test_report_hashes_the_exact_bytes_it_read(tmp_path, golden_scan) -> None:  # type: ignore[no-untyped-def]
    """A report.json re-indented by hand still renders; the footer names *its* bytes."""
    results = _saved(tmp_path, golden_scan)
    results.write_text(json.dumps(json.loads(results.read_text()), indent=1))
    code, _, _ = _run("report", str(results), "--format", "html")
    assert code == 0
    digest = hashlib.sha256(results.read_bytes()).hexdigest()
    assert digest in (results.parent / "report.html").read_text(encoding="utf-8")


def test_report_refuses_unknown_format(tmp_path, golden_scan) -> None:  # type: ignore[no-untyped-def]
    results = _saved(tmp_path, golden_scan)
    code, _, err = _run("report", str(results), "--format", "html,pdf")
    assert code == 2
    assert "Error: unknown report format 'pdf'" in err
    assert "Fix: use a comma-separated list of: html, md, csv" in err
    assert not (results.parent / "report.html").exists()


def test_report_refuses_corrupt_and_foreign_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cases = {
        "truncated.json": '{"schema_version": 1, "scan": {',
        "other.json": '{"schema_version": 2, "scan": {}, "accounts": []}',
        "foreign.json": '{"name": "not ours"}',
        "incomplete.json": '{"schema_version": 1, "scan": {"id": "x"}, "accounts": []}',
    }
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text)
        code, out, err = _run("report", str(path), "--format", "html")
        assert code == 2, name
        assert err.startswith("Error: report.json "), (name, err)
        assert "Fix: " in err and "Traceback" not in err + out, name
        assert not (tmp_path / "report.html").exists()
    code, _, err = _run("report", str(tmp_path / "missing.json"))
    assert code == 2 and "does not exist" in err


def test_report_with_journal_adds_remediated_section(tmp_path, golden_scan) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    from scanner.remediate.journal import JournalWriter

    # The journal is stamped with the real clock: make the scan older than any clock.
    old = dataclasses.replace(golden_scan.evidence, started_at="2000-01-01T00:00:00Z")
    results = _saved(tmp_path, dataclasses.replace(golden_scan, evidence=old))
    journal = tmp_path / "remediation-journal.jsonl"
    with JournalWriter(
        journal,
        operator_arn="acs:ram::1512345678901234:user/op",
        scan_id=golden_scan.evidence.scan_id,  # only the report's own scan counts
    ) as w:
        w.append("session_start", "started")
        w.append(
            "confirm", "confirmed", account_id="1000000000000003", phone_masked="86-139****4321"
        )
        w.append("send", "sent", account_id="1000000000000003", phone_masked="86-139****4321")
        w.append("bind", "bound", account_id="1000000000000003", phone_masked="86-139****4321")
        w.append("verify", "verified", account_id="1000000000000003", phone_masked="86-139****4321")
    code, _, err = _run("report", str(results), "--format", "html,md", "--journal", str(journal))
    assert (code, err) == (0, "")
    html = (results.parent / "report.html").read_text(encoding="utf-8")
    md = (results.parent / "report.md").read_text(encoding="utf-8")
    assert "Remediated since the scan" in html and "86-139****4321" in html
    assert "## Remediated since the scan (1)" in md
    assert "| 1000000000000003 | &lt;img src=x onerror=alert(1)&gt; | verified |" in md

    lines = journal.read_text().splitlines()
    lines[2] = lines[2].replace("sent", "failed")
    journal.write_text("\n".join(lines) + "\n")
    code, _, err = _run("report", str(results), "--format", "html", "--journal", str(journal))
    assert code == 2
    assert err.startswith("Error: ") and "Traceback" not in err


def test_report_to_an_unwritable_place_is_a_clear_error(tmp_path, golden_scan) -> None:  # type: ignore[no-untyped-def]
    results = _saved(tmp_path, golden_scan)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, out, err = _run("report", str(results), "--output-dir", str(blocker / "sub"))
    assert code == 2
    assert err.startswith("Error: cannot write ") and "Fix: choose a writable folder" in err
    assert "Traceback" not in out + err


def test_a_report_json_written_before_the_control_metadata_is_re_rendered(tmp_path):
    """report.json files written before scan.policy.title/.../related_controls, scan.as_of and
    scan.exemptions existed (schema_version 1 all the same) re-render without error."""
    import shutil

    old = Path(__file__).parent / "data" / "report-before-control-metadata.json"
    data = json.loads(old.read_text(encoding="utf-8"))
    assert "as_of" not in data["scan"] and "title" not in data["scan"]["policy"]
    src = tmp_path / "report.json"
    shutil.copyfile(old, src)
    result = CliRunner().invoke(main, ["report", str(src)])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert data["scan"]["id"] in html and data["scan"]["id"] in md
    for text in (html, md):  # nothing recorded, nothing shown: no empty evidence lines
        assert "Related controls" not in text and "Judged as of" not in text
    assert src.read_bytes() == old.read_bytes()  # the record is never re-written
