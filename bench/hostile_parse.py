"""What the hostile-input limits cost on a large report.json: parse with limits against plain
``json.loads``, the phone masking of a whole scan, and a crafted file refused.

    .venv/bin/python bench/hostile_parse.py [--members N] [--repeat R]

Prints best-of-R times side by side (ratios measured in this one run) for a synthetic scan of N
members (default 50,000) with tags, reasons and display names, some holding phone numbers.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import replace

from report_render import synthetic_scan

from scanner.json_limits import JsonLimitError, loads_bounded
from scanner.phones import mask_scan
from scanner.report.results_file import dumps


def _best(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    scan = synthetic_scan(args.members)
    results = tuple(
        replace(r, tags=(("secure-phone", f"86-139{i:08d}"),), reason=f"{r.reason} call 139{i:08d}")
        if i % 10 == 0
        else r
        for i, r in enumerate(scan.results)
    )
    scan = replace(scan, results=results)
    text = dumps(scan)
    mib = len(text.encode()) / 2**20

    plain = _best(lambda: json.loads(text), args.repeat)
    bounded = _best(lambda: loads_bounded(text), args.repeat)
    masked = _best(lambda: mask_scan(scan), args.repeat)
    clean = mask_scan(scan)
    again = _best(lambda: mask_scan(clean), args.repeat)

    bomb = "[" * 100_000 + "]" * 100_000
    big_int = "[" + "9" * 100_000 + "]"

    def refuse(doc: str) -> None:
        try:
            loads_bounded(doc)
        except JsonLimitError:
            return
        raise AssertionError("not refused")

    nested = _best(lambda: refuse(bomb), args.repeat)
    digits = _best(lambda: refuse(big_int), args.repeat)

    print(f"report.json: {args.members:,} members, {mib:.1f} MiB (one member in 10 with a number)")
    print(f"  json.loads           {plain * 1000:8.1f} ms")
    print(f"  loads_bounded        {bounded * 1000:8.1f} ms  ({bounded / plain:.2f}x json.loads)")
    print(f"  mask_scan (1st)      {masked * 1000:8.1f} ms")
    print(f"  mask_scan (masked)   {again * 1000:8.1f} ms")
    print(f"  refuse 100,000-deep  {nested * 1000:8.1f} ms")
    print(f"  refuse 100,000-digit {digits * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
