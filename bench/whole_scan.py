"""Benchmark: the whole ``rdscan`` process against the emulator in its own process.

    .venv/bin/python bench/whole_scan.py               # every figure, medians of 3
    .venv/bin/python bench/whole_scan.py --quick       # one run each, smaller sizes

Prints, in one run (each figure the median of ``--repeat`` runs):

1. the machine: CPU cores, Python;
2. startup: ``rdscan --version`` and ``rdscan --help``;
3. a whole scan of N members (process start to reports written, default N = 1,500) against
   the emulator at its documented quotas (GetAccount 2022-04-19: 50/s) with 0, 100 and 300 ms
   of added latency, as a fraction of the ideal N / quota, beside the target
   1.1 x N / quota + 3 s, and beside a plain sequential loop of SDK GetAccount calls;
4. peak resident memory and time of a whole scan of 1,000, 10,000 and 50,000 members (the
   emulator without quotas: the figure is rdscan's own cost);
5. ``rdscan report`` (all formats) and the load of report.html in headless Chromium for the
   10,000- and 50,000-member scans of 4.

Asserts nothing; the README's performance section records its output.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RDSCAN = str(BIN / "rdscan")
QUOTA = 50.0  # GetAccount 2022-04-19, per management account (scanner.client.quotas)


def child_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.lower().endswith("_proxy") and not k.startswith(("ALIBABA_", "RDSCAN_"))
    }
    env.update(
        ALIBABA_CLOUD_ECS_METADATA_DISABLED="true",
        ALIBABA_CLOUD_CLI_PROFILE_DISABLED="true",
        ALIBABA_CLOUD_ACCESS_KEY_ID="LTAI-auditor",
        ALIBABA_CLOUD_ACCESS_KEY_SECRET="auditor-secret",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        PYTHONUNBUFFERED="1",
    )
    return env


@dataclass(frozen=True)
class Run:
    wall_s: float
    cpu_s: float  # user + system time of the process: what the machine's load does not change
    peak_rss_mb: float
    returncode: int
    output: str


def run(cmd: list[str], env: dict[str, str] | None = None) -> Run:
    """Run ``cmd`` to its end; its wall time and peak RSS (wait4's rusage of that child)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env or child_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert proc.stdout is not None
    output = proc.stdout.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    return Run(wall, cpu, usage.ru_maxrss / 1024, proc.returncode, output)


def median_run(make: Callable[[], Run], repeat: int) -> tuple[Run, list[Run]]:
    runs = [make() for _ in range(repeat)]
    ordered = sorted(runs, key=lambda r: r.wall_s)
    return ordered[len(ordered) // 2], runs


@contextmanager
def emulator(fixture: Path, latency_ms: float, *rate_limits: str) -> Iterator[str]:
    """``rdscan emulator serve`` in its own process; yields HOST:PORT."""
    cmd = [RDSCAN, "emulator", "serve", "--fixture", str(fixture), "--port", "0"]
    cmd += ["--latency-ms", str(latency_ms)]
    for limit in rate_limits:
        cmd += ["--rate-limit", limit]
    proc = subprocess.Popen(
        cmd, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if "listening on" not in line:
            raise SystemExit(f"the emulator did not start: {line!r}")
        yield line.rsplit("//", 1)[1].strip()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def fixture_file(folder: Path, members: int) -> Path:
    path = folder / f"fixture-{members}.json"
    if not path.exists():
        sys.path.insert(0, str(ROOT))
        from scanner.emulator import generate_fixture

        path.write_text(json.dumps(generate_fixture(accounts=members, seed=11)))
    return path


def scan(endpoint: str, out: Path, *extra: str) -> Run:
    cmd = [RDSCAN, "scan", "--endpoint", endpoint, "--protocol", "http", "--no-history"]
    cmd += ["--output-dir", str(out), "--format", "json,html,md,csv", "--fail-on", "none"]
    return run([*cmd, "--no-progress", *extra])


def checked(result: Run, what: str) -> Run:
    if result.returncode not in (0, 1):
        tail = result.output[-2000:]
        raise SystemExit(f"{what} exited {result.returncode}:\n{tail}")
    return result


SEQUENTIAL = r"""
import sys, time
from alibabacloud_resourcedirectorymaster20220419 import models
from alibabacloud_resourcedirectorymaster20220419.client import Client
from alibabacloud_tea_openapi.models import Config
from darabonba.runtime import RuntimeOptions
endpoint, count = sys.argv[1], int(sys.argv[2])
client = Client(Config(access_key_id="LTAI-auditor", access_key_secret="auditor-secret",
                       endpoint=endpoint, protocol="http", region_id="cn-hangzhou"))
runtime = RuntimeOptions()


def call(fn, *args):  # what a plain loop does when throttled: wait a little, call again
    while True:
        try:
            return fn(*args)
        except Exception as exc:
            if "Throttling" not in str(exc):
                raise
            time.sleep(0.05)


t0 = time.perf_counter()
ids, page = [], 1
while len(ids) < count:
    body = call(client.list_accounts_with_options,
        models.ListAccountsRequest(page_number=page, page_size=100), runtime).body.to_map()
    batch = [a["AccountId"] for a in body["Accounts"]["Account"]]
    if not batch:
        break
    ids += batch
    page += 1
for aid in ids[:count]:
    call(client.get_account_with_options, models.GetAccountRequest(account_id=aid), runtime)
print(time.perf_counter() - t0)
"""


def sequential(endpoint: str, count: int) -> float:
    """Seconds a plain sequential SDK loop takes to list and read ``count`` members (timed
    inside the process: interpreter start and SDK import not counted)."""
    result = run([sys.executable, "-c", SEQUENTIAL, endpoint, str(count)])
    if result.returncode != 0:
        raise SystemExit(f"the sequential loop failed:\n{result.output[-2000:]}")
    return float(result.output.strip().splitlines()[-1])


def chromium_load_s(html: Path) -> float:
    """Seconds until report.html's load event in headless Chromium (navigation included)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    profile = tempfile.mkdtemp(prefix="rdscan-bench-profile-")
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--window-size=1400,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(arg)
    drv = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    try:
        drv.get("about:blank")  # the browser's own start-up is not the page's
        t0 = time.perf_counter()
        drv.get(html.as_uri())
        took = time.perf_counter() - t0
        # the page stays usable: a filter over every member answers
        drv.execute_script(
            "var s=document.querySelector('#filters [name=result]');s.value='PASS';"
            "s.dispatchEvent(new Event('change',{bubbles:true}));"
        )
        return took
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--members", type=int, default=1500, help="N of the quota runs")
    parser.add_argument("--latencies", default="0,100,300", help="ms, comma-separated")
    parser.add_argument("--sizes", default="1000,10000,50000", help="members of the RSS runs")
    parser.add_argument("--sequential", type=int, default=50, help="members of the SDK loop")
    parser.add_argument(
        "--large-repeat",
        type=int,
        default=1,
        help="runs of the scans of 20,000+ members (each takes minutes)",
    )
    parser.add_argument("--quick", action="store_true", help="one run each, smaller sizes")
    parser.add_argument("--skip", default="", help="sections to skip: quota,scale,report")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rdscan-bench-"))
    try:
        return bench(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def bench(args: argparse.Namespace, work: Path) -> int:
    if args.quick:
        args.repeat, args.members, args.sizes = 1, 500, "1000,5000"
    skip = set(args.skip.split(","))
    repeat = args.repeat
    print(
        f"machine: {os.cpu_count()} CPU cores, {platform.machine()}, Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}"
    )
    print(f"each figure: median of {repeat} run(s)\n")

    print("startup (whole process; target < 0.3 s)")
    for name in ("--version", "--help"):
        took, runs = median_run(lambda a=name: run([RDSCAN, a]), max(repeat, 5))
        cpu = statistics.median(r.cpu_s for r in runs)
        print(f"  rdscan {name:<10} {took.wall_s:6.2f} s wall, {cpu:5.2f} s CPU")

    n = args.members
    if "quota" not in skip:
        fixture = fixture_file(work, n)
        ideal = n / QUOTA
        print(f"\nwhole scan of {n:,} members at the documented quota (GetAccount {QUOTA:.0f}/s)")
        print(
            f"  ideal N/quota = {ideal:.1f} s; target 1.1 x ideal + 3 s = {1.1 * ideal + 3:.1f} s"
        )
        print(
            f"  {'latency':>8} {'rdscan scan':>12} {'of ideal':>9} {'target':>7}"
            f"   {'sequential SDK loop':>20}"
        )
        for latency in (float(x) for x in args.latencies.split(",")):
            with emulator(fixture, latency) as endpoint:
                best, _ = median_run(
                    lambda: checked(scan(endpoint, work / "out"), "rdscan scan"), repeat
                )
                seq = statistics.median(
                    sequential(endpoint, args.sequential) for _ in range(repeat)
                )
            target = 1.1 * ideal + 3
            seq_fraction = (args.sequential / QUOTA) / seq
            print(
                f"  {latency:6.0f} ms {best.wall_s:10.1f} s {ideal / best.wall_s:9.2f}"
                f" {'met' if best.wall_s <= target else 'MISSED':>7}"
                f"   {seq_fraction:6.2f} ({args.sequential} members, {seq:.1f} s)"
            )

    sizes = [int(x) for x in args.sizes.split(",") if x]
    reports: dict[int, Path] = {}
    if "scale" not in skip:
        print("\nwhole scan, no quota (rdscan's own cost): peak RSS and time")
        for size in sizes:
            fixture = fixture_file(work, size)
            out = work / f"scan-{size}"
            runs_here = repeat if size < 20_000 else args.large_repeat
            with emulator(fixture, 0, "0") as endpoint:
                best, runs = median_run(
                    lambda o=out: checked(scan(endpoint, o, "--rate", "100000"), "rdscan scan"),
                    runs_here,
                )
            rss = statistics.median(r.peak_rss_mb for r in runs)
            cpu = statistics.median(r.cpu_s for r in runs)
            print(
                f"  {size:>7,} members  {best.wall_s:7.1f} s wall, {cpu:6.1f} s CPU"
                f"  {rss:5.0f} MB peak RSS (target < 200)  ({size / best.wall_s:,.0f} members/s;"
                f" median of {runs_here})"
            )
            reports[size] = out / "report.json"

    if "report" not in skip and reports:
        print("\nrdscan report (html, md, csv) and report.html in headless Chromium")
        for size, record in reports.items():
            if size < 10_000:
                continue
            best, runs = median_run(
                lambda r=record: checked(
                    run([RDSCAN, "report", str(r), "--format", "html,md,csv"]),
                    "rdscan report",
                ),
                repeat,
            )
            rss = statistics.median(r.peak_rss_mb for r in runs)
            cpu = statistics.median(r.cpu_s for r in runs)
            load = statistics.median(
                chromium_load_s(record.parent / "report.html") for _ in range(repeat)
            )
            print(
                f"  {size:>7,} members  rdscan report {best.wall_s:5.2f} s wall, {cpu:5.2f} s CPU"
                f" (target < 3), {rss:4.0f} MB peak RSS (target < 150);"
                f"  Chromium load {load:5.2f} s (target < 3)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
