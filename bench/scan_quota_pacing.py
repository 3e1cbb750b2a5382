"""Benchmark: a default scan paced at the documented quotas beside the old uniform 20/s.

Starts the emulator in-process at the documented quotas (GetAccount 2022-04-19 50/s,
ListAccounts 20/s, ...; one bucket per account) with an injected latency, then runs the whole
inventory walk (``scanner.inventory.collect``: ListAccounts, folders, GetAccount for every
member) twice over the real SDKs: once with rdscan's default settings (each action at its
documented quota, ``scanner/client/quotas.py``), once with every action at 20/s (rdscan before
issue 9). Prints, side by side, the GetAccount rate achieved as a fraction of the 50/s quota,
throttled answers, members not read and wall time.

    python bench/scan_quota_pacing.py                       # 1,500 members, 100 ms
    python bench/scan_quota_pacing.py --members 3000 --latency-ms 300
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass

# the credentials library reads its environment at import time: keep it local and offline
os.environ.setdefault("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
os.environ.setdefault("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "true")
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
for _var in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_var, None)

from scanner.client.quotas import documented_rate  # noqa: E402
from scanner.client.sdk import RdClient  # noqa: E402
from scanner.client.settings import Settings  # noqa: E402
from scanner.emulator import EmulatorServer, generate_fixture, parse_fixture  # noqa: E402
from scanner.inventory.collect import collect  # noqa: E402

KEY_ID, KEY_SECRET = "LTAI-auditor", "auditor-secret"
QUOTA = documented_rate("GetAccount")  # 50/s


@dataclass(frozen=True)
class Figures:
    name: str
    members: int
    not_read: int
    throttled: int
    getaccount_s: float  # first GetAccount sent -> last answered
    wall_s: float

    @property
    def rate(self) -> float:
        read = self.members - self.not_read
        return read / self.getaccount_s if self.getaccount_s > 0 else 0.0

    @property
    def fraction(self) -> float:
        return self.rate / QUOTA


def run(srv: EmulatorServer, name: str, rate: float | None) -> Figures:
    settings = Settings(
        endpoint=srv.endpoint,
        protocol="http",
        access_key_id=KEY_ID,
        access_key_secret=KEY_SECRET,
        rate=rate,
    )
    client = RdClient(settings)
    marks: dict[str, float] = {}

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if done == 0:
            marks["first"] = now
        if done == total:
            marks["last"] = now

    started = time.perf_counter()
    inventory = collect(client, concurrency=settings.concurrency, progress=progress)
    wall = time.perf_counter() - started
    not_read = [
        m
        for m in inventory.members
        if m.read_error and "HasSecureMobilePhone" not in (m.read_error or "")
    ]
    return Figures(
        name=name,
        members=len(inventory.members),
        not_read=len(not_read),
        throttled=client.throttled_count(),
        getaccount_s=marks.get("last", time.perf_counter()) - marks.get("first", started),
        wall_s=wall,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1500)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    fixture = parse_fixture(generate_fixture(accounts=args.members, seed=5))
    rows = []
    for name, rate in (("rdscan default (documented quotas)", None), ("uniform 20/s (old)", 20.0)):
        # a fresh emulator per run: the account's buckets start full each time
        with EmulatorServer(fixture, rate_limit=None, latency_ms=args.latency_ms) as srv:
            rows.append(run(srv, name, rate))
    if args.json:
        print(json.dumps([asdict(r) | {"fraction": r.fraction} for r in rows], indent=2))
        return 0
    print(
        f"scan of {args.members:,} members, emulator at the documented quotas "
        f"(GetAccount {QUOTA:g}/s), {args.latency_ms} ms latency"
    )
    print(f"{'run':<36} {'GetAccount/s':>12} {'of 50/s':>8} {'throttled':>9} "
          f"{'not read':>8} {'wall s':>7}")  # fmt: skip
    for r in rows:
        print(
            f"{r.name:<36} {r.rate:>12.1f} {r.fraction:>8.2f} {r.throttled:>9} "
            f"{r.not_read:>8} {r.wall_s:>7.1f}"
        )
    default, old = rows
    print(f"default / old GetAccount rate: {default.rate / old.rate:.2f}x")
    return 0 if default.fraction >= 0.9 and default.not_read == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
