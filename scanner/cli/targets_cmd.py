"""`rdscan scan --targets FILE` (many directories in one run) and `rdscan targets validate`."""

from __future__ import annotations

import gettext
from dataclasses import replace
from pathlib import Path

import click
from tabulate import tabulate

from ..clock import rfc3339, utc_now
from ..errors import ConfigError
from ..exit_codes import ExitCode
from ..findings import Severity
from ..history import History, ScanInput
from ..i18n import translations
from ..multi import TargetOutcome, scan_targets, worst
from ..notify import build_summary, load_notify, notify
from ..policy import check_control, load_frameworks, select_frameworks
from ..report import check_output_dir, remove_other_reports, write_reports
from ..report.merged import merged_dict, write_merged
from ..targets import load_targets
from .common import printable


def execute_targets(
    opts: object, targets_path: Path, *, per_target: bool, fail_on: Severity | None
) -> int:
    """Scan every target of ``targets_path`` concurrently; write the merged report (and each
    target's own reports with ``per_target``); return the worst exit code."""
    from .scan_cmd import ScanOptions

    assert isinstance(opts, ScanOptions)
    targets = load_targets(targets_path)  # every problem, before the first API call
    mapping, mapping_bytes = load_frameworks(opts.frameworks)
    for t in targets:
        check_control(mapping, t.policy.id, str(opts.frameworks))
    mapping = select_frameworks(mapping, opts.framework_names)
    channels = load_notify(opts.notify) if opts.notify is not None else None
    check_output_dir(opts.output_dir)
    if opts.history is not None:
        History(opts.history).check()
    outcomes = scan_targets(targets, today=opts.as_of, frameworks=mapping)
    done: list[TargetOutcome] = []
    for o in outcomes:
        if o.scan is None:
            click.echo(
                printable(f"Error: target {o.target.name} could not be scanned: {o.error}"),
                err=True,
            )
            if o.hint:
                click.echo(printable(f"Fix: {o.hint}"), err=True)
            done.append(o)
            continue
        scan = o.scan
        if opts.history is not None:
            try:
                scan = replace(scan, history=History(opts.history).context_for(scan))
            except ConfigError as err:
                _warn(f"target {o.target.name}: its reports say nothing about earlier scans: {err}")
        code = TargetOutcome(o.target, scan).code(fail_on)
        folder = opts.output_dir / o.target.name
        if channels is not None:
            summary = build_summary(
                scan,
                exit_code=int(code),
                verdict=code.meaning,
                report=str(
                    (
                        folder / "report.html" if per_target else opts.output_dir / "targets.html"
                    ).absolute()
                ),
                target=o.target.name,
            )
            for d in notify(channels, summary):
                if not d.ok:
                    _warn(
                        f"target {o.target.name}: notification to the {d.channel.label} failed "
                        f"after {d.attempts} attempt(s): {d.detail}"
                    )
        written = {}
        if per_target:
            written = write_reports(
                scan, opts.formats, folder, templates_dir=opts.templates_dir, lang=opts.lang
            )
            remove_other_reports(folder, written)
        if opts.history is not None:
            inputs = [
                ScanInput("policy", o.target.policy_path.name, o.target.policy.content),
                ScanInput("frameworks", opts.frameworks.name, mapping_bytes),
            ]
            if "json" in written:
                inputs.append(ScanInput("report.json", "report.json", written["json"].read_bytes()))
            if o.target.exemptions_path is not None:
                inputs.append(
                    ScanInput(
                        "exemptions", o.target.exemptions_path.name, o.target.exemptions.content
                    )
                )
            try:
                History(opts.history).record(scan, inputs, target=o.target.name)
            except ConfigError as err:
                _warn(f"target {o.target.name}: not recorded in the history: {err}")
        done.append(replace(o, scan=scan))
    code = worst([o.code(fail_on) for o in done])
    doc = merged_dict(done, exit_code=int(code), generated_at=rfc3339(utc_now()))
    merged = write_merged(doc, opts.output_dir, opts.templates_dir, opts.lang)
    catalog = translations(opts.lang)
    if opts.quiet:
        click.echo(printable(_verdict(done, code, opts.output_dir, catalog)), err=True)
    else:
        _print(done, merged, code, fail_on, per_target, opts.output_dir, catalog)
    return int(code)


def _warn(text: str) -> None:
    click.echo(f"Warning: {printable(text)}", err=True)


def _verdict(
    done: list[TargetOutcome],
    code: ExitCode,
    output_dir: Path,
    catalog: gettext.NullTranslations | None = None,
) -> str:
    catalog = catalog or gettext.NullTranslations()
    _ = catalog.gettext
    fails = sum(len(o.scan.failing()) for o in done if o.scan is not None)
    text = _("rdscan %(n)s targets: exit code %(code)s: %(why)s") % {
        "n": len(done),
        "code": int(code),
        "why": _why(done, code, None, catalog),
    }
    members = catalog.ngettext("%(n)s member FAIL", "%(n)s members FAIL", fails) % {
        "n": f"{fails:,}"
    }
    where = _("reports in %(path)s") % {"path": output_dir}
    return _("; ").join((text, members, where))


def _print(
    done: list[TargetOutcome],
    merged: dict[str, Path],
    code: ExitCode,
    fail_on: Severity | None,
    per_target: bool,
    output_dir: Path,
    catalog: gettext.NullTranslations | None = None,
) -> None:
    catalog = catalog or gettext.NullTranslations()
    _ = catalog.gettext
    rows: list[tuple[object, ...]] = []
    for o in done:
        if o.scan is None:
            rows.append((o.target.name, "-", _("not scanned"), "", "", int(o.code(fail_on))))
            continue
        s, cov = o.scan.summary, o.scan.coverage
        rows.append(
            (
                o.target.name,
                o.scan.evidence.resource_directory_id,
                f"{cov.evaluated:,}/{cov.members:,}",
                s["FAIL"],
                s["ERROR"],
                int(o.code(fail_on)),
            )
        )
    click.echo(
        tabulate(
            [tuple(printable(v) if isinstance(v, str) else v for v in r) for r in rows],
            headers=[_("Target"), _("Directory"), _("Evaluated"), "FAIL", "ERROR", _("Exit")],
        )
    )
    click.echo("\n" + _("Merged reports:"))
    for fmt, path in merged.items():
        click.echo(f"  {fmt:<5} {path}")
    if per_target:
        click.echo(_("Each target's own reports: %(path)s/<target>/") % {"path": output_dir})
    click.echo(
        _("Exit code %(code)s: %(why)s (the worst of the targets)")
        % {"code": int(code), "why": _why(done, code, fail_on, catalog)}
    )


def _why(
    done: list[TargetOutcome],
    code: ExitCode,
    fail_on: Severity | None,
    catalog: gettext.NullTranslations | None = None,
) -> str:
    """The exit code's meaning, naming the targets that decided it."""
    _ = (catalog or gettext.NullTranslations()).gettext
    if code == ExitCode.INCOMPLETE:
        failed = [o.target.name for o in done if o.scan is None]
        partial = [o.target.name for o in done if o.scan is not None and o.code(fail_on) == code]
        parts = []
        if failed:
            parts.append(_("not scanned: %(targets)s") % {"targets": ", ".join(failed)})
        if partial:
            parts.append(_("incomplete: %(targets)s") % {"targets": ", ".join(partial)})
        return printable(_("incomplete: %(why)s") % {"why": _("; ").join(parts)})
    return _(code.meaning)


@click.group()
def targets() -> None:
    """Targets files for `rdscan scan --targets` (many Resource Directories in one run)."""


@targets.command("validate")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def validate(path: Path) -> None:
    """Check a targets file, its policies and exemptions, without calling the cloud."""
    loaded = load_targets(path)
    click.echo(
        tabulate(
            [
                (
                    printable(t.name),
                    t.settings.site,
                    printable(t.settings.endpoint or "(site default)"),
                    "profile"
                    if t.settings.profile
                    else ("keys from env" if t.settings.access_key_id else "default chain"),
                    "yes" if t.settings.role_arn else "no",
                    printable(t.policy.id),
                    len(t.exemptions.entries),
                )
                for t in loaded
            ],
            headers=["Target", "Site", "Endpoint", "Credentials", "Role", "Policy", "Exemptions"],
        )
    )
    click.echo(f"{path}: {len(loaded)} target{'s' if len(loaded) != 1 else ''}, valid")


COMMANDS: list[click.Command] = [targets]
