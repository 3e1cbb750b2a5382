"""`rdscan history list | show SCAN | diff OLDER NEWER | trend | prune`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from tabulate import tabulate

from ..changes import CHANGE_CLASSES, CLASS_TITLES
from ..clock import utc_now
from ..errors import ConfigError
from ..history import Diff, History, ScanRow, default_history_path
from .common import printable

_history_option = click.option(
    "--history",
    "history_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="RDSCAN_HISTORY",
    help=f"SQLite history of scans (default: {default_history_path()}).",
)
_format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"], case_sensitive=False),
    default="table",
    show_default=True,
    help="table for people, json for programs (UTF-8, one document).",
)
_COUNT_HEADERS = ["PASS", "FAIL", "EXEMPT", "SKIPPED", "ERROR"]


def _open(history_path: Path | None) -> History:
    return History(history_path or default_history_path())


def _echo_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


@click.group()
def history() -> None:
    """Scan history for periodic audits: list, show, diff, trend, prune.

    A scan can be named by its id (or a unique prefix), `latest`, `previous` or `latest~N`.
    """


@history.command("list")
@_history_option
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--directory", "directory_id", metavar="RD_ID", help="Only scans of this directory.")
@_format_option
def list_scans(history_path: Path | None, limit: int, directory_id: str | None, fmt: str) -> None:
    """List recorded scans, newest first."""
    rows = _open(history_path).scans(limit, directory_id=directory_id)
    if fmt == "json":
        _echo_json({"scans": [r.to_dict() for r in rows]})
        return
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
                    printable(r.target) or "-",
                    printable(r.site),
                    f"{r.evaluated}/{r.members}",
                    *(r.counts[k] for k in _COUNT_HEADERS),
                    _share(r.compliance),
                )
                for r in rows
            ],
            headers=[
                "Scan",
                "Started",
                "Directory",
                "Target",
                "Site",
                "Evaluated",
                *_COUNT_HEADERS,
                "Compliance",
            ],
        )
    )


@history.command("show")
@_history_option
@click.argument("scan_ref")
@click.option("--all", "show_all", is_flag=True, help="List every member, not only FAIL/ERROR.")
@_format_option
def show(history_path: Path | None, scan_ref: str, show_all: bool, fmt: str) -> None:
    """Show one scan: evidence, counts and its failing members."""
    store = _open(history_path)
    row = store.resolve(scan_ref)
    members = [m for m in store.members(row.id) if show_all or m.result in ("FAIL", "ERROR")]
    if fmt == "json":
        _echo_json({"scan": row.to_dict(), "members": [m.to_dict() for m in members]})
        return
    click.echo(printable(f"Scan {row.id} started {row.started_at}"))
    click.echo(
        printable(f"Directory {row.directory_id} (site {row.site}), caller {row.caller_arn}")
    )
    click.echo(printable(f"Policy {row.policy_id}; evaluated {row.evaluated}/{row.members}"))
    click.echo(", ".join(f"{k} {v}" for k, v in row.counts.items()))
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
@click.argument("older", required=False)
@click.argument("newer", required=False)
@click.option(
    "--directory",
    "directory_id",
    metavar="RD_ID",
    help="Name scans among this directory's only (previous, latest, latest~N).",
)
@_format_option
def diff(
    history_path: Path | None,
    older: str | None,
    newer: str | None,
    directory_id: str | None,
    fmt: str,
) -> None:
    """What changed between two scans (default: previous -> latest).

    Counts every change class (new_fail, fixed, still_failing, newly_exempt, exemption_expired,
    added, removed, became_error, error_cleared, became_skipped, left_skipped). Exit code 1
    when a member newly fails (new_fail), else 0, so a CI job can gate on regressions. With the
    default scans and only one recorded, there is nothing to compare yet: it says so, exit 0.
    """
    store = _open(history_path)
    if older is None and newer is None:
        rows = store.scans(2, directory_id=directory_id)
        if len(rows) < 2:
            _nothing_to_compare(rows[0] if rows else None, fmt)
            return
    d = store.diff(older or "previous", newer or "latest", directory_id=directory_id)
    if d.older.directory_id != d.newer.directory_id:
        click.echo(
            printable(
                f"Warning: these scans are of different directories ({d.older.directory_id} and "
                f"{d.newer.directory_id}): members show as added or removed; give two scan ids "
                "of one directory (see `rdscan history list`)"
            ),
            err=True,
        )
    counts = d.counts()
    if fmt == "json":
        _echo_json(d.to_dict())
    else:
        _print_diff_table(d, counts)
    sys.exit(1 if counts["new_fail"] else 0)


def _nothing_to_compare(only: ScanRow | None, fmt: str) -> None:
    note = (
        f"only one scan recorded ({only.id}): nothing to compare yet"
        if only is not None
        else "no scan recorded: nothing to compare yet"
    )
    click.echo(printable(f"Note: {note}; the next scan will be compared with it."), err=True)
    if fmt == "json":
        _echo_json(
            {
                "older": None,
                "newer": only.to_dict() if only else None,
                "same_directory": True,
                "counts": {c: 0 for c in CHANGE_CLASSES},
                "classes": {c: [] for c in CHANGE_CLASSES},
                "note": note,
            }
        )


def _print_diff_table(d: Diff, counts: dict[str, int]) -> None:
    older, newer = d.older, d.newer
    click.echo(printable(f"{older.id} ({older.started_at}) -> {newer.id} ({newer.started_at})"))
    for status in _COUNT_HEADERS:
        before, after = older.counts[status], newer.counts[status]
        click.echo(f"  {status:<8} {before:>6} -> {after:<6} ({after - before:+d})")
    click.echo(
        tabulate(
            [(name, CLASS_TITLES[name], counts[name]) for name in CHANGE_CLASSES],
            headers=["Class", "Meaning", "Members"],
        )
    )
    if not d.changes:
        click.echo("No member changed result.")
        return
    click.echo(
        tabulate(
            [
                (
                    ", ".join(c.classes),
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


@history.command("trend")
@_history_option
@click.option("--directory", "directory_id", metavar="RD_ID", help="Only scans of this directory.")
@click.option("--limit", type=click.IntRange(min=1), default=30, show_default=True)
@_format_option
def trend(history_path: Path | None, directory_id: str | None, limit: int, fmt: str) -> None:
    """Compliance share per scan, oldest first: (PASS + EXEMPT) / in-scope members."""
    rows = _open(history_path).trend(directory_id, limit)
    if fmt == "json":
        _echo_json({"trend": [r.to_dict() for r in rows]})
        return
    if not rows:
        click.echo("No scans recorded yet.")
        return
    click.echo(
        tabulate(
            [
                (
                    printable(r.started_at),
                    printable(r.directory_id),
                    printable(r.id),
                    *(r.counts[k] for k in _COUNT_HEADERS),
                    _share(r.compliance),
                )
                for r in rows
            ],
            headers=["Started", "Directory", "Scan", *_COUNT_HEADERS, "Compliance"],
        )
    )


@history.command("prune")
@_history_option
@click.option(
    "--keep",
    type=click.IntRange(min=1),
    help="Keep the N newest scans of each directory; delete the older ones.",
)
@click.option(
    "--older-than",
    "older_than",
    type=click.IntRange(min=0),
    metavar="DAYS",
    help="Delete scans started more than DAYS days ago.",
)
def prune(history_path: Path | None, keep: int | None, older_than: int | None) -> None:
    """Delete old scans from the history (one transaction)."""
    if keep is None and older_than is None:
        raise ConfigError(
            "history prune needs --keep N or --older-than DAYS",
            hint="e.g. `rdscan history prune --keep 90` keeps each directory's 90 newest scans",
        )
    deleted = _open(history_path).prune(keep=keep, older_than_days=older_than, now=utc_now())
    click.echo(f"Deleted {len(deleted)} scan(s).")
    for r in deleted:
        click.echo(printable(f"  {r.id}  {r.started_at}  {r.directory_id}"))


COMMANDS: list[click.Command] = [history]
