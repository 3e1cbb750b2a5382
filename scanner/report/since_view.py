"""The "Since the last scan" block and the compliance trend of the HTML and Markdown reports.

Display values built once from ``ScanResult.history`` (``scanner.findings.HistoryContext``);
the templates ``_since.html.j2`` / ``_since.md.j2`` only lay them out.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..changes import CHANGE_CLASSES, CLASS_TITLES, compliance_share
from ..findings import ScanResult, Status, days_between

MEMBERS_PER_CLASS = 20  # accounts named per class in the block; the rest are counted
LONGEST_FAILING = 10
# Classes that ask for action or attention come first and are named member by member.
_NAMED = ("new_fail", "exemption_expired", "became_error", "fixed", "newly_exempt")


@dataclass(frozen=True)
class ClassRow:
    name: str  # e.g. new_fail
    title: str  # e.g. New failures
    count: int
    members: tuple[tuple[str, str], ...]  # (account id, display name) named here
    more: int  # members of the class not named here


@dataclass(frozen=True)
class TrendRow:
    started_at: str
    scan_id: str
    compliance: str  # "87.5%" or "n/a" (nothing in scope)
    share: float | None  # 0..1
    fail: int
    error: int
    members: int
    current: bool


@dataclass(frozen=True)
class FailingRow:
    account_id: str
    display_name: str
    first_failed_at: str
    days: int | None  # None: unknown (a time in report.json is not a time)


@dataclass(frozen=True)
class SinceView:
    recorded: bool  # False: the scan ran without a history (--no-history)
    previous_id: str  # "" for the first scan of this directory in the history
    previous_at: str
    classes: tuple[ClassRow, ...]  # every class, in CHANGE_CLASSES order (counts may be 0)
    changed: int  # members in at least one class other than still_failing
    trend: tuple[TrendRow, ...]  # oldest first, this scan last
    longest: tuple[FailingRow, ...]  # FAIL members failing longest, longest first
    days_failing: dict[str, int | None]  # FAIL account id -> days failing


def _share_text(share: float | None) -> str:
    return "n/a" if share is None else f"{share * 100:.1f}%"


def build_since(scan: ScanResult) -> SinceView:
    ctx = scan.history
    started = scan.evidence.started_at
    if ctx is None:
        return SinceView(False, "", "", (), 0, (), (), {})
    names = {r.account_id: r.display_name for r in scan.results}
    classes: list[ClassRow] = []
    changed: set[str] = set()
    prev = ctx.since_previous
    if prev is not None:
        for name in CHANGE_CLASSES:
            ids = prev.classes.get(name, ())
            shown = ids[:MEMBERS_PER_CLASS] if name in _NAMED else ()
            classes.append(
                ClassRow(
                    name=name,
                    title=CLASS_TITLES[name],
                    count=len(ids),
                    members=tuple((i, names.get(i, "")) for i in shown),
                    more=len(ids) - len(shown),
                )
            )
            if name != "still_failing":
                changed.update(ids)
    days: dict[str, int | None] = {}
    longest: list[FailingRow] = []
    for r in scan.results:
        if r.result is Status.FAIL:
            first = ctx.first_failed_at.get(r.account_id, started)
            days[r.account_id] = days_between(first, started)
            longest.append(FailingRow(r.account_id, r.display_name, first, days[r.account_id]))
    longest.sort(key=lambda f: (-(f.days if f.days is not None else -1), f.account_id))
    trend = tuple(
        TrendRow(
            started_at=p.started_at,
            scan_id=p.scan_id,
            compliance=_share_text(compliance_share(p.counts)),
            share=compliance_share(p.counts),
            fail=p.counts.get("FAIL", 0),
            error=p.counts.get("ERROR", 0),
            members=sum(p.counts.values()),
            current=p.scan_id == scan.evidence.scan_id,
        )
        for p in ctx.trend
    )
    return SinceView(
        recorded=True,
        previous_id=prev.scan_id if prev else "",
        previous_at=prev.started_at if prev else "",
        classes=tuple(classes),
        changed=len(changed),
        trend=trend,
        longest=tuple(longest[:LONGEST_FAILING]),
        days_failing=days,
    )
