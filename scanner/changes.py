"""What changed for each member between two scans of one directory (pure; no IO, no clock).

A member's result in the older scan (``before``) and in the newer one (``after``) put it in zero
or more change classes. ``None`` stands for "not listed in that scan". Classes:

- ``added``: listed now, not before.  ``removed``: listed before, not now (no other class).
- ``new_fail``: FAIL now, anything else before (PASS, EXEMPT, SKIPPED, ERROR, or not listed).
  This is the class ``rdscan history diff`` exits 1 on.
- ``still_failing``: FAIL before and now.
- ``fixed``: FAIL or EXEMPT before, PASS now (a phone was bound).
- ``newly_exempt``: EXEMPT now, anything else before.
- ``exemption_expired``: EXEMPT before, FAIL now (the exemption expired or was withdrawn); such a
  member is also ``new_fail``.
- ``became_error``: ERROR now (could not be evaluated), anything else before.
- ``error_cleared``: ERROR before, evaluated now.
- ``became_skipped``: SKIPPED now (out of the policy's scope), anything else before.
- ``left_skipped``: SKIPPED before, in scope now.

Every member whose result differs between the two scans is in at least one class; a member whose
result is the same is in none, except ``still_failing``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .findings import Status

CHANGE_CLASSES: tuple[str, ...] = (
    "new_fail",
    "fixed",
    "still_failing",
    "newly_exempt",
    "exemption_expired",
    "added",
    "removed",
    "became_error",
    "error_cleared",
    "became_skipped",
    "left_skipped",
)

CLASS_TITLES: Mapping[str, str] = {
    "new_fail": "New failures",
    "fixed": "Fixed",
    "still_failing": "Still failing",
    "newly_exempt": "Newly exempt",
    "exemption_expired": "Exemption expired",
    "added": "Members added",
    "removed": "Members removed",
    "became_error": "Became unreadable (ERROR)",
    "error_cleared": "Readable again",
    "became_skipped": "Left the policy's scope (SKIPPED)",
    "left_skipped": "Entered the policy's scope",
}

_FAIL, _PASS, _EXEMPT = Status.FAIL.value, Status.PASS.value, Status.EXEMPT.value
_ERROR, _SKIPPED = Status.ERROR.value, Status.SKIPPED.value


def classify(before: str | None, after: str | None) -> tuple[str, ...]:
    """The change classes of one member, from its result values (``"FAIL"``...) or None."""
    if before is None and after is None:
        return ()
    if after is None:
        return ("removed",)
    classes: list[str] = []
    if before is None:
        classes.append("added")
    if after == _FAIL:
        classes.append("still_failing" if before == _FAIL else "new_fail")
        if before == _EXEMPT:
            classes.append("exemption_expired")
    if after == _PASS and before in (_FAIL, _EXEMPT):
        classes.append("fixed")
    if after == _EXEMPT and before != _EXEMPT:
        classes.append("newly_exempt")
    if after == _ERROR and before != _ERROR:
        classes.append("became_error")
    if before == _ERROR and after != _ERROR:
        classes.append("error_cleared")
    if after == _SKIPPED and before != _SKIPPED:
        classes.append("became_skipped")
    if before == _SKIPPED and after != _SKIPPED:
        classes.append("left_skipped")
    return tuple(c for c in CHANGE_CLASSES if c in classes)


@dataclass(frozen=True)
class MemberState:
    """One member's result in one scan (what the history keeps of it)."""

    account_id: str
    display_name: str
    result: str  # PASS | FAIL | EXEMPT | SKIPPED | ERROR


@dataclass(frozen=True)
class Change:
    account_id: str
    display_name: str  # from the newer scan, else the older
    before: str | None  # None: not listed in the older scan
    after: str | None  # None: not listed in the newer scan
    classes: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "account_id": self.account_id,
            "display_name": self.display_name,
            "before": self.before,
            "after": self.after,
            "classes": list(self.classes),
        }


def compare(older: Iterable[MemberState], newer: Iterable[MemberState]) -> list[Change]:
    """Every member in at least one class, sorted by account id."""
    before = {m.account_id: m for m in older}
    after = {m.account_id: m for m in newer}
    changes = []
    for account_id in sorted(before.keys() | after.keys()):
        b, a = before.get(account_id), after.get(account_id)
        classes = classify(b.result if b else None, a.result if a else None)
        if not classes:
            continue
        latest = a or b
        assert latest is not None
        changes.append(
            Change(
                account_id=account_id,
                display_name=latest.display_name,
                before=b.result if b else None,
                after=a.result if a else None,
                classes=classes,
            )
        )
    return changes


def by_class(changes: Iterable[Change]) -> dict[str, list[Change]]:
    """``{class: [changes]}`` with every class of CHANGE_CLASSES present (maybe empty)."""
    grouped: dict[str, list[Change]] = {c: [] for c in CHANGE_CLASSES}
    for change in changes:
        for c in change.classes:
            grouped[c].append(change)
    return grouped


def compliance_share(counts: Mapping[str, int]) -> float | None:
    """PASS + EXEMPT over the in-scope members (all but SKIPPED), 0..1; None when none is in
    scope (nothing was evaluated: not "compliant")."""
    in_scope = sum(counts.get(s.value, 0) for s in Status if s is not Status.SKIPPED)
    if in_scope == 0:
        return None
    return (counts.get(_PASS, 0) + counts.get(_EXEMPT, 0)) / in_scope
