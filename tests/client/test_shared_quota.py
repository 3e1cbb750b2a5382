"""A scan at the documented quotas beside another client of the same account: the emulator
counts one bucket per account (as the cloud does), so both are throttled; the retries absorb it
and both end with every member read, no ERROR."""

from __future__ import annotations

import threading

from scanner.client.sdk import RdClient
from scanner.inventory.collect import collect


def test_a_scan_and_a_second_client_of_the_same_account_both_finish(
    start_emulator, make_fixture, make_settings
):
    data = make_fixture(150, seed=11)
    srv = start_emulator(data, rate_limit=None)  # the documented quotas: GetAccount 50/s
    ids = [a["id"] for a in data["accounts"]]
    # the default pacing (rate=None: each action at its documented quota), default retries
    scan_client = RdClient(
        make_settings(
            srv, "auditor", rate=None, retry_budget_s=60.0, retry_base_s=0.2, retry_cap_s=10.0
        )
    )
    other = RdClient(
        make_settings(
            srv, "operator", rate=None, retry_budget_s=60.0, retry_base_s=0.2, retry_cap_s=10.0
        )
    )
    other_errors: list[Exception] = []
    other_reads: list[bool | None] = []
    stop = threading.Event()

    def compete() -> None:
        i = 0
        while not stop.is_set() and i < 2 * len(ids):
            try:
                other_reads.append(
                    other.get_account_phone(ids[i % len(ids)]).has_secure_mobile_phone
                )
            except Exception as exc:  # the test reports any failure
                other_errors.append(exc)
            i += 1

    competitor = threading.Thread(target=compete)
    competitor.start()
    try:
        inventory = collect(scan_client, concurrency=16)
    finally:
        stop.set()
        competitor.join(timeout=60)
    flagless = {a["id"] for a in data["accounts"] if a.get("omit_phone_flag")}
    failed = [(m.account_id, m.read_error) for m in inventory.members if m.read_error]
    assert [f for f in failed if f[0] not in flagless] == []  # no read failed
    assert len(inventory.members) == 150
    assert not other_errors and other_reads
    # both were throttled (one shared bucket), and both adapted instead of failing
    assert scan_client.throttled_count() + other.throttled_count() > 0
