"""report.md stays proper GFM whatever the API values contain (parsed back with markdown-it-py)."""

from __future__ import annotations

import dataclasses
import re
import unicodedata

from markdown_it import MarkdownIt
from markdown_it.token import Token

from scanner.changes import CHANGE_CLASSES
from scanner.findings import HistoryContext, ScanResult, SincePrevious, TrendPoint
from scanner.report import render
from scanner.report.md_escape import md_escape

SHA = "f" * 64
_BREAKS = re.compile(r"\r\n|[\r\n\v\f\x85\u2028\u2029]")


def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark").enable(["table", "strikethrough"])


def _expected_text(value: str) -> str:
    """What a cell must read back as: one line, control characters as spaces, trimmed."""
    text = _BREAKS.sub(" ", value)
    text = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)
    return text.strip(" \t")


def _tables(tokens: list[Token]) -> list[list[list[Token]]]:
    """Each table as rows of cells; each cell is the list of its inline children."""
    tables: list[list[list[Token]]] = []
    row: list[Token] = []
    in_cell = False
    for tok in tokens:
        if tok.type == "table_open":
            tables.append([])
        elif tok.type == "tr_open":
            row = []
        elif tok.type == "tr_close":
            tables[-1].append(row)  # type: ignore[arg-type]
        elif tok.type in ("th_open", "td_open"):
            in_cell = True
        elif tok.type in ("th_close", "td_close"):
            in_cell = False
        elif tok.type == "inline" and in_cell:
            row.append(tok)
    return [[list(r) for r in t] for t in tables]  # type: ignore[misc]


def _cell_text(cell: Token) -> str:
    return "".join(c.content for c in cell.children or [] if c.type == "text")


def _heading_of_each_table(tokens: list[Token]) -> list[str]:
    names, last = [], ""
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open":
            last = _cell_text(tokens[i + 1])
        elif tok.type == "table_open":
            names.append(last)
    return names


def test_md_escape_reads_back_as_the_same_text(nasty) -> None:  # type: ignore[no-untyped-def]
    md = _parser()
    for value in nasty(400):
        source = f"| a | b |\n|---|---|\n| {md_escape(value)} | end |\n"
        tokens = md.parse(source)
        tables = _tables(tokens)
        assert len(tables) == 1, (value, source)
        body = tables[0][1]
        assert len(body) == 2, (value, source)
        children = body[0].children or []
        assert [c.type for c in children if c.type != "text"] == [], (value, source)
        assert _cell_text(body[0]) == _expected_text(value), (value, source)
        assert _cell_text(body[1]) == "end"


def test_md_escape_in_a_paragraph_or_at_line_start(nasty) -> None:  # type: ignore[no-untyped-def]
    md = _parser()
    for value in nasty(200, seed=5):
        escaped = md_escape(value)
        assert "\n" not in escaped and "\r" not in escaped
        for source in (escaped, f"Scan {escaped}.", f"# Audit: {escaped}"):
            tokens = md.parse(source)
            assert all(t.type not in ("html_block", "html_inline") for t in tokens), source
            kinds = {t.type for t in tokens}
            assert kinds <= {
                "paragraph_open",
                "paragraph_close",
                "inline",
                "heading_open",
                "heading_close",
            }, (value, source, kinds)
            inline = [t for t in tokens if t.type == "inline"]
            for tok in inline:
                assert {c.type for c in tok.children or []} <= {"text"}, (value, source)


def _hostile_history(scan: ScanResult) -> HistoryContext:
    """Every member in a class (names are hostile), the failing ones failing for days."""
    ids = tuple(r.account_id for r in scan.results)
    return HistoryContext(
        since_previous=SincePrevious(
            "scan-prev", "2026-11-20T09:00:00Z", {c: ids for c in CHANGE_CLASSES}
        ),
        first_failed_at={i: "2026-11-01T00:00:00Z" for i in ids},
        trend=(
            TrendPoint("scan-prev", "2026-11-20T09:00:00Z", scan.summary),
            TrendPoint(scan.evidence.scan_id, scan.evidence.started_at, scan.summary),
        ),
    )


def test_report_md_tables_keep_their_shape_with_hostile_values(  # type: ignore[no-untyped-def]
    nasty, hostile_scan, hostile_outcomes
) -> None:
    names = nasty(120)
    scan = hostile_scan(names)
    scan = dataclasses.replace(scan, history=_hostile_history(scan))
    text = render("md", scan, SHA, hostile_outcomes(names))
    tokens = _parser().parse(text)

    assert [t.type for t in tokens if t.type.startswith("html")] == []
    forbidden = {
        "link_open",
        "image",
        "em_open",
        "s_open",
        "fence",
        "code_block",
        "blockquote_open",
        "bullet_list_open",
        "ordered_list_open",
    }
    flat = tokens + [c for t in tokens for c in (t.children or [])]
    assert {t.type for t in flat} & forbidden == set()

    headings = [_cell_text(tokens[i + 1]) for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert headings[1:] == [
        "Since the last scan",
        "Summary",
        "By folder",
        f"Failing members ({sum(1 for r in scan.results if r.result.value == 'FAIL')})",
        f"Exemptions ({sum(1 for r in scan.results if r.exemption)})",
        f"Errors ({sum(1 for r in scan.results if r.result.value == 'ERROR')})",
        "Remediated since the scan (20)",
    ]
    assert headings[0] == "Secure mobile phone audit: " + _expected_text(
        scan.evidence.resource_directory_id
    )

    tables = _tables(tokens)
    titles = _heading_of_each_table(tokens)
    assert len(tables) == 10
    for title, table in zip(titles, tables, strict=True):
        widths = {len(row) for row in table}
        assert len(widths) == 1, (title, widths)
        for row in table:
            for cell in row:
                kinds = {c.type for c in cell.children or []}
                allowed = {"text", "code_inline"} if "audit" in title else {"text"}
                assert kinds <= allowed, (title, _cell_text(cell), kinds)

    # Every display name of a failing member reads back exactly, in the order of the view.
    failing = dict(zip(titles, tables, strict=True))[headings[4]]
    by_id = {r.account_id: r for r in scan.results}
    assert len(failing) - 1 == len([r for r in scan.results if r.result.value == "FAIL"])
    for row in failing[1:]:
        member = by_id[_cell_text(row[0])]
        assert _cell_text(row[1]) == _expected_text(member.display_name)
        assert _cell_text(row[2]) == _expected_text(member.folder_path)
        assert _cell_text(row[6]) == _expected_text(member.reason)

    # Evidence values read back too (caller ARN is the XSS string).
    evidence = dict(zip(titles, tables, strict=True))[headings[0]]
    run_by = next(r for r in evidence if _cell_text(r[0]) == "Run by")
    ev = scan.evidence
    assert _cell_text(run_by[1]) == (
        f"{_expected_text(ev.caller.arn)} ({_expected_text(ev.caller.identity_type)})"
    )


def test_golden_md_parses_into_the_expected_tables(golden_scan, outcomes) -> None:  # type: ignore[no-untyped-def]
    tokens = _parser().parse(render("md", golden_scan, SHA, outcomes))
    tables = dict(zip(_heading_of_each_table(tokens), _tables(tokens), strict=True))
    assert [len(t) - 1 for t in tables.values()] == [12, 5, 5, 5, 3, 2, 2]
    evidence = {_cell_text(r[0]): _cell_text(r[1]) for r in next(iter(tables.values()))[1:]}
    ev = golden_scan.evidence
    assert evidence["Control"] == ev.policy_title  # escaped in the source, read back as written
    assert evidence["Rationale"] == ev.policy_rationale
    assert evidence["Related controls"] == "; ".join(
        f"{c.framework} {c.id}{' ' + c.title if c.title else ''} ({c.relation})"
        for c in ev.related_controls
    )
    assert evidence["Judged as of"] == f"{ev.as_of} (not the scan date)"
    summary = {_cell_text(r[0]): _cell_text(r[1]) for r in tables["Summary"][1:]}
    assert summary == {"FAIL": "5", "ERROR": "2", "EXEMPT": "2", "SKIPPED": "1", "PASS": "2"}
    states = [_cell_text(r[3]) for r in tables["Exemptions (3)"][1:]]
    assert states == ["EXPIRED", "EXPIRES SOON", "valid"]
    names = [_cell_text(r[1]) for r in tables["Failing members (5)"][1:]]
    assert "<img src=x onerror=alert(1)>" in names
    assert "pipe | in | name" in names


def test_every_control_character_and_only_those_become_spaces():
    import sys
    import unicodedata

    from scanner.report.md_escape import _MD_CONTROL

    controls = {chr(i) for i in range(sys.maxunicode + 1) if unicodedata.category(chr(i)) == "Cc"}
    assert {c for c in map(chr, range(0x3000)) if _MD_CONTROL.fullmatch(c)} == controls
