"""report.html: one self-contained page (inline CSS, SVG charts and one inline script; no URL).

Escaping: jinja2 autoescape is on; the charts come from ``svg``, which escapes its labels. The
page carries a Content-Security-Policy that allows only its own inline style and script (by
hash), so it loads nothing from anywhere and no injected script could run.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence

from markupsafe import Markup, escape

from ..findings import STATUS_ORDER, Result, Status
from ..policy.model import SOON_DAYS
from . import svg
from .format import ReportFormat, ReportInput
from .since_view import SinceView, build_since
from .templates import render, stream, template
from .view import ReportView, status_css

MAX_FOLDER_BARS = 20  # folders drawn in the bar chart; the rest are summed in one bar
# The page lists every member as a row up to this many members; beyond, only the failing
# members are rows (the page must read without JavaScript for them; errors and exemptions have
# their own sections) and the rest travel as JSON that the page's script lists on demand: a page
# of 50,000 rows took 45 s to open in Chromium.
ALL_ROWS_MAX = 2_000

MemberRow = tuple[str, ...]  # css class, then the 8 cells of the member table

_CHART_ORDER = (Status.PASS, Status.FAIL, Status.EXEMPT, Status.SKIPPED, Status.ERROR)


def _charts(view: ReportView, _: Callable[[str], str] = str) -> tuple[str, str]:
    by_status = {c.status: c.count for c in view.counts}
    donut = svg.donut(
        [svg.Segment(s.value, by_status[s.value], status_css(s)) for s in _CHART_ORDER],
        center=view.compliance,
        caption=_("Compliance: %(share)s of in-scope members pass or are exempt")
        % {"share": view.compliance},
        members=_("%(n)s members"),
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
                _("(%(n)s more folders)") % {"n": f"{len(rest):,}"},
                tuple(svg.Segment(s.value, merged[s.value], status_css(s)) for s in STATUS_ORDER),
                summary=True,
            )
        )
    return donut, svg.stacked_bars(
        bars,
        caption=_("Members per folder, by result"),
        total=_("%(n)s total"),
        empty=_("No members."),
    )


def _csp_hash(text: str) -> str:
    return (
        "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"
    )


def _member_cells(r: Result, reason: Callable[[Result], str]) -> list[str]:
    return [
        r.account_id,
        r.display_name,
        r.folder_path,
        r.type,
        r.result._value_,
        r.severity._value_,
        r.remediation._value_,
        reason(r),
    ]


def _english_reason(r: Result) -> str:
    return r.reason


def member_rows(
    rows: Sequence[Result],
    days_failing: Mapping[str, int | None] | None = None,
    reason: Callable[[Result], str] = _english_reason,
    unknown: str = "unknown",
) -> tuple[list[MemberRow], list[list[str]]]:
    """Split the members (report order) into the rows of the page and the rest.

    Every member is a row up to ``ALL_ROWS_MAX`` members; beyond, the failing ones (the first
    in report order). Returns ``(rows, more)``: ``(css class, 8 cells)`` per row, the same 8
    cells per member of the rest, both in report order. With ``days_failing`` (from the
    history) a 9th cell: the days a failing member has failed (``unknown`` when not known).
    ``reason``: a member's reason in the report's language.
    """
    if len(rows) <= ALL_ROWS_MAX:
        cut = len(rows)
    else:
        cut = next((i for i, r in enumerate(rows) if r.result is not Status.FAIL), len(rows))

    def cells(r: Result) -> list[str]:
        values = _member_cells(r, reason)
        if days_failing is not None:
            days = days_failing.get(r.account_id, "")
            values.append(unknown if days is None else str(days))
        return values

    listed = [(status_css(r.result), *cells(r)) for r in rows[:cut]]
    return listed, [cells(r) for r in rows[cut:]]


def rows_html(rows: Sequence[MemberRow]) -> Markup:
    """The member table's ``<tr>`` elements: the row's css class, then one ``<td>`` per cell,
    every value escaped (markupsafe). Built here rather than in a template loop: 15,000 rows
    through jinja2 took half a second."""
    return Markup(
        "".join(
            f'<tr class="{escape(css)}"><td>'
            + "</td><td>".join(map(escape, cells))
            + "</td></tr>\n"
            for css, *cells in rows
        )
    )


def script_json(value: object) -> Markup:
    """JSON safe as the text of an HTML ``<script type="application/json">`` element: no ``<``,
    ``>`` or ``&`` (so no ``</script>`` or ``<!--`` can end or bend it); read with JSON.parse."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e"))


def render_html(data: ReportInput) -> str:
    """The self-contained HTML report."""
    return "".join(stream_html(data))


def stream_html(data: ReportInput) -> Iterator[str]:
    """``render_html``'s text in pieces, made as they are written."""
    donut, bars = _charts(data.view, data._)
    since = build_since(data.scan)
    css = render(template(data.templates_dir, "html", "_report.css"))
    js = render(template(data.templates_dir, "html", "_report.js"))
    csp = (
        "default-src 'none'; "
        f"style-src {_csp_hash(css)}; script-src {_csp_hash(js)}; "
        "img-src 'none'; form-action 'none'; base-uri 'none'"
    )
    rows, more = member_rows(
        data.rows,
        since.days_failing if since.recorded else None,
        data.reason,
        data._("unknown"),
    )
    return stream(
        template(data.templates_dir, "html", "report.html.j2", data.lang),
        v=data.view,
        lang=data.lang,
        reason=data.reason,
        member_rows_html=rows_html(rows),
        member_row_count=len(rows),
        more_count=len(more),
        more_json=script_json(more) if more else Markup(""),
        donut=Markup(donut),
        bars=Markup(bars),
        css=Markup(css),
        js=Markup(js),
        csp=csp,
        soon_days=SOON_DAYS,
        since=since,
        trend_svg=Markup(_trend_chart(since, data._)),
    )


def _trend_chart(since: SinceView, _: Callable[[str], str] = str) -> str:
    if not since.trend:
        return ""
    return svg.trend_line(
        [svg.Point(t.started_at[:10], t.share) for t in since.trend],
        caption=_(
            "Compliance per recorded scan of this directory (PASS + EXEMPT of in-scope "
            "members), oldest first"
        ),
        note=_("%(n)s scans; latest %(latest)s"),
    )


FORMAT = ReportFormat(
    name="html",
    file_name="report.html",
    help="self-contained web page with charts",
    render=render_html,
    stream=stream_html,
)
