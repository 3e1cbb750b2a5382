"""`rdscan history list | show SCAN | diff OLDER NEWER`."""

from __future__ import annotations

from pathlib import Path

import click
from tabulate import tabulate

from ..history import History, default_history_path
from .common import printable

_history_option = click.option(
    "--history",
    "history_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="RDSCAN_HISTORY",
    help=f"SQLite history of scans (default: {default_history_path()}).",
)


def _open(history_path: Path | None) -> History:
    return History(history_path or default_history_path())


@click.group()
def history() -> None:
    """Scan history for periodic audits: list scans, show one, diff two.

    A scan can be named by its id (or a unique prefix), `latest`, `previous` or `latest~N`.
    """


@history.command("list")
@_history_option
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
def list_scans(history_path: Path | None, limit: int) -> None:
    """List recorded scans, newest first."""
    rows = _open(history_path).scans(limit)
    if not rows:
        click.echo("No scans recorded yet.")
        return
    click.echo(
        tabulate(
            [
                (
                    printable(r.id),
                    printable(r.started_at),
                    printable(r.directory_id),
                    printable(r.site),
                    f"{r.evaluated}/{r.members}",
                    r.counts["PASS"],
                    r.counts["FAIL"],
                    r.counts["EXEMPT"],
                    r.counts["SKIPPED"],
                    r.counts["ERROR"],
                )
                for r in rows
            ],
            headers=[
                "Scan",
                "Started",
                "Directory",
                "Site",
                "Evaluated",
                "PASS",
                "FAIL",
                "EXEMPT",
                "SKIPPED",
                "ERROR",
            ],
        )
    )


@history.command("show")
@_history_option
@click.argument("scan_ref")
@click.option("--all", "show_all", is_flag=True, help="List every member, not only FAIL/ERROR.")
def show(history_path: Path | None, scan_ref: str, show_all: bool) -> None:
    """Show one scan: evidence, counts and its failing members."""
    store = _open(history_path)
    row = store.resolve(scan_ref)
    click.echo(printable(f"Scan {row.id} started {row.started_at}"))
    click.echo(
        printable(f"Directory {row.directory_id} (site {row.site}), caller {row.caller_arn}")
    )
    click.echo(printable(f"Policy {row.policy_id}; evaluated {row.evaluated}/{row.members}"))
    click.echo(", ".join(f"{k} {v}" for k, v in row.counts.items()))
    members = [m for m in store.members(row.id) if show_all or m.result in ("FAIL", "ERROR")]
    if members:
        click.echo(
            tabulate(
                [
                    (
                        m.account_id,
                        printable(m.display_name)[:40],
                        m.result,
                        printable(m.reason)[:70],
                    )
                    for m in members
                ],
                headers=["Account", "Name", "Result", "Reason"],
            )
        )


@history.command("diff")
@_history_option
@click.argument("older", default="previous")
@click.argument("newer", default="latest")
def diff(history_path: Path | None, older: str, newer: str) -> None:
    """What changed between two scans (default: previous -> latest)."""
    d = _open(history_path).diff(older, newer)
    click.echo(
        printable(f"{d.older.id} ({d.older.started_at}) -> {d.newer.id} ({d.newer.started_at})")
    )
    if d.older.directory_id != d.newer.directory_id:
        click.echo(
            printable(
                f"Warning: these scans are of different directories ({d.older.directory_id} and "
                f"{d.newer.directory_id}): members show as new or removed; give two scan ids "
                "of one directory (see `rdscan history list`)"
            ),
            err=True,
        )
    for status in ("FAIL", "PASS", "ERROR"):
        before, after = d.older.counts[status], d.newer.counts[status]
        click.echo(f"  {status:<6} {before:>6} -> {after:<6} ({after - before:+d})")
    if not d.changes:
        click.echo("No member changed result.")
        return
    click.echo(
        tabulate(
            [
                (
                    c.kind,
                    c.account_id,
                    printable(c.display_name)[:40],
                    c.before or "-",
                    c.after or "-",
                )
                for c in d.changes
            ],
            headers=["Change", "Account", "Name", "Before", "After"],
        )
    )


COMMANDS: list[click.Command] = [history]
