"""Change classes between two scans (pure)."""

from __future__ import annotations

import itertools

import pytest

from scanner.changes import (
    CHANGE_CLASSES,
    MemberState,
    by_class,
    classify,
    compare,
    compliance_share,
)

STATES = (None, "PASS", "FAIL", "EXEMPT", "SKIPPED", "ERROR")


@pytest.mark.parametrize(("before", "after"), list(itertools.product(STATES, STATES)))
def test_every_changed_result_lands_in_a_class(before: str | None, after: str | None) -> None:
    classes = classify(before, after)
    assert set(classes) <= set(CHANGE_CLASSES)
    if before == after:
        assert classes == (("still_failing",) if before == "FAIL" else ())
    else:
        assert classes, f"{before} -> {after} is in no class"


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ("PASS", "FAIL", ("new_fail",)),
        ("FAIL", "PASS", ("fixed",)),
        ("EXEMPT", "PASS", ("fixed",)),
        ("FAIL", "FAIL", ("still_failing",)),
        ("FAIL", "EXEMPT", ("newly_exempt",)),
        ("EXEMPT", "FAIL", ("new_fail", "exemption_expired")),
        (None, "FAIL", ("new_fail", "added")),
        (None, "PASS", ("added",)),
        ("FAIL", None, ("removed",)),
        ("PASS", "ERROR", ("became_error",)),
        ("ERROR", "FAIL", ("new_fail", "error_cleared")),
        ("ERROR", "PASS", ("error_cleared",)),
        ("PASS", "SKIPPED", ("became_skipped",)),
        ("SKIPPED", "FAIL", ("new_fail", "left_skipped")),
        ("SKIPPED", "EXEMPT", ("newly_exempt", "left_skipped")),
    ],
)
def test_classes_of_each_transition(
    before: str | None, after: str | None, expected: tuple[str, ...]
) -> None:
    assert classify(before, after) == expected


def test_compare_and_group() -> None:
    older = [MemberState("1", "a", "FAIL"), MemberState("2", "b", "PASS")]
    newer = [MemberState("1", "a", "FAIL"), MemberState("3", "c", "FAIL")]
    grouped = by_class(compare(older, newer))
    assert set(grouped) == set(CHANGE_CLASSES)
    assert [c.account_id for c in grouped["still_failing"]] == ["1"]
    assert [c.account_id for c in grouped["removed"]] == ["2"]
    assert [c.account_id for c in grouped["new_fail"]] == ["3"]
    assert [c.account_id for c in grouped["added"]] == ["3"]


def test_compliance_share_ignores_skipped_and_is_none_without_scope() -> None:
    assert compliance_share({"PASS": 3, "EXEMPT": 1, "FAIL": 3, "ERROR": 1, "SKIPPED": 9}) == 0.5
    assert compliance_share({"SKIPPED": 4}) is None
    assert compliance_share({}) is None
