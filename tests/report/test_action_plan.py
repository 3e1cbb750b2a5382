"""action-plan.csv: every FAIL member, what to do, days failing when the history knows it,
empty owner / due-date columns, formula-safe cells."""

from __future__ import annotations

import csv
import dataclasses
import io

from scanner.findings import HistoryContext, Status
from scanner.report import BY_NAME, ReportInput
from scanner.report.action_plan_format import ACTION_PLAN_COLUMNS


def _rows(scan) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    text = BY_NAME["action-plan"].render(ReportInput.of(scan, "0" * 64))
    assert text.startswith("\ufeff") and "\r\n" in text
    reader = csv.DictReader(io.StringIO(text[1:]))
    assert tuple(reader.fieldnames or ()) == ACTION_PLAN_COLUMNS
    return list(reader)


def test_every_fail_with_its_path_and_blank_assignment_columns(golden_scan) -> None:  # type: ignore[no-untyped-def]
    rows = _rows(golden_scan)
    fails = [r for r in golden_scan.results if r.result is Status.FAIL]
    assert sorted(r["account_id"] for r in rows) == sorted(r.account_id for r in fails)
    by_id = {r.account_id: r for r in fails}
    for row in rows:
        member = by_id[row["account_id"]]
        assert row["remediation_path"] == member.remediation.value
        if member.remediation.value == "api":
            assert row["action"].endswith(f"--account {member.account_id}")
        assert row["owner"] == "" and row["due_date"] == ""
        assert row["days_failing"] == "" and row["failing_since"] == ""  # no history: unknown
    rank = {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}
    ranks = [rank[r["severity"]] for r in rows]
    assert ranks == sorted(ranks, reverse=True)
    expired = [r for r in rows if r["expired_exemption"]]
    assert expired and all("(expired 20" in r["expired_exemption"] for r in expired)


def test_days_failing_from_the_history(golden_scan) -> None:  # type: ignore[no-untyped-def]
    fails = [r for r in golden_scan.results if r.result is Status.FAIL]
    first = {fails[0].account_id: "2026-11-01T09:00:00Z"}
    scan = dataclasses.replace(
        golden_scan,
        history=HistoryContext(since_previous=None, first_failed_at=first, trend=()),
    )
    rows = {r["account_id"]: r for r in _rows(scan)}
    assert rows[fails[0].account_id]["days_failing"] == "26"
    assert rows[fails[0].account_id]["failing_since"] == "2026-11-01"
    assert rows[fails[1].account_id]["days_failing"] == "0"  # failing since this scan
    # the longest failing member leads its severity group
    group = [a for a, r in rows.items() if r["severity"] == rows[fails[0].account_id]["severity"]]
    assert group[0] == fails[0].account_id


def test_cells_cannot_start_a_formula(hostile_scan, nasty) -> None:  # type: ignore[no-untyped-def]
    scan = hostile_scan(['=HYPERLINK("x")', "+1", "-2", "@SUM(A1)", *nasty(40)])
    for row in _rows(scan):
        for key, value in row.items():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), (key, value)
