"""Remediating with the read-only auditor: Send answers NoPermission, and the operator is told
why and what to do; nothing is bound, every member still gets its outcome, the journal says it."""

from __future__ import annotations

from scanner.client.sdk import RdClient
from scanner.remediate import FlowOptions, RdClientApi, build_plan, run_flow
from scanner.remediate.journal import JournalWriter, read_journal, verify_journal
from scanner.remediate.phone_sources import PhoneSources

from .conftest import UNBOUND, scan_of

AUDITOR = ("LTAI-auditor", "auditor-secret")
SEND = "SendVerificationCodeForBindSecureMobilePhone"


def test_read_only_caller_gets_no_permission_explained(
    emulator, sample_fixture, settings_for, scripted, tmp_path
):
    srv = emulator()
    a, b = UNBOUND[0], UNBOUND[1]
    plan = build_plan(
        scan_of(sample_fixture, [a, b]),
        site="cn",
        phones=PhoneSources(by_account={a: "86-13700001111", b: "86-13700001112"}),
    )
    op = scripted(confirm={a: True, b: True})
    journal = tmp_path / "j.jsonl"
    with JournalWriter(journal) as writer:
        summary = run_flow(
            plan, RdClientApi(RdClient(settings_for(srv, AUDITOR))), writer, op, FlowOptions()
        )
    assert [o.outcome for o in summary.outcomes] == ["failed", "failed"]
    assert all(o.detail.startswith("NoPermission: ") for o in summary.outcomes)
    assert not summary.complete
    text = op.text()
    assert "lacks the RAM permission" in text and "read-only audit identity" in text
    assert "rdscan print-policy remediate" in text  # the next step names the fix
    assert srv.outbox() == [] and srv.call_counts()[SEND] == 2
    assert srv.call_counts().get("BindSecureMobilePhone", 0) == 0
    failed = [e for e in read_journal(journal) if e.action == "send" and e.outcome == "failed"]
    assert [e.account_id for e in failed] == [a, b]
    assert all("NoPermission" in e.detail for e in failed)
    verify_journal(journal)
