"""The "Since the last scan" block, the days-failing column and the compliance trend chart."""

from __future__ import annotations

import dataclasses
import json
import re
from html.parser import HTMLParser

from scanner.changes import CHANGE_CLASSES
from scanner.findings import HistoryContext, ScanResult, SincePrevious, Status, TrendPoint
from scanner.report import render, svg

SHA = "e" * 64


def _with_history(scan: ScanResult, *, first: bool = False) -> ScanResult:
    failing = [r.account_id for r in scan.results if r.result is Status.FAIL]
    everyone = tuple(r.account_id for r in scan.results)
    since = None
    if not first:
        since = SincePrevious(
            "scan-prev", "2026-11-20T09:00:00Z", {c: everyone for c in CHANGE_CLASSES}
        )
    return dataclasses.replace(
        scan,
        history=HistoryContext(
            since_previous=since,
            first_failed_at={failing[0]: "2026-11-06T09:00:00Z"} if failing else {},
            trend=(
                TrendPoint("scan-a", "2026-11-06T09:00:00Z", {"PASS": 1, "FAIL": 3}),
                TrendPoint("scan-b", "2026-11-13T09:00:00Z", {"SKIPPED": 4}),  # no value: a gap
                TrendPoint(scan.evidence.scan_id, scan.evidence.started_at, scan.summary),
            ),
        ),
    )


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


def test_html_since_block_escapes_names_and_counts(golden_scan, hostile_scan, nasty) -> None:  # type: ignore[no-untyped-def]
    scan = _with_history(hostile_scan(nasty(40)))
    html = render("html", scan, SHA)
    since = html[html.index('<section id="since">') : html.index('<section id="summary">')]
    parser = _Text()
    parser.feed(since)
    assert set(parser.tags) <= {
        "section", "h2", "h3", "p", "table", "thead", "tbody", "tr", "th", "td", "code",
        "div", "figure", "svg", "title", "line", "text", "polyline", "circle", "caption",
    }  # fmt: skip
    assert "<script>window" not in html
    n = len(scan.results)
    assert f"<td>New failures <code>new_fail</code></td><td>{n}</td>" in since
    # the first failing member has failed for 14 days; the chart has a gap for scan-b
    first = next(r for r in scan.results if r.result is Status.FAIL)
    assert f"<td>{first.account_id}</td>" in since and "<td>2026-11-06T09:00:00Z</td>" in since
    assert since.count('<circle class="dot"') == 2 and "<td>n/a</td>" in since
    assert "Days failing" in html


def test_first_scan_and_no_history_say_so(golden_scan) -> None:  # type: ignore[no-untyped-def]
    html = render("html", _with_history(golden_scan, first=True), SHA)
    assert "The first scan of rd-3G6R01 in this history" in html
    assert "Days failing" in html
    plain = render("html", golden_scan, SHA)
    assert "ran without a scan history" in plain and "Days failing" not in plain
    md = render("md", golden_scan, SHA)
    assert "ran without a scan history (`--no-history`)" in md


def test_report_json_round_trips_the_history(golden_scan) -> None:  # type: ignore[no-untyped-def]
    scan = _with_history(golden_scan)
    data = json.loads(render("json", scan, SHA))
    again = ScanResult.from_dict(data)
    assert again.history is not None and scan.history is not None
    assert again.history.since_previous == scan.history.since_previous
    assert json.loads(render("json", again, SHA)) == data
    fails = [a for a in data["accounts"] if a["result"] == "FAIL"]
    assert fails[0]["days_failing"] == 21 and all("days_failing" in a for a in fails)
    assert not any("days_failing" in a for a in data["accounts"] if a["result"] != "FAIL")


def test_trend_svg_escapes_labels_and_scales() -> None:
    text = svg.trend_line(
        [svg.Point("<b>", 0.0), svg.Point("mid", None), svg.Point("end&", 1.0)], caption="c<"
    )
    assert "<b>" not in text and "&lt;b&gt;" in text and "end&amp;" in text
    ys = [float(y) for y in re.findall(r'<circle class="dot" cx="[\d.]+" cy="([\d.]+)"', text)]
    assert ys[0] > ys[1]  # 0 % is drawn below 100 %
    assert "polyline" not in text  # two points around a gap are not joined
    assert "latest 100.0%" in text
