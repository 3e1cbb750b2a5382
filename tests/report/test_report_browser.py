"""report.html in headless Chromium: rows, filter, sort, and a hostile name that stays text.

Skipped when /usr/bin/chromium or /usr/bin/chromedriver is missing, unless
RDSCAN_REQUIRE_BROWSER=1 (CI), which turns the skip into a failure. A screenshot is saved to
tests/artifacts/ for a human to look at.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from scanner.findings import Status
from scanner.report import write_reports

from .conftest import chromium

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
XSS = "<img src=x onerror=alert(1)>"
# Each would set window.__pwned if the page ever let it run.
TRAPS = (
    "<script>window.__pwned=1</script>",
    '"><svg onload="window.__pwned=2">',
    '<img src=x onerror="window.__pwned=3">',
    '</td></tr></table><img src=x onerror="window.__pwned=4">',
    "');window.__pwned=5;//",
)


@pytest.fixture
def driver(tmp_path: Path) -> Iterator[object]:
    with chromium(tmp_path / "chromium-profile", "1400,1000") as drv:
        yield drv


def _visible_rows(drv) -> int:  # type: ignore[no-untyped-def]
    return int(
        drv.execute_script(
            "return Array.prototype.filter.call("
            "document.querySelectorAll('#members tbody tr'), function (r) { return !r.hidden; }"
            ").length;"
        )
    )


def test_report_html_in_chromium(driver, tmp_path, golden_scan, synthetic_scan, outcomes) -> None:  # type: ignore[no-untyped-def]
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    drv = driver
    base = synthetic_scan(300, seed=3, hostile_every=0)
    traps = tuple(
        dataclasses.replace(base.results[i], account_id=f"30000000000000{i:02d}", display_name=name)
        for i, name in enumerate(TRAPS)
    )
    scan = type(base)(evidence=base.evidence, results=golden_scan.results + traps + base.results)
    paths = write_reports(scan, ["html"], tmp_path / "out", remediations=outcomes)
    drv.get(paths["html"].as_uri())

    total = len(scan.results)
    rows = drv.find_elements(By.CSS_SELECTOR, "#members tbody tr")
    assert len(rows) == total
    assert drv.find_element(By.ID, "shown").text == f"{total:,}"
    # Failing members come first.
    first = rows[0].find_elements(By.TAG_NAME, "td")
    assert first[4].text == "FAIL"

    # The hostile display name is shown as text, and nothing ran.
    cells = drv.find_elements(By.XPATH, "//table[@id='members']//td[2]")
    assert XSS in [c.text for c in cells]
    assert drv.find_elements(By.CSS_SELECTOR, "#members img, #members script, svg script") == []
    with pytest.raises(NoAlertPresentException):
        _ = drv.switch_to.alert.text
    assert drv.execute_script("return window.__pwned === undefined;")
    shown_names = {c.text for c in cells}
    assert set(TRAPS) <= shown_names

    # Filter by result: the visible count matches the scan.
    fails = sum(1 for r in scan.results if r.result is Status.FAIL)
    form = drv.find_element(By.ID, "filters")
    assert form.is_displayed()
    Select(form.find_element(By.NAME, "result")).select_by_visible_text("FAIL")
    assert _visible_rows(drv) == fails
    assert drv.find_element(By.ID, "shown").text == f"{fails:,}"

    # Text search on top (debounced input).
    search = form.find_element(By.NAME, "q")
    search.send_keys("onerror=alert")
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(drv, 5).until(lambda d: _visible_rows(d) == 1)
    assert drv.find_element(By.ID, "shown").text == "1"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    drv.execute_script("document.getElementById('members-section').scrollIntoView();")
    drv.save_screenshot(str(ARTIFACTS / "report_html_filtered.png"))
    visible = [
        r for r in drv.find_elements(By.CSS_SELECTOR, "#members tbody tr") if r.is_displayed()
    ]
    assert visible[0].find_elements(By.TAG_NAME, "td")[1].text == XSS

    # Clear, then sort by account id (ascending, then descending).
    form.find_element(By.CSS_SELECTOR, "button[type=reset]").click()
    WebDriverWait(drv, 5).until(lambda d: _visible_rows(d) == total)
    header = drv.find_element(By.CSS_SELECTOR, "#members th[data-col='0'] button")
    header.click()
    ids = drv.execute_script(
        "return Array.from(document.querySelectorAll('#members tbody tr td:first-child'),"
        " function (c) { return c.textContent; });"
    )
    assert ids == sorted(r.account_id for r in scan.results)
    header.click()
    ids_desc = drv.execute_script(
        "return Array.from(document.querySelectorAll('#members tbody tr td:first-child'),"
        " function (c) { return c.textContent; });"
    )
    assert ids_desc == sorted(ids, reverse=True)
    assert (
        drv.find_element(By.CSS_SELECTOR, "#members th[data-col='0']").get_attribute("aria-sort")
        == "descending"
    )

    # Back to the failing-first view for the screenshot a human looks at.
    drv.find_element(By.CSS_SELECTOR, "#members th[data-col='4'] button").click()
    drv.execute_script("window.scrollTo(0, 0);")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    drv.save_screenshot(str(ARTIFACTS / "report_html.png"))
    drv.set_window_size(1400, 3000)
    drv.save_screenshot(str(ARTIFACTS / "report_html_tall.png"))

    # No alert popped at any point, and the page logged no CSP violation or script error.
    with pytest.raises(NoAlertPresentException):
        _ = drv.switch_to.alert.text
    assert drv.execute_script("return window.__pwned === undefined;")
    errors = [e for e in drv.get_log("browser") if e.get("level") == "SEVERE"]
    assert errors == []


def test_report_html_reads_without_javascript(driver, tmp_path, golden_scan) -> None:  # type: ignore[no-untyped-def]
    """With JavaScript off every row is there and the (useless) filter form stays hidden."""
    from selenium.webdriver.common.by import By

    drv = driver
    paths = write_reports(golden_scan, ["html"], tmp_path / "out")
    drv.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    drv.get(paths["html"].as_uri())
    assert len(drv.find_elements(By.CSS_SELECTOR, "#members tbody tr")) == len(golden_scan.results)
    assert not drv.find_element(By.ID, "filters").is_displayed()
    assert "members evaluated" in drv.find_element(By.ID, "coverage").text


def test_a_large_report_lists_the_rest_on_demand(
    driver, tmp_path, synthetic_scan, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Beyond ALL_ROWS_MAX members only failing members are rows; with JavaScript the others
    are searched, filtered, sorted and listed from the page's JSON data, and stay text."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    import scanner.report.html_format as html_format

    monkeypatch.setattr(html_format, "ALL_ROWS_MAX", 50)
    base = synthetic_scan(400, seed=9)
    traps = tuple(
        dataclasses.replace(
            r, display_name=name, result=Status.PASS, secure_mobile_phone_masked=None
        )
        for r, name in zip(base.results[:5], TRAPS, strict=True)
    )
    scan = type(base)(evidence=base.evidence, results=traps + base.results[5:])
    fails = sum(1 for r in scan.results if r.result is Status.FAIL)
    passes = sum(1 for r in scan.results if r.result is Status.PASS)
    html = write_reports(scan, ["html"], tmp_path / "out")["html"]

    drv = driver
    drv.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    drv.get(html.as_uri())
    assert len(drv.find_elements(By.CSS_SELECTOR, "#members tbody tr")) == fails
    assert "every member is in report.csv" in drv.find_element(By.ID, "more-note").text
    drv.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})

    drv.get(html.as_uri())
    assert _visible_rows(drv) == fails
    more = drv.find_element(By.ID, "show-more")
    assert more.is_displayed()
    assert f"({len(scan.results) - fails:,} not listed)" in more.text
    more.click()  # the rest, in report order, after the failing rows
    assert _visible_rows(drv) == len(scan.results)
    assert not more.is_displayed()

    form = drv.find_element(By.ID, "filters")
    Select(form.find_element(By.NAME, "result")).select_by_visible_text("PASS")
    assert _visible_rows(drv) == passes
    assert drv.find_element(By.ID, "shown").text == f"{passes:,}"
    form.find_element(By.NAME, "q").send_keys("__pwned=4")
    WebDriverWait(drv, 5).until(lambda d: _visible_rows(d) == 1)
    cell = drv.find_element(By.CSS_SELECTOR, "#members tbody tr td:nth-child(2)")
    assert cell.text == TRAPS[3]
    form.find_element(By.CSS_SELECTOR, "button[type=reset]").click()
    WebDriverWait(drv, 5).until(lambda d: _visible_rows(d) == len(scan.results))
    drv.find_element(By.CSS_SELECTOR, "#members th[data-col='0'] button").click()
    ids = drv.execute_script(
        "return Array.from(document.querySelectorAll('#members tbody tr td:first-child'),"
        " function (c) { return c.textContent; });"
    )
    assert ids == sorted(r.account_id for r in scan.results)
    assert drv.execute_script("return window.__pwned === undefined;")
    assert drv.find_elements(By.CSS_SELECTOR, "#members img, #members svg") == []
    errors = [e for e in drv.get_log("browser") if e.get("level") == "SEVERE"]
    assert errors == []
