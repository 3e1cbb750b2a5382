"""Remediation meets the real Send (issue 9): Send checks none of Bind's preconditions, so
rdscan checks them first; a resume between Send and Bind asks for the code still valid; the dry
run probes Send and Bind; the daily limit stops further Sends; the verify step's RequestId."""

from __future__ import annotations

import dataclasses

from scanner.client.sdk import RdClient
from scanner.remediate import FlowOptions, RdClientApi, build_plan, dry_run, run_flow
from scanner.remediate.journal import JournalWriter, read_journal
from scanner.remediate.phone_sources import PhoneSources

from .conftest import UNBOUND, scan_of

A, B, C = UNBOUND[0], UNBOUND[1], UNBOUND[2]
SEND = "SendVerificationCodeForBindSecureMobilePhone"
BIND = "BindSecureMobilePhone"
VERIFYING = "1000000000102947"  # mobile-prod-13: ResourceAccount, PromoteVerifying, no phone
AUDITOR = ("LTAI-auditor", "auditor-secret")


def _phones(*ids: str, number: str = "86-13700001111") -> PhoneSources:
    return PhoneSources(by_account={i: number for i in ids})


def _run(settings, scan, operator, journal, *, phones, **opts):
    plan = build_plan(scan, site="cn", phones=phones)
    with JournalWriter(journal) as writer:
        return run_flow(
            plan, RdClientApi(RdClient(settings)), writer, operator, FlowOptions(**opts)
        )


def test_the_live_flow_sends_nothing_to_a_member_bind_would_refuse(
    emulator, sample_fixture, settings_for, scripted, tmp_path
):
    srv = emulator()
    op = scripted(confirm={VERIFYING: True, A: True}, codes=[lambda aid: "000000"])
    summary = _run(
        settings_for(srv),
        scan_of(sample_fixture, [VERIFYING]),
        op,
        tmp_path / "j",
        phones=_phones(VERIFYING),
    )
    (outcome,) = summary.outcomes
    assert outcome.outcome == "failed"
    assert "PromoteVerifying" in outcome.detail and "no code was sent" in outcome.detail
    assert srv.outbox() == [] and SEND not in srv.call_counts()
    assert ("confirm", VERIFYING) not in op.asked  # refused before asking
    assert not summary.complete  # said out loud: remediate exits 1


def test_the_verify_step_records_the_get_account_request_id(
    emulator, sample_fixture, settings_for, scripted, code_of, tmp_path
):
    srv = emulator()
    op = scripted(confirm={A: True}, codes=[lambda aid: code_of(srv, aid)])
    journal = tmp_path / "j"
    _run(settings_for(srv), scan_of(sample_fixture, [A]), op, journal, phones=_phones(A))
    entries = read_journal(journal)
    bind = next(e for e in entries if e.action == "bind" and e.outcome == "bound")
    verify = next(e for e in entries if e.action == "verify")
    assert verify.outcome == "verified"
    assert verify.request_id and verify.request_id != bind.request_id
    assert verify.extra.get("bind_request_id") == bind.request_id


def test_resume_between_send_and_bind_asks_for_the_code_still_valid(
    emulator, sample_fixture, settings_for, scripted, code_of, tmp_path
):
    srv = emulator()
    journal = tmp_path / "j"
    scan = scan_of(sample_fixture, [A])
    # the first run is "killed" after the Send: the operator types nothing, no resend offered
    first = scripted(confirm={A: True}, codes=[], resend=[False])
    plan = build_plan(scan, site="cn", phones=_phones(A))
    with JournalWriter(journal) as writer:
        api = RdClientApi(RdClient(settings_for(srv)))
        writer.start_session("acs:ram::1512345678901234:user/operator", "scan-x")
        sent = api.send_code(A, "86-13700001111")
        writer.append("confirm", "confirmed", account_id=A, phone_masked="86-137****1111")
        writer.append(
            "send",
            "sent",
            account_id=A,
            phone_masked="86-137****1111",
            request_id=sent.request_id,
            extra={"expires_at": sent.expires_at},
        )
    del first, plan
    code = code_of(srv, A)
    resumed = scripted(confirm={}, codes=[code])  # confirm would answer No: never asked
    summary = _run(settings_for(srv), scan, resumed, journal, phones=_phones(A), resume=True)
    assert summary.outcomes[0].outcome == "verified"
    assert len(srv.outbox()) == 1  # no new code sent
    assert ("confirm", A) not in resumed.asked
    assert "type that code (no new code is sent)" in resumed.text()


def test_resume_with_an_expired_code_sends_a_new_one(
    emulator, sample_fixture, settings_for, scripted, code_of, tmp_path
):
    srv = emulator()
    journal = tmp_path / "j"
    with JournalWriter(journal) as writer:
        writer.start_session("acs:ram::1512345678901234:user/operator", "scan-x")
        writer.append(
            "send",
            "sent",
            account_id=A,
            phone_masked="86-137****1111",
            request_id="R1",
            extra={"expires_at": "2020-01-01T00:00:00Z"},
        )
    op = scripted(confirm={A: True}, codes=[lambda aid: code_of(srv, aid)])
    summary = _run(
        settings_for(srv), scan_of(sample_fixture, [A]), op, journal, phones=_phones(A),
        resume=True,
    )  # fmt: skip
    assert summary.outcomes[0].outcome == "verified"
    assert ("confirm", A) in op.asked and len(srv.outbox()) == 1


def test_a_daily_limit_mid_batch_stops_further_sends_and_keeps_the_done(
    emulator, sample_fixture, settings_for, scripted, code_of, tmp_path
):
    knobs = dataclasses.replace(
        sample_fixture.undocumented, daily_send_limit=1, daily_send_limit_scope="management_account"
    )
    srv = emulator(dataclasses.replace(sample_fixture, undocumented=knobs))
    op = scripted(confirm={A: True, B: True, C: True}, codes=[lambda aid: code_of(srv, aid)])
    summary = _run(
        settings_for(srv),
        scan_of(sample_fixture, [A, B, C]),
        op,
        tmp_path / "j",
        phones=_phones(A, B, C),
    )
    outcomes = {o.account_id: o for o in summary.outcomes}
    assert outcomes[A].outcome == "verified"  # kept
    assert outcomes[B].outcome == "failed"
    assert "SendValidateCodeExceedsLimitForAccount" in outcomes[B].detail
    assert outcomes[C].outcome == "not_run"
    assert "daily limit" in outcomes[C].detail and "tomorrow" in outcomes[C].detail
    assert srv.call_counts()[SEND] == 2  # A's, and B's refused one: none for C
    assert summary.stopped


def test_the_dry_run_probes_send_and_bind_and_ends_with_a_summary(
    emulator, sample_fixture, settings_for
):
    srv = emulator()
    plan = build_plan(
        scan_of(sample_fixture, [A, VERIFYING]), site="cn", phones=_phones(A, VERIFYING)
    )
    ok = dry_run(plan, RdClientApi(RdClient(settings_for(srv))))
    assert ok.permissions == ()
    assert [d.item.account_id for d in ok.ready] == [A]
    assert [d.item.account_id for d in ok.blocked] == [VERIFYING]
    assert "1 member blocked" in ok.why_not_ok()[0]
    read_only = dry_run(plan, RdClientApi(RdClient(settings_for(srv, AUDITOR))))
    assert not read_only.ok
    assert any(p.startswith(f"{SEND} is denied") for p in read_only.permissions)
    assert any(p.startswith(f"{BIND} is denied") for p in read_only.permissions)
    assert srv.outbox() == []
