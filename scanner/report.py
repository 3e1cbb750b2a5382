"""Reports from a ScanResult: HTML, Markdown, CSV and JSON, rendered to strings.

A view model (``build_view``) turns the scan into display values once; the jinja2 templates in
``report_templates/`` only lay them out. Phone numbers are masked again here, whatever the scan
holds, and free-text fields are scrubbed of anything that looks like a full number.

Escaping:
- HTML: jinja2 autoescape is on; charts are built by ``scanner.svg`` which escapes its labels.
  The page carries a Content-Security-Policy that allows only its own inline style and script
  (by hash), so it loads nothing from anywhere and no injected script could run.
- Markdown: every ``{{ value }}`` goes through ``md_escape`` (the environment's ``finalize``)
  unless it is an ``MdSafe`` string made by this module.
- CSV: UTF-8 with a byte-order mark (so spreadsheet programs detect UTF-8); every text cell that
  starts with ``=``, ``+``, ``-``, ``@``, tab or carriage return is prefixed with ``'``.
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import hashlib
import io
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from . import svg
from .errors import ConfigError
from .findings import (
    STATUS_ORDER,
    ExemptionInfo,
    RemediationOutcome,
    Result,
    ScanResult,
    Status,
)
from .phones import mask_phone
from .resources import templates_dir as default_templates_dir
from .results_file import dumps, write_atomic

FORMATS: tuple[str, ...] = ("html", "md", "json", "csv")
FILE_NAMES: Mapping[str, str] = {
    "html": "report.html",
    "md": "report.md",
    "json": "report.json",
    "csv": "report.csv",
}
SOON_DAYS = 30  # an exemption expiring within this many days is called out
MAX_FOLDER_BARS = 20  # folders drawn in the bar chart; the rest are summed in one bar

_STATUS_RANK = {s: i for i, s in enumerate(STATUS_ORDER)}
_CHART_ORDER = (Status.PASS, Status.FAIL, Status.EXEMPT, Status.SKIPPED, Status.ERROR)


def parse_formats(value: str | Sequence[str], allowed: Sequence[str] = FORMATS) -> list[str]:
    """``"html,md"`` or ``["html", "md"]`` -> ``["html", "md"]``; unknown names: ConfigError."""
    items = value.split(",") if isinstance(value, str) else list(value)
    names: list[str] = []
    for item in items:
        name = item.strip().lower()
        if not name:
            continue
        if name == "markdown":
            name = "md"
        if name not in allowed:
            raise ConfigError(
                f"unknown report format {item.strip()!r}",
                hint=f"use a comma-separated list of: {', '.join(allowed)}",
            )
        if name not in names:
            names.append(name)
    if not names:
        raise ConfigError(
            "no report format given", hint=f"use one or more of: {', '.join(allowed)}"
        )
    return names


# --- masking -----------------------------------------------------------------------------------

# "86-13900001234" / "+86-13900001234" (country code, dash, 7-20 digits) and bare CN mobile
# numbers ("13900001234") in free text; other long digit runs (account ids) are kept.
_PHONE_IN_TEXT = re.compile(r"(?<![\w*])(\+?\d{1,4}-)?(1[3-9]\d{9}|\d{7,20})(?![\w*])")


def scrub_text(text: str) -> str:
    """Mask anything that looks like a full phone number inside free text (reasons, details)."""

    def repl(m: re.Match[str]) -> str:
        cc, digits = m.group(1), m.group(2)
        if not cc and not re.fullmatch(r"1[3-9]\d{9}", digits):
            return m.group(0)  # a bare long number (account id, request id): keep it
        return mask_phone((cc or "") + digits) or ""

    return _PHONE_IN_TEXT.sub(repl, text)


def _mask_result(r: Result) -> Result:
    ex = r.exemption
    return dataclasses.replace(
        r,
        secure_mobile_phone_masked=mask_phone(r.secure_mobile_phone_masked),
        reason=scrub_text(r.reason),
        exemption=dataclasses.replace(ex, reason=scrub_text(ex.reason)) if ex else None,
    )


def masked_scan(scan: ScanResult) -> ScanResult:
    """The scan with every phone number masked (again) and free text scrubbed."""
    return dataclasses.replace(scan, results=tuple(_mask_result(r) for r in scan.results))


def _mask_outcome(o: RemediationOutcome) -> RemediationOutcome:
    return dataclasses.replace(
        o, phone_masked=mask_phone(o.phone_masked) or "", detail=scrub_text(o.detail)
    )


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
    types: tuple[str, ...]  # member types present, for the filter
    source_sha256: str


def _row_key(r: Result) -> tuple[Any, ...]:
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
    if ex.days_left <= SOON_DAYS:
        return "expires soon", "x-soon"
    return "valid", "x-valid"


def _percent(count: int, total: int) -> str:
    return f"{100.0 * count / total:.1f}%" if total else "0.0%"


def _folders(results: Iterable[Result]) -> tuple[FolderRow, ...]:
    by_path: dict[str, Counter[str]] = defaultdict(Counter)
    for r in results:
        by_path[r.folder_path or "(no folder)"][r.result.value] += 1
    rows = [
        FolderRow(path=p, total=sum(c.values()), counts={s.value: c[s.value] for s in Status})
        for p, c in by_path.items()
    ]
    rows.sort(key=lambda f: (-(f.counts["FAIL"] + f.counts["ERROR"]), -f.total, f.path))
    return tuple(rows)


def _instant(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _before(at: str, scan_started: str) -> bool:
    """True when a journal step is known to predate the scan (so the scan already shows it)."""
    a, b = _instant(at), _instant(scan_started)
    return a is not None and b is not None and a < b


def build_view(
    scan: ScanResult,
    source_sha256: str,
    remediations: Sequence[RemediationOutcome] = (),
) -> ReportView:
    """Everything the templates show, computed once. Masks phones; keeps API text as it is.

    Remediation outcomes recorded before the scan started are left out: the scan shows them.
    """
    scan = masked_scan(scan)
    ev = scan.evidence
    cov = scan.coverage
    summary = scan.summary
    total = len(scan.results)
    rows = tuple(sorted(scan.results, key=_row_key))
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
            (_mask_outcome(o) for o in remediations if not _before(o.at, ev.started_at)),
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
        coverage_text=f"{cov.evaluated:,} / {cov.members:,} members evaluated",
        members=cov.members,
        evaluated=cov.evaluated,
        errors_count=cov.errors,
        api_calls=tuple((k, f"{v:,}") for k, v in sorted(ev.api_calls.items())),
        api_calls_total=f"{sum(ev.api_calls.values()):,}",
        counts=tuple(
            StatusCount(s.value, summary[s.value], _percent(summary[s.value], total), _css(s))
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
        types=tuple(sorted({r.type for r in scan.results})),
        source_sha256=source_sha256,
    )


def _css(status: Status) -> str:
    return "s-" + status.value.lower()


def _charts(view: ReportView) -> tuple[str, str]:
    by_status = {c.status: c.count for c in view.counts}
    donut = svg.donut(
        [svg.Segment(s.value, by_status[s.value], _css(s)) for s in _CHART_ORDER],
        center=view.compliance,
        caption=f"Compliance: {view.compliance} of in-scope members pass or are exempt",
    )
    shown = list(view.folders[:MAX_FOLDER_BARS])
    rest = view.folders[MAX_FOLDER_BARS:]
    bars = [
        svg.Bar(
            f.path, tuple(svg.Segment(s.value, f.counts[s.value], _css(s)) for s in STATUS_ORDER)
        )
        for f in shown
    ]
    if rest:
        merged = Counter[str]()
        for f in rest:
            merged.update(f.counts)
        bars.append(
            svg.Bar(
                f"({len(rest):,} more folders)",
                tuple(svg.Segment(s.value, merged[s.value], _css(s)) for s in STATUS_ORDER),
            )
        )
    return donut, svg.stacked_bars(bars, caption="Members per folder, by result")


# --- Markdown escaping -------------------------------------------------------------------------


class MdSafe(str):
    """A string this module built as Markdown on purpose: ``finalize`` leaves it alone."""


_MD_BREAKS = re.compile(r"\r\n|[\r\n\v\f\x85\u2028\u2029]")
_MD_PUNCT = re.compile(r"([\\`*_\[\]|~$#])")  # markup anywhere in a line
_MD_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")  # "&lt;" would decode: "R&D" is fine as is
_MD_LEADING = re.compile(
    r"(\s*)([#+\-=!]|\d+[.)](?=\s|$))"
)  # block markup when a value starts a line


def md_escape(value: object) -> str:
    """Make any text inert in GFM: one line, no markup, no HTML, safe inside a table cell.

    Line breaks and control characters become spaces, and the ends are trimmed (no indented
    code block, no hard line break); ``<`` and ``>`` become entities (so no
    HTML element or autolink); ``\\ ` * _ [ ] | ~ $ #`` are backslash-escaped (no emphasis, code,
    link, table cell break, strikethrough, math or heading close); a leading ``+ - = !`` or
    ``1.`` is escaped (no list or setext underline when the value starts a line).
    """
    if value is None:
        return ""
    text = _MD_BREAKS.sub(" ", str(value))
    text = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text).strip()
    text = _MD_ENTITY.sub("&amp;", text).replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_PUNCT.sub(r"\\\1", text)
    m = _MD_LEADING.match(text)
    if m:
        lead = m.group(2)
        text = m.group(1) + lead[:-1] + "\\" + lead[-1] + text[m.end() :]
    return text


def _md_finalize(value: Any) -> Any:
    if isinstance(value, (MdSafe, int, float)) and not isinstance(value, bool):
        return value
    return md_escape(value)


def _md_code(value: object) -> MdSafe:
    """Our own identifiers (digests) as a code span; refuses anything that is not plain."""
    text = str(value)
    if not re.fullmatch(r"[A-Za-z0-9:._\-/]*", text):
        return MdSafe(md_escape(text))
    return MdSafe(f"`{text}`") if text else MdSafe("")


# --- rendering ---------------------------------------------------------------------------------


def _templates_path(templates_dir: Path | None) -> Path:
    if templates_dir is None:
        try:
            return default_templates_dir()
        except FileNotFoundError:
            raise ConfigError(
                "the report templates folder (report_templates/) is missing from this install",
                hint="reinstall rdscan, or give --templates-dir DIR",
            ) from None
    path = Path(templates_dir)
    if not path.is_dir():
        raise ConfigError(
            f"templates folder {path} does not exist",
            hint="give --templates-dir a folder holding report.html.j2 and report.md.j2",
        )
    return path


@lru_cache(maxsize=8)
def _env(templates_dir: Path, kind: str) -> jinja2.Environment:
    loader = jinja2.FileSystemLoader(str(templates_dir))
    if kind == "html":
        env = jinja2.Environment(
            loader=loader,
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
    else:
        env = jinja2.Environment(
            loader=loader,
            autoescape=False,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            finalize=_md_finalize,
        )
        env.filters["code"] = _md_code
    return env


def _template(templates_dir: Path | None, kind: str, name: str) -> jinja2.Template:
    env = _env(_templates_path(templates_dir), kind)
    try:
        return env.get_template(name)
    except jinja2.TemplateNotFound:
        raise ConfigError(
            f"report template {name} not found in {env.loader.searchpath[0]}",  # type: ignore[union-attr]
            hint="give --templates-dir a folder holding report.html.j2 and report.md.j2",
        ) from None
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(
            f"report template {exc.filename or name} line {exc.lineno}: {exc.message}",
            hint="fix the template, or drop --templates-dir to use the bundled ones",
        ) from None


def _csp_hash(text: str) -> str:
    return (
        "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"
    )


def render_html(
    scan: ScanResult,
    source_sha256: str,
    remediations: Sequence[RemediationOutcome] = (),
    *,
    templates_dir: Path | None = None,
) -> str:
    """The self-contained HTML report (inline CSS, SVG and one inline script; no URL at all)."""
    view = build_view(scan, source_sha256, remediations)
    donut, bars = _charts(view)
    css = _template(templates_dir, "html", "_report.css").render()
    js = _template(templates_dir, "html", "_report.js").render()
    csp = (
        "default-src 'none'; "
        f"style-src {_csp_hash(css)}; script-src {_csp_hash(js)}; "
        "img-src 'none'; form-action 'none'; base-uri 'none'"
    )
    return _template(templates_dir, "html", "report.html.j2").render(
        v=view,
        donut=Markup(donut),
        bars=Markup(bars),
        css=Markup(css),
        js=Markup(js),
        csp=csp,
        soon_days=SOON_DAYS,
    )


def render_markdown(
    scan: ScanResult,
    source_sha256: str,
    remediations: Sequence[RemediationOutcome] = (),
    *,
    templates_dir: Path | None = None,
) -> str:
    """GitHub-flavoured Markdown; every value from the API is escaped (see ``md_escape``)."""
    view = build_view(scan, source_sha256, remediations)
    return _template(templates_dir, "md", "report.md.j2").render(
        v=view, soon_days=SOON_DAYS, max_folders=MAX_FOLDER_BARS
    )


CSV_COLUMNS: tuple[str, ...] = (
    "account_id",
    "display_name",
    "type",
    "status",
    "folder_id",
    "folder_path",
    "tags",
    "has_secure_mobile_phone",
    "secure_mobile_phone_masked",
    "result",
    "severity",
    "reason",
    "remediation",
    "exemption_scope",
    "exemption_reason",
    "exemption_owner",
    "exemption_ticket",
    "exemption_expires",
    "exemption_expired",
    "exemption_days_left",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> str | int:
    """A spreadsheet cannot read a formula out of this cell (text only; ints stay numbers)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _bool(value: bool | None) -> str:
    return "" if value is None else ("true" if value else "false")


def render_csv(scan: ScanResult) -> str:
    """One row per member (report.json fields, exemption flattened); starts with a UTF-8 BOM."""
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in sorted(masked_scan(scan).results, key=_row_key):
        ex = r.exemption
        writer.writerow(
            [
                csv_safe(v)
                for v in (
                    r.account_id,
                    r.display_name,
                    r.type,
                    r.status,
                    r.folder_id,
                    r.folder_path,
                    ";".join(f"{k}={v}" for k, v in r.tags),
                    _bool(r.has_secure_mobile_phone),
                    r.secure_mobile_phone_masked or "",
                    r.result.value,
                    r.severity.value,
                    r.reason,
                    r.remediation.value,
                    ex.scope if ex else "",
                    ex.reason if ex else "",
                    ex.owner if ex else "",
                    ex.ticket if ex else "",
                    ex.expires if ex else "",
                    _bool(ex.expired) if ex else "",
                    ex.days_left if ex else "",
                )
            ]
        )
    return buf.getvalue()


def render_json(scan: ScanResult) -> str:
    """report.json (schema_version 1), phones masked."""
    return dumps(masked_scan(scan))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write(path: Path, text: str) -> None:
    try:
        write_atomic(path, text)
    except OSError as exc:
        raise ConfigError(
            f"cannot write {path}: {exc.strerror or exc}",
            hint="choose a writable folder with --output-dir",
        ) from None


def _written_sha256(path: Path) -> str:
    """SHA-256 of the file as it is on disk (exactly the bytes written, whatever the encoding)."""
    try:
        return sha256_hex(path.read_bytes())
    except OSError as exc:
        raise ConfigError(f"cannot read back {path}: {exc.strerror or exc}") from None


def write_rendered(
    scan: ScanResult,
    formats: Sequence[str],
    output_dir: Path,
    *,
    source_sha256: str,
    remediations: Sequence[RemediationOutcome] = (),
    templates_dir: Path | None = None,
) -> dict[str, Path]:
    """Write the html/md/csv reports of ``formats`` (json excluded), each atomically.

    Everything is rendered before the first file is written, so a template error leaves the
    folder as it was.
    """
    texts: dict[str, str] = {}
    for fmt in parse_formats(formats) if formats else []:
        if fmt == "html":
            texts[fmt] = render_html(scan, source_sha256, remediations, templates_dir=templates_dir)
        elif fmt == "md":
            texts[fmt] = render_markdown(
                scan, source_sha256, remediations, templates_dir=templates_dir
            )
        elif fmt == "csv":
            texts[fmt] = render_csv(scan)
    written: dict[str, Path] = {}
    for fmt, text in texts.items():
        path = Path(output_dir) / FILE_NAMES[fmt]
        _write(path, text)
        written[fmt] = path
    return written


def write_reports(
    scan: ScanResult,
    formats: Sequence[str],
    output_dir: Path,
    *,
    remediations: Sequence[RemediationOutcome] = (),
    templates_dir: Path | None = None,
) -> dict[str, Path]:
    """Write the reports asked for into ``output_dir``; returns ``{format: path}``.

    report.json is written first, and always (even when ``json`` is not among ``formats``):
    it is the record the HTML and Markdown footers name by the SHA-256 of its exact bytes, and
    what ``rdscan report`` re-renders from.
    """
    names = parse_formats(formats)
    text = render_json(scan)
    json_path = Path(output_dir) / FILE_NAMES["json"]
    _write(json_path, text)
    written = {"json": json_path}
    written.update(
        write_rendered(
            scan,
            [f for f in names if f != "json"],
            output_dir,
            source_sha256=_written_sha256(json_path),
            remediations=remediations,
            templates_dir=templates_dir,
        )
    )
    return written
