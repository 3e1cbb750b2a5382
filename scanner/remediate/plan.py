"""The remediation plan and the preconditions a dry run (and a real run) checks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..errors import ApiError, ConfigError, RemediationError
from ..findings import Caller, Remediation, Result, ScanResult, Status
from ..phones import PhoneNumber, validate_phone
from .api import (
    BIND,
    GET_ACCOUNT,
    SEND,
    AccountPhone,
    RemediationApi,
)
from .explain import EXPLANATIONS, explain
from .journal import (
    DONE_STATES,
    MemberState,
)
from .phone_sources import PhoneSources

CALLER_OK_TYPES = ("RAMUser", "AssumedRoleUser")
# Member statuses in which Bind is expected to work (transitional ones answer AccountTypeMismatch).
BINDABLE_STATUSES = frozenset(
    {"CreateSuccess", "PromoteFailed", "PromoteExpired", "PromoteCancelled"}
)

# ---- the plan -------------------------------------------------------------------------------

ACTIONABLE = "bind"
MANUAL = "manual"
NO_PHONE = "no_phone"  # the number will be asked at the prompt
BAD_PHONE = "bad_phone"
NOT_FAILING = "not_failing"


@dataclass(frozen=True)
class PlanItem:
    result: Result
    kind: str  # bind | no_phone | bad_phone | manual | not_failing
    phone: PhoneNumber | None = None
    phone_source: str = ""
    problem: str = ""
    hint: str = ""

    @property
    def account_id(self) -> str:
        return self.result.account_id

    @property
    def phone_masked(self) -> str:
        return self.phone.masked if self.phone else ""

    @property
    def sendable(self) -> bool:
        return self.kind in (ACTIONABLE, NO_PHONE)

    def calls(self) -> tuple[str, ...]:
        """The API calls the flow would make for this member (numbers masked)."""
        if not self.sendable:
            return ()
        number = self.phone_masked or "<number typed at the prompt>"
        aid = self.account_id
        return (
            f"{GET_ACCOUNT}(AccountId={aid})  # still unbound?",
            f"{SEND}(AccountId={aid}, SecureMobilePhone={number})  # after you confirm",
            f"{BIND}(AccountId={aid}, SecureMobilePhone={number}, VerificationCode=<from SMS>)",
            f"{GET_ACCOUNT}(AccountId={aid})  # verify HasSecureMobilePhone=true",
        )


@dataclass(frozen=True)
class Plan:
    scan: ScanResult
    site: str
    items: tuple[PlanItem, ...]

    @property
    def sendable(self) -> list[PlanItem]:
        return [i for i in self.items if i.sendable]


def build_plan(
    scan: ScanResult,
    *,
    site: str,
    accounts: Sequence[str] = (),
    phones: PhoneSources | None = None,
) -> Plan:
    """FAIL members with remediation api (narrowed by ``accounts``), numbers validated.

    CloudAccount (manual) members are listed as manual. An ``--account`` that is not in the
    results is a ConfigError; one that is there but not failing is listed as such.
    """
    phones = phones or PhoneSources()
    by_id = {r.account_id: r for r in scan.results}
    if accounts:
        unknown = [a for a in dict.fromkeys(accounts) if a not in by_id]
        if unknown:
            raise ConfigError(
                f"account(s) {', '.join(unknown)} not found in the scan results "
                f"({len(by_id)} members)",
                hint="check the --account ids against report.json, or re-run `rdscan scan`",
            )
        chosen = [by_id[a] for a in dict.fromkeys(accounts)]
    else:
        chosen = [r for r in scan.results if r.result is Status.FAIL]
    items = [_plan_item(r, site, phones) for r in chosen]
    return Plan(scan=scan, site=site, items=tuple(items))


def _plan_item(result: Result, site: str, phones: PhoneSources) -> PlanItem:
    if result.result is not Status.FAIL:
        return PlanItem(
            result,
            NOT_FAILING,
            problem=f"result is {result.result.value}, not FAIL: nothing to remediate",
        )
    if result.remediation is not Remediation.API or result.type == "CloudAccount":
        return PlanItem(
            result,
            MANUAL,
            problem=f"{result.type or 'this member'}: Bind cannot fix it (remediation "
            f"{result.remediation.value})",
            hint="the account's owner binds a secure phone in their own console",
        )
    raw, source = phones.lookup(result)
    if raw is None:
        return PlanItem(result, NO_PHONE, hint="the number will be asked at the prompt")
    try:
        phone = validate_phone(raw, site)
    except RemediationError as exc:
        return PlanItem(
            result,
            BAD_PHONE,
            phone_source=source,
            problem=f"number from {source}: {exc.message}",
            hint=exc.hint or "",
        )
    return PlanItem(result, ACTIONABLE, phone=phone, phone_source=source)


# ---- preconditions (dry-run and real run) -------------------------------------------------


@dataclass(frozen=True)
class CallerCheck:
    caller: Caller | None
    ok: bool
    problem: str = ""
    hint: str = ""


def check_caller(api: RemediationApi, master_account_id: str) -> CallerCheck:
    """The caller must be a RAM user or role of the management account (GetCallerIdentity)."""
    try:
        caller = api.caller_identity()
    except ApiError as exc:
        return CallerCheck(None, False, f"GetCallerIdentity failed: {exc}", explain(exc).next_step)
    if caller.identity_type not in CALLER_OK_TYPES:
        return CallerCheck(
            caller,
            False,
            f"the caller {caller.arn} is a {caller.identity_type or 'unknown'} identity, not a RAM "
            "user or role: Bind refuses it (CallerIdentityError)",
            EXPLANATIONS["CallerIdentityError"].next_step,
        )
    if master_account_id and caller.account_id != master_account_id:
        return CallerCheck(
            caller,
            False,
            f"the caller {caller.arn} belongs to account {caller.account_id}, not to the "
            f"management account {master_account_id} of the scanned directory",
            "use a RAM user or role of the management account",
        )
    return CallerCheck(caller, True)


@dataclass(frozen=True)
class DryRunItem:
    item: PlanItem
    phone_state: AccountPhone | None
    problems: tuple[str, ...]
    would: str  # one line: what the real run would do


@dataclass(frozen=True)
class DryRun:
    plan: Plan
    caller: CallerCheck
    items: tuple[DryRunItem, ...]
    notes: tuple[str, ...] = ()
    # what the caller may not call: "SendVerificationCodeForBindSecureMobilePhone is denied:
    # ...", one line each ("" when the probe could not tell)
    permissions: tuple[str, ...] = ()

    @property
    def ready(self) -> list[DryRunItem]:
        """Members the real run would send a code to (after confirmation)."""
        return [i for i in self.items if not i.problems and not i.would.startswith("skip")]

    @property
    def blocked(self) -> list[DryRunItem]:
        return [i for i in self.items if i.problems]

    @property
    def skipped(self) -> list[DryRunItem]:
        return [i for i in self.items if not i.problems and i.would.startswith("skip")]

    def why_not_ok(self) -> list[str]:
        """Why the dry run exits non-zero, most important first (empty when it exits 0)."""
        reasons = []
        if not self.caller.ok:
            reasons.append(f"the caller cannot remediate: {self.caller.problem}")
        reasons.extend(self.permissions)
        blocked = self.blocked
        if blocked:
            reasons.append(
                f"{len(blocked)} member{'s' if len(blocked) != 1 else ''} blocked: "
                + "; ".join(f"{i.item.account_id}: {i.problems[0]}" for i in blocked[:5])
                + (" ..." if len(blocked) > 5 else "")
            )
        return reasons

    @property
    def ok(self) -> bool:
        """No problem found: a number breaking a rule counts too (the real run fails it), and
        so does a caller that may not call Send or Bind."""
        return not self.why_not_ok()


def dry_run(
    plan: Plan, api: RemediationApi, *, done: Mapping[str, MemberState] | None = None
) -> DryRun:
    """Check what can be checked without writing: caller identity and current phone state.

    ``done``: member states from the journal (``--resume``): members verified or already bound
    there would be skipped.
    """
    caller = check_caller(api, plan.scan.evidence.master_account_id)
    items = []
    for item in plan.items:
        problems: list[str] = []
        state: AccountPhone | None = None
        prior = (done or {}).get(item.account_id)
        if prior is not None and prior.state in DONE_STATES:
            would = f"skip: {prior.state.replace('_', ' ')} per the journal ({prior.at})"
        elif item.kind == BAD_PHONE:
            problems.append(item.problem)
            would = "skip: the number breaks a rule (no call will be made)"
        elif item.kind == MANUAL:
            would = "skip: manual (never sent to the API)"
        elif item.kind == NOT_FAILING:
            would = "skip: " + item.problem
        else:
            status = item.result.member_status
            if status and status not in BINDABLE_STATUSES:
                problems.append(
                    f"member status {status}: Bind is expected to answer AccountTypeMismatch "
                    "until the member is in a settled state (e.g. CreateSuccess)"
                )
            try:
                state = api.get_account_phone(item.account_id)
            except ApiError as exc:
                problems.append(f"GetAccount failed: {exc}")
            if state is not None and state.has_secure_mobile_phone:
                would = (
                    "skip: already bound now "
                    f"({state.secure_mobile_phone_masked or 'number hidden'})"
                )
            elif state is not None and state.has_secure_mobile_phone is None:
                problems.append("GetAccount did not return HasSecureMobilePhone")
                would = "send and bind after confirmation (phone state unknown)"
            else:
                would = "ask for confirmation, send a code, bind, verify"
                if item.kind == NO_PHONE:
                    would = "ask for the number, " + would
        items.append(DryRunItem(item, state, tuple(problems), would))
    permissions: tuple[str, ...] = ()
    probe = getattr(api, "probe_send_bind", None)
    if caller.ok and probe is not None and any(i.item.sendable for i in items):
        permissions = tuple(probe(plan.scan.evidence.master_account_id))
    notes = (
        "Send and Bind were probed for the management account's own id with a number no "
        "phone has: no code was sent, nothing was bound, the journal was not written.",
    )
    return DryRun(plan, caller, tuple(items), notes, permissions)
