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
from .reasons import part, parts_of, text

if TYPE_CHECKING:  # the SDKs load when a scan starts, not when the command line does
    from .client.sdk import RdClient
    from .findings import Caller
    from .inventory.checkpoint import ScanIdentity
    from .inventory.model import Directory

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ScanRequest:
    settings: Settings
    policy: Policy
    exemptions: Exemptions
    today: dt.date | None = None  # the day exemptions are judged against; default: today (UTC)
    frameworks: FrameworkMapping | None = None  # recorded in report.json for the Control section
    exemptions_ignored: bool = False  # --no-exemptions: evaluated as if no exemption existed
    # where the scan keeps its checkpoint (the output folder); None: no checkpoint
    checkpoint_dir: Path | None = None
    resume: bool = False  # go on from the checkpoint of an interrupted scan in checkpoint_dir


def scan_identity(request: ScanRequest) -> ScanIdentity:
    """What a checkpoint must match to be resumed by ``request``."""
    from .inventory.checkpoint import ScanIdentity

    return ScanIdentity(
        tool_version=__version__,
        policy_id=request.policy.id,
        policy_digest=request.policy.digest,
        exemptions_digest=(request.exemptions.digest or "")
        if not request.exemptions_ignored
        else "",
        site=request.settings.site,
        endpoint=request.settings.endpoint or "",
        output_dir=str(Path(request.checkpoint_dir or ".").absolute()),
    )


def root_identity_warning(caller: Caller) -> list[str]:
    """A warning when the AccessKey is the root identity's (GetCallerIdentity IdentityType
    ``Account``, ARN ``acs:ram::<id>:root``): it can do anything in the account."""
    if caller.identity_type == "Account" or caller.arn.endswith(":root"):
        return [text(part("warn.root_identity", account=caller.account_id))]
    return []


def new_scan_id(moment: dt.datetime) -> str:
    return f"scan-{moment:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def _identity_and_directory(client: RdClient) -> tuple[Caller, Directory]:
    """GetCallerIdentity and GetResourceDirectory at once (one round trip, not two); when
    both fail, the caller's error is the one raised (it names a credentials problem)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rdscan-id") as pool:
        identity = pool.submit(client.caller_identity)
        try:
            directory = client.get_resource_directory()
        except BaseException:
            identity.result()  # raises the caller's error first, if it has one
            raise
        return identity.result(), directory


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
    from .client.model import AccountPhone
    from .client.sdk import RdClient
    from .inventory import checkpoint
    from .inventory.collect import collect

    settings = request.settings
    started = now()
    scan_id = new_scan_id(started)
    resumed = None
    if request.resume and request.checkpoint_dir is not None:  # checked before any API call
        resumed = checkpoint.load(request.checkpoint_dir, scan_identity(request))
    client = client or RdClient(settings)
    caller, directory = _identity_and_directory(client)
    if resumed is not None:
        resumed.check_directory(directory.id)
    saved = None
    if request.checkpoint_dir is not None:
        header = scan_identity(request).header(scan_id, rfc3339(started))
        saved = checkpoint.Checkpoint.start(
            request.checkpoint_dir, header, append=resumed is not None
        )
    try:
        if saved is not None:
            saved.directory(directory.id, directory.master_account_id, caller.account_id)
            keep = saved.read

            def on_read(account_id: str, outcome: object) -> None:
                if isinstance(outcome, AccountPhone):
                    keep(account_id, outcome)

        inventory = collect(
            client,
            concurrency=settings.concurrency,
            progress=progress,
            directory=directory,
            on_read=on_read if saved is not None else None,
            known=resumed.reads if resumed is not None else None,
            caller_account_id=caller.account_id,
        )
    except BaseException:
        if saved is not None and resumed is None and saved.reads == 0:
            saved.discard()  # nothing read: nothing to resume, nothing left behind
        raise
    finally:
        if saved is not None:
            saved.close()
    today = request.today or started.date()
    results = evaluate(request.policy, request.exemptions, inventory, today)
    stale = [*root_identity_warning(caller)]
    stale += [
        text(part("warn.scope_folder_unmatched", rule=rule))
        for rule in unmatched_scope_folders(request.policy, inventory)
    ]
    stale += [
        text(
            part(
                "warn.exemption_unmatched",
                scope=e.scope,
                line=e.line,
                file=request.exemptions.source or "",
            )
        )
        for e in unmatched_exemptions(request.exemptions, inventory)
    ]
    unknown = unknown_statuses(inventory)
    if unknown:
        listed = ", ".join(f"{status or '(none)'!r}: {n}" for status, n in sorted(unknown.items()))
        total = sum(unknown.values())
        stale.append(text(part("warn.unknown_statuses", n=total, statuses=listed)))
    if saved is not None and saved.problem is not None:
        stale.append(
            text(part("warn.checkpoint_unwritten", path=saved.path, problem=saved.problem))
        )
    stale.extend(request.policy.warnings)
    if resumed is not None:
        before = sum(1 for m in inventory.members if m.account_id in resumed.reads)
        stale.append(
            text(
                part(
                    "warn.resumed",
                    scan=resumed.scan_id,
                    started=resumed.started_at,
                    before=f"{before:,}",
                    total=f"{len(inventory.members):,}",
                )
            )
        )
    if not results:  # a directory lists at least its management account
        stale.append(text(part("warn.nothing_listed")))
    elif all(r.result is Status.SKIPPED for r in results):
        stale.append(text(part("warn.all_skipped")))
    warnings = (*inventory.warnings, *stale)
    finished = now()
    evidence = Evidence(
        scan_id=scan_id,
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
        warnings=warnings,
        warning_parts=tuple(parts_of(w) for w in warnings),
        frameworks=request.frameworks,
        exemptions_ignored=request.exemptions_ignored,
        policy_title=request.policy.title,
        policy_rationale=request.policy.rationale.strip(),
        policy_remediation=request.policy.remediation.strip(),
        policy_severity=request.policy.severity.value,
        related_controls=tuple(
            ControlRef(c.framework, c.control, c.title, c.relation, c.translations)
            for c in request.policy.related_controls
        ),
        policy_translations=request.policy.translations,
        as_of=today.isoformat(),
        exemptions_name=Path(request.exemptions.source).name if request.exemptions.source else "",
        exemptions_count=len(request.exemptions.entries),
        listing=inventory.listing,
    )
    return mask_scan(ScanResult(evidence=evidence, results=results))
