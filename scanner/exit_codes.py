"""The one table of rdscan's exit codes (README's "Exit codes" table is checked against it).

A command's exit code is one of these; nothing else in the package spells a bare number.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAIL = 1
    USAGE = 2
    INCOMPLETE = 3
    REPORTS_UNWRITTEN = 4
    INTERRUPTED = 130

    @property
    def meaning(self) -> str:
        """One line, as the README and ``rdscan scan``'s last line say it."""
        return _MEANING[self]


_MEANING = {
    ExitCode.OK: "compliant",
    ExitCode.FAIL: "non-compliant: FAIL at or above --fail-on",
    ExitCode.USAGE: "usage, configuration or credential error (nothing scanned, nothing written)",
    ExitCode.INCOMPLETE: "incomplete: some members could not be evaluated or were not listed",
    ExitCode.REPORTS_UNWRITTEN: "compliant, but the reports could not be written",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C)",
}

# What each code means for the commands where it means more than the line above.
DETAILS: dict[ExitCode, str] = {
    ExitCode.FAIL: (
        "`remediate`: a member was left undone (failed, invalid number, not run) or `--dry-run` "
        "found a problem; `verify-journal`: the chain is broken"
    ),
    ExitCode.REPORTS_UNWRITTEN: (
        "`scan`: the scan ran (its summary is printed and its history entry kept) but its reports "
        "could not be written (out of space, permissions); the previous reports are unchanged. "
        "A scan that found a FAIL or an ERROR keeps its 1 or 3"
    ),
    ExitCode.USAGE: (
        "never after a scan ran: an output that could not take the results is found before the "
        "first API call"
    ),
    ExitCode.INCOMPLETE: (
        "an ERROR result (a read that failed after retries or outlived its deadline, an answer "
        "over the size cap, a GetAccount answer without a usable `HasSecureMobilePhone`) or a "
        "listing that could not show every member was listed (ListAccounts passes that never "
        "agree, TotalCount unlike the members listed, empty or short pages, duplicates); wins "
        "over 1 whatever `--fail-on` says; also when the service did not answer the identity or "
        "listing calls after every retry (throttling, 5xx, connection): retry later; also a "
        "scan that evaluated no member (nothing listed, or every member SKIPPED)"
    ),
}


def markdown_table() -> str:
    """The README's exit-code table, one row per code."""
    rows = ["| Code | Meaning |", "|---|---|"]
    for code in ExitCode:
        extra = DETAILS.get(code)
        text = code.meaning + (f"; {extra}" if extra else "")
        rows.append(f"| `{int(code)}` | {text} |")
    return "\n".join(rows) + "\n"
