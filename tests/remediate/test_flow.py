"""The guided flow in-process: the real RdClient and SDKs against the emulator over HTTP, with a
scripted operator in place of the terminal (the pexpect tests drive the real terminal)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from scanner.client.sdk import RdClient
from scanner.errors import ConfigError, RemediationError
from scanner.remediate import FlowOptions, RdClientApi, build_plan, dry_run, run_flow
from scanner.remediate.journal import JournalWriter, load_outcomes, read_journal, verify_journal
from scanner.remediate.phone_sources import PhoneSources

from .conftest import BOUND, CLOUD_ACCOUNT, NOT_VERIFIED, ROOT, UNBOUND, scan_of

A, B, C = UNBOUND[0], UNBOUND[1], UNBOUND[2]
SEND = "SendVerificationCodeForBindSecureMobilePhone"
BIND = "BindSecureMobilePhone"


def _phones(*ids: str, number: str = "86-13700001111") -> PhoneSources:
    return PhoneSources(by_account={i: number for i in ids})


def _run(srv, settings, scan, operator, journal: Path, *, phones=None, accounts=(), **opts):
    plan = build_plan(scan, site="cn", accounts=accounts, phones=phones or _phones(*UNBOUND))
    api = RdClientApi(RdClient(settings))
    with JournalWriter(journal) as writer:
        return run_flow(plan, api, writer, operator, FlowOptions(**opts))


def _flag(srv, account_id: str) -> Any:
    spec = srv.state.account(account_id)
    return bool(spec.secure_mobile_phone)


def test_confirmed_bound_and_verified_declined_untouched(
    emulator, sample_fixture, settings_for, scripted, code_of, tmp_path
):
    srv = emulator()
    op = scripted(confirm={A: True, B: False}, codes=[lambda aid: code_of(srv, aid)])
    journal = tmp_path / "j.jsonl"
    summary = _run(srv, settings_for(srv), scan_of(sample_fixture, [A, B]), op, journal)
    outcomes = {o.account_id: o.outcome for o in summary.outcomes}
    assert outcomes == {A: "verified", B: "declined"}
    assert _flag(srv, A) and not _flag(srv, B)
    assert [m["account_id"] for m in srv.outbox()] == [A]
    assert srv.call_counts().get(SEND) == 1 and srv.call_counts().get(BIND) == 1
    assert {o.account_id: o.outcome for o in load_outcomes(journal)} == outcomes
    assert "13700001111" not in journal.read_text()
    assert verify_journal(journal).lines >= 6


def test_wrong_code_then_right(emulator, sample_fixture, settings_for, scripted, code_of, tmp_path):
    srv = emulator()
    op = scripted(confirm={A: True}, codes=["000000", "12", lambda aid: code_of(srv, aid)])
    summary = _run(srv, settings_for(srv), scan_of(sample_fixture, [A]), op, tmp_path / "j")
    assert summary.outcomes[0].outcome == "verified"
    assert srv.call_counts()[BIND] == 2  # the 2-digit code never reached the API
    steps = [(e.action, e.outcome) for e in read_journal(tmp_path / "j")]
    assert ("bind", "wrong_code") in steps and ("verify", "verified") in steps
    assert "refused" in op.text() and "6 digits" in op.text()


def test_wrong_codes_bounded(emulator, sample_fixture, settings_for, scripted, tmp_path):
    srv = emulator()
    op = scripted(confirm={A: True}, codes=["000000"] * 10, resend=[False])
    summary = _run(
        srv,
        settings_for(srv),
        scan_of(sample_fixture, [A]),
        op,
        tmp_path / "j",
        max_code_attempts=2,
    )
    assert summary.outcomes[0].outcome == "failed"
    assert srv.call_counts()[BIND] == 2
    assert ("resend", A) in op.asked
    assert not _flag(srv, A)


def test_expired_code_then_resend(
    emulator, sample_fixture, settings_for, scripted, code_of, tmp_path
):
    srv = emulator()

    def stale(aid: str) -> str:
        code = code_of(srv, aid)
        srv.expire_codes()
        return code

    op = scripted(
        confirm={A: True}, codes=[stale, "r", lambda aid: code_of(srv, aid)], resend=[True]
    )
    summary = _run(srv, settings_for(srv), scan_of(sample_fixture, [A]), op, tmp_path / "j")
    assert summary.outcomes[0].outcome == "verified"
    assert len(srv.outbox()) == 2
    assert ("resend", A) in op.asked


def test_locally_expired_code_offers_resend_without_bind(
    emulator, sample_fixture, settings_for, scripted, code_of, tmp_path
):
    srv = emulator(code_ttl_s=0.001)  # every code is already expired when it is typed

    def typed_late(aid: str) -> str:
        time.sleep(0.01)  # past the 1 ms lifetime even on a fast loopback
        return str(code_of(srv, aid))

    op = scripted(confirm={A: True}, codes=[typed_late] * 3, resend=[True])
    summary = _run(
        srv, settings_for(srv), scan_of(sample_fixture, [A]), op, tmp_path / "j", max_sends=2
    )
    assert summary.outcomes[0].outcome == "failed"
    assert "expired" in summary.outcomes[0].detail
    assert srv.call_counts().get(BIND, 0) == 0
    assert srv.call_counts()[SEND] == 2


def test_daily_limit_explained_and_sending_stops(
    emulator, sample_fixture, settings_for, scripted, code_of, tmp_path
):
    srv = emulator(daily_send_limit=1)
    op = scripted(
        confirm={A: True, B: True},
        codes=["r", lambda aid: code_of(srv, aid)],
        resend=[True],
    )
    summary = _run(srv, settings_for(srv), scan_of(sample_fixture, [A, B]), op, tmp_path / "j")
    outcomes = {o.account_id: o for o in summary.outcomes}
    assert outcomes[A].outcome == "failed"
    assert "SendValidateCodeExceedsLimitForAccount" in outcomes[A].detail
    # whether the limit counts per member or per management account is not documented: no
    # further code is sent in this run
    assert outcomes[B].outcome == "not_run" and "tomorrow" in outcomes[B].detail
    assert "tomorrow" in op.text()


def test_bound_by_someone_else_before_and_during(
    emulator, sample_fixture, settings_for, scripted, tmp_path
):
    srv = emulator()
    srv.state.bind_phone(A, "86-13600000000")  # before the run: GetAccount shows it

    def meanwhile(aid: str) -> str:
        srv.state.bind_phone(aid, "86-13600000001")  # while the operator reads the SMS
        return "123456"

    op = scripted(confirm={B: True}, codes=[meanwhile])
    summary = _run(srv, settings_for(srv), scan_of(sample_fixture, [A, B]), op, tmp_path / "j")
    assert {o.account_id: o.outcome for o in summary.outcomes} == {
        A: "already_bound",
        B: "already_bound",
    }
    assert ("confirm", A) not in op.asked
    assert srv.call_counts()[SEND] == 1
    assert {o.outcome for o in load_outcomes(tmp_path / "j")} == {"already_bound"}


def test_cloud_account_manual_and_bad_number_never_sent(
    emulator, sample_fixture, settings_for, scripted, tmp_path
):
    srv = emulator()
    phones = PhoneSources(by_account={A: "1-2025550100", CLOUD_ACCOUNT: "86-13700001111"})
    op = scripted(confirm={A: True, CLOUD_ACCOUNT: True})
    summary = _run(
        srv,
        settings_for(srv),
        scan_of(sample_fixture, [A, CLOUD_ACCOUNT]),
        op,
        tmp_path / "j",
        phones=phones,
    )
    outcomes = {o.account_id: o for o in summary.outcomes}
    assert outcomes[CLOUD_ACCOUNT].outcome == "manual"
    assert outcomes[A].outcome == "invalid_number"
    assert not summary.complete
    assert "China-site rule" in outcomes[A].detail
    assert srv.call_counts().get(SEND, 0) == 0 and srv.call_counts().get(BIND, 0) == 0
    assert not [a for a in op.asked if a[0] == "confirm"]


def test_typed_number_validated_and_reasked(
    emulator, sample_fixture, settings_for, scripted, code_of, tmp_path
):
    srv = emulator()
    op = scripted(
        confirm={A: True},
        phones=["13700001111", "44-7700900123", "86-13700001111"],
        codes=[lambda aid: code_of(srv, aid)],
    )
    summary = _run(
        srv, settings_for(srv), scan_of(sample_fixture, [A]), op, tmp_path / "j", phones=_phones()
    )
    assert summary.outcomes[0].outcome == "verified"
    text = op.text()
    assert "<country code>-<number>" in text and "China-site rule" in text
    assert srv.outbox()[0]["phone"] == "86-13700001111"


def test_enterprise_real_name_error_explained(
    emulator, sample_fixture, settings_for, scripted, code_of, tmp_path
):
    srv = emulator()
    op = scripted(confirm={NOT_VERIFIED: True}, codes=[lambda aid: code_of(srv, aid)])
    summary = _run(
        srv,
        settings_for(srv),
        scan_of(sample_fixture, [NOT_VERIFIED]),
        op,
        tmp_path / "j",
        phones=_phones(NOT_VERIFIED),
    )
    assert summary.outcomes[0].outcome == "failed"
    assert "real-name verification" in op.text()


def test_root_caller_refused_before_sending(
    emulator, sample_fixture, settings_for, scripted, tmp_path
):
    srv = emulator()
    op = scripted(confirm={A: True})
    with pytest.raises(RemediationError, match="not a RAM user or role") as info:
        _run(srv, settings_for(srv, ROOT), scan_of(sample_fixture, [A]), op, tmp_path / "j")
    assert "print-policy remediate" in (info.value.hint or "")
    assert srv.call_counts().get(SEND, 0) == 0
    assert op.asked == []


def test_caller_identity_error_at_bind_stops_everyone(
    emulator, sample_fixture, settings_for, scripted, code_of, tmp_path
):
    srv = emulator()
    srv.script_fault(BIND, count=1, code="CallerIdentityError")
    op = scripted(confirm={A: True, B: True}, codes=[lambda aid: code_of(srv, aid)])
    summary = _run(srv, settings_for(srv), scan_of(sample_fixture, [A, B]), op, tmp_path / "j")
    assert summary.stopped.startswith("CallerIdentityError")
    assert [o.outcome for o in summary.outcomes] == ["failed", "not_run"]
    assert ("confirm", B) not in op.asked
    assert srv.call_counts()[SEND] == 1


def test_throttling_explained(emulator, sample_fixture, settings_for, scripted, tmp_path):
    srv = emulator()
    srv.script_fault(SEND, count=5, code="Throttling.User")
    op = scripted(confirm={A: True})
    summary = _run(srv, settings_for(srv), scan_of(sample_fixture, [A]), op, tmp_path / "j")
    assert summary.outcomes[0].outcome == "failed"
    assert "flow control" in op.text() and "--resume" in op.text()


def test_ctrl_c_stops_cleanly_and_resume_continues(
    emulator, sample_fixture, settings_for, scripted, code_of, tmp_path
):
    srv = emulator()
    journal = tmp_path / "j"

    def interrupt(aid: str) -> str:
        raise KeyboardInterrupt

    op = scripted(
        confirm={A: True, B: True, C: True},
        codes=[lambda aid: code_of(srv, aid), interrupt],
    )
    scan = scan_of(sample_fixture, [A, B, C])
    summary = _run(srv, settings_for(srv), scan, op, journal)
    assert summary.interrupted
    assert [o.outcome for o in summary.outcomes] == ["verified", "not_run", "not_run"]
    assert verify_journal(journal).lines > 0
    assert read_journal(journal)[-1].outcome == "interrupted"

    op2 = scripted(confirm={B: True, C: True}, codes=[lambda aid: code_of(srv, aid)] * 2)
    summary2 = _run(srv, settings_for(srv), scan, op2, journal, resume=True)
    got = {o.account_id: (o.outcome, o.from_journal) for o in summary2.outcomes}
    assert got == {A: ("verified", True), B: ("verified", False), C: ("verified", False)}
    assert ("confirm", A) not in op2.asked
    assert {o.outcome for o in load_outcomes(journal)} == {"verified"}


def test_plan_unknown_account_and_not_failing(sample_fixture):
    scan = scan_of(sample_fixture, [A, BOUND, CLOUD_ACCOUNT])
    with pytest.raises(ConfigError, match="9999 not found"):
        build_plan(scan, site="cn", accounts=["9999"])
    plan = build_plan(scan, site="cn", phones=_phones(A))
    assert [i.kind for i in plan.items] == ["bind", "manual"]
    plan = build_plan(scan, site="cn", accounts=[BOUND])
    assert plan.items[0].kind == "not_failing"
    intl = build_plan(scan, site="intl", accounts=[A], phones=_phones(A))
    assert intl.items[0].kind == "bad_phone"
    assert "international-site rule" in intl.items[0].problem


def test_phone_tag_source(sample_fixture):
    scan = scan_of(sample_fixture, [A])
    plan = build_plan(scan, site="cn", phones=PhoneSources(tag="team"))
    assert plan.items[0].kind == "bad_phone"  # the tag "data" is not a number
    assert "tag team" in plan.items[0].problem


def test_dry_run_sends_nothing(emulator, sample_fixture, settings_for, tmp_path):
    srv = emulator()
    srv.state.bind_phone(B, "86-13600000000")
    scan = scan_of(sample_fixture, [A, B, CLOUD_ACCOUNT])
    plan = build_plan(scan, site="cn", phones=_phones(A, B))
    result = dry_run(plan, RdClientApi(RdClient(settings_for(srv))))
    assert result.caller.ok
    by_id = {d.item.account_id: d for d in result.items}
    assert "send a code" in by_id[A].would
    assert by_id[B].would.startswith("skip: already bound")
    assert by_id[CLOUD_ACCOUNT].would.startswith("skip: manual")
    assert any(
        "BindSecureMobilePhone" in c and "86-137****1111" in c for c in by_id[A].item.calls()
    )
    assert srv.outbox() == []  # Send and Bind were probed for the management account only
    assert srv.call_counts().get(SEND) == 1 and srv.call_counts().get(BIND) == 1
    master = srv.state.account(sample_fixture.directory.master_account_id)
    assert master.secure_mobile_phone == "86-13800000001"  # as the fixture has it: not bound anew
    assert result.ok and result.permissions == ()


def test_dry_run_flags_transitional_status_and_root_caller(emulator, sample_fixture, settings_for):
    srv = emulator()
    verifying = "1000000000102947"  # mobile-prod-13, PromoteVerifying, no phone
    plan = build_plan(scan_of(sample_fixture, [verifying]), site="cn", phones=_phones(verifying))
    result = dry_run(plan, RdClientApi(RdClient(settings_for(srv))))
    assert not result.ok
    assert "PromoteVerifying" in result.items[0].problems[0]
    root = dry_run(plan, RdClientApi(RdClient(settings_for(srv, ROOT))))
    assert not root.caller.ok and "Account identity" in root.caller.problem
    assert srv.outbox() == []


def test_site_mismatch_explained_by_the_api(
    emulator, sample_fixture, settings_for, scripted, tmp_path
):
    srv = emulator()  # a China-site directory, remediated as if it were international
    plan = build_plan(
        scan_of(sample_fixture, [A]), site="intl", phones=_phones(A, number="44-7700900123")
    )
    op = scripted(confirm={A: True})
    with JournalWriter(tmp_path / "j") as writer:
        summary = run_flow(plan, RdClientApi(RdClient(settings_for(srv))), writer, op)
    assert summary.outcomes[0].outcome == "failed"
    assert "InvalidParameter.MobileCountryCode" in summary.outcomes[0].detail
    assert "86- numbers" in op.text()
    assert srv.outbox() == []


def test_expiry_without_a_zone_is_read_as_utc_not_a_crash():
    from datetime import datetime, timezone

    from scanner.remediate import SentCode, expired

    now = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
    assert expired(SentCode("2026-11-27T11:59:00", "r"), now)  # no Z: UTC, not a TypeError
    assert not expired(SentCode("2026-11-27T12:05:00.5", "r"), now)
    assert expired(SentCode("2026-11-27T11:59:00Z", "r"), now)
    assert not expired(SentCode("not a time", "r"), now)


def test_full_width_code_is_read_as_digits_not_a_wrong_code(
    emulator, sample_fixture, settings_for, scripted, code_of, tmp_path
):
    srv = emulator()

    def full_width(aid: str) -> str:  # an input method left in full-width mode
        return "".join(chr(ord(d) - ord("0") + 0xFF10) for d in code_of(srv, aid))

    op = scripted(confirm={A: True}, codes=[full_width])
    summary = _run(srv, settings_for(srv), scan_of(sample_fixture, [A]), op, tmp_path / "j")
    assert summary.outcomes[0].outcome == "verified", op.text()
    assert srv.call_counts()[BIND] == 1


def test_other_digits_never_reach_bind(emulator, sample_fixture, settings_for, scripted, tmp_path):
    srv = emulator()
    arabic_indic = "".join(chr(0x0660 + int(d)) for d in "123456")
    op = scripted(confirm={A: True}, codes=[arabic_indic, ""])
    summary = _run(srv, settings_for(srv), scan_of(sample_fixture, [A]), op, tmp_path / "j")
    assert summary.outcomes[0].outcome == "failed"
    assert srv.call_counts().get(BIND, 0) == 0  # not a code: asked again, not counted
    assert "6 digits" in op.text()


def test_typed_numbers_all_breaking_the_rule_is_invalid_number(
    emulator, sample_fixture, settings_for, scripted, tmp_path
):
    srv = emulator()
    op = scripted(confirm={A: True}, phones=["1-2025550100"] * 3)
    summary = _run(
        srv, settings_for(srv), scan_of(sample_fixture, [A]), op, tmp_path / "j", phones=_phones()
    )
    assert summary.outcomes[0].outcome == "invalid_number"
    assert "China-site rule" in summary.outcomes[0].detail
    assert not summary.complete  # the run exits non-zero: a number broke a rule
    assert srv.call_counts().get(SEND, 0) == 0


def test_resume_after_a_crash_past_bind_records_verified(
    emulator, sample_fixture, settings_for, scripted, tmp_path
):
    """Killed after Bind went through but before its line: the resume finds the number it sent a
    code to bound, and records verified (GetAccount true), not 'bound before this run'. A member
    bound meanwhile to another number stays already_bound."""
    srv = emulator()
    journal = tmp_path / "j"
    with JournalWriter(journal, operator_arn="arn") as j:  # what the killed run left
        for aid in (A, B):
            j.append("confirm", "confirmed", account_id=aid, phone_masked="86-137****1111")
            j.append("send", "sent", account_id=aid, phone_masked="86-137****1111")
    srv.state.bind_phone(A, "86-13700001111")  # our Bind, whose line was never written
    srv.state.bind_phone(B, "86-13600009999")  # someone else's number
    op = scripted()
    summary = _run(
        srv, settings_for(srv), scan_of(sample_fixture, [A, B]), op, journal, resume=True
    )
    assert {o.account_id: o.outcome for o in summary.outcomes} == {
        A: "verified",
        B: "already_bound",
    }
    assert op.asked == [] and srv.call_counts().get(SEND, 0) == 0
    assert {o.account_id: o.outcome for o in load_outcomes(journal)} == {
        A: "verified",
        B: "already_bound",
    }


def test_a_member_that_is_now_a_cloud_account_is_never_sent(
    emulator, sample_fixture, settings_for, scripted, tmp_path
):
    """report.json says ResourceAccount, GetAccount says CloudAccount now: trust the API."""
    from dataclasses import replace

    from scanner.findings import Remediation

    srv = emulator()
    scan = scan_of(sample_fixture, [CLOUD_ACCOUNT])
    stale = replace(scan.results[0], type="ResourceAccount", remediation=Remediation.API)
    scan = replace(scan, results=(stale,))
    op = scripted(confirm={CLOUD_ACCOUNT: True})
    phones = PhoneSources(by_account={CLOUD_ACCOUNT: "86-13700001111"})
    summary = _run(srv, settings_for(srv), scan, op, tmp_path / "j", phones=phones)
    (outcome,) = summary.outcomes
    assert outcome.outcome == "manual"
    assert "CloudAccount" in outcome.detail
    assert srv.call_counts().get(SEND, 0) == 0 and srv.call_counts().get(BIND, 0) == 0
    assert not [a for a in op.asked if a[0] == "confirm"]
