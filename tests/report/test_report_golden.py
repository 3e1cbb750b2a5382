"""Golden files for report.md, report.html and report.csv of a fixed scan.

Regenerate after an intended change with:

    RDSCAN_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/report/test_report_golden.py

then review the diff of tests/report/golden/ before committing it.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from scanner.report import render

SHA = "231bc8c81872281dc5988b65a475865755523c2b1827c2580fdba2b5d712c85f"
UPDATE = os.environ.get("RDSCAN_UPDATE_GOLDEN") == "1"


def _check(golden: Path, actual: str) -> None:
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(actual.encode("utf-8"))
        return
    if not golden.exists():
        pytest.fail(f"{golden} is missing: run with RDSCAN_UPDATE_GOLDEN=1 to create it")
    expected = golden.read_bytes().decode("utf-8")
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                fromfile=str(golden),
                tofile="rendered",
                n=2,
            )
        )
        pytest.fail(
            f"{golden.name} differs from the golden file (RDSCAN_UPDATE_GOLDEN=1 to accept):\n"
            + diff[:6000]
        )


def test_markdown_golden(golden_scan, outcomes, golden_dir) -> None:  # type: ignore[no-untyped-def]
    _check(golden_dir / "report.md", render("md", golden_scan, SHA, outcomes))


def test_html_golden(golden_scan, outcomes, golden_dir) -> None:  # type: ignore[no-untyped-def]
    _check(golden_dir / "report.html", render("html", golden_scan, SHA, outcomes))


def test_csv_golden(golden_scan, golden_dir) -> None:  # type: ignore[no-untyped-def]
    _check(golden_dir / "report.csv", render("csv", golden_scan))


def test_rendering_is_deterministic(golden_scan, outcomes) -> None:  # type: ignore[no-untyped-def]
    assert render("html", golden_scan, SHA, outcomes) == render("html", golden_scan, SHA, outcomes)
    assert render("md", golden_scan, SHA) == render("md", golden_scan, SHA)
