"""`rdscan scan` and `rdscan demo`."""

from __future__ import annotations

import datetime as dt
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import click
from tabulate import tabulate

from ..client.settings import Settings
from ..emulator.fixture import CallerSpec, Fixture
from ..engine import exit_code
from ..errors import ApiError, ConfigError, CredentialsError
from ..exit_codes import ExitCode
from ..findings import STATUS_ORDER, Result, ScanResult, Severity, Status
from ..history import History, ScanInput, default_history_path
from ..i18n import DEFAULT_LANG, check_lang, translations
from ..notify import NotifyConfig, build_summary, load_notify, notify
from ..policy import (
    check_control,
    load_exemptions,
    load_frameworks,
    load_policy,
    select_frameworks,
)
from ..reasons import localize, localize_warnings, parts_of
from ..reasons import part as reason_part
from ..reasons import text as reason_text
from ..report import (
    BY_NAME,
    DEFAULT_FORMATS,
    FILE_NAMES,
    ReportInput,
    check_output_dir,
    format_help,
    parse_formats,
    remove_other_reports,
    write_reports,
)
from ..report.registry import RECORD
from ..resources import default_frameworks_path, default_policy_path, policies_dir
from ..scan import ScanRequest, run_scan
from .common import connection_options, printable

TOP_FAILING = 10


@dataclass(frozen=True)
class ScanOptions:
    policy: Path
    exemptions: Path | None
    formats: tuple[str, ...]
    output_dir: Path
    fail_on: Severity | None
    history: Path | None
    progress: bool
    as_of: dt.date | None
    templates_dir: Path | None
    frameworks: Path
    framework_names: tuple[str, ...] = ()
    no_exemptions: bool = False
    lang: str = DEFAULT_LANG
    fail_on_expired: bool = False
    notify: Path | None = None
    quiet: bool = False
    resume: bool = False  # go on from the checkpoint of an interrupted scan in output_dir


def _fail_on(value: str) -> Severity | None:
    if value.lower() == "none":
        return None
    try:
        return Severity(value.lower())
    except ValueError:
        allowed = ", ".join(s.value for s in Severity)
        raise ConfigError(
            f"unknown --fail-on value {value!r}",
            hint=f"use one of: {allowed}, or none (never fail on FAIL results)",
        ) from None


def scan_options(func: Callable[..., object]) -> Callable[..., object]:
    options = [
        click.option(
            "--policy",
            "policy_path",
            type=click.Path(dir_okay=False, path_type=Path),
            envvar="RDSCAN_POLICY",
            help="Policy file (default: the shipped secure-mobile-phone policy).",
        ),
        click.option(
            "--exemptions",
            "exemptions_path",
            type=click.Path(dir_okay=False, path_type=Path),
            envvar="RDSCAN_EXEMPTIONS",
            help="Exemptions file (account or folder, reason, owner, ticket, expiry).",
        ),
        click.option(
            "--format",
            "formats",
            default=",".join(DEFAULT_FORMATS),
            show_default=True,
            envvar="RDSCAN_FORMAT",
            metavar="FORMAT[,FORMAT...]",
            help=format_help(),
        ),
        click.option(
            "--output-dir",
            type=click.Path(file_okay=False, path_type=Path),
            default=Path("rdscan-report"),
            show_default=True,
            envvar="RDSCAN_OUTPUT_DIR",
        ),
        click.option(
            "--history",
            "history_path",
            type=click.Path(dir_okay=False, path_type=Path),
            envvar="RDSCAN_HISTORY",
            help=f"SQLite history of scans (default: {default_history_path()}).",
        ),
        click.option("--no-history", is_flag=True, help="Do not record this scan in the history."),
        click.option("--no-progress", is_flag=True, help="No progress bar."),
        click.option(
            "--as-of",
            type=click.DateTime(formats=["%Y-%m-%d"]),
            help="Judge exemption expiry as of this date (default: today, UTC).",
        ),
        click.option(
            "--templates-dir",
            type=click.Path(file_okay=False, exists=True, path_type=Path),
            help="Use report templates from this folder.",
        ),
        click.option(
            "--frameworks",
            "frameworks_path",
            type=click.Path(dir_okay=False, path_type=Path),
            envvar="RDSCAN_FRAMEWORKS",
            help="Framework mapping file (default: the shipped policies/frameworks.yaml).",
        ),
        click.option(
            "--lang",
            default=DEFAULT_LANG,
            show_default=True,
            envvar="RDSCAN_LANG",
            metavar="en|zh-CN",
            help="Language of the HTML, Markdown and action-plan reports and of this summary.",
        ),
        click.option(
            "--no-exemptions",
            is_flag=True,
            help="Evaluate as if no exemption existed (the auditor's full view; every report "
            "says so). Any --exemptions file is not used.",
        ),
        click.option(
            "--notify",
            "notify_path",
            type=click.Path(dir_okay=False, path_type=Path),
            envvar="RDSCAN_NOTIFY",
            help="Post a short summary to the channels of this YAML file (webhook, dingtalk, "
            "wecom, feishu, slack, teams) after the scan; see docs/scheduling.md.",
        ),
        click.option(
            "--quiet",
            is_flag=True,
            envvar="RDSCAN_QUIET",
            help="For cron: print only problems and a one-line verdict, on stderr.",
        ),
        click.option(
            "--framework",
            "framework_names",
            multiple=True,
            metavar="KEY",
            help="Show only this framework in the Control section (repeatable), e.g. mlps.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _build_options(
    *,
    policy_path: Path | None,
    exemptions_path: Path | None,
    formats: str,
    output_dir: Path,
    history_path: Path | None,
    no_history: bool,
    no_progress: bool,
    as_of: dt.datetime | None,
    templates_dir: Path | None,
    frameworks_path: Path | None = None,
    framework_names: tuple[str, ...] = (),
    no_exemptions: bool = False,
    lang: str = DEFAULT_LANG,
    fail_on: str = "info",
    fail_on_expired: bool = False,
    notify_path: Path | None = None,
    quiet: bool = False,
) -> ScanOptions:
    return ScanOptions(
        policy=policy_path or default_policy_path(),
        exemptions=exemptions_path,
        formats=tuple(parse_formats(formats)),
        output_dir=output_dir,
        fail_on=_fail_on(fail_on),
        history=None if no_history else (history_path or default_history_path()),
        progress=not no_progress and not quiet and sys.stderr.isatty(),
        as_of=as_of.date() if as_of else None,
        templates_dir=templates_dir,
        frameworks=frameworks_path or default_frameworks_path(),
        framework_names=tuple(framework_names),
        no_exemptions=no_exemptions,
        fail_on_expired=fail_on_expired,
        lang=check_lang(lang),
        notify=notify_path,
        quiet=quiet,
    )


@contextmanager
def _progress_bar(
    enabled: bool, label: str = "Reading members"
) -> Iterator[Callable[[int, int], None] | None]:
    if not enabled:
        yield None
        return
    lock = threading.Lock()
    state = {"done": 0}
    with click.progressbar(length=1, label=label, file=sys.stderr) as bar:

        def update(done: int, total: int) -> None:
            with lock:
                if done == 0:  # reads start now: the ETA must not count the listing before
                    bar.start = time.time()
                    bar.avg = []
                bar.length = max(total, 1)
                bar.update(done - state["done"])
                state["done"] = done

        yield update


def execute_scan(settings: Settings, opts: ScanOptions) -> int:
    """Load inputs, scan, write reports and history, print the summary; return the exit code."""
    policy = load_policy(opts.policy)  # fail fast: nothing is scanned with a bad policy
    exemptions = load_exemptions(None if opts.no_exemptions else opts.exemptions)
    mapping, mapping_bytes = load_frameworks(opts.frameworks)
    check_control(mapping, policy.id, str(opts.frameworks))
    mapping = select_frameworks(mapping, opts.framework_names)
    # ... nor when its results could not be kept: every report file and the history
    check_output_dir(opts.output_dir, opts.formats)
    _ = translations(opts.lang).gettext
    channels = load_notify(opts.notify) if opts.notify is not None else None
    if opts.history is not None:
        History(opts.history).check()
    from ..inventory import checkpoint

    saved = checkpoint.path_in(opts.output_dir)
    if not opts.resume and saved.exists():
        click.echo(
            _(
                "Note: starting over; the checkpoint of an interrupted scan (%(path)s) is "
                "replaced. `rdscan scan --resume` would have continued it."
            )
            % {"path": printable(saved)},
            err=True,
        )
    try:
        with _progress_bar(opts.progress, _("Reading members")) as progress:
            scan = run_scan(
                ScanRequest(
                    settings=settings,
                    policy=policy,
                    exemptions=exemptions,
                    today=opts.as_of,
                    frameworks=mapping,
                    exemptions_ignored=opts.no_exemptions,
                    checkpoint_dir=opts.output_dir,
                    resume=opts.resume,
                ),
                progress=progress,
            )
    except (KeyboardInterrupt, ApiError, CredentialsError):
        if saved.exists():
            click.echo(
                "\n"
                + _(
                    "The members read so far are kept in %(path)s: run the same command with "
                    "--resume to continue."
                )
                % {"path": printable(saved)},
                err=True,
            )
        raise
    if opts.history is not None:
        try:  # what changed since the previous scan of this directory, for the reports
            scan = replace(scan, history=History(opts.history).context_for(scan))
        except ConfigError as err:
            _history_warning(_("this scan's reports say nothing about earlier scans"), err, _)
    code = _exit_code(scan, opts)
    if channels is not None:
        scan = _notify(scan, channels, code, opts)
    written: dict[str, Path] = {}
    removed: list[Path] = []
    unwritten: ConfigError | None = None
    try:
        written = write_reports(
            scan, opts.formats, opts.output_dir, templates_dir=opts.templates_dir, lang=opts.lang
        )
        removed = remove_other_reports(opts.output_dir, written)
    except ConfigError as err:  # the scan ran: its summary, history entry and exit code stand
        unwritten = err
    if opts.history is not None:
        try:
            inputs = [
                # the exact bytes the reports name by their SHA-256
                ScanInput("report.json", FILE_NAMES["json"], _record_bytes(scan, written)),
                ScanInput("policy", opts.policy.name, policy.content),
                ScanInput("frameworks", opts.frameworks.name, mapping_bytes),
            ]
            if exemptions.source is not None and opts.exemptions is not None:
                inputs.append(ScanInput("exemptions", opts.exemptions.name, exemptions.content))
            History(opts.history).record(scan, inputs)
        except ConfigError as err:  # the scan ran and its reports exist: exit with its own code
            _history_warning(_("this scan was not recorded in the history"), err, _)
            opts = replace(opts, history=None)
    if any(r.result is Status.ERROR for r in scan.results):
        click.echo(
            _(
                "Checkpoint kept in %(path)s: `rdscan scan --resume` (same options) reads the "
                "members that could not be read, and only those."
            )
            % {"path": printable(saved)},
            err=True,
        )
    else:
        saved.unlink(missing_ok=True)  # complete: nothing to resume
    if unwritten is not None and code == ExitCode.OK:
        code = ExitCode.REPORTS_UNWRITTEN  # never 0 without the reports; 1 and 3 say more
    if opts.quiet:
        click.echo(verdict_line(scan, code, opts), err=True)
    else:
        _print_summary(scan, written, code, opts, removed)
    if unwritten is not None:
        click.echo(f"Error: the reports were not written: {printable(unwritten)}", err=True)
        if unwritten.hint:
            click.echo(f"Fix: {printable(unwritten.hint)}", err=True)
    return code


def _exit_code(scan: ScanResult, opts: ScanOptions) -> ExitCode:
    code = exit_code(scan.results, opts.fail_on, listing_complete=scan.listing_complete)
    if opts.fail_on_expired and code == ExitCode.OK and expired_exemptions(scan):
        code = ExitCode.FAIL
    return code


def _report_location(opts: ScanOptions) -> str:
    name = "html" if "html" in opts.formats else "json"
    return str((opts.output_dir / BY_NAME[name].file_name).absolute())


def _notify(
    scan: ScanResult, channels: NotifyConfig, code: ExitCode, opts: ScanOptions
) -> ScanResult:
    """Post the summary to each channel; a failure is a warning (stderr and every report),
    never a change of the exit code. Channels are named by type, host and line, never URL."""
    summary = build_summary(
        scan,
        exit_code=int(code),
        # the payload is English whatever --lang says (and a Chinese line has no ": ")
        verdict=exit_line(scan, code, replace(opts, lang=DEFAULT_LANG)).split(": ", 1)[1],
        report=_report_location(opts),
    )
    deliveries = notify(channels, summary)
    warnings = []
    for d in deliveries:
        if not d.ok:
            said = reason_text(
                reason_part(
                    "warn.notify_failed",
                    channel=d.channel.label,
                    file=channels.source,
                    n=d.attempts,
                    detail=d.detail,
                )
            )
            warnings.append(said)
            catalog = translations(opts.lang)
            text = localize(said, parts_of(said), catalog.gettext, catalog.ngettext)
            label = translations(opts.lang).gettext("Warning:")
            click.echo(f"{label} {printable(text)}", err=True)
    before = scan.evidence
    parts = before.warning_parts
    if len(parts) != len(before.warnings):  # keep them lined up with the warnings
        parts = tuple(() for _ in before.warnings)
    ev = replace(
        before,
        warnings=(*before.warnings, *warnings),
        warning_parts=(*parts, *(parts_of(w) for w in warnings)),
    )
    return replace(scan, evidence=ev, notifications=tuple(d.to_dict() for d in deliveries))


def verdict_line(scan: ScanResult, code: int, opts: ScanOptions) -> str:
    """One line for --quiet: the directory, the exit line, what changed, where the reports are."""
    ev = scan.evidence
    catalog = translations(opts.lang)
    _, ngettext = catalog.gettext, catalog.ngettext
    parts = [f"rdscan {ev.resource_directory_id}: {exit_line(scan, code, opts)}"]
    prev = scan.history.since_previous if scan.history else None
    if prev is not None:
        new, fixed = len(prev.classes.get("new_fail", ())), len(prev.classes.get("fixed", ()))
        parts.append(
            ngettext(
                "since the last scan: %(new)s new failure, %(fixed)s fixed",
                "since the last scan: %(new)s new failures, %(fixed)s fixed",
                new,
            )
            % {"new": new, "fixed": fixed}
        )
    if ev.warnings:
        n = len(ev.warnings)
        parts.append(
            ngettext("%(n)s warning in the reports", "%(n)s warnings in the reports", n) % {"n": n}
        )
    parts.append(_("reports in %(path)s") % {"path": opts.output_dir})
    return printable(_("; ").join(parts))


def expired_exemptions(scan: ScanResult) -> list[str]:
    """Scopes of the exemptions that matched a member but have expired, each once."""
    return list(
        dict.fromkeys(
            r.exemption.scope for r in scan.results if r.exemption and r.exemption.expired
        )
    )


def exit_line(scan: ScanResult, code: int, opts: ScanOptions) -> str:
    """What the exit code means for this scan, never "compliant" while a member FAILs."""
    _ = translations(opts.lang).gettext
    ngettext = translations(opts.lang).ngettext
    fails = len(scan.failing())
    expired = expired_exemptions(scan)
    if code == ExitCode.INCOMPLETE:
        if not scan.results:
            why = _("ListAccounts listed no member: nothing was checked")
        elif all(r.result is Status.SKIPPED for r in scan.results):
            why = _("every member is out of the policy's scope (SKIPPED): nothing was checked")
        else:
            parts: list[str] = []
            n = scan.coverage.errors
            if n:
                parts.append(
                    ngettext(
                        "%(n)s member could not be evaluated (ERROR)",
                        "%(n)s members could not be evaluated (ERROR)",
                        n,
                    )
                    % {"n": f"{n:,}"}
                )
            if not scan.listing_complete:
                unlisted = scan.coverage.unlisted
                parts.append(
                    _("the listing could not show that every member was listed")
                    if not unlisted
                    else _(
                        "the listing could not show that every member was listed (%(n)s not listed)"
                    )
                    % {"n": f"{unlisted:,}"}
                )
            why = _("; ").join(parts)
        return _("Exit code %(code)s: incomplete: %(why)s") % {"code": int(code), "why": why}
    if code == ExitCode.REPORTS_UNWRITTEN:
        return _("Exit code %(code)s: %(meaning)s") % {
            "code": int(code),
            "meaning": _(ExitCode.REPORTS_UNWRITTEN.meaning),
        }
    if code == ExitCode.FAIL:
        reasons = []
        if opts.fail_on is not None and any(
            r.severity.at_least(opts.fail_on) for r in scan.failing()
        ):
            reasons.append(
                _("%(n)s members FAIL at or above --fail-on %(severity)s")
                % {"n": f"{fails:,}", "severity": opts.fail_on.value}
                if fails != 1
                else _("1 member FAILs at or above --fail-on %(severity)s")
                % {"severity": opts.fail_on.value}
            )
        if opts.fail_on_expired and expired:
            reasons.append(
                _("%(n)s exemptions expired (--fail-on-expired)") % {"n": len(expired)}
                if len(expired) != 1
                else _("1 exemption expired (--fail-on-expired)")
            )
        return _("Exit code %(code)s: non-compliant: %(reasons)s") % {
            "code": int(code),
            "reasons": "; ".join(reasons),
        }
    if fails:
        why = (
            "--fail-on none"
            if opts.fail_on is None
            else _("below --fail-on %(severity)s") % {"severity": opts.fail_on.value}
        )
        return ngettext(
            "Exit code %(code)s: NOT compliant: %(n)s member FAILs; the exit code ignores it "
            "(%(why)s)",
            "Exit code %(code)s: NOT compliant: %(n)s members FAIL; the exit code ignores them "
            "(%(why)s)",
            fails,
        ) % {"code": int(code), "n": f"{fails:,}", "why": why}
    return _("Exit code %(code)s: compliant") % {"code": int(code)}


def _history_warning(what: str, err: ConfigError, _: Callable[[str], str] = str) -> None:
    click.echo(f"{_('Warning:')} {what}: {printable(err)}", err=True)
    if err.hint:
        click.echo(f"Fix: {printable(err.hint)}", err=True)


def _record_bytes(scan: ScanResult, written: dict[str, Path]) -> bytes:
    """report.json's exact bytes: as written, or (when the reports could not be written) as
    they would have been."""
    if "json" in written:
        return written["json"].read_bytes()
    return RECORD.render(ReportInput.of(scan, "", (), None)).encode("utf-8")


def _print_summary(
    scan: ScanResult,
    written: dict[str, Path],
    code: int,
    opts: ScanOptions,
    removed: Sequence[Path] = (),
) -> None:
    catalog = translations(opts.lang)
    _ = catalog.gettext

    def reason(r: Result) -> str:
        return localize(r.reason, r.reason_parts, catalog.gettext, catalog.ngettext)

    ev = scan.evidence
    click.echo(
        printable(
            _(
                "rdscan %(id)s: directory %(directory)s (site %(site)s), caller %(caller)s, "
                "policy %(policy)s"
            )
            % {
                "id": ev.scan_id,
                "directory": ev.resource_directory_id,
                "site": ev.site,
                "caller": ev.caller.arn,
                "policy": ev.policy_id,
            }
        )
    )
    counts = scan.summary
    click.echo(
        tabulate(
            [(s.value, counts[s.value]) for s in STATUS_ORDER],
            headers=[_("Result"), _("Members")],
            tablefmt="simple",
        )
    )
    cov = scan.coverage
    unlisted = _(", %(n)s not listed") % {"n": f"{cov.unlisted:,}"} if cov.unlisted else ""
    click.echo(
        _("Coverage: %(evaluated)s / %(members)s members evaluated, %(errors)s errors")
        % {"evaluated": f"{cov.evaluated:,}", "members": f"{cov.members:,}", "errors": cov.errors}
        + unlisted
    )
    said = localize_warnings(ev.warnings, ev.warning_parts, catalog.gettext, catalog.ngettext)
    for warning in said if opts.lang != DEFAULT_LANG else ev.warnings:
        click.echo(f"{_('Warning:')} {printable(warning)}")
    failing = scan.failing()
    if failing:
        click.echo(
            "\n"
            + _("Top failing members (%(n)s of %(total)s):")
            % {"n": min(len(failing), TOP_FAILING), "total": len(failing)}
        )
        rows = [
            (
                printable(r.account_id),
                printable(r.display_name)[:40],
                printable(r.folder_path)[:40],
                r.severity.value,
                r.remediation.value,
            )
            for r in sorted(failing, key=lambda r: (-r.severity.rank, r.folder_path, r.account_id))
        ][:TOP_FAILING]
        headers = [_("Account"), _("Name"), _("Folder"), _("Severity"), _("Remediation")]
        click.echo(tabulate(rows, headers=headers))
    errors = [r for r in scan.results if r.result is Status.ERROR]
    if errors:
        click.echo("\n" + _("Members that could not be evaluated (%(n)s):") % {"n": len(errors)})
        for r in errors[:TOP_FAILING]:
            click.echo(f"  {printable(r.account_id)}  {printable(reason(r))}")
    if written:
        click.echo("\n" + _("Reports:"))
        for fmt, path in written.items():
            click.echo(f"  {fmt:<5} {path}")
        for path in removed:
            click.echo(
                "  "
                + _("removed %(path)s (an earlier scan's; not asked for this time)")
                % {"path": path}
            )
    else:
        click.echo(
            "\n"
            + _("Reports: none written (the previous ones in %(path)s are kept)")
            % {"path": opts.output_dir}
        )
    if opts.history is not None:
        click.echo(_("History: %(path)s") % {"path": opts.history})
    if ev.exemptions_ignored:
        line = _("Auditor's view (--no-exemptions): evaluated as if no exemption existed")
        if opts.exemptions:
            line += _("; %(file)s was not used") % {"file": printable(str(opts.exemptions))}
        click.echo(line)
    expired = expired_exemptions(scan)
    if expired:
        shown = printable(", ".join(expired[:5])) + (", ..." if len(expired) > 5 else "")
        click.echo(
            _("Expired exemptions: %(n)s (%(scopes)s)") % {"n": len(expired), "scopes": shown}
        )
    click.echo(exit_line(scan, code, opts))


@click.command()
@connection_options
@scan_options
@click.option(
    "--fail-on",
    default="info",
    show_default=True,
    envvar="RDSCAN_FAIL_ON",
    metavar="SEVERITY|none",
    help="Exit 1 when a FAIL has at least this severity (critical, high, medium, low, info); "
    "none: never.",
)
@click.option(
    "--fail-on-expired",
    is_flag=True,
    envvar="RDSCAN_FAIL_ON_EXPIRED",
    help="Exit 1 when an exemption that matched a member has expired, whatever --fail-on says.",
)
@click.option(
    "--targets",
    "targets_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="RDSCAN_TARGETS",
    help="Scan every Resource Directory of this YAML file concurrently, each with its own "
    "connection settings (the connection options above are not used); write the merged report "
    "targets.{json,csv,md,html}. Check the file with `rdscan targets validate`.",
)
@click.option(
    "--per-target",
    is_flag=True,
    help="With --targets: also write each target's own reports into OUTPUT_DIR/<name>/.",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Continue the interrupted scan whose checkpoint is in --output-dir (same options): "
    "the directory is listed again, members already read are not read again.",
)
def scan(
    settings: Settings,
    fail_on: str,
    targets_path: Path | None,
    per_target: bool,
    resume: bool,
    **kwargs: object,
) -> None:
    """Scan every member account and write the reports.

    Exit codes: 0 compliant; 1 a FAIL at or above --fail-on; 2 usage, configuration or
    credential error (nothing scanned); 3 incomplete (a member could not be evaluated, no
    member was evaluated, the listing could not show that every member was listed, or with
    --targets a target could not be scanned; wins over 1); 4 compliant, but the reports could
    not be written (a scan that found FAIL or ERROR keeps its 1 or 3).
    """
    opts = _build_options(fail_on=fail_on, **kwargs)  # type: ignore[arg-type]
    if targets_path is not None:
        from .targets_cmd import execute_targets

        sys.exit(execute_targets(opts, targets_path, per_target=per_target, fail_on=opts.fail_on))
    if per_target:
        raise ConfigError("--per-target needs --targets FILE", hint="add --targets targets.yaml")
    sys.exit(execute_scan(settings, replace(opts, resume=resume)))


@click.command()
@scan_options
@click.option(
    "--fixture",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Emulate this directory instead of the bundled sample.",
)
def demo(fixture: Path | None, **kwargs: object) -> None:
    """Run the whole job on the bundled sample directory, against the local emulator.

    Starts the emulator on a free port, scans it with the read-only auditor identity, writes
    every report and prints where they are. Exits 0 when the job ran, whatever it found.
    """
    from ..emulator import EmulatorServer, load_fixture, sample_fixture_path

    fx = load_fixture(fixture or sample_fixture_path())
    caller = _demo_caller(fx)
    if (
        fixture is None
        and kwargs.get("exemptions_path") is None
        and not kwargs.get("no_exemptions")
    ):
        # the example exemptions are written for the bundled sample: show EXEMPT results too
        kwargs["exemptions_path"] = policies_dir() / "exemptions.example.yaml"
    opts = _build_options(**kwargs)  # type: ignore[arg-type]
    if opts.history is not None and kwargs.get("history_path") is None:
        opts = replace(opts, history=opts.output_dir / "history.sqlite")
    with EmulatorServer(fx, port=0) as server:
        click.echo(
            translations(opts.lang).gettext(
                "Emulator listening on http://%(endpoint)s (fixture %(fixture)s)"
            )
            % {"endpoint": server.endpoint, "fixture": fx.source}
        )
        settings = Settings(
            site=fx.site,
            endpoint=server.endpoint,
            protocol="http",
            access_key_id=caller.access_key_id,
            access_key_secret=caller.access_key_secret,
        )
        code = execute_scan(settings, opts)
    _ = translations(opts.lang).gettext
    if "html" in opts.formats:
        path = opts.output_dir / FILE_NAMES["html"]
        click.echo("\n" + _("Demo done. Open %(path)s in a browser.") % {"path": path})
    else:
        click.echo("\n" + _("Demo done. The reports are in %(path)s.") % {"path": opts.output_dir})
    click.echo(_("(A real scan would have exited %(code)s.)") % {"code": code})


def _demo_caller(fx: Fixture) -> CallerSpec:
    """The read-only auditor of the sample, else the first RAM user of the fixture."""
    preferred = fx.caller("LTAI-auditor")
    if preferred is not None:
        return preferred
    for c in fx.callers:
        if c.identity_type != "Account" and c.account_id == fx.directory.master_account_id:
            return c
    raise ConfigError(
        f"fixture {fx.source} has no RAM user of the management account to scan with",
        hint="add a caller with identity_type RAMUser to the fixture's callers",
    )


COMMANDS: list[click.Command] = [scan, demo]
