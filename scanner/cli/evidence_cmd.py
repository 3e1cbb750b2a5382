"""`rdscan evidence build` and `rdscan evidence verify`: the pack an auditor checks offline."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import click

from ..errors import ConfigError
from ..evidence import (
    SIGNATURE_NAMESPACE,
    build_pack,
    source_from_files,
    source_from_history,
    verify_pack,
)
from ..history import History, default_history_path
from ..i18n import DEFAULT_LANG, check_lang
from ..resources import default_frameworks_path, default_policy_path
from .common import printable

EXIT_VERIFIED = 0
EXIT_DIFFERS = 1


@click.group()
def evidence() -> None:
    """Build and verify evidence packs (report, inputs, journal, manifest, signature)."""


@evidence.command("build")
@click.option(
    "--scan",
    "scan_ref",
    default=None,
    metavar="ID|latest",
    help="The scan in the history to pack (default: latest).",
)
@click.option(
    "--history",
    "history_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="RDSCAN_HISTORY",
    help=f"SQLite history of scans (default: {default_history_path()}).",
)
@click.option(
    "--results",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Pack this report.json instead of a scan from the history (with --policy, "
    "--exemptions, --frameworks naming the files it used).",
)
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --results: the policy file the scan used (default: the shipped one).",
)
@click.option(
    "--exemptions",
    "exemptions_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --results: the exemptions file the scan used.",
)
@click.option(
    "--frameworks",
    "frameworks_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --results: the framework mapping the scan used (default: the shipped one).",
)
@click.option(
    "--journal",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A remediation journal to include (its hash chain is verified first).",
)
@click.option(
    "--sign-key",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"Sign manifest.json with this SSH private key (ssh-keygen -Y sign -n "
    f"{SIGNATURE_NAMESPACE}).",
)
@click.option(
    "--lang",
    default=DEFAULT_LANG,
    show_default=True,
    envvar="RDSCAN_LANG",
    metavar="en|zh-CN",
    help="Language of the HTML, Markdown and action-plan reports in the pack.",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The pack to write, e.g. pack.zip.",
)
def build(
    scan_ref: str | None,
    history_path: Path | None,
    results: Path | None,
    policy_path: Path | None,
    exemptions_path: Path | None,
    frameworks_path: Path | None,
    journal: Path | None,
    sign_key: Path | None,
    lang: str,
    output: Path,
) -> None:
    """Build an evidence pack from a scan in the history, or from a saved report.json.

    The policy, exemptions and framework mapping files must be the ones the scan used: their
    SHA-256 is checked against report.json and the pack is refused on a mismatch.
    """
    if results is not None:
        if scan_ref is not None:
            raise ConfigError(
                "give either --scan (a scan in the history) or --results (a report.json), not both"
            )
        src = source_from_files(
            results,
            policy_path or default_policy_path(),
            exemptions_path,
            frameworks_path or default_frameworks_path(),
        )
        if src.scan.evidence.frameworks is None and frameworks_path is None:
            src = replace(src, frameworks=None)  # a report.json from before the mapping
    else:
        for name, value in (
            ("--policy", policy_path),
            ("--exemptions", exemptions_path),
            ("--frameworks", frameworks_path),
        ):
            if value is not None:
                raise ConfigError(
                    f"{name} goes with --results; a scan from the history uses the files it kept",
                    hint="drop the option, or give --results report.json",
                )
        store = History(history_path or default_history_path())
        src = source_from_history(store, scan_ref or "latest")
    summary = build_pack(src, output, journal=journal, sign_key=sign_key, lang=check_lang(lang))
    signed = " (manifest signed)" if summary["signed"] else ""
    click.echo(
        f"Evidence pack {printable(str(output))}: scan {printable(str(summary['scan_id']))}, "
        f"{summary['files']} files{signed}"
    )
    click.echo(f"Check it with: rdscan evidence verify {printable(str(output))}")


@evidence.command("verify")
@click.argument("pack", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--allowed-signers",
    type=click.Path(dir_okay=False, path_type=Path),
    help="OpenSSH allowed signers file: require a good signature of manifest.json by one of them.",
)
def verify(pack: Path, allowed_signers: Path | None) -> None:
    """Recompute every hash of an evidence pack, its cross-references and the journal chain.

    Exit 0 when everything matches; 1 naming the first file that differs (or the zip entry
    refused as unsafe); 2 when the command itself cannot run (e.g. no allowed signers file).
    """
    result = verify_pack(pack, allowed_signers=allowed_signers)
    if not result.ok:
        click.echo(f"NOT VERIFIED: {printable(result.problem)}")
        sys.exit(EXIT_DIFFERS)
    click.echo(
        f"Verified: {printable(str(pack))}, scan {printable(result.scan_id)}, "
        f"{result.files} files match manifest.json"
    )
    if result.signer:
        click.echo(f"Signature: good, by {printable(result.signer)}")
    for note in result.notes:
        click.echo(f"Note: {printable(note)}")
    sys.exit(EXIT_VERIFIED)


COMMANDS: list[click.Command] = [evidence]
