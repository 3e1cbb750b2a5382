"""`rdscan policy validate FILE...` and `rdscan policy show [FILE]`."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import click

from ..clock import utc_today
from ..engine import DEFAULT_SOON_DAYS
from ..exit_codes import ExitCode
from ..findings import Status
from ..policy import (
    CloudAccountRule,
    Exemptions,
    Policy,
    Scope,
    expires_soon,
    load_exemptions,
    load_policy,
    validate_files,
)
from ..policy.lint import lint_exemptions
from ..report.results_file import load_results
from ..resources import default_policy_path
from .common import printable

EXIT_INVALID = ExitCode.USAGE


@click.group()
def policy() -> None:
    """Check and show policy and exemptions files."""


@policy.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Count expired and soon-to-expire exemptions as of this date (default: today, UTC).",
)
def validate(files: tuple[Path, ...], as_of: dt.datetime | None) -> None:
    """Check policy and exemptions files; list every problem as FILE:LINE: message.

    Each file is told apart by its top-level keys (a policy has id, title, ...; an exemptions
    file has an `exemptions:` list). Exit 0 when every file is valid, 2 otherwise.
    """
    checks = validate_files(list(files))
    today = as_of.date() if as_of else utc_today()
    for check in checks:
        if check.ok and check.policy is not None:
            click.echo(f"{printable(check.path)}: OK (policy {printable(check.policy.id)})")
            for warning in check.policy.warnings:
                click.echo(f"Warning: {printable(warning)}", err=True)
        elif check.ok and check.frameworks is not None:
            fm = check.frameworks
            click.echo(
                f"{printable(check.path)}: OK (framework mapping for {printable(fm.control)}: "
                f"{len(fm.items)} items in {len(fm.keys)} frameworks)"
            )
        elif check.ok and check.exemptions is not None:
            summary = _exemption_summary(check.exemptions, today)
            click.echo(f"{printable(check.path)}: OK ({summary})")
        else:
            for problem in check.problems:
                click.echo(printable(problem))
    bad = [c for c in checks if not c.ok]
    if bad:
        total = sum(len(c.problems) for c in bad)
        click.echo(
            f"Error: {total} problem{'s' if total != 1 else ''} in {len(bad)} of {len(checks)} "
            f"file{'s' if len(checks) != 1 else ''}.",
            err=True,
        )
        raise SystemExit(EXIT_INVALID)


def _exemption_summary(
    exemptions: Exemptions, today: dt.date, soon_days: int = DEFAULT_SOON_DAYS
) -> str:
    """ "3 exemptions: 1 expired, 1 expires within 30 days"."""
    n = len(exemptions.entries)
    text = f"{n} exemption{'s' if n != 1 else ''}"
    expired = sum(1 for e in exemptions.entries if e.expires < today)
    soon = sum(1 for e in exemptions.entries if expires_soon((e.expires - today).days, soon_days))
    notes = [f"{expired} expired"] if expired else []
    if soon:
        notes.append(f"{soon} expire{'s' if soon == 1 else ''} within {soon_days} days")
    return text + (": " + ", ".join(notes) if notes else "")


@policy.command()
@click.argument("exemptions_file", metavar="EXEMPTIONS", type=click.Path(path_type=Path))
@click.option(
    "--directory",
    "results",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="REPORT.json",
    help="A scan's report.json: the members the exemptions are checked against.",
)
@click.option(
    "--days",
    default=DEFAULT_SOON_DAYS,
    show_default=True,
    type=click.IntRange(min=0),
    help="List exemptions expiring within this many days.",
)
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Judge expiry as of this date (default: today, UTC).",
)
def lint(exemptions_file: Path, results: Path, days: int, as_of: dt.datetime | None) -> None:
    """List exemptions that match no member, expire within --days, name no approver, or cover
    members that now pass.

    Exit 0 when nothing is listed, 1 when something is, 2 when a file is invalid.
    """
    exemptions = load_exemptions(exemptions_file)
    scan, _ = load_results(results)
    today = as_of.date() if as_of else dt.datetime.now(dt.timezone.utc).date()
    findings = lint_exemptions(exemptions, scan, today, days)
    for f in findings:
        click.echo(printable(f"{exemptions_file}:{f.line}: exemption {f.scope}: {f.message}"))
    n = len(exemptions.entries)
    flagged = len({f.line for f in findings})
    click.echo(
        f"{flagged} of {n} exemption{'s' if n != 1 else ''} listed "
        f"(against {printable(str(results))}, scan {printable(scan.evidence.scan_id)}, "
        f"as of {today.isoformat()})"
    )
    if findings:
        raise SystemExit(1)


@policy.command()
@click.argument("file", required=False, type=click.Path(path_type=Path))
def show(file: Path | None) -> None:
    """Print a policy's metadata (default: the shipped secure-mobile-phone policy)."""
    click.echo(describe_policy(load_policy(file or default_policy_path())))


def describe_policy(p: Policy) -> str:
    """The policy as a reviewer reads it (plain text)."""
    lines = [
        f"Policy:    {p.id}",
        f"Title:     {p.title}",
        f"Severity:  {p.severity.value}",
        f"Source:    {p.source}",
        f"Digest:    {p.digest}",
        "",
        "Rationale:",
        textwrap.fill(p.rationale.strip(), 96, initial_indent="  ", subsequent_indent="  "),
        "",
        "Remediation:",
        textwrap.indent(p.remediation.strip(), "  "),
        "",
        "Related controls:",
    ]
    lines += [
        f"  {c.framework} {c.control}{(' ' + c.title) if c.title else ''} ({c.relation})"
        for c in p.related_controls
    ] or ["  none"]
    lines += ["", "Scope:", *_scope_lines(p.scope), "", _cloud_line(p)]
    return "\n".join(printable(line) for chunk in lines for line in chunk.split("\n"))


def _scope_lines(s: Scope) -> list[str]:
    def some(values: tuple[object, ...], empty: str) -> str:
        return ", ".join(str(v) for v in values) if values else empty

    return [
        f"  member types:     {some(s.types, 'all')}",
        f"  member statuses:  {some(s.statuses, 'all')}",
        f"  folders included: {some(s.include_folders, 'all')}",
        f"  folders excluded: {some(s.exclude_folders, 'none')}",
        f"  tags included:    {some(s.include_tags, 'any (no tag required)')}",
        f"  tags excluded:    {some(s.exclude_tags, 'none')}",
    ]


def _cloud_line(p: Policy) -> str:
    rule: CloudAccountRule = p.cloud_account_without_phone
    if rule.result is Status.SKIPPED:
        return "CloudAccount without a secure phone: SKIPPED"
    severity = (rule.severity or p.severity).value
    return f"CloudAccount without a secure phone: FAIL, severity {severity}, remediation manual"


COMMANDS: list[click.Command] = [policy]
