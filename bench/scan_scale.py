"""Benchmark: a whole scan of a large directory, end to end, and what it costs in memory.

Starts the emulator in-process on a generated directory (default 10,000 members) with a high
rate limit, so the scan is bound by rdscan itself, not by the API's 20/s; runs the scan
pipeline (GetCallerIdentity, listing, folder paths, GetAccount for every member, evaluation)
and writes every report format. Prints the members per second of each phase and the peak
resident memory of the process, before and after, so the figures are ratios measured in one
run.

    python bench/scan_scale.py                    # 10,000 members
    python bench/scan_scale.py --members 2000 --rate 500
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
os.environ.setdefault("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "true")
for _var in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_var, None)

from scanner.client.settings import Settings  # noqa: E402
from scanner.emulator import EmulatorServer, generate_fixture, parse_fixture  # noqa: E402
from scanner.policy import load_exemptions, load_policy  # noqa: E402
from scanner.report import FORMATS, write_reports  # noqa: E402
from scanner.resources import default_policy_path  # noqa: E402
from scanner.scan import ScanRequest, run_scan  # noqa: E402


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=1000.0, help="client and server rate")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    fixture = parse_fixture(generate_fixture(accounts=args.members, seed=args.seed))
    policy = load_policy(default_policy_path())
    exemptions = load_exemptions(None)
    base_rss = peak_rss_mb()
    with EmulatorServer(fixture, rate_limit=args.rate * 2) as srv:
        settings = Settings(
            endpoint=srv.endpoint,
            protocol="http",
            access_key_id="LTAI-auditor",
            access_key_secret="auditor-secret",
            rate=args.rate,
            concurrency=args.concurrency,
        )
        t0 = time.perf_counter()
        scan = run_scan(ScanRequest(settings=settings, policy=policy, exemptions=exemptions))
        t1 = time.perf_counter()
        with tempfile.TemporaryDirectory() as out:
            written = write_reports(scan, list(FORMATS), Path(out))
            sizes = {fmt: path.stat().st_size for fmt, path in written.items()}
        t2 = time.perf_counter()
    peak = peak_rss_mb()
    n = len(scan.results)
    lost = scan.coverage.errors
    print(f"scan of {n:,} members (emulator limit {args.rate * 2:.0f}/s, client {args.rate:.0f}/s)")
    print(f"  scan            {t1 - t0:7.2f} s   {n / (t1 - t0):8.0f} members/s")
    print(f"  all reports     {t2 - t1:7.2f} s   {n / (t2 - t1):8.0f} members/s")
    print(f"  API calls       {sum(scan.evidence.api_calls.values()):,}  {scan.evidence.api_calls}")
    print(f"  members lost    {lost} (ERROR results)")
    print("  report sizes    " + ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in sizes.items()))
    print(
        f"  peak RSS        {peak:.0f} MB (before the scan: {base_rss:.0f} MB; "
        f"{(peak - base_rss) * 1024 / max(n, 1):.1f} KiB per member)"
    )
    return 0 if lost == 0 and n == args.members else 1


if __name__ == "__main__":
    sys.exit(main())
