"""Chinese reports (--lang zh-CN): every template and summary string has a translation in the
gettext catalog, and the rendered zh-CN HTML and Markdown hold no English word outside the
data they show (names, ids, reasons from report.json) and a short allow-list of identifiers."""

from __future__ import annotations

import dataclasses
import html
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from click.testing import CliRunner

from scanner.changes import CLASS_TITLES
from scanner.cli import main
from scanner.findings import HistoryContext, ScanResult
from scanner.i18n import CHANGE_CLASS_TITLES, LANGS, check_lang, po_path
from scanner.policy import load_frameworks
from scanner.report import BY_NAME, ReportInput
from scanner.resources import default_frameworks_path

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
# Identifiers that stay as they are in every language: the tool, result and severity values
# (report.json's vocabulary), file and option names, hash and API acronyms.
ALLOWED = {
    "rdscan", "SHA-256", "PASS", "FAIL", "EXEMPT", "SKIPPED", "ERROR", "SHA", "ID", "API", "JSON",
    "report", "json", "csv", "html", "sha256sum", "format", "no-exemptions", "no-history",
    "supporting", "JavaScript", "critical", "high", "medium", "low", "info", "api",
    "manual", "ResourceAccount", "CloudAccount", "n/a", "cn",
}  # fmt: skip


def _catalog() -> dict[object, object]:
    with po_path("zh-CN").open("rb") as fh:
        catalog = read_po(fh)
    return {m.id: m for m in catalog if m.id}


def _extracted() -> set[object]:
    method_map = [
        ("scanner/i18n.py", "python"),
        ("scanner/reasons.py", "python"),
        ("scanner/cli/scan_cmd.py", "python"),
        ("scanner/cli/targets_cmd.py", "python"),
        ("scanner/report/**.py", "python"),
        ("report_templates/**.j2", "jinja2"),
    ]
    options = {"report_templates/**.j2": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "N_plural": (1, 2)}
    ids: set[object] = set()
    for _, _, message, _, _ in extract_from_dir(str(ROOT), method_map, options, keywords=keywords):
        ids.add(message if isinstance(message, str) else tuple(message))
    return ids


def test_every_template_and_summary_string_has_a_translation() -> None:
    catalog = _catalog()
    extracted = _extracted()
    assert len(extracted) > 100
    missing = [m for m in extracted if m not in catalog]
    assert not missing, f"not in {po_path('zh-CN')}: {missing[:5]} (run `make messages`)"
    for msgid, message in catalog.items():
        assert not message.fuzzy, msgid  # type: ignore[attr-defined]
        strings = message.string if isinstance(message.string, tuple) else (message.string,)  # type: ignore[attr-defined]
        assert all(strings), f"empty translation for {msgid!r}"
        source = msgid if isinstance(msgid, str) else msgid[-1]  # type: ignore[index]
        for text in strings:
            assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(source)), msgid


def test_change_class_titles_are_marked_for_translation() -> None:
    assert set(CHANGE_CLASS_TITLES) == set(CLASS_TITLES.values())


def test_language_names() -> None:
    assert LANGS == ("en", "zh-CN")
    assert check_lang("zh_cn") == "zh-CN" and check_lang(None) == "en"
    result = CliRunner().invoke(main, ["report", "x.json", "--lang", "fr"])
    assert result.exit_code == 2


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.lang = ""
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "html":
            self.lang = dict(attrs).get("lang") or ""
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("placeholder", "aria-label", "data-label", "title") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _data_values(scan: ScanResult, extra: object = ()) -> list[str]:
    """Every string the report shows from report.json and the journal (data, not the
    report's own words)."""
    values: list[str] = []

    def add(obj: object) -> None:
        if isinstance(obj, str):
            values.append(obj)
        elif isinstance(obj, dict):
            for v in obj.values():
                add(v)
        elif isinstance(obj, (list, tuple)):
            for v in obj:
                add(v)

    add(scan.to_dict())
    add(list(scan.evidence.api_calls))  # the API actions called (keys of a mapping)
    add(extra)
    # a value may be shown folded onto one line (Markdown), a folder path split at its "/"
    values += [" ".join(v.split()) for v in values]
    values += [part for v in values if "/" in v for part in v.split("/")]
    return sorted({v for v in values if v.strip()}, key=len, reverse=True)


def _english_words(text: str, scan: ScanResult, extra: object = ()) -> set[str]:
    scan = ReportInput.of(scan, "").scan  # as the report shows it: phones masked
    for value in _data_values(scan, extra):
        text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])", " ", text)
    words = set(re.findall(r"[A-Za-z][A-Za-z0-9/-]*[A-Za-z0-9]", text))
    return {w for w in words if w not in ALLOWED}


@pytest.fixture
def zh_scan(golden_scan) -> ScanResult:  # type: ignore[no-untyped-def]
    mapping, _ = load_frameworks(default_frameworks_path())
    fails = [r for r in golden_scan.results if r.result.value == "FAIL"]
    history = HistoryContext(
        since_previous=None,
        first_failed_at={fails[0].account_id: "2026-11-01T09:00:00Z"},
        trend=(),
    )
    ev = dataclasses.replace(golden_scan.evidence, frameworks=mapping)
    return dataclasses.replace(golden_scan, evidence=ev, history=history)


def test_zh_cn_html_is_chinese_outside_the_data(zh_scan, outcomes) -> None:  # type: ignore[no-untyped-def]
    html = BY_NAME["html"].render(ReportInput.of(zh_scan, "a" * 64, outcomes, lang="zh-CN"))
    parser = _Text()
    parser.feed(html)
    assert parser.lang == "zh-CN"
    text = " ".join(parser.parts)
    for term in ("安全手机", "资源目录", "成员账号", "合规", "豁免", "整改"):
        assert term in text, term
    extra = ["a" * 64, [dataclasses.asdict(o) for o in outcomes]]
    assert not _english_words(text, zh_scan, extra)
    assert "2026-11-27" in text  # ISO dates


def test_zh_cn_markdown_is_chinese_outside_the_data(zh_scan, outcomes) -> None:  # type: ignore[no-untyped-def]
    md = BY_NAME["md"].render(ReportInput.of(zh_scan, "a" * 64, outcomes, lang="zh-CN"))
    assert md.startswith("# 安全手机合规审计：")
    text = html.unescape(re.sub(r"\\(.)", r"\1", md))  # Markdown escapes of the data
    extra = ["a" * 64, [dataclasses.asdict(o) for o in outcomes]]
    assert not _english_words(text, zh_scan, extra)


def test_english_is_the_default(zh_scan) -> None:  # type: ignore[no-untyped-def]
    html = BY_NAME["html"].render(ReportInput.of(zh_scan, "a" * 64))
    assert '<html lang="en">' in html and "Secure mobile phone audit" in html
