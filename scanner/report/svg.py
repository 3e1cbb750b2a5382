"""Pure inline-SVG charts for the HTML report: a donut and per-folder stacked bars.

Functions return SVG markup as ``str``; every label is escaped here, so the result can be
inserted into an HTML page as-is. Charts carry text (legend, counts, ``<title>``) so they read
without colour and print in black and white.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import escape


@dataclass(frozen=True)
class Segment:
    label: str  # e.g. "FAIL"
    count: int
    css: str  # class name that sets the fill/stroke colour, e.g. "s-fail"


@dataclass(frozen=True)
class Bar:
    label: str  # e.g. a folder path (comes from the API: escaped here)
    segments: tuple[Segment, ...]
    summary: bool = False  # a sum of other items ("N more folders"): counts as text, no bar

    @property
    def total(self) -> int:
        return sum(s.count for s in self.segments)


def _e(value: object) -> str:
    return str(escape(str(value)))


def _pct(count: int, total: int) -> str:
    return f"{100.0 * count / total:.1f}%" if total else "0.0%"


def donut(
    segments: Sequence[Segment],
    *,
    center: str,
    caption: str,
    size: int = 180,
    members: str = "%(n)s members",
) -> str:
    """A donut of ``segments`` with ``center`` text in the hole and a text legend beside it."""
    total = sum(s.count for s in segments)
    radius = 15.915494309189533  # circumference 100: dash lengths are percentages
    parts: list[str] = []
    legend_x = size + 16
    height = max(size, 24 + 22 * len(segments))
    parts.append(
        f'<svg class="chart donut" role="img" '
        f'viewBox="0 0 {legend_x + 220} {height}" width="{legend_x + 220}" height="{height}" '
        f'aria-label="{_e(caption)}">'
    )
    parts.append(f"<title>{_e(caption)}</title>")
    parts.append(f'<g transform="translate({size / 2},{size / 2}) scale({size / 2 / 21})">')
    parts.append(f'<circle class="ring" r="{radius}" fill="none" stroke-width="6"/>')
    offset = 25.0  # start at 12 o'clock
    for seg in segments:
        if not seg.count:
            continue
        length = 100.0 * seg.count / total
        parts.append(
            f'<circle class="{_e(seg.css)}" r="{radius}" fill="none" stroke-width="6" '
            f'stroke-dasharray="{length:.3f} {100 - length:.3f}" '
            f'stroke-dashoffset="{offset:.3f}"><title>{_e(seg.label)}: {seg.count:,} '
            f"({_pct(seg.count, total)})</title></circle>"
        )
        offset = (offset - length) % 100
    parts.append("</g>")
    parts.append(
        f'<text x="{size / 2}" y="{size / 2 - 4}" text-anchor="middle" class="big">'
        f"{_e(center)}</text>"
    )
    parts.append(
        f'<text x="{size / 2}" y="{size / 2 + 16}" text-anchor="middle" class="small">'
        f"{_e(members % {'n': f'{total:,}'})}</text>"
    )
    for i, seg in enumerate(segments):
        y = 24 + 22 * i
        parts.append(
            f'<rect class="{_e(seg.css)}" x="{legend_x}" y="{y - 12}" width="14" height="14"/>'
            f'<text x="{legend_x + 22}" y="{y}">{_e(seg.label)} {seg.count:,} '
            f"({_pct(seg.count, total)})</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else "…" + text[-(limit - 1) :]


def stacked_bars(
    bars: Sequence[Bar],
    *,
    caption: str,
    width: int = 880,
    total: str = "%(n)s total",
    empty: str = "No members.",
) -> str:
    """One horizontal stacked bar per item, scaled to the largest real item (a ``summary`` bar
    is written as text only, so a sum of many folders never shrinks the others to stubs),
    with counts as text."""
    label_w, count_w, row_h = 230, 300, 22
    plot_w = width - label_w - count_w
    most = max((b.total for b in bars if not b.summary), default=0) or 1
    height = 8 + row_h * max(len(bars), 1)
    parts = [
        f'<svg class="chart bars" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-label="{_e(caption)}">',
        f"<title>{_e(caption)}</title>",
    ]
    if not bars:
        parts.append(f'<text x="0" y="20">{_e(empty)}</text>')
    for i, bar in enumerate(bars):
        y = 4 + row_h * i
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 14}" text-anchor="end">'
            f"<title>{_e(bar.label)}</title>{_e(_shorten(bar.label, 34))}</text>"
        )
        x = float(label_w)
        for seg in bar.segments:
            if not seg.count or bar.summary:
                continue
            w = plot_w * seg.count / most
            parts.append(
                f'<rect class="{_e(seg.css)}" x="{x:.2f}" y="{y + 3}" width="{w:.2f}" '
                f'height="{row_h - 6}"><title>{_e(bar.label)}: {_e(seg.label)} '
                f"{seg.count:,}</title></rect>"
            )
            x += w
        notable = [f"{s.label} {s.count:,}" for s in bar.segments if s.count and s.label != "PASS"]
        text = total % {"n": f"{bar.total:,}"} + (" · " + ", ".join(notable) if notable else "")
        parts.append(f'<text x="{x + 6:.2f}" y="{y + 14}" class="small">{_e(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class Point:
    label: str  # e.g. the scan's start time
    value: float | None  # 0..1; None: no value (drawn as a gap)


def trend_line(
    points: Sequence[Point], *, caption: str, width: int = 560, note: str | None = None
) -> str:
    """Compliance share over scans: one marker per scan (oldest left), joined by lines, on a
    0-100 % scale with gridlines; a scan without a value leaves a gap. Text carries the values
    (first and last labels, the latest share), so it reads in black and white."""
    left, right, top, plot_h = 44, 16, 12, 140
    height = top + plot_h + 40
    plot_w = width - left - right
    parts = [
        f'<svg class="chart trend" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-label="{_e(caption)}">',
        f"<title>{_e(caption)}</title>",
    ]
    for pct in (0, 50, 100):
        y = top + plot_h * (1 - pct / 100)
        parts.append(
            f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="small">{pct}%</text>'
        )
    n = len(points)

    def xy(i: int, value: float) -> tuple[float, float]:
        x = left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)
        return x, top + plot_h * (1 - value)

    run: list[str] = []
    for i, p in enumerate(points):
        if p.value is None:
            if len(run) > 1:
                parts.append(f'<polyline class="line" fill="none" points="{" ".join(run)}"/>')
            run = []
            continue
        x, y = xy(i, p.value)
        run.append(f"{x:.1f},{y:.1f}")
    if len(run) > 1:
        parts.append(f'<polyline class="line" fill="none" points="{" ".join(run)}"/>')
    for i, p in enumerate(points):
        if p.value is None:
            continue
        x, y = xy(i, p.value)
        parts.append(
            f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="4">'
            f"<title>{_e(p.label)}: {p.value * 100:.1f}%</title></circle>"
        )
    if points:
        base = top + plot_h + 18
        parts.append(f'<text x="{left}" y="{base}" class="small">{_e(points[0].label)}</text>')
        if n > 1:
            parts.append(
                f'<text x="{width - right}" y="{base}" text-anchor="end" class="small">'
                f"{_e(points[-1].label)}</text>"
            )
        last = points[-1].value
        latest = "n/a" if last is None else f"{last * 100:.1f}%"
        text = (
            note % {"n": n, "latest": latest}
            if note is not None
            else f"{n} scan{'s' if n != 1 else ''}; latest {latest}"
        )
        parts.append(f'<text x="{left}" y="{base + 16}" class="small">{_e(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)
