"""Reports from a ScanResult: HTML, Markdown, CSV and JSON, rendered to strings.

A view model (``scanner.report_view.build_view``) turns the scan into display values once; the
jinja2 templates in ``report_templates/`` only lay them out. Phone numbers are masked again there,
whatever the scan holds, and free-text fields are scrubbed of anything that looks like a full
number.

Escaping:
- HTML: jinja2 autoescape is on; charts are built by ``scanner.svg`` which escapes its labels.
  The page carries a Content-Security-Policy that allows only its own inline style and script
  (by hash), so it loads nothing from anywhere and no injected script could run.
- Markdown: every ``{{ value }}`` goes through ``scanner.md_escape.md_escape`` (the
  environment's ``finalize``) unless it is an ``MdSafe`` string made on purpose.
- CSV (``scanner.report_csv``): UTF-8 with a byte-order mark; every text cell that starts with
  ``=``, ``+``, ``-``, ``@``, tab or carriage return is prefixed with ``'``.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

from ..errors import ConfigError
from ..findings import STATUS_ORDER, RemediationOutcome, ScanResult, Status
from ..policy.model import SOON_DAYS
from ..resources import templates_dir as default_templates_dir
from . import svg
from .csv_format import CSV_COLUMNS, csv_safe, render_csv
from .md_escape import MdSafe, md_code, md_escape, md_finalize
from .results_file import dumps, write_atomic
from .view import ReportView, build_view, masked_scan, scrub_text, status_css

__all__ = [
    "CSV_COLUMNS",
    "FILE_NAMES",
    "FORMATS",
    "SOON_DAYS",
    "MdSafe",
    "ReportView",
    "build_view",
    "check_output_dir",
    "csv_safe",
    "html_path",
    "masked_scan",
    "md_escape",
    "parse_formats",
    "render_csv",
    "render_html",
    "render_json",
    "render_markdown",
    "scrub_text",
    "sha256_hex",
    "write_rendered",
    "write_reports",
]

FORMATS: tuple[str, ...] = ("html", "md", "json", "csv")
FILE_NAMES: Mapping[str, str] = {
    "html": "report.html",
    "md": "report.md",
    "json": "report.json",
    "csv": "report.csv",
}
MAX_FOLDER_BARS = 20  # folders drawn in the bar chart; the rest are summed in one bar

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


def _charts(view: ReportView) -> tuple[str, str]:
    by_status = {c.status: c.count for c in view.counts}
    donut = svg.donut(
        [svg.Segment(s.value, by_status[s.value], status_css(s)) for s in _CHART_ORDER],
        center=view.compliance,
        caption=f"Compliance: {view.compliance} of in-scope members pass or are exempt",
    )
    shown = list(view.folders[:MAX_FOLDER_BARS])
    rest = view.folders[MAX_FOLDER_BARS:]
    bars = [
        svg.Bar(
            f.path,
            tuple(svg.Segment(s.value, f.counts[s.value], status_css(s)) for s in STATUS_ORDER),
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
                tuple(svg.Segment(s.value, merged[s.value], status_css(s)) for s in STATUS_ORDER),
            )
        )
    return donut, svg.stacked_bars(bars, caption="Members per folder, by result")


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


def html_path(value: object) -> Markup:
    """A folder path, escaped, that may wrap after each ``/`` (``<wbr>``: no text added)."""
    return Markup("/<wbr>").join(escape(part) for part in str(value).split("/"))


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
        env.filters["path"] = html_path
    else:
        env = jinja2.Environment(
            loader=loader,
            autoescape=False,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            finalize=md_finalize,
        )
        env.filters["code"] = md_code
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


def _render(template: jinja2.Template, **context: object) -> str:
    """Render; an error inside a template (a --templates-dir one) is a ConfigError naming the
    template and line, never a traceback."""
    try:
        return template.render(**context)
    except jinja2.TemplateError as exc:
        name = template.filename or template.name or "template"
        line = _template_line(exc, name)
        where = f"{name} line {line}" if line else name
        raise ConfigError(
            f"report template {where}: {exc.message or type(exc).__name__}",
            hint="fix the template, or drop --templates-dir to use the bundled ones",
        ) from None


def _template_line(exc: BaseException, filename: str) -> int | None:
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


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
    css = _render(_template(templates_dir, "html", "_report.css"))
    js = _render(_template(templates_dir, "html", "_report.js"))
    csp = (
        "default-src 'none'; "
        f"style-src {_csp_hash(css)}; script-src {_csp_hash(js)}; "
        "img-src 'none'; form-action 'none'; base-uri 'none'"
    )
    return _render(
        _template(templates_dir, "html", "report.html.j2"),
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
    return _render(
        _template(templates_dir, "md", "report.md.j2"),
        v=view,
        soon_days=SOON_DAYS,
        max_folders=MAX_FOLDER_BARS,
    )


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


def check_output_dir(output_dir: Path) -> None:
    """Fail before a long scan if the reports could not be written into ``output_dir``
    afterwards (a file in the way, a folder that is not writable). Creates nothing."""
    path = Path(output_dir).absolute()
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    if existing is None:
        return
    if not existing.is_dir():
        raise ConfigError(
            f"cannot write reports into {output_dir}: {existing} is a file, not a folder",
            hint="choose another folder with --output-dir",
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(
            f"cannot write reports into {output_dir}: {existing} is not writable",
            hint="choose a writable folder with --output-dir",
        )


def render_formats(
    scan: ScanResult,
    formats: Sequence[str],
    *,
    source_sha256: str,
    remediations: Sequence[RemediationOutcome] = (),
    templates_dir: Path | None = None,
) -> dict[str, str]:
    """Render the html/md/csv reports of ``formats`` (json excluded) to strings."""
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
    return texts


def _write_all(texts: dict[str, str], output_dir: Path) -> dict[str, Path]:
    written: dict[str, Path] = {}
    for fmt, text in texts.items():
        path = Path(output_dir) / FILE_NAMES[fmt]
        _write(path, text)
        written[fmt] = path
    return written


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
    texts = render_formats(
        scan,
        formats,
        source_sha256=source_sha256,
        remediations=remediations,
        templates_dir=templates_dir,
    )
    return _write_all(texts, output_dir)


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
    what ``rdscan report`` re-renders from. Every format is rendered before the first file is
    written, so a template error leaves the folder as it was.
    """
    names = parse_formats(formats)
    text = render_json(scan)
    source_sha256 = sha256_hex(text.encode("utf-8"))
    texts = render_formats(
        scan,
        [f for f in names if f != "json"],
        source_sha256=source_sha256,
        remediations=remediations,
        templates_dir=templates_dir,
    )
    json_path = Path(output_dir) / FILE_NAMES["json"]
    _write(json_path, text)  # write_atomic writes exactly text.encode("utf-8")
    written = {"json": json_path}
    written.update(_write_all(texts, output_dir))
    return written
