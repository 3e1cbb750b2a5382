"""Every format: written atomically, parsed back, escaped, phones masked, footers hashed."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
from html.parser import HTMLParser

import pytest

from scanner.errors import ConfigError
from scanner.findings import ScanResult, Status
from scanner.phones import scrub_text
from scanner.report import (
    CSV_COLUMNS,
    FORMATS,
    ReportInput,
    csv_safe,
    parse_formats,
    render,
    write_reports,
)
from scanner.report.results_file import load_results

SHA = "e" * 64
FULL_NUMBERS = ("13900005678", "13912345678", "13900009999")  # planted in the golden scan


class _Page(HTMLParser):
    """Collects tags, attributes, the text of each table cell and the raw script/style text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.cells: dict[str, list[list[str]]] = {}
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self._table: list[str] = []
        self._cell: list[str] | None = None
        self._raw: list[str] | None = None
        self._row: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "table":
            self._table.append(dict(attrs).get("id") or f"table{len(self.cells)}")
            self.cells.setdefault(self._table[-1], [])
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag in ("script", "style"):
            self._raw = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table:
            self.cells[self._table[-1]].append(self._row)
            self._row = None
        elif tag == "table" and self._table:
            self._table.pop()
        elif tag in ("script", "style") and self._raw is not None:
            (self.scripts if tag == "script" else self.styles).append("".join(self._raw))
            self._raw = None

    def handle_data(self, data: str) -> None:
        if self._raw is not None:
            self._raw.append(data)
        elif self._cell is not None:
            self._cell.append(data)


def _page(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


# --- formats and files ---------------------------------------------------------------------------


def test_parse_formats() -> None:
    assert parse_formats("html, md,csv,html") == ["html", "md", "csv"]
    assert parse_formats(["json", "markdown"]) == ["json", "md"]
    with pytest.raises(ConfigError) as err:
        parse_formats("html,pdf")
    assert "'pdf'" in err.value.message
    assert err.value.hint and all(f in err.value.hint for f in FORMATS)
    with pytest.raises(ConfigError):
        parse_formats(" , ")
    with pytest.raises(ConfigError):
        parse_formats("json", allowed=("html", "md", "csv"))


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_format_is_written_and_reads_back(fmt, tmp_path, golden_scan, outcomes) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    written = write_reports(golden_scan, [fmt], out, remediations=outcomes)
    # report.json is always written: the HTML/MD footers name it.
    assert set(written) == {"json", fmt}
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in written.values())
    raw = written["json"].read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    scan, raw_again = load_results(written["json"])
    assert raw_again == raw
    assert [r.account_id for r in scan.results] == [r.account_id for r in golden_scan.results]
    text = written[fmt].read_bytes().decode("utf-8")
    if fmt == "html":
        page = _page(text)
        assert len(page.cells["members"]) == len(golden_scan.results) + 1
        assert page.cells["members"][1][0] == "1000000000000005"  # the critical FAIL first
        assert digest in text
    elif fmt == "md":
        assert f"`{digest}`" in text
    elif fmt == "csv":
        rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
        assert len(rows) == len(golden_scan.results) + 1
    elif fmt == "json":
        assert json.loads(text)["summary"] == golden_scan.summary
    elif fmt == "action-plan":
        rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
        assert len(rows) == golden_scan.summary["FAIL"] + 1
    elif fmt == "sarif":
        assert json.loads(text)["version"] == "2.1.0"
    elif fmt == "ocsf":
        assert len(json.loads(text)) == len(golden_scan.results)
    else:
        assert fmt == "junit" and text.startswith("<?xml")


def test_rerendering_names_the_file_on_disk(tmp_path, golden_scan) -> None:  # type: ignore[no-untyped-def]
    written = write_reports(golden_scan, ["html", "md"], tmp_path)
    digest = hashlib.sha256(written["json"].read_bytes()).hexdigest()
    html = written["html"].read_text(encoding="utf-8")
    assert re.search(r'id="source-sha256">([0-9a-f]{64})<', html).group(1) == digest  # type: ignore[union-attr]
    assert digest in written["md"].read_text(encoding="utf-8")


def test_unknown_format_writes_nothing(tmp_path, golden_scan) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError):
        write_reports(golden_scan, ["html", "xlsx"], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_bad_templates_dir_is_a_config_error(tmp_path, golden_scan) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as err:
        render("md", golden_scan, SHA, templates_dir=tmp_path / "nope")
    assert "--templates-dir" in (err.value.hint or "")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError) as err:
        render("md", golden_scan, SHA, templates_dir=tmp_path / "empty")
    assert "report.md.j2" in err.value.message


def test_custom_templates_dir_is_used(tmp_path, golden_scan) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "report.md.j2").write_text(
        "custom {{ v.directory_id }} {{ v.failing|length }} {{ v.rows[2].display_name }}\n"
    )
    text = render("md", golden_scan, SHA, templates_dir=tmp_path)
    # finalize escapes API values in custom templates too
    assert text == "custom rd-3G6R01 5 &lt;img src=x onerror=alert(1)&gt;\n"


def test_a_template_failing_while_rendering_writes_nothing(tmp_path, golden_scan) -> None:  # type: ignore[no-untyped-def]
    """Every format is rendered before the first file (report.json included) is written."""
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "report.md.j2").write_text("{{ v.no_such_field.deeper }}\n")
    with pytest.raises(ConfigError):
        write_reports(golden_scan, ["json", "md"], tmp_path / "out", templates_dir=tmp_path / "tpl")
    assert not (tmp_path / "out").exists()


# --- HTML ----------------------------------------------------------------------------------------


def test_html_is_self_contained_and_inert(hostile_scan, hostile_outcomes, nasty) -> None:  # type: ignore[no-untyped-def]
    names = nasty(60)
    scan = hostile_scan(names)
    html = render("html", scan, SHA, hostile_outcomes(names))
    page = _page(html)
    tags = [t for t, _ in page.tags]
    # No element that could load or run anything, beyond the one inline script block.
    assert tags.count("script") == 1
    assert not set(tags) & {"img", "iframe", "object", "embed", "link", "base", "audio", "video"}
    for tag, attrs in page.tags:
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name, value)
            if name in ("src", "href", "action", "srcset", "poster", "xlink:href", "formaction"):
                assert value is not None and value.startswith("#"), (tag, name, value)
                assert "//" not in value and ":" not in value
    assert not re.search(r"\b(src|href)\s*=\s*[\"']?\s*(https?:)?//", html, re.I)
    for chunk in page.styles + page.scripts:
        assert (
            "url(" not in chunk and "@import" not in chunk and "//" not in chunk.replace("://", "")
        )
    # The CSP allows exactly the inline style and script, by hash.
    csp = next(
        a["content"] for t, a in page.tags if a.get("http-equiv") == "Content-Security-Policy"
    )
    assert csp is not None and "default-src 'none'" in csp
    for kind, body in (("style-src", page.styles[0]), ("script-src", page.scripts[0])):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"{kind} 'sha256-{digest}'" in csp
    # Every hostile value reads back as the exact text, cell by cell.
    members = page.cells["members"][1:]
    by_id = {r.account_id: r for r in scan.results}
    assert len(members) == len(scan.results)
    for row in members:
        r = by_id[row[0]]
        assert row[1:4] == [r.display_name, r.folder_path, r.type]
        assert row[4:8] == [r.result.value, r.severity.value, r.remediation.value, r.reason]


def test_html_member_order_and_sections(golden_scan, outcomes) -> None:  # type: ignore[no-untyped-def]
    page = _page(render("html", golden_scan, SHA, outcomes))
    results = [row[4] for row in page.cells["members"][1:]]
    order = ["FAIL", "ERROR", "EXEMPT", "SKIPPED", "PASS"]
    assert results == sorted(results, key=order.index)
    assert results[0] == "FAIL"
    exemption_tables = [t for t in page.cells.values() if t and "Owner" in t[0]]
    assert len(exemption_tables) == 1
    states = [row[3] for row in exemption_tables[0][1:]]
    assert states == ["EXPIRED", "EXPIRES SOON", "valid"]
    errors = [
        t
        for t in page.cells.values()
        if t and t[0] == ["Account ID", "Display name", "Folder", "Type", "Reason"]
    ]
    assert [row[4] for row in errors[0][1:]] == [
        "GetAccount: NoPermission (HTTP 403)",
        "GetAccount: response lacks HasSecureMobilePhone; caller 86-139****5678 |x",
    ]


def test_html_header_evidence(golden_scan) -> None:  # type: ignore[no-untyped-def]
    html = render("html", golden_scan, SHA)
    for text in (
        "rd-3G6R01",
        "acs:ram::1512345678901234:user/auditor",
        "secure-mobile-phone",
        "sha256:" + "ab" * 32,
        "10 / 12 members evaluated",
        "GetAccount 12",
        "2026-11-27T09:00:00Z",
        "rdscan 0.1.0",
    ):
        assert text in html
    assert "Remediated since the scan" not in html  # only with a journal


def test_coverage_uses_thousands_separators(synthetic_scan) -> None:  # type: ignore[no-untyped-def]
    scan = synthetic_scan(1204, seed=1)
    view = ReportInput.of(scan, SHA).view
    errors = sum(1 for r in scan.results if r.result is Status.ERROR)
    assert view.coverage_text == f"{1204 - errors:,} / 1,204 members evaluated"
    assert "," in view.coverage_text


# --- CSV -----------------------------------------------------------------------------------------


def test_csv_round_trips_and_neutralises_formulas(hostile_scan, nasty) -> None:  # type: ignore[no-untyped-def]
    scan: ScanResult = hostile_scan(nasty(150))
    text = render("csv", scan)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:], newline="")))
    assert list(rows[0].keys()) == list(CSV_COLUMNS)
    assert len(rows) == len(scan.results)
    by_id = {r.account_id: r for r in scan.results}
    dangerous = ("=", "+", "-", "@", "\t", "\r")
    for row in rows:
        r = by_id[row["account_id"]]
        for column, value in (
            ("display_name", r.display_name),
            ("type", r.type),
            ("status", r.member_status),
            ("folder_path", r.folder_path),
            ("reason", r.reason),
        ):
            cell = row[column]
            assert not cell.startswith(dangerous), (column, cell)
            expected = "'" + value if value.startswith(dangerous) else value
            assert cell == expected, (column, value, cell)
        if r.exemption:
            assert row["exemption_owner"] == csv_safe(r.exemption.owner)
            assert row["exemption_days_left"] == str(r.exemption.days_left)
            assert row["exemption_expired"] == ("true" if r.exemption.expired else "false")
        else:
            assert row["exemption_owner"] == row["exemption_expires"] == ""
        assert row["result"] == r.result.value


def test_csv_safe() -> None:
    assert csv_safe("=1+1") == "'=1+1"
    assert csv_safe("@SUM(A1)") == "'@SUM(A1)"
    assert csv_safe("\tx") == "'\tx"
    assert csv_safe("a=b") == "a=b"
    assert csv_safe(-3) == -3  # numbers we computed stay numbers
    assert csv_safe(None) == ""


# --- phones --------------------------------------------------------------------------------------


def test_no_full_phone_number_in_any_output(golden_scan, outcomes) -> None:  # type: ignore[no-untyped-def]
    outputs = {
        "html": render("html", golden_scan, SHA, outcomes),
        "md": render("md", golden_scan, SHA, outcomes),
        "csv": render("csv", golden_scan),
        "json": render("json", golden_scan),
    }
    for fmt, text in outputs.items():
        for number in FULL_NUMBERS:
            assert number not in text, (fmt, number)
        masked = "86-139\\*\\*\\*\\*5678" if fmt == "md" else "86-139****5678"
        assert masked in text, fmt  # masked forms are still shown
    assert "86-139****9999" in outputs["html"]


def test_scrub_text_masks_numbers_but_keeps_ids() -> None:
    assert scrub_text("bound 86-13900001234 ok") == "bound 86-139****1234 ok"
    assert scrub_text("bare 13900001234.") == "bare 139****1234."
    assert scrub_text("account 1000000000000005") == "account 1000000000000005"
    assert scrub_text("on 2026-10-15") == "on 2026-10-15"
    assert scrub_text("already 86-139****1234") == "already 86-139****1234"


def test_an_empty_scan_renders_every_format(golden_scan) -> None:  # type: ignore[no-untyped-def]
    empty = ScanResult(evidence=golden_scan.evidence, results=())
    html = render("html", empty, SHA)
    md = render("md", empty, SHA)
    assert "0 / 0 members evaluated" in html and "0 / 0 members evaluated" in md
    assert ">n/a</text>" in html  # no in-scope member: no compliance percentage
    assert "No members." in md and "No member fails the policy." in md
    assert _page(html).cells["members"] == [
        [
            "Account ID",
            "Display name",
            "Folder",
            "Type",
            "Result",
            "Severity",
            "Remediation",
            "Reason",
        ]
    ]
    assert render("csv", empty) == "\ufeff" + ",".join(CSV_COLUMNS) + "\r\n"


def test_svg_charts_escape_their_labels() -> None:
    from scanner.report import svg

    bars = svg.stacked_bars(
        [svg.Bar("<script>x</script> & co", (svg.Segment("FAIL", 2, "s-fail"),))],
        caption='a "quoted" <caption>',
    )
    assert "<script>" not in bars and "&lt;script&gt;x&lt;/script&gt; &amp; co" in bars
    assert 'aria-label="a &#34;quoted&#34; &lt;caption&gt;"' in bars
    donut = svg.donut(
        [svg.Segment("PASS", 3, "s-pass"), svg.Segment("FAIL", 1, "s-fail")],
        center="75.0%",
        caption="c",
    )
    # Dash lengths are shares of a circumference of 100, and the legend carries the numbers.
    assert 'stroke-dasharray="75.000 25.000"' in donut
    assert 'stroke-dasharray="25.000 75.000"' in donut
    assert "PASS 3 (75.0%)" in donut and "FAIL 1 (25.0%)" in donut


def test_only_remediations_after_the_scan_are_listed(golden_scan, outcomes) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    older = dataclasses.replace(
        outcomes[0], account_id="1000000000000004", at="2026-11-27T08:59:59Z"
    )
    view = ReportInput.of(golden_scan, SHA, (*outcomes, older)).view
    assert [o.account_id for o in view.remediations] == ["1000000000000003", "1000000000000005"]
    assert view.remediations[0].display_name == "<img src=x onerror=alert(1)>"
    assert view.remediations[0].phone_masked == "86-139****9999"
    unknown = dataclasses.replace(outcomes[0], at="not a time")
    assert len(ReportInput.of(golden_scan, SHA, (unknown,)).view.remediations) == 1


def test_folder_paths_may_wrap_after_slashes_and_stay_escaped() -> None:
    from scanner.report.templates import html_path

    assert str(html_path("Root/<b>x</b>/A&B")) == "Root/<wbr>&lt;b&gt;x&lt;/<wbr>b&gt;/<wbr>A&amp;B"


def test_scan_warnings_are_called_out_and_escaped(golden_scan) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    from markdown_it import MarkdownIt

    warning = "ListAccounts pages disagreed | <b>partial</b> *data* for 86-13900001234"
    ev = dataclasses.replace(golden_scan.evidence, warnings=(warning,))
    scan = dataclasses.replace(golden_scan, evidence=ev)
    html = render("html", scan, SHA)
    assert (
        "<strong>Warning:</strong> ListAccounts pages disagreed | &lt;b&gt;partial&lt;/b&gt; "
        "*data* for 86-139****1234</p>" in html
    )
    md = render("md", scan, SHA)
    tokens = MarkdownIt("commonmark").enable("table").parse(md)
    texts = ["".join(c.content for c in t.children or []) for t in tokens if t.type == "inline"]
    expected = "Warning: ListAccounts pages disagreed | <b>partial</b> *data* for 86-139****1234"
    assert expected in texts
    assert not any(t.type.startswith("html") for t in tokens)


def test_the_format_registry_drives_scan_report_and_demo_options(golden_scan) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from scanner.cli import main
    from scanner.report.registry import REGISTERED, RERENDERABLE

    names = [f.name for f in REGISTERED]
    assert len(set(names)) == len(names)
    assert len({f.file_name for f in REGISTERED}) == len(names)
    assert [f.name for f in REGISTERED if f.record] == ["json"]
    for fmt in REGISTERED:  # every renderer returns the file's text, and writes nothing
        assert isinstance(fmt.render(ReportInput.of(golden_scan, SHA)), str)
    for command, shown in (("scan", names), ("demo", names), ("report", list(RERENDERABLE))):
        out = CliRunner().invoke(main, [command, "--help"], terminal_width=400).output
        flat = " ".join(out.split())
        for name in shown:
            fmt = next(f for f in REGISTERED if f.name == name)
            assert f"{name} ({fmt.file_name}: {fmt.help})" in flat, (command, name)
    assert "json (report.json" not in " ".join(
        CliRunner().invoke(main, ["report", "--help"], terminal_width=400).output.split()
    )


def test_a_large_report_lists_failing_rows_and_carries_the_rest_as_inert_json(
    monkeypatch, synthetic_scan, hostile_names
) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    import scanner.report.html_format as html_format
    from scanner.report.view import row_key

    monkeypatch.setattr(html_format, "ALL_ROWS_MAX", 40)
    scan = synthetic_scan(300, seed=5, hostile_every=7)
    planted = "</script><script>window.__pwned=1</script><!--"
    first = dataclasses.replace(scan.results[1], display_name=planted, result=Status.PASS)
    scan = ScanResult(evidence=scan.evidence, results=(first, *scan.results[2:]))
    html = render("html", scan, SHA)
    page = _page(html)
    order = sorted(scan.results, key=row_key)
    fails = [r for r in order if r.result is Status.FAIL]
    listed = page.cells["members"][1:]
    assert [row[0] for row in listed] == [r.account_id for r in fails]
    # the rest is one JSON data block (never executed: no CSP hash needed), in report order
    blocks = re.findall(
        r'<script type="application/json" id="more-members" data-count="(\d+)">(.*?)</script>',
        html,
        re.S,
    )
    assert len(blocks) == 1
    count, text = blocks[0]
    assert "<" not in text and ">" not in text and "&" not in text
    more = json.loads(text)
    assert int(count) == len(more) == len(order) - len(fails)
    assert [m[0] for m in more] == [r.account_id for r in order[len(fails) :]]
    assert planted in {m[1] for m in more}
    assert set(hostile_names) & {m[1] for m in more}
    # errors and exemptions still read without JavaScript, each in its own section
    errors = [r.account_id for r in order if r.result is Status.ERROR]
    tables = [t for t in page.cells.values() if t and t[0][:2] == ["Account ID", "Display name"]]
    assert any([row[0] for row in t[1:]] == errors for t in tables)
    exempt = {r.account_id for r in order if r.exemption}
    assert any({row[0] for row in t[1:]} == exempt for t in tables)
    assert "every member is in report.csv" in html
