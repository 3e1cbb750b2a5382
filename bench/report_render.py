"""Render every report format for a synthetic 10,000-member scan and print the times and sizes.

    .venv/bin/python bench/report_render.py [--members N] [--repeat R] [--output-dir DIR]

Prints one line per format (best of R runs, first run included in "cold"), the total, and the
HTML size. With --output-dir the files are also written (open report.html to try filtering).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from scanner.findings import (
    Caller,
    Evidence,
    ExemptionInfo,
    Remediation,
    Result,
    ScanResult,
    Severity,
    Status,
)
from scanner.report import render, write_reports

SHA = "0" * 64


def synthetic_scan(n: int, seed: int = 1) -> ScanResult:
    rng = random.Random(seed)
    folders = ["Root"] + [
        f"Root/{a}/{b}/{c}"
        for a in ("Production", "Staging", "Sandbox", "Shared")
        for b in ("Payments", "Web", "Data", "ML", "Ops")
        for c in ("eu", "us", "cn")
    ]
    weights = {
        Status.PASS: 70,
        Status.FAIL: 15,
        Status.EXEMPT: 5,
        Status.SKIPPED: 5,
        Status.ERROR: 5,
    }
    statuses = [s for s, w in weights.items() for _ in range(w)]
    rows = []
    for i in range(n):
        st = rng.choice(statuses)
        typ = "CloudAccount" if rng.random() < 0.3 else "ResourceAccount"
        days = rng.randint(-30, 200)
        rows.append(
            Result(
                account_id=str(1_000_000_000_000_000 + i),
                display_name=f"team-{rng.randint(1, 400)}-{['web', 'db', 'etl', 'ml'][i % 4]}-{i}",
                type=typ,
                member_status="CreateSuccess",
                folder_id=f"fd-{i % 61:04d}",
                folder_path=rng.choice(folders),
                has_secure_mobile_phone=None if st is Status.ERROR else st is Status.PASS,
                secure_mobile_phone_masked="86-139****1234" if st is Status.PASS else None,
                result=st,
                severity=Severity.HIGH if st in (Status.FAIL, Status.ERROR) else Severity.INFO,
                reason={
                    Status.PASS: "secure mobile phone bound",
                    Status.FAIL: "no secure mobile phone bound",
                    Status.EXEMPT: "exempted: migration in progress",
                    Status.SKIPPED: "out of scope: status PromoteVerifying",
                    Status.ERROR: "GetAccount: Throttling.User after 5 retries",
                }[st],
                remediation=(
                    (Remediation.API if typ == "ResourceAccount" else Remediation.MANUAL)
                    if st is Status.FAIL
                    else Remediation.NONE
                ),
                exemption=ExemptionInfo(
                    scope=f"account:{i}",
                    reason="migration in progress",
                    owner="owner@example.com",
                    ticket=f"SEC-{i}",
                    expires="2027-01-31",
                    expired=days < 0,
                    days_left=days,
                )
                if st is Status.EXEMPT
                else None,
            )
        )
    evidence = Evidence(
        scan_id="bench",
        started_at="2026-11-27T09:00:00Z",
        finished_at="2026-11-27T09:05:00Z",
        tool_version="bench",
        site="cn",
        caller=Caller("acs:ram::1512345678901234:user/auditor", "1512345678901234", "RAMUser"),
        resource_directory_id="rd-bench",
        master_account_id="1512345678901234",
        policy_id="secure-mobile-phone",
        policy_digest="sha256:" + "0" * 64,
        api_calls={"ListAccounts": n // 100 + 1, "GetAccount": n},
    )
    return ScanResult(evidence=evidence, results=tuple(rows))


def _time(fn: Callable[[], str], repeat: int) -> tuple[float, float, int]:
    times, size = [], 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        size = len(fn().encode("utf-8"))
        times.append(time.perf_counter() - t0)
    return times[0], min(times), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--output-dir", type=Path)
    parser.add_argument(
        "--browser",
        action="store_true",
        help="also open report.html in headless /usr/bin/chromium and time load, filter, sort",
    )
    args = parser.parse_args()

    scan = synthetic_scan(args.members)
    print(f"report rendering, {args.members:,} members (best of {args.repeat}; cold = first run)")
    jobs: dict[str, Callable[[], str]] = {
        "json": lambda: render("json", scan),
        "html": lambda: render("html", scan, SHA),
        "md": lambda: render("md", scan, SHA),
        "csv": lambda: render("csv", scan),
    }
    total_best = total_cold = 0.0
    sizes = {}
    for name, fn in jobs.items():
        cold, best, size = _time(fn, args.repeat)
        total_best += best
        total_cold += cold
        sizes[name] = size
        print(
            f"  {name:<5} {best * 1000:8.1f} ms  (cold {cold * 1000:7.1f} ms)  {size / 1e6:6.2f} MB"
        )
    print(f"  total {total_best * 1000:8.1f} ms  (cold {total_cold * 1000:7.1f} ms)")
    print(f"  HTML size: {sizes['html']:,} bytes ({sizes['html'] / args.members:.0f} B/member)")
    if args.output_dir:
        t0 = time.perf_counter()
        written = write_reports(scan, ["html", "md", "json", "csv"], args.output_dir)
        took = time.perf_counter() - t0
        print(f"  write_reports (all formats, to disk): {took * 1000:.1f} ms")
        for path in written.values():
            print(f"    {path}")
    if args.browser:
        out = args.output_dir or Path(tempfile.mkdtemp(prefix="rdscan-bench-"))
        html = write_reports(scan, ["html"], out)["html"]
        browser_timings(html)


def browser_timings(html: Path) -> None:
    """Open the page in headless Chromium and time load, a filter, a search and a sort."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    profile = tempfile.mkdtemp(prefix="rdscan-bench-profile-")
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        "--disable-quic",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(arg)
    drv = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    try:
        t0 = time.perf_counter()
        drv.get(html.as_uri())
        print(f"  browser: load {1000 * (time.perf_counter() - t0):.0f} ms (until onload)")
        steps = {
            "filter result=FAIL": "var s=document.querySelector('#filters [name=result]');"
            "s.value='FAIL';s.dispatchEvent(new Event('change',{bubbles:true}));",
            "search 'team-12'": "var q=document.querySelector('#filters [name=q]');"
            "q.value='team-12';document.getElementById('filters').requestSubmit();",
            "clear": "var f=document.getElementById('filters');f.reset();f.requestSubmit();",
            "sort by display name": "document.querySelector(\"th[data-col='1'] button\").click();",
        }
        for name, js in steps.items():
            took = drv.execute_script(
                "var t0=performance.now();" + js + "document.body.offsetHeight;"
                "return performance.now()-t0;"
            )
            shown = drv.execute_script("return document.getElementById('shown').textContent;")
            print(f"  browser: {name:<22} {took:7.1f} ms  ({shown} rows shown)")
    finally:
        drv.quit()


if __name__ == "__main__":
    main()
