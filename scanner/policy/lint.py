"""Lint an exemptions file against a scan's report.json: exemptions that match nothing, expire
soon (or already did), name no approver, or cover members that now pass.

Pure: takes the parsed exemptions and the ScanResult. Matching follows the engine's rules as
far as report.json allows: an account exemption matches that account id; a folder path matches
the folder and every folder under it; a folder id matches members directly in that folder, and
members report.json shows as matched by it. A folder id that names neither (an ancestor folder
whose members all passed, or a folder that does not exist) cannot be told apart offline: it is
listed as unresolved, never as "matches nothing".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..findings import Result, ScanResult, Status
from .model import Exemption, Exemptions

NO_MATCH = "matches-nothing"
UNRESOLVED = "unresolved"
EXPIRED = "expired"
EXPIRING = "expiring"
NO_APPROVER = "no-approver"
NOW_PASSES = "now-passes"


@dataclass(frozen=True)
class LintFinding:
    line: int  # where the exemption starts in its file
    scope: str  # account:<id> or folder:<id or path>
    kind: str  # one of the constants above
    message: str


def covered(e: Exemption, results: tuple[Result, ...]) -> list[Result] | None:
    """Members of report.json the exemption covers; None when that cannot be told offline."""
    if e.account_id:
        return [r for r in results if r.account_id == e.account_id]
    folder = e.folder or ""
    if folder.startswith("Root"):
        return [
            r for r in results if r.folder_path == folder or r.folder_path.startswith(folder + "/")
        ]
    direct = [
        r
        for r in results
        if r.folder_id == folder or (r.exemption is not None and r.exemption.scope == e.scope)
    ]
    return direct or None


def lint_exemptions(
    exemptions: Exemptions, scan: ScanResult, today: dt.date, soon_days: int
) -> list[LintFinding]:
    """Every finding, in file order."""
    out: list[LintFinding] = []
    for e in sorted(exemptions.entries, key=lambda x: x.line):

        def add(kind: str, message: str, e: Exemption = e) -> None:
            out.append(LintFinding(e.line, e.scope, kind, message))

        members = covered(e, scan.results)
        if members is None:
            add(
                UNRESOLVED,
                f"folder id {e.folder} is not the folder of any member in report.json; it may "
                "be an ancestor folder (give its path, Root/..., to check it offline) or not "
                "exist",
            )
        elif not members:
            add(NO_MATCH, "matches no member of the directory in report.json: stale or mistyped?")
        days = (e.expires - today).days
        if days < 0:
            add(EXPIRED, f"expired on {e.expires.isoformat()} ({-days} days ago)")
        elif days <= soon_days:
            add(
                EXPIRING,
                f"expires within {soon_days} days: on {e.expires.isoformat()} ({days} days left)",
            )
        if not e.approved_by:
            add(NO_APPROVER, "names no approver (approved_by)")
        in_scope = [r for r in members or () if r.result is not Status.SKIPPED]
        if in_scope and all(r.result is Status.PASS for r in in_scope):
            who = (
                f"member {in_scope[0].account_id} now passes"
                if e.account_id
                else f"all {len(in_scope)} members it covers now pass"
            )
            add(NOW_PASSES, f"{who} (a secure mobile phone is bound): no longer needed")
    return out
