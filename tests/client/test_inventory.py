"""inventory.collect against the emulator over HTTP with the real SDKs."""

from __future__ import annotations

import pytest

from scanner.client.sdk import RdClient
from scanner.inventory.collect import collect
from scanner.phones import mask_phone


def _check_against_fixture(inventory, data, paths):
    """Every member of the fixture exactly once, with its folder path, flags and tags."""
    ids = [m.account_id for m in inventory.members]
    assert len(ids) == len(set(ids))
    assert set(ids) == {a["id"] for a in data["accounts"]}
    members = {m.account_id: m for m in inventory.members}
    for a in data["accounts"]:
        m = members[a["id"]]
        assert m.display_name == a["display_name"]
        assert m.type == a["type"]
        assert m.status == a["status"]
        assert m.folder_id == a["folder"]
        assert m.folder_path == paths[a["folder"]]
        assert m.join_method == a["join_method"]
        assert m.tag_map == a["tags"]
        if a.get("omit_phone_flag"):
            assert m.has_secure_mobile_phone is None
            assert "HasSecureMobilePhone" in (m.read_error or "")
        else:
            assert m.read_error is None
            phone = a.get("secure_mobile_phone")
            assert m.has_secure_mobile_phone is (phone is not None)
            assert m.secure_mobile_phone_masked == (mask_phone(phone) if phone else None)
            if phone:
                assert phone not in repr(m)


def test_large_nested_directory_every_member_once(
    start_emulator, make_fixture, make_settings, paths_of
):
    data = make_fixture(1050, depth=3)
    srv = start_emulator(data)
    client = RdClient(make_settings(srv))
    seen_progress = []
    inventory = collect(client, concurrency=8, progress=lambda d, t: seen_progress.append((d, t)))
    _check_against_fixture(inventory, data, paths_of(data))
    assert inventory.folders["r-Wm0001"].path == "Root"
    assert {f.path for f in inventory.folders.values()} == set(paths_of(data).values())
    assert seen_progress[0] == (0, 1050) and seen_progress[-1] == (1050, 1050)
    # counts are real attempts, as the server saw them
    calls = inventory.api_calls
    assert calls["GetAccount"] == 1050
    assert calls["ListAccounts"] == 2 * 11  # a listing is confirmed by a second, agreeing pass
    server = srv.call_counts()
    for action, count in calls.items():
        assert server[action] == count
    assert client.throttled_count() == 0
    assert sum(1 for m in inventory.members if m.has_secure_mobile_phone is False) > 300


def test_members_removed_and_added_between_pages(
    start_emulator, make_fixture, make_settings, paths_of
):
    data = make_fixture(350)
    srv = start_emulator(data)
    removed = [a["id"] for a in data["accounts"][:60:6]]  # from page 1: shifts every later page
    added: list[str] = []
    passes = []

    def churn(page: int, total: int) -> None:
        if page != 1:
            return
        passes.append(total)
        if len(passes) <= 2:  # after page 1 of each of the first two passes
            for _ in range(5):
                srv.state.remove_account(removed.pop())
            new_id = f"17000000000{len(added):05d}"
            srv.state.add_account(new_id, f"late-{len(added)}", folder="fd-L1p0c1")
            added.append(new_id)

    inventory = collect(RdClient(make_settings(srv)), concurrency=4, on_page=churn)
    assert len(passes) == 4  # two disturbed passes, then two that agree
    final = {a.id for a in srv.state.accounts()}
    assert len(final) == 350 - 10 + 2
    ids = [m.account_id for m in inventory.members]
    assert len(ids) == len(set(ids)), "a member was listed twice"
    assert set(ids) == final, "a member was missed or a removed one kept"
    omitted = {a["id"] for a in data["accounts"] if a.get("omit_phone_flag")}
    assert {m.account_id for m in inventory.members if m.read_error} == omitted & final
    late = {m.account_id: m for m in inventory.members}[added[0]]
    assert late.folder_path == paths_of(data)["fd-L1p0c1"]


def test_churn_on_every_pass_stays_bounded_and_loses_no_member(
    start_emulator, make_fixture, make_settings
):
    data = make_fixture(250)
    srv = start_emulator(data)
    order = [a["id"] for a in data["accounts"]]
    gone = []

    def churn(page: int, total: int) -> None:
        if page == 1:  # every pass: drop the first member (all pages shift) and add one
            victim = order.pop(0)
            srv.state.remove_account(victim)
            gone.append(victim)
            srv.state.add_account(f"18000000000{len(gone):05d}", folder="r-Wm0001")

    client = RdClient(make_settings(srv))
    inventory = collect(client, concurrency=4, on_page=churn)
    ids = [m.account_id for m in inventory.members]
    assert len(ids) == len(set(ids))
    final = {a.id for a in srv.state.accounts()}
    assert final <= set(ids), "a current member was dropped"
    members = {m.account_id: m for m in inventory.members}
    for aid in set(ids) - final:
        assert aid in gone
        if aid != gone[-1]:  # only an earlier pass listed it: read again after the listing
            assert "EntityNotExists.Account" in (members[aid].read_error or "")
            assert "gone since" in (members[aid].read_error or "")
        else:  # the last pass listed it, then it went; its read ran alongside the listing
            error = members[aid].read_error
            assert error is None or "EntityNotExists.Account" in error
    # bounded: at most MAX_LIST_PASSES passes of 3 pages each
    assert client.api_calls()["ListAccounts"] <= 4 * 4


def test_throttling_storm_below_client_rate_ends_complete(
    start_emulator, make_fixture, make_settings, paths_of
):
    data = make_fixture(160)
    srv = start_emulator(data, rate_limit=80)  # the server allows 80/s, the client tries 400/s
    client = RdClient(make_settings(srv, rate=400.0, max_attempts=30))
    inventory = collect(client, concurrency=8)
    _check_against_fixture(inventory, data, paths_of(data))
    sent = srv.call_counts()["GetAccount"]
    assert client.api_calls()["GetAccount"] == sent
    assert sent > 160  # throttled calls were retried ...
    assert client.throttled_count() >= sent - 160  # ... and only those


def test_scripted_throttling_and_5xx_bursts_end_complete(
    start_emulator, make_fixture, make_settings, paths_of
):
    data = make_fixture(120)
    srv = start_emulator(data)
    srv.script_fault("GetAccount", 25, "Throttling.User", status=400)
    srv.script_fault("GetAccount", 10, "Throttling.User", status=400, retry_after_ms=20)
    srv.script_fault("ListAccounts", 2, "ServiceUnavailable", status=503)
    srv.script_fault("GetAccount", 15, "InternalError", status=500)
    client = RdClient(make_settings(srv, max_attempts=40))
    inventory = collect(client, concurrency=6)
    _check_against_fixture(inventory, data, paths_of(data))
    assert client.throttled_count() == 35
    assert client.api_calls()["GetAccount"] == 120 + 25 + 10 + 15
    assert client.api_calls()["ListAccounts"] == 2 * 2 + 2
    assert srv.call_counts()["GetAccount"] == client.api_calls()["GetAccount"]


def test_throttling_that_outlives_the_retries_marks_the_member(
    start_emulator, make_fixture, make_settings
):
    data = make_fixture(20)
    srv = start_emulator(data)
    srv.script_fault("GetAccount", 3, "Throttling.User", status=400)
    client = RdClient(make_settings(srv, max_attempts=3))
    inventory = collect(client, concurrency=1)
    failed = [m for m in inventory.members if m.read_error]
    assert [m.account_id for m in failed] == [inventory.members[0].account_id]
    assert len(inventory.members) == 20
    reason = failed[0].read_error or ""
    assert "Throttling.User" in reason and "gave up after 3 attempts" in reason
    assert failed[0].has_secure_mobile_phone is None
    assert all(
        m.has_secure_mobile_phone is not None for m in inventory.members[1:] if m.read_error is None
    )


def test_throttling_past_the_time_budget_marks_the_member(
    start_emulator, make_fixture, make_settings
):
    data = make_fixture(5)
    srv = start_emulator(data)
    srv.script_fault("GetAccount", 2, "Throttling.User", status=400, retry_after_ms=400)
    client = RdClient(make_settings(srv, max_attempts=10, retry_budget_s=0.5))
    inventory = collect(client, concurrency=1)
    failed = [m for m in inventory.members if m.read_error]
    assert len(failed) == 1
    assert "retry budget" in (failed[0].read_error or "")


def test_permission_denied_getaccount_is_a_read_error_on_every_member(
    start_emulator, make_fixture, make_settings
):
    data = make_fixture(30)
    srv = start_emulator(data)
    client = RdClient(make_settings(srv, "lister"))
    inventory = collect(client, concurrency=4)
    assert len(inventory.members) == 30
    for m in inventory.members:
        assert m.has_secure_mobile_phone is None
        assert "NoPermission" in (m.read_error or "")
    assert client.api_calls()["GetAccount"] == 30  # never retried
    # the lister may not read folders either: paths of ids, from ResourceDirectoryPath
    assert any("ListFoldersForParent" in w for w in inventory.warnings)
    for m in inventory.members:
        assert m.folder_path.startswith("Root")
        assert m.folder_path.split("/")[-1] in ("Root", m.folder_id)
    nested = [m for m in inventory.members if m.folder_id.startswith("fd-L2")]
    assert nested and all(m.folder_path.count("/") == 3 for m in nested)


def test_concurrency_must_be_positive(start_emulator, make_fixture, make_settings):
    srv = start_emulator(make_fixture(1))
    with pytest.raises(ValueError):
        collect(RdClient(make_settings(srv)), concurrency=0)


def test_folder_created_after_the_walk_is_resolved_with_getfolder(
    start_emulator, make_fixture, make_settings, paths_of
):
    from scanner.emulator import FolderSpec

    data = make_fixture(15)
    srv = start_emulator(data)

    def grow(page: int, total: int) -> None:
        if "fd-late01" not in srv.state.folders:
            srv.state.folders["fd-late01"] = FolderSpec("fd-late01", "Late", "fd-L1p0c1")
            srv.state.add_account("1700000000000001", "newcomer", folder="fd-late01")

    client = RdClient(make_settings(srv))
    inventory = collect(client, concurrency=2, on_page=grow)
    newcomer = {m.account_id: m for m in inventory.members}["1700000000000001"]
    assert newcomer.folder_path == paths_of(data)["fd-L1p0c1"] + "/Late"
    assert inventory.folders["fd-late01"].parent_id == "fd-L1p0c1"
    # the walk runs alongside the listing: it saw the new folder, or GetFolder named it
    assert client.api_calls().get("GetFolder", 0) <= 1
    assert not inventory.warnings

    # a folder the walk did not see: GetFolder up to a known parent
    from scanner.inventory.collect import Listed, _FolderResolver

    walked = {k: v for k, v in inventory.folders.items() if k != "fd-late01"}
    resolver = _FolderResolver(client, walked, can_get=True)
    before = client.api_calls().get("GetFolder", 0)
    resolver.place(
        Listed("1700000000000001", "n", "ResourceAccount", "", "fd-late01", "", "", (), "")
    )
    assert resolver.folders["fd-late01"].path == paths_of(data)["fd-L1p0c1"] + "/Late"
    assert client.api_calls()["GetFolder"] == before + 1


def test_endpoint_gone_mid_scan_keeps_every_member_and_stops_calling(
    start_emulator, make_fixture, make_settings
):
    data = make_fixture(300)
    srv = start_emulator(data, latency_ms=20)
    client = RdClient(make_settings(srv, max_attempts=2, connect_timeout_ms=500))

    stopped = []

    def stop_after_ten(done: int, total: int) -> None:
        # reads run alongside the listing: the endpoint goes once the listing is complete
        # (2 agreeing passes of 3 pages) and at least 10 members were read
        listed = srv.call_counts().get("ListAccounts", 0) >= 6
        if done >= 10 and listed and not stopped:
            stopped.append(done)
            srv.stop()

    inventory = collect(client, concurrency=2, progress=stop_after_ten)
    assert len(inventory.members) == 300
    read = [m for m in inventory.members if m.has_secure_mobile_phone is not None]
    skipped = [m for m in inventory.members if "stopped answering" in (m.read_error or "")]
    unreachable = [
        m for m in inventory.members if "cannot reach" in (m.read_error or "") and m not in skipped
    ]
    assert len(read) >= 10
    assert len(unreachable) >= 8  # the breaker opens after max(8, 2 x concurrency) in a row
    assert len(skipped) > 100
    no_flag = [m for m in inventory.members if "HasSecureMobilePhone" in (m.read_error or "")]
    assert len(read) + len(no_flag) + len(unreachable) + len(skipped) == 300
    # most members were never sent: each unreachable one cost 2 attempts, the rest none
    assert client.api_calls()["GetAccount"] <= len(read) + 2 * len(unreachable) + 2


def test_a_failed_read_is_kept_without_its_traceback(start_emulator, make_fixture, make_settings):
    """Each member whose GetAccount failed is held until the scan ends (10,000+ when the caller
    lacks the permission). Its error must not keep the traceback: those frames hold the SDK's
    request and response objects, several KB per member (4,000 failed reads: peak 40 -> 20 MB)."""
    from scanner.errors import ApiError
    from scanner.inventory.reader import PhoneReader

    data = make_fixture(20)
    srv = start_emulator(data)
    client = RdClient(make_settings(srv, "lister"))
    ids = [a["id"] for a in data["accounts"]]
    results = {}
    with PhoneReader(client, results.__setitem__, rate=100.0, concurrency=4) as reader:
        for aid in ids:
            reader.submit(aid)
    assert set(results) == set(ids)
    assert all(isinstance(r, ApiError) and r.code == "NoPermission" for r in results.values())
    assert [r for r in results.values() if r.__traceback__ is not None] == []


def test_an_exception_in_a_read_stops_the_reads_and_reaches_the_caller(
    start_emulator, make_fixture, make_settings
):
    """Not an API answer (credentials that can no longer be loaded, a full disk under the
    checkpoint): no member may end without an outcome; the scan stops with that error."""
    from scanner.errors import CredentialsError

    srv = start_emulator(make_fixture(60))
    client = RdClient(make_settings(srv))
    seen = []

    def on_read(account_id, outcome):  # type: ignore[no-untyped-def]
        seen.append(account_id)
        if len(seen) == 5:
            raise CredentialsError("the STS token expired", hint="refresh it")

    with pytest.raises(CredentialsError, match="STS token expired"):
        collect(client, concurrency=3, on_read=on_read)
    assert len(seen) < 60
