"""`rdscan doctor`: before the first scan, will it work? (table, or --format json)."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from typing import Any

import click
from tabulate import tabulate

from ..client.sdk import RdClient
from ..client.settings import Settings
from ..doctor import DoctorReport, run_doctor
from ..exit_codes import ExitCode
from .common import connection_options, printable


@click.command()
@connection_options
@click.option(
    "--remediate",
    is_flag=True,
    help="Also check what `rdscan remediate` needs (Send and Bind, probed without sending "
    "an SMS or binding anything).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
)
def doctor(settings: Settings, remediate: bool, fmt: str) -> None:
    """Check, read-only, that a scan would work with these settings (credentials, caller,
    permissions, endpoints, TLS, clock, proxy, quotas).

    It shows where the credentials come from and who they are; management account, delegated
    administrator or member; each API action the scan (and with --remediate, remediation)
    needs, allowed / denied / unknown; endpoints, TLS, proxy; the local clock against the
    server's; the quotas rdscan paces at.

    Sends no SMS and binds nothing. Exit 0 when a scan would work, 2 when it would not (the
    first thing to fix is named), 3 when the service did not answer (retry later).
    """
    report = run_doctor(RdClient(settings), remediate=remediate)
    if fmt == "json":
        click.echo(json.dumps(_as_json(report), indent=2))
    else:
        _print_table(report)
    sys.exit(_exit_code(report))


def _exit_code(report: DoctorReport) -> int:
    if report.ok:
        return ExitCode.OK
    return ExitCode.INCOMPLETE if report.outage and len(report.problems) else ExitCode.USAGE


def _as_json(report: DoctorReport) -> dict[str, Any]:
    data = asdict(report)
    data["ok"] = report.ok
    data["exit_code"] = int(_exit_code(report))
    data["first_problem"] = asdict(report.problems[0]) if report.problems else None
    data["endpoints"] = [{"service": s, "host": h, "proxy": p} for s, h, p in report.endpoints]
    data["quotas"] = [
        {"action": a, "paced_at": r, "documented": d, "source": src}
        for a, r, d, src in report.quotas
    ]
    return data


def _print_table(r: DoctorReport) -> None:
    caller = r.caller
    rows = [
        ("Credentials", f"{r.credential_source or '-'} (AccessKey {r.access_key or '-'})"),
        ("Caller", f"{caller.arn} ({caller.identity_type})" if caller else "-"),
        ("Caller account", caller.account_id if caller else "-"),
        (
            "Directory",
            f"{r.directory.id}, management account {r.directory.master_account_id}"
            if r.directory
            else "-",
        ),
        ("Caller is", r.caller_kind or "-"),
        ("Protocol / TLS", f"{r.protocol}; {r.tls}"),
        (
            "Clock offset",
            f"{r.clock_offset_s:+.0f} s (local minus server Date)"
            if r.clock_offset_s is not None
            else "unknown",
        ),
    ]
    click.echo(tabulate([(k, printable(v)) for k, v in rows], tablefmt="plain"))
    click.echo("\nEndpoints:")
    click.echo(
        tabulate([(s, h, p) for s, h, p in r.endpoints], headers=["Service", "Host", "Proxy"])
    )
    if r.probes:
        click.echo("\nAPI actions (probed read-only):")
        click.echo(
            tabulate(
                [(p.action, p.needed_by, p.result, printable(p.detail)[:90]) for p in r.probes],
                headers=["Action", "Needed by", "Result", "Detail"],
            )
        )
    click.echo("\nRates rdscan paces at (requests/s, per action, shared by the whole account):")
    click.echo(
        tabulate(
            [(a, f"{rate:g}", f"{doc:g}", src) for a, rate, doc, src in r.quotas],
            headers=["Action", "Paced at", "Documented", "Source"],
        )
    )
    for w in r.warnings:
        click.echo(f"Warning: {printable(w)}")
    if r.ok:
        click.echo("\nOK: a scan would work with these settings.")
        return
    first = r.problems[0]
    click.echo(f"\nFirst thing to fix: {printable(first.what)}")
    if first.fix:
        click.echo(f"Fix: {printable(first.fix)}")
    for more in r.problems[1:]:
        click.echo(f"Also: {printable(more.what)}")


COMMANDS: list[click.Command] = [doctor]
