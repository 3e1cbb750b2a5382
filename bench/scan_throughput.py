"""Benchmark: how close does the inventory walk get to the API rate limit?

Starts the emulator in-process with a rate limit and an injected latency, runs
``scanner.inventory.collect`` (token bucket + concurrent GetAccount), then a plain sequential
loop of GetAccount calls over the SDK (no pacing, no retries), and prints for both: the achieved
GetAccount rate as a fraction of the limit, throttled calls, calls lost (members not read) and
wall time.

    python bench/scan_throughput.py                      # 400 members, 20/s, 100 ms
    python bench/scan_throughput.py --members 1000 --rate 50 --latency-ms 300 --concurrency 24
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

from alibabacloud_resourcedirectorymaster20220419 import models as rdm_models  # noqa: E402
from alibabacloud_resourcedirectorymaster20220419.client import Client as RdmClient  # noqa: E402
from alibabacloud_tea_openapi.models import Config  # noqa: E402
from darabonba.runtime import RuntimeOptions  # noqa: E402
from Tea.exceptions import TeaException  # noqa: E402

from scanner.client.sdk import RdClient  # noqa: E402
from scanner.client.settings import Settings  # noqa: E402
from scanner.emulator import EmulatorServer, generate_fixture, parse_fixture  # noqa: E402
from scanner.inventory.collect import collect  # noqa: E402

KEY_ID, KEY_SECRET = "LTAI-auditor", "auditor-secret"


@dataclass(frozen=True)
class Figures:
    name: str
    calls: int  # GetAccount reads attempted (members)
    read: int  # members read successfully
    lost: int  # members not read (read_error / exception)
    throttled: int  # throttled responses seen
    requests: int  # GetAccount requests the server received (retries included)
    getaccount_s: float  # first GetAccount sent -> last answered
    wall_s: float  # the whole run (listing etc. included)
    limit: float

    @property
    def rate(self) -> float:
        return self.read / self.getaccount_s if self.getaccount_s > 0 else 0.0

    @property
    def fraction(self) -> float:
        return self.rate / self.limit


def run_rdscan(
    srv: EmulatorServer, args: argparse.Namespace, limit: float
) -> tuple[Figures, list[str]]:
    settings = Settings(
        endpoint=srv.endpoint,
        protocol="http",
        access_key_id=KEY_ID,
        access_key_secret=KEY_SECRET,
        rate=args.rate,
        **({"concurrency": args.concurrency} if args.concurrency else {}),
    )
    client = RdClient(settings)
    marks: dict[str, float] = {}

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if done == 0:
            marks["first"] = now
        if done == total:
            marks["last"] = now

    srv.reset_counts()
    started = time.perf_counter()
    inventory = collect(client, concurrency=settings.concurrency, progress=progress)
    wall = time.perf_counter() - started
    lost = [m for m in inventory.members if m.read_error and m.has_secure_mobile_phone is None]
    # members whose response lacked the flag were read; only failed calls are "lost"
    failed = [m for m in lost if "HasSecureMobilePhone" not in (m.read_error or "")]
    figures = Figures(
        name=f"rdscan collect (concurrency {settings.concurrency})",
        calls=len(inventory.members),
        read=len(inventory.members) - len(failed),
        lost=len(failed),
        throttled=client.throttled_count(),
        requests=srv.call_counts().get("GetAccount", 0),
        getaccount_s=marks.get("last", time.perf_counter()) - marks.get("first", started),
        wall_s=wall,
        limit=limit,
    )
    return figures, [m.account_id for m in inventory.members]


def run_sequential(srv: EmulatorServer, ids: list[str], rate: float) -> Figures:
    """The naive loop: one GetAccount after another with the SDK, no pacing, no retries."""
    sdk = RdmClient(
        Config(
            access_key_id=KEY_ID,
            access_key_secret=KEY_SECRET,
            endpoint=srv.endpoint,
            protocol="http",
        )
    )
    srv.set_rate_limit(rate)  # fresh server buckets
    srv.reset_counts()
    read = lost = throttled = 0
    started = time.perf_counter()
    for account_id in ids:
        try:
            sdk.get_account_with_options(
                rdm_models.GetAccountRequest(account_id=account_id), RuntimeOptions()
            )
            read += 1
        except TeaException as exc:
            lost += 1
            if str(getattr(exc, "code", "") or "").startswith("Throttling"):
                throttled += 1
    elapsed = time.perf_counter() - started
    return Figures(
        name="plain sequential SDK loop",
        calls=len(ids),
        read=read,
        lost=lost,
        throttled=throttled,
        requests=srv.call_counts().get("GetAccount", 0),
        getaccount_s=elapsed,
        wall_s=elapsed,
        limit=rate,
    )


def render(figures: Figures) -> str:
    return (
        f"{figures.name}\n"
        f"  GetAccount rate     {figures.rate:7.2f}/s = {figures.fraction:.3f} of the "
        f"{figures.limit:g}/s limit\n"
        f"  members read        {figures.read}/{figures.calls}  (lost: {figures.lost})\n"
        f"  throttled responses {figures.throttled}  (GetAccount requests sent: "
        f"{figures.requests})\n"
        f"  GetAccount phase    {figures.getaccount_s:7.2f} s   wall {figures.wall_s:7.2f} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=400)
    parser.add_argument("--rate", type=float, default=20.0, help="server limit = client rate")
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--concurrency", type=int, default=None, help="default: Settings")
    parser.add_argument(
        "--server-rate",
        type=float,
        default=None,
        help="emulator limit if it differs from --rate (e.g. lower, to provoke throttling)",
    )
    parser.add_argument("--sequential-members", type=int, default=None, help="default: all")
    parser.add_argument("--no-sequential", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="also print one JSON line")
    args = parser.parse_args(argv)

    server_rate = args.server_rate or args.rate
    fixture = parse_fixture(generate_fixture(accounts=args.members, seed=args.seed))
    print(
        f"emulator: {args.members} members, limit {server_rate:g}/s per action, "
        f"latency {args.latency_ms:g} ms; client rate {args.rate:g}/s",
        flush=True,
    )
    with EmulatorServer(fixture, rate_limit=server_rate, latency_ms=args.latency_ms) as srv:
        ours, ids = run_rdscan(srv, args, server_rate)
        print(render(ours), flush=True)
        results = [ours]
        if not args.no_sequential:
            subset = ids[: args.sequential_members] if args.sequential_members else ids
            plain = run_sequential(srv, subset, server_rate)
            print(render(plain), flush=True)
            results.append(plain)
    if args.json:
        print(
            json.dumps(
                [asdict(f) | {"rate": f.rate, "fraction": f.fraction} for f in results],
                sort_keys=True,
            )
        )
    target_met = ours.fraction >= 0.9 and ours.lost == 0
    print(f"target (>= 0.9 of the limit, no call lost): {'met' if target_met else 'NOT met'}")
    return 0 if target_met else 1


if __name__ == "__main__":
    sys.exit(main())
