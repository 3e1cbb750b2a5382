"""Many Resource Directories in one run: each target scanned concurrently with its own
credentials and client (so its own account's quotas), one failing target never stopping the
others. Returns one outcome per target, in the targets file's order; no printing here."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .engine import exit_code
from .errors import ScannerError
from .exit_codes import ExitCode
from .findings import ScanResult, Severity
from .policy import FrameworkMapping
from .scan import ScanRequest, run_scan
from .targets import Target

MAX_PARALLEL_TARGETS = 4  # each target runs its own GetAccount pool (Settings.concurrency)


@dataclass(frozen=True)
class TargetOutcome:
    target: Target
    scan: ScanResult | None  # None: the target could not be scanned
    error: str = ""  # why not (credentials, permission, outage), "" when scanned
    hint: str = ""

    def code(self, fail_on: Severity | None) -> ExitCode:
        """A target that could not be scanned is incomplete (3) in a multi-directory run: the
        others' reports exist, so it is not a usage error (2)."""
        if self.scan is None:
            return ExitCode.INCOMPLETE
        return exit_code(self.scan.results, fail_on)


def scan_targets(
    targets: list[Target],
    *,
    today: dt.date | None = None,
    frameworks: FrameworkMapping | None = None,
    parallel: int = MAX_PARALLEL_TARGETS,
) -> list[TargetOutcome]:
    def one(target: Target) -> TargetOutcome:
        try:
            scan = run_scan(
                ScanRequest(
                    settings=target.settings,
                    policy=target.policy,
                    exemptions=target.exemptions,
                    today=today,
                    frameworks=frameworks,
                )
            )
        except ScannerError as err:
            return TargetOutcome(target, None, err.message, err.hint or "")
        return TargetOutcome(target, scan)

    with ThreadPoolExecutor(max_workers=max(1, min(len(targets), parallel))) as pool:
        return list(pool.map(one, targets))


def worst(codes: list[ExitCode]) -> ExitCode:
    """INCOMPLETE (3) over FAIL (1) over OK (0)."""
    if ExitCode.INCOMPLETE in codes:
        return ExitCode.INCOMPLETE
    if ExitCode.FAIL in codes:
        return ExitCode.FAIL
    return ExitCode.OK
