"""Rate limits, injected faults, call counts, and the directory changing while it is served."""

from __future__ import annotations

import http.client
import threading

import pytest
from alibabacloud_resourcedirectorymaster20220419 import models as rdm_models
from alibabacloud_resourcemanager20200331 import models as rm_models
from alibabacloud_tea_openapi.exceptions import (
    ClientException,
    ServerException,
    ThrottlingException,
)

MASTER = "1512345678901234"


def test_burst_above_limit_is_throttled_per_account(emulator, rm):
    srv = emulator(rate_limit=2)
    client = rm(srv)
    outcomes = []
    for _ in range(12):
        try:
            client.get_resource_directory()
            outcomes.append("ok")
        except ClientException as err:
            assert (err.code, err.status_code) == ("Throttling.User", 400)
            assert err.data["Message"] == "Request was denied due to user flow control."
            outcomes.append("throttled")
    assert outcomes[:2] == ["ok", "ok"]
    assert "throttled" in outcomes
    # a caller of another account, and another action of the same caller, have their own
    # buckets (the outsider's directory call fails, but not for throttling)
    with pytest.raises(ClientException) as other:
        rm(srv, "outsider").get_resource_directory()
    assert other.value.code == "ResourceDirectoryNotInUse"
    assert client.list_accounts(rm_models.ListAccountsRequest()).body.request_id
    assert srv.call_counts()["GetResourceDirectory"] == 13


def test_rate_limit_can_be_changed_and_disabled(emulator, rm):
    srv = emulator(rate_limit=1)
    client = rm(srv)
    client.get_resource_directory()
    with pytest.raises(ClientException):
        client.get_resource_directory()
    srv.set_rate_limit(0)
    for _ in range(30):
        client.get_resource_directory()


def test_scripted_faults(emulator, rdm):
    srv = emulator()
    client = rdm(srv)
    req = rdm_models.GetAccountRequest(account_id=MASTER)
    srv.script_fault(action="GetAccount", count=2, code="ServiceUnavailable", status=503)
    for _ in range(2):
        with pytest.raises(ServerException) as err:
            client.get_account(req)
        assert (err.value.code, err.value.status_code) == ("ServiceUnavailable", 503)
    assert client.get_account(req).body.account.account_id == MASTER
    srv.script_fault(action="GetAccount", count=1, code="Throttling.User", retry_after_ms=250)
    with pytest.raises(ThrottlingException) as terr:
        client.get_account(req)
    assert terr.value.retry_after == 250
    assert terr.value.code == "Throttling.User"
    assert srv.call_counts()["GetAccount"] == 4


def test_scripted_fault_for_any_action_and_clear(emulator, rm, sts):
    srv = emulator()
    srv.script_fault(count=1, code="InternalError")
    with pytest.raises(ServerException) as err:
        sts(srv).get_caller_identity()
    assert (err.value.code, err.value.status_code) == ("InternalError", 500)
    srv.script_fault(action="*", count=3)
    srv.clear_faults()
    assert rm(srv).get_resource_directory().body.request_id


def test_fault_rate_and_latency(emulator, rm):
    srv = emulator(fault_rate=1.0, latency_ms=5, seed=3)
    with pytest.raises(ServerException) as err:
        rm(srv).get_resource_directory()
    assert err.value.code == "ServiceUnavailable"
    srv.fault_rate = 0.0
    assert rm(srv).get_resource_directory().body.request_id


def test_counts_reset(emulator, rm):
    srv = emulator()
    rm(srv).get_resource_directory()
    assert srv.call_counts() == {"GetResourceDirectory": 1}
    srv.reset_counts()
    assert srv.call_counts() == {}


def test_directory_changes_while_serving(emulator, rm, sample_fixture):
    srv = emulator()
    client = rm(srv)
    total = len(sample_fixture.accounts)
    srv.state.add_account("1777000000000001", "late-joiner", folder="fd-prod01", tags={"env": "x"})
    body = client.list_accounts(rm_models.ListAccountsRequest(page_size=100)).body
    assert body.total_count == total + 1
    srv.state.remove_account(MASTER)
    body = client.list_accounts(rm_models.ListAccountsRequest(page_size=100)).body
    ids = [a.account_id for a in body.accounts.account]
    assert body.total_count == total and MASTER not in ids and "1777000000000001" in ids


def test_2022_token_paging_and_keyword(emulator, rdm, sample_fixture):
    srv = emulator(rate_limit=0)
    client = rdm(srv)
    seen, token = [], None
    while True:
        body = client.list_accounts(
            rdm_models.ListAccountsRequest(max_results=7, next_token=token)
        ).body
        seen += [a.account_id for a in body.accounts.account]
        token = body.next_token
        if not token:
            break
    assert seen == [a.id for a in sample_fixture.accounts]
    body = client.list_accounts(rdm_models.ListAccountsRequest(query_keyword="MANAGEMENT")).body
    assert [a.account_id for a in body.accounts.account] == [MASTER]


def test_accounts_for_parent(emulator, rm, sample_fixture):
    srv = emulator()
    body = (
        rm(srv)
        .list_accounts_for_parent(
            rm_models.ListAccountsForParentRequest(parent_folder_id="fd-apps01", page_size=100)
        )
        .body
    )
    want = [a.id for a in sample_fixture.accounts if a.folder == "fd-apps01"]
    assert [a.account_id for a in body.accounts.account] == want
    assert body.total_count == len(want)


def test_concurrent_clients(emulator, rdm, sample_fixture):
    srv = emulator(rate_limit=0)
    client = rdm(srv)
    errors: list[Exception] = []
    got: list[str] = []
    lock = threading.Lock()

    def work(ids):
        try:
            for account_id in ids:
                acc = client.get_account(rdm_models.GetAccountRequest(account_id=account_id))
                with lock:
                    got.append(acc.body.account.account_id)
        except Exception as exc:
            errors.append(exc)

    ids = [a.id for a in sample_fixture.accounts]
    threads = [threading.Thread(target=work, args=(ids[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(got) == sorted(ids)


def test_token_bucket_unit():
    from scanner.emulator.limits import ApiQuota

    now = [100.0]
    limiter = ApiQuota(3, clock=lambda: now[0])
    assert [limiter.allow("k", "A") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("k", "B") and limiter.allow("other", "A")
    assert limiter.allow("k", "A", "2022-04-19")  # another version: another bucket
    now[0] += 0.34  # one token back (3/s)
    assert limiter.allow("k", "A") and not limiter.allow("k", "A")
    slow = ApiQuota(0.5, clock=lambda: now[0])
    assert slow.allow("k", "A") and not slow.allow("k", "A")
    now[0] += 2.0
    assert slow.allow("k", "A")


def test_stop_ends_keep_alive_connection_threads(emulator):
    srv = emulator()
    name = f"rdscan-emulator-{srv.address[1]}-conn"

    def handler_threads():
        return [t for t in threading.enumerate() if t.name == name]

    conns = [http.client.HTTPConnection(*srv.address, timeout=5) for _ in range(4)]
    for conn in conns:  # HTTP/1.1: each connection stays open after its answer
        conn.request("POST", "/?Action=GetResourceDirectory&Version=2020-03-31")
        assert conn.getresponse().read()
    assert len(handler_threads()) == 4  # one per open keep-alive connection
    srv.stop()
    for _ in range(100):
        if not handler_threads():
            break
        threading.Event().wait(0.02)
    assert handler_threads() == []


def test_scripted_drop_is_a_connection_error_not_an_api_error(emulator, rm):
    from darabonba.exceptions import UnretryableException

    srv = emulator()
    client = rm(srv)
    srv.script_drop(action="GetResourceDirectory", count=2)
    for _ in range(2):
        with pytest.raises(UnretryableException, match="without response"):
            client.get_resource_directory()
    assert client.get_resource_directory().body.request_id  # the third call is answered
    assert srv.call_counts()["GetResourceDirectory"] == 3
