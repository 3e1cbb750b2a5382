"""``rdscan emulator serve`` and ``rdscan emulator generate``."""

from __future__ import annotations

import json
import math
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import click

from ..emulator import EmulatorServer, generate_fixture, load_fixture, sample_fixture_path
from ..emulator.api import KNOWN_ACTIONS
from ..emulator.limits import Quotas, parse_rate_limit
from ..emulator.server import RequestLog
from ..errors import ConfigError


@click.group("emulator")
def emulator() -> None:
    """Run the local Resource Directory API emulator, or generate fixtures for it."""


@emulator.command("serve")
@click.option(
    "--fixture",
    "fixture_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="RDSCAN_EMULATOR_FIXTURE",
    help="Fixture file (YAML/JSON). Default: the bundled sample directory.",
)
@click.option("--host", default="127.0.0.1", show_default=True, envvar="RDSCAN_EMULATOR_HOST")
@click.option(
    "--port",
    default=0,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="0 picks a free port.",
    envvar="RDSCAN_EMULATOR_PORT",
)
@click.option(
    "--rate-limit",
    "rate_limits",
    multiple=True,
    metavar="N|ACTION=N",
    envvar="RDSCAN_EMULATOR_RATE_LIMIT",
    help="Requests per second per account: N sets every action, ACTION=N (or "
    "ACTION@VERSION=N) one action; repeatable; 0: unlimited. Default: the documented quota "
    "of each action (GetAccount 2022-04-19 50/s, ListAccounts 20/s, Send 2020-03-31 10/s, "
    "undocumented actions 20/s).",
)
@click.option(
    "--latency-ms",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0.0),
    envvar="RDSCAN_EMULATOR_LATENCY_MS",
    help="Added to every request (only that request waits).",
)
@click.option(
    "--fault-rate",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0.0, 1.0),
    envvar="RDSCAN_EMULATOR_FAULT_RATE",
    help="Share of requests answered 503 ServiceUnavailable.",
)
@click.option(
    "--sms-outbox",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="RDSCAN_EMULATOR_SMS_OUTBOX",
    help="Append each verification code sent as a JSON line to this file.",
)
@click.option(
    "--code-ttl",
    type=click.IntRange(1),
    help="Code lifetime (s). Default: the fixture's undocumented.code_ttl_s (300).",
)
@click.option(
    "--daily-send-limit",
    type=click.IntRange(0),
    help="Codes per UTC day, per member or per management account as the fixture's "
    "undocumented.daily_send_limit_scope says. Default: undocumented.daily_send_limit (5).",
)
@click.option("--seed", type=int, help="Seed for codes and random faults (reproducible runs).")
@click.option(
    "--clock-skew",
    "clock_skew_s",
    default=0.0,
    show_default=True,
    type=click.FloatRange(-366 * 86400, 366 * 86400),
    callback=lambda ctx, param, value: _finite(value, "--clock-skew"),
    help="Seconds the emulator's clock runs ahead of this machine's (negative: behind); it "
    "stamps the Date header and checks request timestamps (15 min).",
)
@click.option(
    "--tls-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="RDSCAN_EMULATOR_TLS_DIR",
    help="Serve HTTPS: make a private CA and a certificate for 127.0.0.1 and localhost, and "
    "write the CA certificate to DIR/ca.pem (trust it with --ca-bundle DIR/ca.pem).",
)
@click.option(
    "--log-requests",
    is_flag=True,
    envvar="RDSCAN_EMULATOR_LOG_REQUESTS",
    help="Print one line per request (action, key id, status, error code) to stderr.",
)
def serve(
    fixture_path: Path | None,
    host: str,
    port: int,
    rate_limits: tuple[str, ...],
    latency_ms: float,
    fault_rate: float,
    sms_outbox: Path | None,
    code_ttl: int | None,
    daily_send_limit: int | None,
    seed: int | None,
    clock_skew_s: float,
    tls_dir: Path | None,
    log_requests: bool,
) -> None:
    """Serve the RD API on HOST:PORT until interrupted (Ctrl-C or SIGTERM)."""
    quotas = _quotas(rate_limits)
    fixture = load_fixture(fixture_path or sample_fixture_path())
    for warning in fixture.warnings:
        click.echo(f"Warning: {warning}", err=True)
    srv = EmulatorServer(
        fixture,
        host=host,
        port=port,
        rate_limit=quotas,
        latency_ms=latency_ms,
        fault_rate=fault_rate,
        sms_outbox=sms_outbox,
        code_ttl_s=code_ttl,
        daily_send_limit=daily_send_limit,
        seed=seed,
        on_request=_print_request if log_requests else None,
        tls_dir=tls_dir,
        clock_skew_s=clock_skew_s,
    )
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, _on_signal)
    try:
        try:
            srv.start()
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                hint="choose another --port (0 picks a free one)",
            ) from exc
        click.echo(f"rdscan emulator listening on {srv.url}")
        sys.stdout.flush()
        if srv.ca_path is not None:
            click.echo(f"CA certificate: {srv.ca_path}", err=True)
        while not stop.wait(0.5):
            pass
    finally:
        srv.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    click.echo("rdscan emulator stopped", err=True)


def _finite(value: float, name: str) -> float:
    if not math.isfinite(value):
        raise click.BadParameter("give a number of seconds", param_hint=f"'{name}'")
    return value


def _quotas(settings: tuple[str, ...]) -> Quotas:
    overrides = []
    for text in settings:
        try:
            overrides.append(parse_rate_limit(text, KNOWN_ACTIONS))
        except ValueError as exc:
            raise click.BadParameter(
                f"{exc}. Write N (every action) or ACTION=N, e.g. --rate-limit GetAccount=50",
                param_hint="'--rate-limit'",
            ) from None
    return Quotas(overrides)


def _print_request(entry: RequestLog) -> None:
    outcome = f"{entry.status} {entry.code}".rstrip()
    click.echo(
        f"{entry.action or '-'} {entry.version or '-'} {entry.access_key_id or '-'} -> {outcome}"
        f" ({entry.request_id})",
        err=True,
    )


@emulator.command("generate")
@click.option("--accounts", required=True, type=click.IntRange(1, 1_000_000), help="Members.")
@click.option("--seed", default=1, show_default=True, type=int)
@click.option(
    "--missing-ratio",
    default=0.3,
    show_default=True,
    type=click.FloatRange(0.0, 1.0),
    help="Share of members without a secure mobile phone.",
)
@click.option("--site", type=click.Choice(["cn", "intl"]), default="cn", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Write JSON instead of YAML.")
def generate(accounts: int, seed: int, missing_ratio: float, site: str, as_json: bool) -> None:
    """Write a synthetic fixture with N members to stdout."""
    import yaml

    data = generate_fixture(accounts=accounts, seed=seed, missing_ratio=missing_ratio, site=site)
    if as_json:
        click.echo(json.dumps(data, indent=1))
    else:
        click.echo(yaml.safe_dump(data, sort_keys=False, width=1000), nl=False)


COMMANDS: list[click.Command] = [emulator]
