"""The report view model: display values computed once from a ScanResult, phones masked.

Pure: no IO, no templates. The templates of ``html_format`` and ``markdown_format`` lay these
values out.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..clock import parse_rfc3339
from ..findings import (
    FRAMEWORK_TEXTS,
    STATUS_ORDER,
    ControlRef,
    Evidence,
    ExemptionInfo,
    FrameworkMapping,
    RemediationOutcome,
    RemediationSource,
    Result,
    ScanResult,
    Status,
    translated,
)
from ..i18n import DEFAULT_LANG, translations
from ..phones import scrub_text
from ..policy.model import expires_soon
from ..reasons import localize_warnings

_STATUS_RANK = {s: i for i, s in enumerate(STATUS_ORDER)}


# --- view model --------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusCount:
    status: str
    count: int
    percent: str
    css: str


@dataclass(frozen=True)
class ExemptionRow:
    account_id: str
    display_name: str
    folder_path: str
    result: str
    scope: str
    owner: str
    ticket: str
    expires: str
    days_left: int
    state: str  # "expired" | "expires soon" | "valid"
    css: str
    reason: str
    approved_by: str = ""  # "" when the exemption names no approver


@dataclass(frozen=True)
class FolderRow:
    path: str
    total: int
    counts: Mapping[str, int]


@dataclass(frozen=True)
class RemediationRow:
    account_id: str
    display_name: str
    phone_masked: str
    outcome: str
    at: str
    operator_arn: str
    request_id: str
    detail: str


@dataclass(frozen=True)
class ReportView:
    directory_id: str
    site: str
    scan_id: str
    started_at: str
    finished_at: str
    caller_arn: str
    caller_type: str
    tool_version: str
    policy_id: str
    policy_digest: str
    exemptions_digest: str
    coverage_text: str
    members: int
    evaluated: int
    errors_count: int
    api_calls: tuple[tuple[str, str], ...]
    api_calls_total: str
    counts: tuple[StatusCount, ...]
    compliance: str  # e.g. "87.5%" of in-scope members compliant (PASS + EXEMPT)
    rows: tuple[Result, ...]  # failing first, then the rest
    failing: tuple[Result, ...]
    error_rows: tuple[Result, ...]
    exemptions: tuple[ExemptionRow, ...]
    expired_count: int
    soon_count: int
    folders: tuple[FolderRow, ...]
    remediations: tuple[RemediationRow, ...]
    journal: RemediationSource | None  # which journal the remediations came from, if any
    types: tuple[str, ...]  # member types present, for the filter
    warnings: tuple[str, ...]  # what the reader should know (e.g. partial data), from the scan
    source_sha256: str
    frameworks: FrameworkMapping | None = None  # the Control section (None: not recorded)
    exemptions_ignored: bool = False  # --no-exemptions: the auditor's full view
    approved_count: int = 0  # exemption rows naming an approver
    as_of: str = ""  # the date exemption expiry was judged against, when not the scan's date
    exemptions_name: str = ""
    exemptions_count: int = 0
    control_title: str = ""  # the policy's title ("" in a report.json written before)
    control_rationale: str = ""
    related_controls: tuple[ControlRef, ...] = ()
    # items of ``frameworks`` the mapping gives no text for in the report's language (shown in
    # English, and the report says so)
    frameworks_untranslated: int = 0


def localized_frameworks(
    mapping: FrameworkMapping | None, lang: str
) -> tuple[FrameworkMapping | None, int]:
    """``mapping`` with each item's texts in ``lang`` where the mapping gives them (English
    otherwise), and how many items lack one of them. English: ``mapping`` as it is."""
    if mapping is None or lang == DEFAULT_LANG:
        return mapping, 0
    items = []
    untranslated = 0
    for item in mapping.items:
        texts = {name: item.text(name, lang) for name in FRAMEWORK_TEXTS}
        if any(texts[name] is None for name in ("framework", "title", "rationale")):
            untranslated += 1  # a version is often a number: shown as it is when not given
        items.append(
            dataclasses.replace(
                item,
                framework=texts["framework"] or item.framework,
                version=texts["version"] or item.version,
                title=texts["title"] or item.title,
                rationale=texts["rationale"] or item.rationale,
            )
        )
    return dataclasses.replace(mapping, items=tuple(items)), untranslated


def _warnings(ev: Evidence, lang: str) -> list[str]:
    if lang == DEFAULT_LANG:
        return list(ev.warnings)
    catalog = translations(lang)
    return localize_warnings(ev.warnings, ev.warning_parts, catalog.gettext, catalog.ngettext)


def row_key(r: Result) -> tuple[Any, ...]:
    return (
        _STATUS_RANK[r.result],
        -r.severity.rank,
        r.folder_path,
        r.display_name,
        r.account_id,
    )


def _exemption_state(ex: ExemptionInfo) -> tuple[str, str]:
    if ex.expired or ex.days_left < 0:
        return "expired", "x-expired"
    if expires_soon(ex.days_left):
        return "expires soon", "x-soon"
    return "valid", "x-valid"


def _percent(count: int, total: int) -> str:
    return f"{100.0 * count / total:.1f}%" if total else "0.0%"


def _folders(results: Iterable[Result]) -> tuple[FolderRow, ...]:
    by_path: dict[str, Counter[str]] = defaultdict(Counter)
    for r in results:
        by_path[r.folder_path or "(no folder)"][r.result._value_] += 1
    rows = [
        FolderRow(path=p, total=sum(c.values()), counts={s.value: c[s.value] for s in Status})
        for p, c in by_path.items()
    ]
    rows.sort(key=lambda f: (-(f.counts["FAIL"] + f.counts["ERROR"]), -f.total, f.path))
    return tuple(rows)


def _before(at: str, scan_started: str) -> bool:
    """True when a journal step is known to predate the scan (so the scan already shows it)."""
    a, b = parse_rfc3339(at), parse_rfc3339(scan_started)
    return a is not None and b is not None and a < b


def report_rows(scan: ScanResult) -> tuple[Result, ...]:
    """The scan's results in report order (``row_key``: failing first)."""
    return tuple(sorted(scan.results, key=row_key))


def build_view(
    scan: ScanResult,
    source_sha256: str,
    remediations: Sequence[RemediationOutcome] = (),
    rows: tuple[Result, ...] | None = None,
    journal: RemediationSource | None = None,
    lang: str = DEFAULT_LANG,
) -> ReportView:
    """Everything the templates show, computed once from a masked scan (``ReportInput`` masks
    it); keeps API text as it is (the templates escape it). ``rows``: the scan's results in
    report order when already sorted (``report_rows``).

    Remediation outcomes recorded before the scan started are left out: the scan shows them.
    """
    ev = scan.evidence
    cov = scan.coverage
    summary = scan.summary
    frameworks, untranslated = localized_frameworks(ev.frameworks, lang)
    total = len(scan.results)
    rows = report_rows(scan) if rows is None else rows
    in_scope = total - summary["SKIPPED"]
    compliant = summary["PASS"] + summary["EXEMPT"]
    exemptions = []
    for r in rows:
        if r.exemption is None:
            continue
        state, css = _exemption_state(r.exemption)
        exemptions.append(
            ExemptionRow(
                account_id=r.account_id,
                display_name=r.display_name,
                folder_path=r.folder_path,
                result=r.result.value,
                scope=r.exemption.scope,
                owner=r.exemption.owner,
                ticket=r.exemption.ticket,
                expires=r.exemption.expires,
                days_left=r.exemption.days_left,
                state=state,
                css=css,
                reason=r.exemption.reason,
                approved_by=r.exemption.approved_by,
            )
        )
    exemptions.sort(key=lambda x: (x.days_left, x.account_id))
    names = {r.account_id: r.display_name for r in scan.results}
    remediation_rows = tuple(
        RemediationRow(
            account_id=o.account_id,
            display_name=names.get(o.account_id, ""),
            phone_masked=o.phone_masked,
            outcome=o.outcome,
            at=o.at,
            operator_arn=o.operator_arn,
            request_id=o.request_id,
            detail=o.detail,
        )
        for o in sorted(
            (o for o in remediations if not _before(o.at, ev.started_at)),
            key=lambda o: (o.at, o.account_id),
        )
    )
    return ReportView(
        directory_id=ev.resource_directory_id,
        site=ev.site,
        scan_id=ev.scan_id,
        started_at=ev.started_at,
        finished_at=ev.finished_at,
        caller_arn=ev.caller.arn,
        caller_type=ev.caller.identity_type,
        tool_version=ev.tool_version,
        policy_id=ev.policy_id,
        policy_digest=ev.policy_digest,
        exemptions_digest=ev.exemptions_digest or "",
        coverage_text=f"{cov.evaluated:,} / {cov.members:,} members evaluated"
        + (f", {cov.unlisted:,} not listed (the listing is incomplete)" if cov.unlisted else ""),
        members=cov.members,
        evaluated=cov.evaluated,
        errors_count=cov.errors,
        api_calls=tuple((k, f"{v:,}") for k, v in sorted(ev.api_calls.items())),
        api_calls_total=f"{sum(ev.api_calls.values()):,}",
        counts=tuple(
            StatusCount(s.value, summary[s.value], _percent(summary[s.value], total), status_css(s))
            for s in STATUS_ORDER
        ),
        compliance=_percent(compliant, in_scope) if in_scope else "n/a",
        rows=rows,
        failing=tuple(r for r in rows if r.result is Status.FAIL),
        error_rows=tuple(r for r in rows if r.result is Status.ERROR),
        exemptions=tuple(exemptions),
        expired_count=sum(1 for x in exemptions if x.state == "expired"),
        soon_count=sum(1 for x in exemptions if x.state == "expires soon"),
        folders=_folders(scan.results),
        remediations=remediation_rows,
        journal=journal,
        types=tuple(sorted({r.type for r in scan.results})),
        warnings=tuple(scrub_text(w) for w in _warnings(ev, lang)),
        source_sha256=source_sha256,
        frameworks=frameworks,
        frameworks_untranslated=untranslated,
        exemptions_ignored=ev.exemptions_ignored,
        approved_count=sum(1 for x in exemptions if x.approved_by),
        as_of=ev.as_of if ev.as_of != ev.started_at[:10] else "",
        control_title=translated(ev.policy_translations, lang, "title") or ev.policy_title,
        control_rationale=translated(ev.policy_translations, lang, "rationale")
        or ev.policy_rationale,
        related_controls=tuple(
            dataclasses.replace(
                c,
                framework=translated(c.translations, lang, "framework") or c.framework,
                title=translated(c.translations, lang, "title") or c.title,
            )
            for c in ev.related_controls
        ),
        exemptions_name=ev.exemptions_name,
        exemptions_count=ev.exemptions_count,
    )


def status_css(status: Status) -> str:
    return "s-" + status.value.lower()
