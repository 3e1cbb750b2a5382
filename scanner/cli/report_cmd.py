"""`rdscan report`: re-render the reports from a saved report.json, offline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import click

from ..errors import ConfigError
from ..findings import RemediationOutcome, RemediationSource, ScanResult
from ..i18n import DEFAULT_LANG, check_lang
from ..policy import select_frameworks
from ..report import (
    DEFAULT_RERENDERED,
    RERENDERABLE,
    format_help,
    parse_formats,
    write_rerendered,
)
from ..report.results_file import load_results_digest
from .common import printable


def _load_journal(
    path: Path | None, scan: ScanResult, expect_head: str | None
) -> tuple[Sequence[RemediationOutcome], RemediationSource | None]:
    """The journal's outcomes that belong to ``scan``; lines that do not are named on stderr."""
    if path is None:
        if expect_head:
            raise ConfigError("--expect-head needs --journal", hint="give the journal too")
        return (), None
    from ..remediate.journal import outcomes_for_report  # raises on a corrupt/tampered journal

    outcomes, source = outcomes_for_report(
        path,
        scan_id=scan.evidence.scan_id,
        account_ids=[r.account_id for r in scan.results],
        expect_head=expect_head,
    )
    for why in source.left_out:
        click.echo(f"Warning: journal {printable(path)}: left out {printable(why)}", err=True)
    click.echo(
        f"Journal {printable(path)}: {source.used} of {source.lines} line(s) used; "
        f"head sha256 {source.head_sha256}"
    )
    return outcomes, source


@click.command("report")
@click.argument("results", type=click.Path(path_type=Path, dir_okay=False), metavar="REPORT.json")
@click.option(
    "--format",
    "formats",
    default=",".join(DEFAULT_RERENDERED),
    show_default=True,
    envvar="RDSCAN_REPORT_FORMAT",
    metavar="FORMAT[,FORMAT...]",
    help=format_help(RERENDERABLE),
)
@click.option(
    "--output-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    envvar="RDSCAN_REPORT_OUTPUT_DIR",  # not RDSCAN_OUTPUT_DIR: a scan setting must not move it
    help="Where to write the reports (default: the folder of REPORT.json).",
)
@click.option(
    "--journal",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    envvar="RDSCAN_REPORT_JOURNAL",  # not RDSCAN_JOURNAL: that is where remediate writes
    help="A remediation journal: adds a 'remediated since the scan' section (only lines of "
    "this scan's members are used).",
)
@click.option(
    "--expect-head",
    metavar="SHA256",
    envvar="RDSCAN_REPORT_EXPECT_HEAD",  # goes with --journal (RDSCAN_REPORT_JOURNAL)
    help="The journal's chain head printed at the end of the remediation run: refuse another.",
)
@click.option(
    "--templates-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    envvar="RDSCAN_TEMPLATES_DIR",
    help="Folder with report.html.j2 and report.md.j2 to use instead of the bundled ones.",
)
@click.option(
    "--framework",
    "framework_names",
    multiple=True,
    metavar="KEY",
    help="Show only this framework in the Control section (repeatable), e.g. mlps.",
)
@click.option(
    "--lang",
    default=DEFAULT_LANG,
    show_default=True,
    envvar="RDSCAN_LANG",
    metavar="en|zh-CN",
    help="Language of the HTML, Markdown and action-plan reports.",
)
def report(
    results: Path,
    formats: str,
    output_dir: Path | None,
    journal: Path | None,
    expect_head: str | None,
    templates_dir: Path | None,
    framework_names: tuple[str, ...],
    lang: str,
) -> None:
    """Re-render reports from a saved report.json (no network).

    The HTML and Markdown footers carry the SHA-256 of REPORT.json exactly as read.
    """
    names = parse_formats(formats, RERENDERABLE)
    lang = check_lang(lang)
    scan, source_sha256 = load_results_digest(results)  # the bytes are not held
    scan = only_frameworks(scan, framework_names)
    outcomes, source = _load_journal(journal, scan, expect_head)
    written = write_rerendered(
        scan,
        names,
        output_dir if output_dir is not None else results.parent,
        source_sha256=source_sha256,
        remediations=outcomes,
        templates_dir=templates_dir,
        journal=source,
        lang=lang,
    )
    for fmt in names:
        click.echo(f"{fmt:<4} {printable(written[fmt])}")


def only_frameworks(scan: ScanResult, names: Sequence[str]) -> ScanResult:
    """The scan with its recorded framework mapping narrowed to ``names`` (for display)."""
    if not names:
        return scan
    mapping = scan.evidence.frameworks
    if mapping is None:
        raise ConfigError(
            "this report.json records no framework mapping, so --framework has nothing to show",
            hint="drop --framework, or scan again with this rdscan version",
        )
    return replace(
        scan, evidence=replace(scan.evidence, frameworks=select_frameworks(mapping, names))
    )


COMMANDS: list[click.Command] = [report]
