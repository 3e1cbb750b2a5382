"""The guided, human-in-the-loop flow per member, journaled step by step."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from ..clock import parse_rfc3339, utc_now
from ..errors import ApiError, RemediationError, ScannerError
from ..findings import Caller, Outcome
from ..phones import PhoneNumber, validate_phone
from .api import (
    RemediationApi,
    SentCode,
)
from .explain import explain
from .journal import DONE_STATES, JournalWriter, MemberState
from .plan import (
    BAD_PHONE,
    BINDABLE_STATUSES,
    MANUAL,
    NOT_FAILING,
    Plan,
    PlanItem,
    check_caller,
)

_CODE_RE = re.compile(r"^[0-9]{6}$")  # ASCII: other digits never reach Bind

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
    outcome: Outcome  # never Outcome.PENDING: a run ends every member it starts
    detail: str = ""
    request_id: str = ""
    from_journal: bool = False


@dataclass(frozen=True)
class Summary:
    outcomes: tuple[MemberOutcome, ...]
    operator_arn: str
    interrupted: bool = False
    stopped: str = ""  # why sending stopped for every member (fatal error), if it did

    def count(self, outcome: Outcome) -> int:
        return sum(1 for o in self.outcomes if o.outcome == outcome)

    @property
    def complete(self) -> bool:
        """Nothing failed, broke a rule or stopped (declined, manual, skipped are choices)."""
        return not (
            self.interrupted
            or self.stopped
            or self.count(Outcome.FAILED)
            or self.count(Outcome.INVALID_NUMBER)
            or self.count(Outcome.NOT_RUN)
        )

    @property
    def counts(self) -> dict[Outcome, int]:
        counts: dict[Outcome, int] = {}
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
    phone_problem: str = ""  # why the last number typed was refused
    sends: int = 0
    request_ids: list[str] = field(default_factory=list)


def expired(sent: SentCode, now: datetime | None = None) -> bool:
    at = parse_rfc3339(sent.expires_at) if sent.expires_at else None
    if at is None:
        return False
    return (now or utc_now()) >= at


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
        prior: dict[str, MemberState] = self.journal.states if self.options.resume else {}
        self.journal.start_session(
            caller.arn,
            plan.scan.evidence.scan_id,
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
                                Outcome.FAILED,
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
            item.account_id, item.result.display_name, item.phone_masked, Outcome.NOT_RUN, why
        )

    def _notify(self, level: str, item: PlanItem, message: str, hint: str = "") -> None:
        self.op.notify(Event(level, item.account_id, message, hint))

    def _outcome(
        self, m: _Member, outcome: Outcome, detail: str = "", request_id: str = ""
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
            outcome = {MANUAL: Outcome.MANUAL, BAD_PHONE: Outcome.INVALID_NUMBER}.get(
                item.kind, Outcome.SKIPPED
            )
            return self._outcome(m, outcome, item.problem)
        if m.phone is None:
            m.phone = self._ask_phone(m)
            if m.phone is None and m.phone_problem:  # every number typed broke a rule
                detail = f"no valid number given: {m.phone_problem}"
                self.journal.append("skip", "skipped", account_id=aid, detail=detail)
                self._notify("error", item, "skipped: " + detail)
                return self._outcome(m, Outcome.INVALID_NUMBER, detail)
            if m.phone is None:
                self.journal.append("skip", "skipped", account_id=aid, detail="no number given")
                self._notify("warn", item, "skipped: no number given")
                return self._outcome(m, Outcome.SKIPPED, "no number given")
        # Still unbound? (someone may have bound it since the scan)
        try:
            state = self.api.get_account_phone(aid)
        except ApiError as exc:
            return self._api_failure(m, "verify", exc, before="checking the member")
        if state.has_secure_mobile_phone:
            masked = state.secure_mobile_phone_masked or ""
            if self._bound_before_interruption(prior, masked):
                assert prior is not None
                rid = prior.request_id if prior.last_action == "bind" else ""
                detail = (
                    "HasSecureMobilePhone=true: bound to the number the interrupted run sent a "
                    f"code to (its last step: {prior.last_action})"
                )
                self.journal.append(
                    "verify",
                    "verified",
                    account_id=aid,
                    phone_masked=masked,
                    request_id=rid,
                    detail=detail,
                )
                self._notify("ok", item, f"bound and verified: {masked} (before the interruption)")
                return MemberOutcome(
                    aid, item.result.display_name, masked, Outcome.VERIFIED, detail, rid
                )
            self.journal.append(
                "skip",
                "already_bound",
                account_id=aid,
                phone_masked=masked,
                detail="GetAccount shows a secure phone already bound",
            )
            self._notify("ok", item, f"already bound ({masked or 'number hidden'}): nothing to do")
            return MemberOutcome(
                aid,
                item.result.display_name,
                masked,
                Outcome.ALREADY_BOUND,
                "bound before this run",
            )
        if state.account_type and state.account_type != "ResourceAccount":
            # report.json is older than the member's type: never send to a CloudAccount
            detail = (
                f"GetAccount now shows a {state.account_type}: the API cannot bind its phone; "
                "its owner binds one in their own console"
            )
            self.journal.append("skip", "skipped", account_id=aid, detail=detail)
            self._notify("warn", item, f"skipped: {detail}")
            return self._outcome(m, Outcome.MANUAL, detail)
        status = state.member_status or item.result.member_status
        if status and status not in BINDABLE_STATUSES:
            # Send documents none of Bind's preconditions: the cloud may deliver an SMS for a
            # member that Bind then refuses (AccountTypeMismatch). Check first, send nothing.
            detail = (
                f"member status {status} (GetAccount now): Bind is expected to refuse it "
                "(AccountTypeMismatch), so no code was sent"
            )
            self.journal.append("skip", "skipped", account_id=aid, detail=detail)
            self._notify(
                "error",
                item,
                f"not sent: {detail}",
                "run remediation again once the member is settled (e.g. CreateSuccess)",
            )
            return self._outcome(m, Outcome.FAILED, detail)
        still_valid = self._code_still_valid(prior, m.phone)
        if still_valid is not None:
            self.journal.append(
                "confirm",
                "confirmed",
                account_id=aid,
                phone_masked=m.phone.masked,
                request_id=still_valid.request_id,
                detail=f"resumed: the code sent before (valid until {still_valid.expires_at}) "
                "is asked for; no new code sent",
            )
            self._notify(
                "info",
                item,
                f"a code was sent to {m.phone.masked} before the interruption and is valid "
                f"until {still_valid.expires_at}: type that code (no new code is sent)",
            )
            return self._send_and_bind(m, pending=still_valid)
        if not self.op.confirm(item, m.phone):
            self.journal.append("confirm", "declined", account_id=aid, phone_masked=m.phone.masked)
            self._notify("info", item, "declined: nothing sent")
            return self._outcome(m, Outcome.DECLINED)
        self.journal.append("confirm", "confirmed", account_id=aid, phone_masked=m.phone.masked)
        return self._send_and_bind(m)

    @staticmethod
    def _bound_before_interruption(prior: MemberState | None, masked_now: str) -> bool:
        """A run killed after its Bind went through (before the line saying so): the journal
        left the member mid-flow after a Send, and the number bound now is the one it used."""
        return (
            prior is not None
            and prior.state == Outcome.PENDING
            and prior.last_action in ("send", "bind")
            and bool(masked_now)
            and masked_now == prior.phone_masked
        )

    @staticmethod
    def _code_still_valid(prior: MemberState | None, phone: PhoneNumber) -> SentCode | None:
        """A --resume after a kill between Send and Bind: the code the journal says was sent to
        this same number and has not expired (its ExpirationDate, per the Send's answer)."""
        if prior is None or prior.state != Outcome.PENDING or not prior.code_expires_at:
            return None
        if prior.phone_masked != phone.masked:
            return None
        sent = SentCode(prior.code_expires_at, prior.code_request_id)
        return None if expired(sent) else sent

    def _ask_phone(self, m: _Member) -> PhoneNumber | None:
        item, problem = m.item, ""
        for _ in range(self.options.max_phone_prompts):
            raw = self.op.ask_phone(item, problem)
            if not raw:
                m.phone_problem = ""
                return None
            try:
                return validate_phone(raw, self.site)
            except RemediationError as exc:
                problem = exc.message + (f" ({exc.hint})" if exc.hint else "")
                m.phone_problem = exc.message
                self._notify("error", item, exc.message, exc.hint or "")
        return None

    def _send_and_bind(self, m: _Member, pending: SentCode | None = None) -> MemberOutcome:
        """Send (unless ``pending``: a code sent by an interrupted run, still valid), ask for
        the code, Bind, verify; offer a new code when one is refused or expires."""
        assert m.phone is not None
        item, aid, masked = m.item, m.item.account_id, m.phone.masked
        while True:
            if pending is not None:
                sent, pending = pending, None
                m.sends += 1
            else:
                # Send -----------------------------------------------------------------------
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
                return self._outcome(m, Outcome.FAILED, detail)
            if not self.op.offer_resend(item, result):
                detail = f"{result}; no new code requested"
                self.journal.append(
                    "bind", "failed", account_id=aid, phone_masked=masked, detail=detail
                )
                self._notify("warn", item, "gave up: " + detail)
                return self._outcome(m, Outcome.FAILED, detail)

    def _codes(self, m: _Member, sent: SentCode) -> MemberOutcome | str:
        """Prompt for codes and Bind. Returns the outcome, or a reason to offer a resend."""
        assert m.phone is not None
        item, aid, masked = m.item, m.item.account_id, m.phone.masked
        tries = self.options.max_code_attempts
        while tries > 0:
            # NFKC: full-width digits from an input method are the digits they look like
            code = unicodedata.normalize("NFKC", self.op.ask_code(item, m.phone, sent, tries))
            code = code.strip()
            if code.lower() == "r":
                return "new code requested"
            if not code:
                detail = "no code entered"
                self.journal.append(
                    "bind", "failed", account_id=aid, phone_masked=masked, detail=detail
                )
                self._notify("warn", item, "gave up: no code entered")
                return self._outcome(m, Outcome.FAILED, detail)
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
            return self._outcome(m, Outcome.FAILED, detail, bind_request_id)
        if state.has_secure_mobile_phone:
            self.journal.append(  # the RequestId of the GetAccount that verified, not Bind's
                "verify",
                "verified",
                account_id=aid,
                phone_masked=masked,
                request_id=state.request_id,
                detail="HasSecureMobilePhone=true",
                extra={"bind_request_id": bind_request_id},
            )
            self._notify("ok", item, f"bound and verified: {masked}")
            return self._outcome(m, Outcome.VERIFIED, "HasSecureMobilePhone=true", bind_request_id)
        detail = f"Bind succeeded (RequestId {bind_request_id}) but HasSecureMobilePhone is "
        detail += "false" if state.has_secure_mobile_phone is False else "missing"
        self.journal.append(
            "verify",
            "not_verified",
            account_id=aid,
            phone_masked=masked,
            request_id=state.request_id,
            detail=detail,
        )
        self._notify("error", item, detail, "re-run `rdscan scan` later to confirm")
        return self._outcome(m, Outcome.FAILED, detail, bind_request_id)

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
            return self._outcome(m, Outcome.ALREADY_BOUND, why.what, exc.request_id)
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
        return self._outcome(m, Outcome.FAILED, detail, exc.request_id)


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
