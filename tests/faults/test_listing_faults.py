"""Listing integrity end to end: the real SDKs, through a fault-injecting proxy, to the emulator.

The issue's reproduction: 250 members, ListAccounts page 2 answered empty with TotalCount 250;
``rdscan scan --fail-on none`` exited 0 with "Coverage: 100 / 100". It must exit 3, say how
many members ListAccounts reported and how many were listed, and count coverage against 250.
"""

from __future__ import annotations

import json
from itertools import count

import pytest

from scanner.client.sdk import RdClient
from scanner.inventory.collect import collect

from .conftest import fast_settings
from .proxy import Fault, PageEdit


def _scan_args(out: str = "out") -> tuple[str, ...]:
    return ("--fail-on", "none", "--output-dir", out, "--no-history", "--format", "json")


def test_healthy_directory_through_the_proxy_is_complete(faulty, rdscan_via, tmp_path):
    _, proxy = faulty(250)
    run = rdscan_via(proxy, "scan", *_scan_args())
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Coverage: 250 / 250 members evaluated, 0 errors\n" in run.stdout
    doc = json.loads((tmp_path / "out" / "report.json").read_text())
    listing = doc["scan"]["listing"]
    assert listing["complete"] is True
    assert (listing["passes"], listing["agreeing_passes"], listing["pages"]) == (2, 2, 6)
    assert (listing["total_count"], listing["listed"], listing["problems"]) == (250, 250, [])
    assert doc["scan"]["coverage"] == {"members": 250, "evaluated": 250, "errors": 0, "unlisted": 0}


def test_issue_reproduction_page_two_empty_exits_3_with_the_numbers(faulty, rdscan_via, tmp_path):
    _, proxy = faulty(250)
    proxy.add("ListAccounts", Fault("rewrite", edit=PageEdit({2: lambda a, t: ([], 250)})))
    run = rdscan_via(proxy, "scan", *_scan_args())
    assert run.returncode == 3, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    out = run.stdout
    assert "Warning: ListAccounts reported 250 members; 150 were listed" in out
    assert "Warning: ListAccounts page 2 came back empty before the last page" in out
    assert "Coverage: 150 / 250 members evaluated, 0 errors, 100 not listed" in out
    assert "Exit code 3: incomplete" in out
    doc = json.loads((tmp_path / "out" / "report.json").read_text())
    scan = doc["scan"]
    assert scan["coverage"] == {"members": 250, "evaluated": 150, "errors": 0, "unlisted": 100}
    assert scan["listing"]["complete"] is False
    assert scan["listing"]["total_count"] == 250 and scan["listing"]["listed"] == 150
    assert scan["listing"]["passes"] == 4
    assert len(doc["accounts"]) == 150


def _drop(n: int):
    return lambda accounts, total: (accounts[:-n], total)


def _repeat_page_one_ids(accounts, total):
    return [*[{**a, "AccountId": f"1{i:015d}"} for i, a in enumerate(accounts[:5])], *accounts[5:]]


@pytest.mark.parametrize(
    ("name", "pages", "problem", "listed", "members"),
    [
        ("short page 1", {1: _drop(30)}, "ListAccounts page 1 held 70 of 100 members", 220, 250),
        (
            "inflated total",
            {3: lambda a, t: (a, 300)},
            "reported 300 members; 250 were listed",
            250,
            300,
        ),
        (
            "smaller total",
            {1: lambda a, t: (a, 240), 2: lambda a, t: (a, 240), 3: lambda a, t: (a, 240)},
            "reported 240 members; 250 were listed",
            250,
            250,
        ),
        ("last page short", {3: _drop(7)}, "reported 250 members; 243 were listed", 243, 250),
    ],
)
def test_listing_shapes_through_the_proxy_are_incomplete(
    faulty, name, pages, problem, listed, members
):
    _, proxy = faulty(250)
    proxy.add("ListAccounts", Fault("rewrite", edit=PageEdit(pages)))
    inventory = collect(RdClient(fast_settings(proxy)), concurrency=4)
    ev = inventory.listing
    assert ev is not None and not ev.complete, name
    assert any(problem in p for p in ev.problems), ev.problems
    assert ev.listed == listed == len(inventory.members)
    assert ev.expected == members
    assert any(problem in w for w in inventory.warnings)


def test_duplicates_across_pages_through_the_proxy(faulty):
    _, proxy = faulty(250)
    first_page: list[dict] = []

    def remember(accounts, total):
        first_page[:] = accounts
        return accounts, total

    def repeat(accounts, total):  # page 2 shows 4 members of page 1 in place of 4 of its own
        return [*first_page[:4], *accounts[4:]], total

    proxy.add("ListAccounts", Fault("rewrite", edit=PageEdit({1: remember, 2: repeat})))
    inventory = collect(RdClient(fast_settings(proxy)), concurrency=4)
    ev = inventory.listing
    assert ev is not None and not ev.complete
    assert "ListAccounts listed 4 members twice across pages" in ev.problems
    ids = [m.account_id for m in inventory.members]
    assert len(ids) == len(set(ids)) == 246


def test_passes_that_never_agree_through_the_proxy_keep_everyone_and_confirm(faulty):
    srv, proxy = faulty(150)
    passes = count(1)

    def rotate(accounts, total):  # each pass hides a different member of page 1
        n = next(passes)
        return [a for i, a in enumerate(accounts) if i != n], total

    proxy.add("ListAccounts", Fault("rewrite", edit=PageEdit({1: rotate})))
    inventory = collect(RdClient(fast_settings(proxy)), concurrency=4)
    ev = inventory.listing
    assert ev is not None and not ev.complete and ev.passes == 4
    assert {m.account_id for m in inventory.members} == {a.id for a in srv.state.accounts()}
    assert all(m.read_error is None for m in inventory.members)  # GetAccount confirmed them
    assert any("no two consecutive ListAccounts passes agreed" in p for p in ev.problems)


def test_a_mangled_accounts_field_is_a_clear_error_not_an_empty_page(faulty, rdscan_via):
    _, proxy = faulty(50)
    proxy.add(
        "ListAccounts",
        Fault("rewrite", edit=lambda p, body: {**body, "Accounts": "oops"}),
    )
    run = rdscan_via(proxy, "scan", *_scan_args())
    assert run.returncode == 2, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    assert "ListAccounts answered with an Accounts field that is not a list" in run.stderr


def test_total_count_as_garbage_text_is_incomplete_not_a_crash(faulty, rdscan_via):
    _, proxy = faulty(50)
    proxy.add(
        "ListAccounts",
        Fault("rewrite", edit=lambda p, body: {**body, "TotalCount": "fifty"}),
    )
    run = rdscan_via(proxy, "scan", *_scan_args())
    assert run.returncode == 3, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    assert "without a TotalCount" in run.stdout
