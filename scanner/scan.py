"""The scan pipeline: identity -> inventory -> evaluation -> a ScanResult with its evidence.

No printing here; progress goes through a callback.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .client.settings import Settings
from .clock import rfc3339, utc_now
from .engine import evaluate, unknown_statuses, unmatched_exemptions, unmatched_scope_folders
from .findings import Caller, ControlRef, Evidence, FrameworkMapping, ScanResult, Status
from .phones import mask_scan
from .policy import Exemptions, Policy

if TYPE_CHECKING:  # the SDKs load when a scan starts, not when the command line does
    from .client.sdk import RdClient

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ScanRequest:
    settings: Settings
    policy: Policy
    exemptions: Exemptions
    today: dt.date | None = None  # the day exemptions are judged against; default: today (UTC)
    frameworks: FrameworkMapping | None = None  # recorded in report.json for the Control section
    exemptions_ignored: bool = False  # --no-exemptions: evaluated as if no exemption existed


def root_identity_warning(caller: Caller) -> list[str]:
    """A warning when the AccessKey is the root identity's (GetCallerIdentity IdentityType
    ``Account``, ARN ``acs:ram::<id>:root``): it can do anything in the account."""
    if caller.identity_type == "Account" or caller.arn.endswith(":root"):
        return [
            f"the caller is the root identity of account {caller.account_id} (an AccessKey of "
            "the account itself): use a RAM user or role with only the read-only policy "
            "(`rdscan print-policy audit`), and disable the root AccessKey"
        ]
    return []


def new_scan_id(moment: dt.datetime) -> str:
    return f"scan-{moment:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def run_scan(
    request: ScanRequest,
    *,
    client: RdClient | None = None,
    progress: Progress | None = None,
    now: Callable[[], dt.datetime] = utc_now,
) -> ScanResult:
    """Scan the directory the credentials in ``request.settings`` can see.

    Raises ``ApiError``/``CredentialsError`` when nothing can be scanned (no credentials, wrong
    secret, no ListAccounts permission, not the management account); a member that could not be
    read becomes an ERROR result instead, and the scan goes on.
    """
    from .client.sdk import RdClient
    from .inventory.collect import collect

    settings = request.settings
    started = now()
    client = client or RdClient(settings)
    caller = client.caller_identity()
    inventory = collect(
        client,
        concurrency=settings.concurrency,
        progress=progress,
        caller_account_id=caller.account_id,
    )
    today = request.today or started.date()
    results = evaluate(request.policy, request.exemptions, inventory, today)
    stale = [*root_identity_warning(caller)]
    stale += [
        f"policy scope folder {rule} matches no folder of this directory: mistyped?"
        for rule in unmatched_scope_folders(request.policy, inventory)
    ]
    stale += [
        f"exemption {e.scope} (line {e.line} of {request.exemptions.source or 'the exemptions'}) "
        "matches no member or folder of this directory: stale or mistyped?"
        for e in unmatched_exemptions(request.exemptions, inventory)
    ]
    unknown = unknown_statuses(inventory)
    if unknown:
        listed = ", ".join(f"{status or '(none)'!r}: {n}" for status, n in sorted(unknown.items()))
        total = sum(unknown.values())
        stale.append(
            f"{total} member{'s' if total != 1 else ''} had a status rdscan does not know "
            f"({listed}); evaluated like active members. Tell the rdscan maintainers, and "
            "check the members in the console."
        )
    stale.extend(request.policy.warnings)
    if not results:  # a directory lists at least its management account
        stale.append("ListAccounts listed no member: nothing was checked")
    elif all(r.result is Status.SKIPPED for r in results):
        stale.append("every member is out of the policy's scope (SKIPPED): nothing was checked")
    finished = now()
    evidence = Evidence(
        scan_id=new_scan_id(started),
        started_at=rfc3339(started),
        finished_at=rfc3339(finished),
        tool_version=__version__,
        site=settings.site,
        caller=caller,
        resource_directory_id=inventory.directory.id,
        master_account_id=inventory.directory.master_account_id,
        policy_id=request.policy.id,
        policy_digest=request.policy.digest,
        api_calls=dict(client.api_calls()),
        exemptions_digest=request.exemptions.digest,
        warnings=(*inventory.warnings, *stale),
        frameworks=request.frameworks,
        exemptions_ignored=request.exemptions_ignored,
        policy_title=request.policy.title,
        policy_rationale=request.policy.rationale.strip(),
        policy_remediation=request.policy.remediation.strip(),
        policy_severity=request.policy.severity.value,
        related_controls=tuple(
            ControlRef(c.framework, c.control, c.title, c.relation)
            for c in request.policy.related_controls
        ),
        as_of=today.isoformat(),
        exemptions_name=Path(request.exemptions.source).name if request.exemptions.source else "",
        exemptions_count=len(request.exemptions.entries),
    )
    return mask_scan(ScanResult(evidence=evidence, results=results))
