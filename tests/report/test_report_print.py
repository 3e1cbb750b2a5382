"""report.html printed by headless Chromium (A4 and Letter landscape) and read back per page with
poppler's pdftotext: the member table's column names are on every page that holds member rows,
status words are whole, and the page fits 1024 px without sideways scrolling.

Needs /usr/bin/chromium, chromedriver and pdftotext (poppler-utils); skipped without them unless
RDSCAN_REQUIRE_BROWSER=1 (CI installs them).
"""

from __future__ import annotations

import base64
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from scanner.findings import Status

from .conftest import chromium

pytestmark = pytest.mark.browser

COLUMNS = {
    "en": ("Account ID", "Display name", "Folder", "Type", "Result", "Severity", "Remediation"),
    "zh-CN": ("账号 ID", "显示名称", "资源夹", "类型", "结果", "严重程度", "整改方式"),
}
HEADINGS = {"en": ("Members", "Exemptions"), "zh-CN": ("成员账号", "豁免")}
PAPERS = {"A4": (21.0, 29.7), "Letter": (21.59, 27.94)}  # portrait width, height in cm


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    with chromium(tmp_path_factory.mktemp("chromium"), "1024,800", "pdftotext") as drv:
        yield drv


def _pages(pdf: Path) -> list[str]:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    count = int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))  # type: ignore[union-attr]
    return [
        subprocess.run(
            ["pdftotext", "-f", str(n), "-l", str(n), "-layout", str(pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for n in range(1, count + 1)
    ]


def _print(drv, html: Path, paper: str, out: Path) -> list[str]:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.print_page_options import PrintOptions

    drv.get(html.as_uri())
    opts = PrintOptions()
    opts.orientation = "landscape"
    opts.page_width, opts.page_height = PAPERS[paper]
    opts.background = True
    out.write_bytes(base64.b64decode(drv.print_page(opts)))
    return _pages(out)


@pytest.mark.parametrize(("paper", "lang"), [("A4", "en"), ("Letter", "en"), ("A4", "zh-CN")])
def test_printed_member_table_repeats_its_column_names(
    driver, tmp_path: Path, synthetic_scan, paper: str, lang: str
) -> None:  # type: ignore[no-untyped-def]
    from scanner.report import write_reports

    scan = synthetic_scan(260)
    write_reports(scan, ["html"], tmp_path, lang=lang)
    pages = _print(driver, tmp_path / "report.html", paper, tmp_path / f"{paper}.pdf")
    ids = {r.account_id for r in scan.results}
    # the member table: from the "Members" heading to the "Exemptions" heading that follows it
    first, last = HEADINGS[lang]
    start = next(i for i, t in enumerate(pages) if re.search(rf"^{first}$", t, re.M))
    end = next(i for i, t in enumerate(pages) if re.search(rf"^{last}$", t, re.M))
    table_pages = [
        i
        for i in range(start, end + 1)
        if any(re.search(rf"^\s*{re.escape(x)}\s", pages[i], re.M) for x in ids)
    ]
    assert len(table_pages) >= 3, f"{paper}: the member table should span pages ({len(pages)})"
    for i in table_pages:
        missing = [c for c in COLUMNS[lang] if c not in pages[i]]
        assert not missing, f"{paper} page {i + 1} lacks column names {missing}"
    # status words are never broken across lines ("SKIPPE" / "D")
    for text in pages:
        for word in ("SKIPPE", "EXEMP", "ERRO"):
            for line in text.splitlines():
                assert not re.search(rf"\b{word}\s*$", line), (paper, line)


def test_page_fits_1024px_without_sideways_scrolling(driver, tmp_path, synthetic_scan) -> None:  # type: ignore[no-untyped-def]
    from scanner.report import write_reports

    scan = synthetic_scan(120, hostile_every=7)
    write_reports(scan, ["html"], tmp_path)
    driver.set_window_size(1024, 800)
    driver.get((tmp_path / "report.html").as_uri())
    inner = driver.execute_script("return window.innerWidth")
    scroll = driver.execute_script("return document.documentElement.scrollWidth")
    assert scroll <= inner, f"page is {scroll}px wide in a {inner}px window"
    widths = driver.execute_script(
        "var t = document.getElementById('members');"
        "return [t.getBoundingClientRect().right, document.documentElement.clientWidth];"
    )
    assert widths[0] <= widths[1]
    # a status cell never wraps: its text is on one line
    heights = driver.execute_script(
        "return Array.prototype.map.call("
        "document.querySelectorAll('#members tbody td:nth-child(5)'), function (td) {"
        " var r = document.createRange(); r.selectNodeContents(td);"
        " return r.getClientRects().length; });"
    )
    assert set(heights) == {1}
    assert any(r.result is Status.SKIPPED for r in scan.results)
