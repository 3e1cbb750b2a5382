"""The scan fault suite: for each fault the scan ends correct, or with ERROR results and exit 3;
never a wrong PASS, never a member lost, never a traceback.

Each fault runs the real scan (the real SDKs over HTTP) against the emulator, directly or
through the fault-injecting proxy; ``_judge`` checks every result against the emulator's truth.
Deadlines and retries are short (options), so the suite stays fast.
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import threading
import time
from collections.abc import Callable
from itertools import count
from typing import Any

import pytest

from scanner.client.sdk import RdClient
from scanner.engine import exit_code
from scanner.findings import ScanResult, Status
from scanner.policy import load_exemptions, load_policy
from scanner.resources import default_policy_path
from scanner.scan import ScanRequest, run_scan

from .conftest import fast_settings
from .proxy import Fault, FaultProxy

MEMBERS = 24


def _scan(proxy: FaultProxy, **settings: Any) -> ScanResult:
    request = ScanRequest(
        settings=fast_settings(proxy, **settings),
        policy=load_policy(default_policy_path()),
        exemptions=load_exemptions(None),
        today=dt.date(2026, 11, 30),
    )
    return run_scan(request, client=RdClient(request.settings))


def _judge(scan: ScanResult, srv: Any, *, may_fail: set[str] | None = None) -> int:
    """Every member once; every non-ERROR result true to the emulator; returns the exit code
    (3 exactly when some member is ERROR). ``may_fail``: the only members allowed to be ERROR
    (None: any)."""
    truth = {a.id: a for a in srv.state.accounts()}
    got = [r.account_id for r in scan.results]
    assert sorted(got) == sorted(truth), "a member was lost or invented"
    errors = set()
    for r in scan.results:
        if r.result is Status.ERROR:
            errors.add(r.account_id)
            assert r.reason, "an ERROR without its reason"
            continue
        if r.result is Status.SKIPPED:
            continue
        bound = truth[r.account_id].secure_mobile_phone is not None
        assert (r.result is Status.PASS) == bound, f"wrong {r.result.value} for {r.account_id}"
    if may_fail is not None:
        assert errors <= may_fail, f"unexpected ERROR for {errors - may_fail}"
    code = exit_code(scan.results, None, listing_complete=scan.listing_complete)
    assert code == (3 if errors else 0)
    return code


def _one_member(srv: Any, index: int = 3) -> str:
    return sorted(a.id for a in srv.state.accounts() if a.type == "ResourceAccount")[index]


def _for(aid: str) -> Callable[[dict[str, str]], bool]:
    return lambda params: params.get("AccountId") == aid


def _reason(scan: ScanResult, aid: str) -> str:
    (r,) = [r for r in scan.results if r.account_id == aid]
    assert r.result is Status.ERROR, f"{aid} is {r.result.value}, not ERROR"
    return r.reason


# ---- transient faults: the scan ends correct -------------------------------------------------


def test_throttling_storm_ends_correct(faulty):
    srv, proxy = faulty(MEMBERS)
    srv.script_fault("GetAccount", 40, "Throttling.User", status=400)
    srv.script_fault("ListAccounts", 3, "Throttling.User", status=400)
    assert _judge(_scan(proxy, max_attempts=30), srv, may_fail=set()) == 0


def test_5xx_burst_ends_correct(faulty):
    srv, proxy = faulty(MEMBERS)
    srv.script_fault("GetAccount", 15, "InternalError", status=500)
    srv.script_fault("GetAccount", 10, "ServiceUnavailable", status=503)
    srv.script_fault("ListAccounts", 2, "ServiceUnavailable", status=503)
    assert _judge(_scan(proxy, max_attempts=30), srv, may_fail=set()) == 0


def test_connection_resets_end_correct(faulty):
    srv, proxy = faulty(MEMBERS)
    proxy.add("*", Fault("reset"), count=12)
    assert _judge(_scan(proxy, max_attempts=30), srv, may_fail=set()) == 0
    assert sum(1 for s in proxy.seen if s.fault == "reset") == 12


@pytest.mark.parametrize(
    "body", [b"not json at all", b'{"Account": {"HasSecureMob', b"", b"[1, 2]", b'"text"']
)
def test_transient_unreadable_200_ends_correct(faulty, body):
    srv, proxy = faulty(MEMBERS)
    proxy.add("GetAccount", Fault("raw", status=200, body=body), count=3)
    assert _judge(_scan(proxy, max_attempts=5), srv, may_fail=set()) == 0


# ---- persistent faults on one member: that member is ERROR, exit 3 -------------------------


@pytest.mark.parametrize(
    ("name", "fault", "why"),
    [
        ("hang", Fault("hang"), "no complete answer within 1 s"),
        ("trickle", Fault("trickle", interval_s=0.3, size=500), "no complete answer within 1 s"),
        ("reset", Fault("reset"), "the connection was reset"),
        ("invalid json", Fault("raw", body=b"<html>bad gateway</html>"), "unreadable response"),
        # a cut body ends as "unreadable" when the proxy's close arrives first, or at the deadline
        # when the client is still waiting for the rest: ERROR either way
        (
            "truncated json",
            Fault("raw", body=b'{"Account":{"HasSecureMobilePhone":tr'),
            "unread|no complete answer within 1 s",
        ),
        ("json list", Fault("raw", body=b"[true]"), "the body is JSON list, not an object"),
        ("100 MB body", Fault("huge", size=100 << 20), "larger than the 4,194,304-byte cap"),
        (
            "100 MB chunked",
            Fault("huge", size=100 << 20, chunked=True),
            "larger than the 4,194,304-byte cap",
        ),
    ],
)
def test_a_member_whose_answers_fail_is_error_and_the_rest_correct(faulty, name, fault, why):
    srv, proxy = faulty(MEMBERS)
    aid = _one_member(srv)
    fault.when = _for(aid)
    proxy.add("GetAccount", fault)
    started = time.monotonic()
    scan = _scan(proxy, attempt_timeout_s=1.0, max_attempts=2)
    elapsed = time.monotonic() - started
    assert _judge(scan, srv, may_fail={aid}) == 3
    # under load the attempt's deadline may come before the fault shows itself: ERROR either way
    reasons = [*why.split("|"), "no complete answer within 1 s"]
    assert any(w in _reason(scan, aid) for w in reasons), _reason(scan, aid)
    assert elapsed < 40, f"{name}: the scan took {elapsed:.1f} s"
    if fault.kind == "huge":  # the cap stopped the read: far less than 100 MB crossed the wire
        assert proxy.huge_bytes_sent < 50 << 20


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("true", "HasSecureMobilePhone is a str, 'true', not true or false"),
        ("false", "HasSecureMobilePhone is a str, 'false', not true or false"),
        (None, "HasSecureMobilePhone is null, not true or false"),
        (1, "HasSecureMobilePhone is a int, 1, not true or false"),
        ({"v": True}, "HasSecureMobilePhone is a dict"),
        ("<absent>", "GetAccount response has no HasSecureMobilePhone field"),
    ],
)
def test_has_secure_mobile_phone_not_a_boolean_is_error_never_a_guess(faulty, value, why):
    srv, proxy = faulty(MEMBERS)
    bound = sorted(a.id for a in srv.state.accounts() if a.secure_mobile_phone)[0]
    unbound = sorted(a.id for a in srv.state.accounts() if not a.secure_mobile_phone)[0]

    def edit(params: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        account = dict(body["Account"])
        if value == "<absent>":
            account.pop("HasSecureMobilePhone", None)
        else:
            account["HasSecureMobilePhone"] = value
        return {**body, "Account": account}

    for aid in (bound, unbound):
        proxy.add("GetAccount", Fault("rewrite", edit=edit, when=_for(aid)))
    scan = _scan(proxy)
    assert _judge(scan, srv, may_fail={bound, unbound}) == 3
    for aid in (bound, unbound):
        assert why in _reason(scan, aid)


@pytest.mark.parametrize("account", ["text", [1, 2], 7])
def test_account_field_of_the_wrong_type_is_error(faulty, account):
    srv, proxy = faulty(MEMBERS)
    aid = _one_member(srv)
    proxy.add(
        "GetAccount",
        Fault("rewrite", edit=lambda p, body: {**body, "Account": account}, when=_for(aid)),
    )
    scan = _scan(proxy)
    assert _judge(scan, srv, may_fail={aid}) == 3
    assert "Account is a JSON" in _reason(scan, aid)


# ---- identity lost mid-scan ------------------------------------------------------------------


def _after_n_reads(n: int, then: Callable[[], None]) -> Fault:
    seen = count(1)
    lock = threading.Lock()

    def edit(params: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        with lock:
            if next(seen) == n:
                then()
        return body

    return Fault("rewrite", edit=edit)


def test_credentials_revoked_mid_scan_errors_the_rest(faulty):
    srv, proxy = faulty(MEMBERS)
    proxy.add(
        "GetAccount", _after_n_reads(8, lambda: srv.update_caller("LTAI-auditor", active=False))
    )
    scan = _scan(proxy, concurrency=2)
    _judge(scan, srv)
    errors = [r for r in scan.results if r.result is Status.ERROR]
    assert 1 <= len(errors) <= MEMBERS - 8 + 2
    assert all("InvalidAccessKeyId.Inactive" in r.reason for r in errors)


def test_sts_token_expiring_mid_scan_errors_the_rest(faulty):
    srv, proxy = faulty(MEMBERS, sts=True)
    proxy.add(
        "GetAccount",
        _after_n_reads(5, lambda: srv.update_caller("STS.auditor", security_token_expired=True)),
    )
    scan = _scan(
        proxy,
        concurrency=2,
        access_key_id="STS.auditor",
        access_key_secret="sts-secret",
        security_token="sts-token",
    )
    _judge(scan, srv)
    errors = [r for r in scan.results if r.result is Status.ERROR]
    assert 1 <= len(errors) <= MEMBERS - 5 + 2
    assert all("InvalidSecurityToken.Expired" in r.reason for r in errors)
    assert all("get a fresh one" in r.reason or r.reason for r in errors)


# ---- through the CLI: exit 3, bounded time and memory ------------------------------------------


def test_cli_trickling_server_ends_in_bounded_time_with_exit_3(faulty, rdscan_via, tmp_path):
    srv, proxy = faulty(MEMBERS)
    aid = _one_member(srv)
    proxy.add("GetAccount", Fault("trickle", interval_s=3.0, size=1000, when=_for(aid)))
    started = time.monotonic()
    run = rdscan_via(
        proxy,
        "scan",
        "--timeout",
        "1",
        "--max-attempts",
        "2",
        "--retry-budget",
        "3",
        "--fail-on",
        "none",
        "--no-history",
        "--format",
        "json",
    )
    elapsed = time.monotonic() - started
    assert run.returncode == 3, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    assert elapsed < 20
    doc = json.loads((tmp_path / "rdscan-report" / "report.json").read_text())
    (row,) = [a for a in doc["accounts"] if a["account_id"] == aid]
    assert row["result"] == "ERROR" and "no complete answer within 1 s" in row["reason"]


def test_cli_100mb_answers_stay_bounded_in_memory(faulty, rdscan_via):
    _srv, proxy = faulty(4)
    proxy.add("GetAccount", Fault("huge", size=100 << 20, chunked=True))
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    run = rdscan_via(proxy, "scan", "--fail-on", "none", "--no-history", "--format", "json")
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert run.returncode == 3, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    assert "ERROR             4" in run.stdout
    # the child's peak resident memory (KiB on Linux): far from 4 x 100 MB
    assert peak_mb < 250 or before / 1024 >= 250, f"peak {peak_mb:.0f} MB"
