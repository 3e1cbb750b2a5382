"""Guided remediation: a plan, then a human-in-the-loop flow per member, journaled step by step.

The cloud is reached through the small :class:`RemediationApi` protocol (an adapter over
``scanner.client.RdClient`` is :class:`RdClientApi`), and the operator through the
:class:`Operator` protocol that the CLI implements: this module never prints or prompts.

Per member: (number validated before any call) -> GetAccount (still unbound?) -> confirm y/N ->
Send -> code prompt -> Bind -> GetAccount again; verified only when HasSecureMobilePhone is true.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from .errors import ApiError, ConfigError, ConnectionFailed, RemediationError, ScannerError
from .findings import Caller, Remediation, Result, ScanResult, Status
from .journal import (
    ALREADY_BOUND,
    DECLINED,
    DONE_STATES,
    FAILED,
    SKIPPED,
    VERIFIED,
    JournalWriter,
    MemberState,
)
from .phone_sources import PhoneSources
from .phones import PhoneNumber, mask_phone, validate_phone

SEND = "SendVerificationCodeForBindSecureMobilePhone"
BIND = "BindSecureMobilePhone"
GET_ACCOUNT = "GetAccount"
CALLER_OK_TYPES = ("RAMUser", "AssumedRoleUser")
# Member statuses in which Bind is expected to work (transitional ones answer AccountTypeMismatch).
BINDABLE_STATUSES = frozenset(
    {"CreateSuccess", "PromoteFailed", "PromoteExpired", "PromoteCancelled"}
)
_CODE_RE = re.compile(r"^\d{6}$")


# ---- the cloud, as remediation sees it -----------------------------------------------------


@dataclass(frozen=True)
class PhoneState:
    has_secure_mobile_phone: bool | None
    secure_mobile_phone_masked: str | None


@dataclass(frozen=True)
class SentCode:
    expires_at: str  # RFC 3339 UTC as the API returned it ("" when absent)
    request_id: str


class RemediationApi(Protocol):
    def caller_identity(self) -> Caller: ...

    def get_account_phone(self, account_id: str) -> PhoneState: ...

    def send_code(self, account_id: str, phone_wire: str) -> SentCode: ...

    def bind(self, account_id: str, phone_wire: str, code: str) -> str: ...


class RdClientApi:
    """Adapter from ``scanner.client.RdClient`` to :class:`RemediationApi`."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def caller_identity(self) -> Caller:
        caller: Caller = self._client.caller_identity()
        return caller

    def get_account_phone(self, account_id: str) -> PhoneState:
        got = self._client.get_account_phone(account_id)
        return PhoneState(
            has_secure_mobile_phone=got.has_secure_mobile_phone,
            secure_mobile_phone_masked=mask_phone(got.secure_mobile_phone_masked),
        )

    def send_code(self, account_id: str, phone_wire: str) -> SentCode:
        sent = self._client.send_verification_code(account_id, phone_wire)
        return SentCode(expires_at=str(sent.expiration or ""), request_id=str(sent.request_id))

    def bind(self, account_id: str, phone_wire: str, code: str) -> str:
        return str(self._client.bind_secure_mobile_phone(account_id, phone_wire, code))


# ---- plain-language explanations of API errors --------------------------------------------


@dataclass(frozen=True)
class Explanation:
    what: str
    next_step: str
    fatal: bool = False  # the same for every member: stop sending


_EXPLAIN: dict[str, Explanation] = {
    "SendValidateCodeExceedsLimitForAccount": Explanation(
        "Too many verification codes were sent for this member today (daily limit).",
        "Wait until tomorrow, then run `rdscan remediate --resume` again.",
    ),
    "AccountSecureMobileAlreadyExists": Explanation(
        "This member already has a secure mobile phone (bound by someone else meanwhile?).",
        "Nothing to do: recorded as already bound. Bind cannot change an existing number.",
    ),
    "AccountTypeMismatch": Explanation(
        "The member's type or status does not allow binding (only ResourceAccount members in a "
        "normal state can be bound this way).",
        "Check the member in the Resource Directory console; a CloudAccount's owner binds the "
        "phone in their own console.",
    ),
    "CallerIdentityError": Explanation(
        "The caller is not a RAM user or role of the management account (e.g. the root "
        "account's own AccessKey).",
        "Run again with the credentials of a RAM user or role of the management account that "
        "has the remediate policy (`rdscan print-policy remediate`).",
        fatal=True,
    ),
    "NotSupport.Site.Action": Explanation(
        "This site does not allow binding a secure phone through the API.",
        "Bind it in the console, or check that --site matches the directory's site.",
    ),
    "InvalidParameter.MobileCountryCode": Explanation(
        "The site does not accept this country code.",
        "China site: only 86- numbers; international site: no 86- numbers. Fix the number or "
        "--site.",
    ),
    "EnterpriseRealNameVerificationError": Explanation(
        "The member account has not passed enterprise real-name verification.",
        "Complete enterprise real-name verification for the member, then run again.",
    ),
    "Invalid.EnterpriseName": Explanation(
        "The member has no enterprise name set.",
        "Set the enterprise name of the member (real-name verification), then run again.",
    ),
    "NotSupport.AccountInAnotherResourceDirectory": Explanation(
        "The account is an Alibaba Cloud account or belongs to another resource directory.",
        "Its owner must bind the phone in their own console.",
    ),
    "EntityAlreadyExists.ResourceDirectory": Explanation(
        "The account has its own resource directory enabled.",
        "Its owner must bind the phone in their own console.",
    ),
    "EntityNotExists.Account": Explanation(
        "The member no longer exists in the resource directory.",
        "Re-run `rdscan scan` for fresh results.",
    ),
    "NoPermission": Explanation(
        "The caller lacks the RAM permission for this call (a read-only audit identity "
        "cannot send codes or bind).",
        "Attach the policy from `rdscan print-policy remediate` to the caller and run again.",
    ),
    "Forbidden.RAM": Explanation(
        "The caller lacks the RAM permission for this call (a read-only audit identity "
        "cannot send codes or bind).",
        "Attach the policy from `rdscan print-policy remediate` to the caller and run again.",
    ),
    "InvalidAccessKeyId.NotFound": Explanation(
        "The AccessKey is unknown.", "Check the credentials (env, --profile).", fatal=True
    ),
    "InvalidAccessKeyId.Inactive": Explanation(
        "The AccessKey is disabled.", "Use an active AccessKey.", fatal=True
    ),
    "SignatureDoesNotMatch": Explanation(
        "The AccessKey secret is wrong.", "Check the credentials (env, --profile).", fatal=True
    ),
}


def explain(error: ScannerError) -> Explanation:
    """A plain-language explanation and the next step for an error met during remediation."""
    code = getattr(error, "code", "") or ""
    if code in _EXPLAIN:
        return _EXPLAIN[code]
    if code.startswith("Throttling") or code == "ServiceUnavailable":
        return Explanation(
            "The API kept refusing requests for flow control, even after retries.",
            "Wait a minute, then run `rdscan remediate --resume`.",
        )
    if isinstance(error, ConnectionFailed):
        return Explanation(
            "The endpoint could not be reached.",
            "Check the network or --endpoint, then run `rdscan remediate --resume`.",
            fatal=True,
        )
    if code.startswith("InvalidSecurityToken") or code == "MissingSecurityToken":
        return Explanation("The STS token is invalid or expired.", "Refresh it.", fatal=True)
    return Explanation(
        f"The call failed: {error}",
        error.hint or "Check the message, then run `rdscan remediate --resume` to retry.",
    )


# ---- the plan -------------------------------------------------------------------------------

ACTIONABLE = "bind"
MANUAL = "manual"
NO_PHONE = "no_phone"  # the number will be asked at the prompt
BAD_PHONE = "bad_phone"
NOT_FAILING = "not_failing"
INVALID_NUMBER = "invalid_number"  # a member outcome: the number broke a rule, nothing sent


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
            _EXPLAIN["CallerIdentityError"].next_step,
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
    phone_state: PhoneState | None
    problems: tuple[str, ...]
    would: str  # one line: what the real run would do


@dataclass(frozen=True)
class DryRun:
    plan: Plan
    caller: CallerCheck
    items: tuple[DryRunItem, ...]
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """No problem found: a number breaking a rule counts too (the real run fails it)."""
        return self.caller.ok and not any(i.problems for i in self.items)


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
        state: PhoneState | None = None
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
            status = item.result.status
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
    notes = (
        "Permission for Send and Bind cannot be probed without sending a code; "
        "compare the caller's policy with `rdscan print-policy remediate`.",
        "Dry run: no code was sent, nothing was bound, the journal was not written.",
    )
    return DryRun(plan, caller, tuple(items), notes)


# ---- the guided flow ------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """Something the operator should read. ``level``: info | ok | warn | error."""

    level: str
    account_id: str
    message: str
    hint: str = ""


class Operator(Protocol):
    """The human in the loop (implemented by the CLI)."""

    def ask_phone(self, item: PlanItem, problem: str) -> str | None:
        """The number typed for a member; None or "" to skip the member."""
        ...

    def confirm(self, item: PlanItem, phone: PhoneNumber) -> bool:
        """y/N: send a code to this number and bind it? Default No."""
        ...

    def ask_code(self, item: PlanItem, phone: PhoneNumber, sent: SentCode, tries_left: int) -> str:
        """The code typed: 6 digits, "r" to send a new code, "" to give up."""
        ...

    def offer_resend(self, item: PlanItem, reason: str) -> bool:
        """y/N: send a new code? Default No."""
        ...

    def notify(self, event: Event) -> None: ...


@dataclass(frozen=True)
class MemberOutcome:
    account_id: str
    display_name: str
    phone_masked: str
    # verified | already_bound | failed | declined | skipped | manual | invalid_number | not_run
    outcome: str
    detail: str = ""
    request_id: str = ""
    from_journal: bool = False


@dataclass(frozen=True)
class Summary:
    outcomes: tuple[MemberOutcome, ...]
    operator_arn: str
    interrupted: bool = False
    stopped: str = ""  # why sending stopped for every member (fatal error), if it did

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes if o.outcome == outcome)

    @property
    def complete(self) -> bool:
        """Nothing failed, broke a rule or stopped (declined, manual, skipped are choices)."""
        return not (
            self.interrupted
            or self.stopped
            or self.count(FAILED)
            or self.count(INVALID_NUMBER)
            or self.count("not_run")
        )

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for o in self.outcomes:
            counts[o.outcome] = counts.get(o.outcome, 0) + 1
        return counts


@dataclass(frozen=True)
class FlowOptions:
    max_code_attempts: int = 3  # wrong codes per sent code
    max_sends: int = 3  # codes sent per member in one run (first one included)
    max_phone_prompts: int = 3
    resume: bool = False


class _Fatal(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class _Member:
    """Mutable progress of one member inside the flow (never leaves this module)."""

    item: PlanItem
    phone: PhoneNumber | None = None
    sends: int = 0
    request_ids: list[str] = field(default_factory=list)


def _parse_time(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def expired(sent: SentCode, now: datetime | None = None) -> bool:
    at = _parse_time(sent.expires_at) if sent.expires_at else None
    if at is None:
        return False
    return (now or datetime.now(timezone.utc)) >= at


class Remediator:
    """Runs the guided flow over a plan, journaling every step before going on."""

    def __init__(
        self,
        api: RemediationApi,
        journal: JournalWriter,
        operator: Operator,
        options: FlowOptions | None = None,
    ) -> None:
        self.api = api
        self.journal = journal
        self.op = operator
        self.options = options or FlowOptions()
        self.site = "cn"

    # the whole run ----------------------------------------------------------------------------
    def run(self, plan: Plan, caller: Caller) -> Summary:
        self.site = plan.site
        self.journal.operator_arn = caller.arn
        self.journal.scan_id = plan.scan.evidence.scan_id
        prior: dict[str, MemberState] = self.journal.states if self.options.resume else {}
        self.journal.append(
            "session_start",
            "started",
            detail=f"{'resume' if self.options.resume else 'run'}; site={plan.site}; "
            f"members={len(plan.items)}",
            extra={"caller_type": caller.identity_type, "caller_account": caller.account_id},
        )
        outcomes: list[MemberOutcome] = []
        stopped = ""
        interrupted = False
        pending = list(plan.items)
        try:
            while pending:
                item = pending[0]
                if stopped:
                    outcomes.append(self._not_run(item, stopped))
                else:
                    try:
                        outcomes.append(self._member(item, prior.get(item.account_id)))
                    except _Fatal as fatal:
                        stopped = fatal.reason
                    except ScannerError as exc:  # e.g. credentials gone: the same for everyone
                        stopped = str(exc) + (f" ({exc.hint})" if exc.hint else "")
                        self._notify("error", item, str(exc), exc.hint or "")
                    if stopped and (not outcomes or outcomes[-1].account_id != item.account_id):
                        outcomes.append(
                            MemberOutcome(
                                item.account_id,
                                item.result.display_name,
                                item.phone_masked,
                                FAILED,
                                stopped,
                            )
                        )
                pending.pop(0)
        except KeyboardInterrupt:
            interrupted = True
            outcomes.extend(self._not_run(i, "interrupted (Ctrl-C)") for i in pending)
        end = "interrupted" if interrupted else ("stopped" if stopped else "finished")
        self.journal.append("session_end", end, detail=stopped)
        return Summary(tuple(outcomes), caller.arn, interrupted=interrupted, stopped=stopped)

    def _not_run(self, item: PlanItem, why: str) -> MemberOutcome:
        return MemberOutcome(
            item.account_id, item.result.display_name, item.phone_masked, "not_run", why
        )

    def _notify(self, level: str, item: PlanItem, message: str, hint: str = "") -> None:
        self.op.notify(Event(level, item.account_id, message, hint))

    def _outcome(
        self, m: _Member, outcome: str, detail: str = "", request_id: str = ""
    ) -> MemberOutcome:
        masked = m.phone.masked if m.phone else m.item.phone_masked
        return MemberOutcome(
            m.item.account_id, m.item.result.display_name, masked, outcome, detail, request_id
        )

    # one member -------------------------------------------------------------------------------
    def _member(self, item: PlanItem, prior: MemberState | None) -> MemberOutcome:
        m = _Member(item, phone=item.phone)
        aid = item.account_id
        if prior is not None and prior.state in DONE_STATES:
            self._notify("info", item, f"skipped: {prior.state.replace('_', ' ')} per the journal")
            return MemberOutcome(
                aid,
                item.result.display_name,
                prior.phone_masked,
                prior.state,
                f"per journal ({prior.at})",
                prior.request_id,
                from_journal=True,
            )
        if item.kind in (MANUAL, NOT_FAILING, BAD_PHONE):
            self.journal.append("skip", "skipped", account_id=aid, detail=item.problem)
            level = "error" if item.kind == BAD_PHONE else "info"
            self._notify(level, item, f"skipped: {item.problem}", item.hint)
            outcome = {MANUAL: MANUAL, BAD_PHONE: INVALID_NUMBER}.get(item.kind, SKIPPED)
            return self._outcome(m, outcome, item.problem)
        if m.phone is None:
            m.phone = self._ask_phone(item)
            if m.phone is None:
                self.journal.append("skip", "skipped", account_id=aid, detail="no number given")
                self._notify("warn", item, "skipped: no number given")
                return self._outcome(m, SKIPPED, "no number given")
        # Still unbound? (someone may have bound it since the scan)
        try:
            state = self.api.get_account_phone(aid)
        except ApiError as exc:
            return self._api_failure(m, "verify", exc, before="checking the member")
        if state.has_secure_mobile_phone:
            masked = state.secure_mobile_phone_masked or ""
            self.journal.append(
                "skip",
                "already_bound",
                account_id=aid,
                phone_masked=masked,
                detail="GetAccount shows a secure phone already bound",
            )
            self._notify("ok", item, f"already bound ({masked or 'number hidden'}): nothing to do")
            return MemberOutcome(
                aid, item.result.display_name, masked, ALREADY_BOUND, "bound before this run"
            )
        if not self.op.confirm(item, m.phone):
            self.journal.append("confirm", "declined", account_id=aid, phone_masked=m.phone.masked)
            self._notify("info", item, "declined: nothing sent")
            return self._outcome(m, DECLINED)
        self.journal.append("confirm", "confirmed", account_id=aid, phone_masked=m.phone.masked)
        return self._send_and_bind(m)

    def _ask_phone(self, item: PlanItem) -> PhoneNumber | None:
        problem = ""
        for _ in range(self.options.max_phone_prompts):
            raw = self.op.ask_phone(item, problem)
            if not raw:
                return None
            try:
                return validate_phone(raw, self.site)
            except RemediationError as exc:
                problem = exc.message + (f" ({exc.hint})" if exc.hint else "")
                self._notify("error", item, exc.message, exc.hint or "")
        return None

    def _send_and_bind(self, m: _Member) -> MemberOutcome:
        assert m.phone is not None
        item, aid, masked = m.item, m.item.account_id, m.phone.masked
        while True:
            # Send ---------------------------------------------------------------------------
            try:
                sent = self.api.send_code(aid, m.phone.wire)
            except ApiError as exc:
                return self._api_failure(m, "send", exc)
            m.sends += 1
            self.journal.append(
                "send",
                "sent",
                account_id=aid,
                phone_masked=masked,
                request_id=sent.request_id,
                extra={"expires_at": sent.expires_at},
            )
            self._notify(
                "info",
                item,
                f"code sent to {masked}; it expires at {sent.expires_at or '(not given)'}",
            )
            # Code prompt and Bind ------------------------------------------------------------
            result = self._codes(m, sent)
            if isinstance(result, MemberOutcome):
                return result
            # result is a reason to offer a resend
            if m.sends >= self.options.max_sends:
                detail = f"{result}; no more codes this run ({m.sends} sent)"
                self.journal.append(
                    "bind", "failed", account_id=aid, phone_masked=masked, detail=detail
                )
                self._notify("error", item, detail, "run `rdscan remediate --resume` later")
                return self._outcome(m, FAILED, detail)
            if not self.op.offer_resend(item, result):
                detail = f"{result}; no new code requested"
                self.journal.append(
                    "bind", "failed", account_id=aid, phone_masked=masked, detail=detail
                )
                self._notify("warn", item, "gave up: " + detail)
                return self._outcome(m, FAILED, detail)

    def _codes(self, m: _Member, sent: SentCode) -> MemberOutcome | str:
        """Prompt for codes and Bind. Returns the outcome, or a reason to offer a resend."""
        assert m.phone is not None
        item, aid, masked = m.item, m.item.account_id, m.phone.masked
        tries = self.options.max_code_attempts
        while tries > 0:
            code = self.op.ask_code(item, m.phone, sent, tries).strip()
            if code.lower() == "r":
                return "new code requested"
            if not code:
                detail = "no code entered"
                self.journal.append(
                    "bind", "failed", account_id=aid, phone_masked=masked, detail=detail
                )
                self._notify("warn", item, "gave up: no code entered")
                return self._outcome(m, FAILED, detail)
            if not _CODE_RE.match(code):
                self._notify("error", item, "the code has 6 digits; type it again")
                continue  # not sent to the API, not counted
            if expired(sent):
                self.journal.append(
                    "bind",
                    "expired_code",
                    account_id=aid,
                    phone_masked=masked,
                    detail=f"expired at {sent.expires_at}; not sent to the API",
                )
                self._notify("warn", item, f"the code expired at {sent.expires_at}")
                return f"the code expired at {sent.expires_at}"
            try:
                request_id = self.api.bind(aid, m.phone.wire, code)
            except ApiError as exc:
                if exc.code == "Invalid.VerificationCode":
                    tries -= 1
                    outcome = "expired_code" if expired(sent) else "wrong_code"
                    self.journal.append(
                        "bind",
                        outcome,
                        account_id=aid,
                        phone_masked=masked,
                        request_id=exc.request_id,
                        detail=f"{tries} tries left",
                    )
                    if outcome == "expired_code":
                        self._notify("warn", item, f"the code expired at {sent.expires_at}")
                        return f"the code expired at {sent.expires_at}"
                    self._notify(
                        "warn",
                        item,
                        f"the code was refused: mistyped, or no longer valid ({tries} tries left)",
                        "type it again, or type r for a new code",
                    )
                    continue
                return self._api_failure(m, "bind", exc)
            self.journal.append(
                "bind", "bound", account_id=aid, phone_masked=masked, request_id=request_id
            )
            return self._verify(m, request_id)
        return f"the code was refused {self.options.max_code_attempts} times"

    def _verify(self, m: _Member, bind_request_id: str) -> MemberOutcome:
        assert m.phone is not None
        item, aid, masked = m.item, m.item.account_id, m.phone.masked
        try:
            state = self.api.get_account_phone(aid)
        except ApiError as exc:
            detail = f"bound (RequestId {bind_request_id}) but GetAccount failed: {exc}"
            self.journal.append(
                "verify", "failed", account_id=aid, phone_masked=masked, detail=detail
            )
            self._notify("error", item, detail, "re-run `rdscan scan` to confirm")
            return self._outcome(m, FAILED, detail, bind_request_id)
        if state.has_secure_mobile_phone:
            self.journal.append(
                "verify",
                "verified",
                account_id=aid,
                phone_masked=masked,
                request_id=bind_request_id,
                detail="HasSecureMobilePhone=true",
            )
            self._notify("ok", item, f"bound and verified: {masked}")
            return self._outcome(m, VERIFIED, "HasSecureMobilePhone=true", bind_request_id)
        detail = f"Bind succeeded (RequestId {bind_request_id}) but HasSecureMobilePhone is "
        detail += "false" if state.has_secure_mobile_phone is False else "missing"
        self.journal.append(
            "verify", "not_verified", account_id=aid, phone_masked=masked, detail=detail
        )
        self._notify("error", item, detail, "re-run `rdscan scan` later to confirm")
        return self._outcome(m, FAILED, detail, bind_request_id)

    def _api_failure(
        self, m: _Member, action: str, exc: ApiError, *, before: str = ""
    ) -> MemberOutcome:
        item, aid = m.item, m.item.account_id
        masked = m.phone.masked if m.phone else ""
        why = explain(exc)
        code = exc.code or type(exc).__name__
        if exc.code == "AccountSecureMobileAlreadyExists":
            self.journal.append(
                "bind",
                "already_bound",
                account_id=aid,
                phone_masked=masked,
                request_id=exc.request_id,
                detail=code,
            )
            self._notify("ok", item, why.what, why.next_step)
            return self._outcome(m, ALREADY_BOUND, why.what, exc.request_id)
        detail = f"{code}: {why.what}"
        journal_action = action if action in ("send", "bind", "verify") else "bind"
        self.journal.append(
            journal_action,
            "failed",
            account_id=aid,
            phone_masked=masked,
            request_id=exc.request_id,
            detail=detail + (f" (while {before})" if before else ""),
        )
        rid = f" (RequestId {exc.request_id})" if exc.request_id else ""
        self._notify("error", item, f"{code}: {why.what}{rid}", why.next_step)
        if why.fatal:
            raise _Fatal(f"{code}: {why.what} {why.next_step}")
        return self._outcome(m, FAILED, detail, exc.request_id)


def run_flow(
    plan: Plan,
    api: RemediationApi,
    journal: JournalWriter,
    operator: Operator,
    options: FlowOptions | None = None,
) -> Summary:
    """Check the caller, then walk every member of the plan. Raises RemediationError if the
    caller cannot bind at all (nothing is sent then)."""
    check = check_caller(api, plan.scan.evidence.master_account_id)
    if not check.ok or check.caller is None:
        raise RemediationError(
            f"cannot remediate: {check.problem}. Nothing was sent.", hint=check.hint or None
        )
    return Remediator(api, journal, operator, options).run(plan, check.caller)
