"""`rdscan remediate`, `rdscan print-policy`, `rdscan verify-journal`."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

import click
from tabulate import tabulate

from ..client.ram_policy import RAM_POLICY_KINDS, render_ram_policy
from ..client.settings import Settings
from ..errors import ConfigError, RemediationError
from ..exit_codes import ExitCode
from ..findings import Remediation, ScanResult, Status
from ..phones import PhoneNumber, mask_phones_in
from ..remediate import (
    DryRun,
    Event,
    FlowOptions,
    Plan,
    PlanItem,
    RdClientApi,
    RemediationApi,
    SentCode,
    Summary,
    build_plan,
    run_flow,
)
from ..remediate import dry_run as check_plan
from ..remediate.journal import (
    DEFAULT_JOURNAL_NAME,
    DONE_STATES,
    JournalError,
    JournalWriter,
    MemberState,
    member_states,
    read_journal,
    torn_path,
    verify_journal,
)
from ..remediate.phone_sources import PhoneSources, load_phones_csv, read_tag_values
from ..report.results_file import load_results
from ..safe_paths import refuse_unsafe
from .common import connection_options, echo_error, printable

_LEVEL_MARK = {"ok": "OK", "info": "..", "warn": "!!", "error": "XX"}


class CliOperator:
    """The operator at a terminal: click prompts, y/N never assumed."""

    def __init__(self, plan: Plan) -> None:
        self.items = {item.account_id: item for item in plan.items}
        self.total = len(plan.items)
        self.index = {item.account_id: n for n, item in enumerate(plan.items, start=1)}
        self.shown: set[str] = set()

    def header(self, item: PlanItem) -> None:
        if item.account_id in self.shown:
            return
        self.shown.add(item.account_id)
        r = item.result
        click.echo(
            f"\n[{self.index.get(item.account_id, '?')}/{self.total}] {printable(r.account_id)} "
            f"{printable(r.display_name)} ({printable(r.type)}, {printable(r.folder_path)})"
        )

    def ask_phone(self, item: PlanItem, problem: str) -> str | None:
        self.header(item)
        try:
            value: str = click.prompt(
                "  Secure phone number as <country code>-<number> (empty: skip this member)",
                default="",
                show_default=False,
            )
        except click.exceptions.Abort:
            raise KeyboardInterrupt from None
        return value.strip() or None

    def confirm(self, item: PlanItem, phone: PhoneNumber) -> bool:
        self.header(item)
        try:
            return click.confirm(
                f"  Send a verification code to {phone.masked} and bind it to "
                f"{printable(item.account_id)}?",
                default=False,
            )
        except click.exceptions.Abort:
            raise KeyboardInterrupt from None

    def ask_code(self, item: PlanItem, phone: PhoneNumber, sent: SentCode, tries_left: int) -> str:
        try:
            value: str = click.prompt(
                f"  Code from the SMS to {phone.masked} (6 digits; r: new code; empty: give up)",
                default="",
                show_default=False,
            )
        except click.exceptions.Abort:
            raise KeyboardInterrupt from None
        return value

    def offer_resend(self, item: PlanItem, reason: str) -> bool:
        try:
            return click.confirm(f"  {printable(reason)}. Send a new code?", default=False)
        except click.exceptions.Abort:
            raise KeyboardInterrupt from None

    def notify(self, event: Event) -> None:
        if event.account_id in self.items:
            self.header(self.items[event.account_id])
        click.echo(f"  {_LEVEL_MARK.get(event.level, '..')} {printable(event.message)}")
        if event.hint:
            click.echo(f"     Next: {printable(event.hint)}")


def _make_api(settings: Settings) -> RemediationApi:
    from ..client.sdk import RdClient  # imported here: the SDKs load only when a call is due

    return RdClientApi(RdClient(settings))


def _fresh_scan(
    settings: Settings, output_dir: Path, policy: Path | None, exemptions: Path | None
) -> tuple[ScanResult, Path]:
    """Scan now (the same pipeline as `rdscan scan`) and save report.json into ``output_dir``, so
    the journal sits beside the results it remediates."""
    from ..policy import load_exemptions, load_policy
    from ..report import write_reports
    from ..resources import default_policy_path
    from ..scan import ScanRequest, run_scan

    request = ScanRequest(
        settings=settings,
        policy=load_policy(policy or default_policy_path()),
        exemptions=load_exemptions(exemptions),
    )
    click.echo("Scanning the directory first (no --from given)...")
    scan = run_scan(request)
    path = write_reports(scan, ["json"], output_dir)["json"]
    click.echo(f"Results: {printable(path)} ({len(scan.failing())} FAIL)")
    return scan, path


def _render_plan(plan: Plan) -> str:
    lines = [f"Plan: {len(plan.items)} member(s), site {plan.site}"]
    for n, item in enumerate(plan.items, start=1):
        r = item.result
        number = item.phone_masked or ("(asked at the prompt)" if item.kind == "no_phone" else "-")
        lines.append(
            f"[{n}] {printable(r.account_id)} {printable(r.display_name)} "
            f"({printable(r.type)}): {item.kind}, number {number}"
        )
        if item.problem:
            lines.append(f"    problem: {printable(item.problem)}")
        if item.hint:
            lines.append(f"    next: {printable(item.hint)}")
    return "\n".join(lines)


def _render_dry_run(dr: DryRun) -> str:
    lines = ["DRY RUN: nothing will be sent or bound.", ""]
    c = dr.caller
    if c.caller is not None:
        lines.append(
            f"Caller: {printable(c.caller.arn)} ({printable(c.caller.identity_type)}, "
            f"account {printable(c.caller.account_id)})"
        )
    lines.append("Caller check: " + ("OK" if c.ok else f"FAIL: {printable(c.problem)}"))
    if c.hint and not c.ok:
        lines.append(f"  Fix: {printable(c.hint)}")
    for n, d in enumerate(dr.items, start=1):
        r = d.item.result
        number = d.item.phone_masked or (
            "(asked at the prompt)" if d.item.kind == "no_phone" else "-"
        )
        lines.append("")
        lines.append(
            f"[{n}] {printable(r.account_id)} {printable(r.display_name)} ({printable(r.type)}, "
            f"{printable(r.member_status)}, {printable(r.folder_path)})"
        )
        lines.append(f"    number: {number}")
        if d.phone_state is not None:
            flag = d.phone_state.has_secure_mobile_phone
            lines.append(f"    GetAccount now: HasSecureMobilePhone={flag}")
        lines.append(f"    would: {printable(d.would)}")
        bound_now = d.phone_state is not None and d.phone_state.has_secure_mobile_phone
        if d.item.sendable and not bound_now and not d.would.startswith("skip"):
            for call in d.item.calls():
                lines.append(f"      - {printable(call)}")
        for p in d.problems:
            lines.append(f"    problem: {printable(p)}")
        if d.item.hint and d.item.kind in ("bad_phone", "manual"):
            lines.append(f"    next: {printable(d.item.hint)}")
    lines.append("")
    lines.extend(dr.notes)
    lines.append("")
    ready, blocked, skipped = dr.ready, dr.blocked, dr.skipped
    lines.append(
        f"Summary: {len(ready)} ready, {len(blocked)} blocked, {len(skipped)} skipped "
        f"(of {len(dr.items)})"
    )
    for d in blocked:
        lines.append(f"  blocked {printable(d.item.account_id)}: {printable(d.problems[0])}")
    for line in dr.permissions:
        lines.append(f"  caller: {printable(line)}")
    why = dr.why_not_ok()
    if why:
        lines.append(f"Exit 1: {printable(why[0])}")
    else:
        lines.append("Exit 0: nothing found that would stop the real run.")
    return "\n".join(lines)


def _render_summary(summary: Summary, journal: Path) -> str:
    rows = [
        [
            printable(o.account_id),
            printable(o.display_name),
            o.phone_masked or "-",
            o.outcome + (" (journal)" if o.from_journal else ""),
            printable(o.detail)[:70],
        ]
        for o in summary.outcomes
    ]
    table = tabulate(rows, headers=["account", "name", "number", "outcome", "detail"])
    counts = ", ".join(f"{k} {v}" for k, v in sorted(summary.counts.items()))
    lines = ["", "Remediation summary", table, "", f"Totals: {counts or 'no members'}"]
    if summary.stopped:
        lines.append(f"Stopped sending: {printable(summary.stopped)}")
    if summary.interrupted:
        lines.append("Interrupted: run again with --resume to continue.")
    lines.append(f"Journal: {printable(journal)}")
    try:
        head = verify_journal(journal).last_sha256
        lines.append(
            f"Journal head: sha256 {head} (keep it: `rdscan verify-journal --expect-head` "
            "then also detects a removed or edited last line)"
        )
    except JournalError as exc:
        lines.append(f"Journal check FAILED: {printable(exc)}")
    return "\n".join(lines)


def _warn_unused_numbers(by_account: Mapping[str, str], scan: ScanResult) -> None:
    """A CSV line whose account is not in the results is a typo or a stale file: say so."""
    known = {r.account_id for r in scan.results}
    unknown = [a for a in by_account if a not in known]
    if unknown:
        shown = ", ".join(printable(mask_phones_in(a[:40])) for a in unknown[:5]) + (
            ", ..." if len(unknown) > 5 else ""
        )
        click.echo(
            f"Warning: the phones file lists {len(unknown)} account(s) not in report.json "
            f"(not used): {shown}",
            err=True,
        )


def _require_terminal(plan: Plan, done: Mapping[str, MemberState]) -> None:
    """The flow asks y/N and reads codes: without a terminal it would read nothing and stop
    at the first prompt. Refuse before anything is sent or journaled."""
    waiting = [
        i
        for i in plan.sendable
        if not (i.account_id in done and done[i.account_id].state in DONE_STATES)
    ]
    if waiting and not sys.stdin.isatty():
        raise RemediationError(
            "remediate asks for a confirmation and a verification code for each member, but "
            "standard input is not a terminal; nothing was sent",
            hint="run it in a terminal (ssh -t, tmux); --dry-run prints the plan without one",
        )


@click.command("remediate")
@click.option(
    "--from",
    "from_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A report.json from `rdscan scan` (default: run a fresh scan).",
)
@click.option("--account", "accounts", multiple=True, metavar="ID", help="Only this member.")
@click.option(
    "--phones",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="RDSCAN_PHONES",
    help="CSV with a header account_id,phone.",
)
@click.option("--phone-tag", metavar="TAG", help="Take the number from this member tag.")
@click.option("--dry-run", is_flag=True, help="Print the plan and check preconditions only.")
@click.option(
    "--journal",
    "journal_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"Journal file (default: {DEFAULT_JOURNAL_NAME} beside the results).",
)
@click.option("--resume", is_flag=True, help="Skip members the journal shows bound; continue.")
@click.option(
    "--max-code-attempts",
    type=click.IntRange(1, 10),
    default=3,
    show_default=True,
    help="Wrong codes allowed per code sent.",
)
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("rdscan-report"),
    show_default=True,
    help="Where the fresh scan's results (and the default journal) go.",
)
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Policy for the fresh scan (default: the shipped one).",
)
@click.option(
    "--exemptions",
    "exemptions_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Exemptions for the fresh scan.",
)
@connection_options
def remediate_command(
    from_path: Path | None,
    accounts: tuple[str, ...],
    phones: Path | None,
    phone_tag: str | None,
    dry_run: bool,
    journal_path: Path | None,
    resume: bool,
    max_code_attempts: int,
    output_dir: Path,
    policy_path: Path | None,
    exemptions_path: Path | None,
    settings: Settings,
) -> None:
    """Bind secure phones for FAIL members through BindSecureMobilePhone, one confirmed member
    at a time, with an append-only journal."""
    by_account = load_phones_csv(phones) if phones else {}
    sources = PhoneSources(by_account=by_account, tag=phone_tag)
    if journal_path is None:
        base = from_path.parent if from_path is not None else output_dir
        journal_path = base / DEFAULT_JOURNAL_NAME
    # a link or another user's file at the journal path: refused before any API call
    refuse_unsafe(journal_path, "journal", option="--journal")
    if resume and not journal_path.exists():
        raise RemediationError(
            f"nothing to resume: journal {journal_path} does not exist",
            hint="give the journal of the interrupted run with --journal, or run without --resume",
        )
    api = _make_api(settings)
    if from_path is not None:
        scan, _ = load_results(from_path)
    else:
        scan, _ = _fresh_scan(settings, output_dir, policy_path, exemptions_path)
    _warn_unused_numbers(by_account, scan)
    if scan.evidence.site and scan.evidence.site != settings.site:
        raise ConfigError(
            f"the results are from site {scan.evidence.site!r} but --site is {settings.site!r}",
            hint=f"run with --site {scan.evidence.site}",
        )
    if phone_tag:  # read live: report.json keeps phone-shaped tag values masked
        wanted = [
            r.account_id
            for r in scan.results
            if (r.account_id in accounts)
            or (not accounts and r.result is Status.FAIL and r.remediation is Remediation.API)
        ]
        tag_values, tag_warnings = read_tag_values(api, wanted, phone_tag)
        for warning in tag_warnings:
            click.echo(f"Warning: {printable(warning)}", err=True)
        sources = PhoneSources(by_account=by_account, tag=phone_tag, tag_values=tag_values)
    plan = build_plan(scan, site=settings.site, accounts=accounts, phones=sources)
    if dry_run:
        prior = read_journal(journal_path) if resume else []
        result = check_plan(plan, api, done=member_states(prior))
        click.echo(_render_dry_run(result))
        sys.exit(ExitCode.OK if result.ok else ExitCode.FAIL)
    writer = JournalWriter(journal_path)  # verifies an existing journal before anything is sent
    click.echo(_render_plan(plan))
    if not plan.items:
        writer.close()
        click.echo("Nothing to remediate.")
        return
    _require_terminal(plan, writer.states if resume else {})
    try:
        summary = run_flow(
            plan,
            api,
            writer,
            CliOperator(plan),
            FlowOptions(max_code_attempts=max_code_attempts, resume=resume),
        )
    finally:
        writer.close()
    click.echo(_render_summary(summary, journal_path))
    if summary.interrupted:
        sys.exit(ExitCode.INTERRUPTED)
    if not summary.complete:
        sys.exit(ExitCode.FAIL)


@click.command("print-policy")
@click.argument("kind", type=click.Choice(RAM_POLICY_KINDS))
def print_ram_policy_command(kind: str) -> None:
    """Print a least-privilege RAM policy: `audit` (read-only) or `remediate` (Send + Bind)."""
    click.echo(render_ram_policy(kind), nl=False)


@click.command("verify-journal")
@click.argument("journal", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--expect-head",
    metavar="SHA256",
    help="The chain head printed at the end of the run: also detects a cut or edited last line.",
)
def verify_journal_command(journal: Path, expect_head: str | None) -> None:
    """Recompute the SHA-256 chain of a remediation journal; exit 1 if it was tampered with
    (2: no such file)."""
    try:
        check = verify_journal(journal)
        if expect_head and check.last_sha256 != expect_head.strip().lower():
            raise JournalError(
                f"journal {journal}: the chain head is {check.last_sha256}, not the expected "
                f"{printable(expect_head, 80)}: lines were removed, added or edited at the end",
                hint="treat the journal as tampered with; compare it with a backup copy",
            )
    except JournalError as exc:
        echo_error(exc)
        sys.exit(ExitCode.FAIL)
    click.echo(
        f"OK: {printable(check.path)}: {check.lines} line(s), {check.members} member(s), "
        f"chain intact; head sha256 {check.last_sha256}"
    )
    if check.torn_bytes:
        click.echo(
            f"Warning: after line {check.lines} the file holds {check.torn_bytes} byte(s) of a "
            "line cut off while being written (a failed append, e.g. a full disk); they are not "
            "part of the chain. `rdscan remediate --resume` moves them to "
            f"{printable(torn_path(check.path))} before it appends.",
            err=True,
        )


COMMANDS: list[click.Command] = [
    remediate_command,
    print_ram_policy_command,
    verify_journal_command,
]
