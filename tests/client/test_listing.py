"""Listing integrity (scanner.inventory.listing), one test per shape, with a fake ListAccounts.

The fake answers ``page(pass_number, page_number) -> (accounts, TotalCount)``; a pass starts
again at page 1. Every shape that cannot show that every member was listed must end
``complete=False`` with a problem naming its numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from scanner.findings import ListingEvidence
from scanner.inventory.listing import (
    EMPTY_PAGES_TO_STOP,
    MAX_LIST_PASSES,
    ListingPass,
    judge,
    list_members,
)

Page = tuple[list[dict[str, Any]], int | None]


def ids(n: int, start: int = 0) -> list[str]:
    return [f"1{i:015d}" for i in range(start, start + n)]


def accounts(id_list: list[str]) -> list[dict[str, Any]]:
    return [{"AccountId": a, "DisplayName": f"m-{a[-4:]}"} for a in id_list]


class FakeLister:
    """ListAccounts over ``pages(pass_number, page_number)``; counts the calls."""

    def __init__(self, pages: Callable[[int, int], Page]) -> None:
        self.pages = pages
        self.calls: list[tuple[int, int]] = []
        self._pass = 0

    def list_accounts_page(self, page_number: int, page_size: int) -> Page:
        if page_number == 1:
            self._pass += 1
        self.calls.append((self._pass, page_number))
        return self.pages(self._pass, page_number)


def directory(members: list[str], total: int | None = None) -> Callable[[int, int], Page]:
    """A healthy paged listing of ``members`` (TotalCount ``total``, default the true count)."""

    def page(_pass: int, number: int) -> Page:
        chunk = members[(number - 1) * 100 : number * 100]
        return accounts(chunk), len(members) if total is None else total

    return page


def test_a_healthy_listing_is_complete_after_two_agreeing_passes():
    members = ids(250)
    fake = FakeLister(directory(members))
    listing = list_members(fake)
    ev = listing.evidence
    assert ev.complete and ev.problems == ()
    assert (ev.passes, ev.agreeing_passes, ev.pages) == (2, 2, 6)
    assert (ev.total_count, ev.total_counts, ev.listed, ev.unconfirmed) == (250, (250,), 250, 0)
    assert [a["AccountId"] for a in listing.accounts] == members
    assert ev.expected == 250


def test_the_issue_shape_page_two_empty_with_total_250_is_incomplete():
    members = ids(250)

    def page(_pass: int, number: int) -> Page:
        if number == 2:
            return [], 250
        return directory(members)(_pass, number)

    fake = FakeLister(page)
    listing = list_members(fake)
    ev = listing.evidence
    assert not ev.complete
    assert ev.passes == MAX_LIST_PASSES  # it tried, within its bound
    assert ev.listed == 150  # page 3 was still read: every member it could see is kept
    assert ev.expected == 250
    assert "ListAccounts reported 250 members; 150 were listed" in ev.problems
    assert "ListAccounts page 2 came back empty before the last page" in ev.problems
    assert any("no two consecutive ListAccounts passes agreed" in p for p in ev.problems)


def test_every_page_after_the_first_empty_stops_after_two_empty_pages():
    members = ids(100)

    def page(_pass: int, number: int) -> Page:
        return (accounts(members), 100_000) if number == 1 else ([], 100_000)

    fake = FakeLister(page)
    ev = list_members(fake).evidence
    assert not ev.complete
    assert "ListAccounts reported 100,000 members; 100 were listed" in ev.problems
    # bounded: page 1 and EMPTY_PAGES_TO_STOP empty pages per pass, not 1,000 pages
    assert len(fake.calls) == MAX_LIST_PASSES * (1 + EMPTY_PAGES_TO_STOP)


def test_a_short_page_before_the_last_one_is_incomplete():
    members = ids(250)

    def page(_pass: int, number: int) -> Page:
        chunk = members[(number - 1) * 100 : number * 100]
        if number == 1:
            chunk = chunk[:60]  # 40 members of page 1 never show up
        return accounts(chunk), 250

    ev = list_members(FakeLister(page)).evidence
    assert not ev.complete
    assert "ListAccounts page 1 held 60 of 100 members before the last page" in ev.problems
    assert "ListAccounts reported 250 members; 210 were listed" in ev.problems


@pytest.mark.parametrize(("total", "listed"), [(260, 250), (240, 250)])
def test_total_count_that_differs_from_the_ids_seen_is_incomplete(total, listed):
    ev = list_members(FakeLister(directory(ids(250), total=total))).evidence
    assert not ev.complete
    assert f"ListAccounts reported {total} members; {listed} were listed" in ev.problems
    assert ev.expected == max(total, listed)


def test_duplicates_across_pages_are_incomplete():
    members = ids(250)

    def page(_pass: int, number: int) -> Page:
        chunk = members[(number - 1) * 100 : number * 100]
        if number == 2:  # page 2 repeats 10 members of page 1 in place of 10 of its own
            chunk = members[:10] + chunk[10:]
        return accounts(chunk), 250

    listing = list_members(FakeLister(page))
    ev = listing.evidence
    assert not ev.complete
    assert "ListAccounts listed 10 members twice across pages" in ev.problems
    assert "ListAccounts reported 250 members; 240 were listed" in ev.problems
    got = [a["AccountId"] for a in listing.accounts]
    assert len(got) == len(set(got)) == 240  # each member once


def test_passes_that_never_agree_at_the_limit_are_incomplete_and_keep_everyone():
    def page(n_pass: int, number: int) -> Page:
        members = ids(150, start=n_pass)  # each pass: one member gone, one new
        return accounts(members[(number - 1) * 100 : number * 100]), 150

    listing = list_members(FakeLister(page))
    ev = listing.evidence
    assert not ev.complete
    assert ev.passes == MAX_LIST_PASSES
    assert ev.listed == 150 + MAX_LIST_PASSES - 1  # the union: nobody any pass saw is lost
    assert ev.unconfirmed == MAX_LIST_PASSES - 1  # gone from the last pass: GetAccount decides
    assert listing.unconfirmed == frozenset(ids(MAX_LIST_PASSES - 1, start=1))
    assert "ListAccounts reported 150 members; 153 were listed" in ev.problems
    assert any("(4 passes, 150/150/150/150 members each)" in p for p in ev.problems)


def test_total_count_that_changes_between_pages_is_named():
    members = ids(200)

    def page(_pass: int, number: int) -> Page:
        return accounts(members[(number - 1) * 100 : number * 100]), 200 + number

    ev = list_members(FakeLister(page)).evidence
    assert not ev.complete
    assert (
        "ListAccounts' TotalCount changed between pages of one pass: 201, 202, 203" in ev.problems
    )
    assert ev.total_counts == (201, 202, 203)


def test_a_listing_without_total_count_is_incomplete():
    members = ids(150)

    def page(_pass: int, number: int) -> Page:
        return accounts(members[(number - 1) * 100 : number * 100]), None

    listing = list_members(FakeLister(page))
    ev = listing.evidence
    assert not ev.complete
    assert ev.total_count is None and ev.listed == 150
    assert any("without a TotalCount" in p for p in ev.problems)


def test_entries_without_an_account_id_are_counted_not_dropped_silently():
    members = ids(100)

    def page(_pass: int, number: int) -> Page:
        return [*accounts(members[:98]), {"DisplayName": "ghost"}, {"AccountId": ""}], 100

    ev = list_members(FakeLister(page)).evidence
    assert not ev.complete
    assert "ListAccounts listed 2 entries without an AccountId" in ev.problems
    assert "ListAccounts reported 100 members; 98 were listed" in ev.problems


def test_a_server_repeating_the_same_page_with_a_huge_total_stays_bounded():
    members = ids(100)
    fake = FakeLister(lambda _p, _n: (accounts(members), 10**9))
    ev = list_members(fake).evidence
    assert not ev.complete
    assert len(fake.calls) == MAX_LIST_PASSES * 2  # page 2 repeats page 1: the pass stops
    assert "ListAccounts listed 100 members twice across pages" in ev.problems


def test_disagreement_that_settles_is_complete_without_problems():
    def page(n_pass: int, number: int) -> Page:
        members = ids(120, start=min(n_pass, 2))  # pass 1 differs, passes 2 and 3 agree
        return accounts(members[(number - 1) * 100 : number * 100]), 120

    listing = list_members(FakeLister(page))
    ev = listing.evidence
    assert ev.complete and ev.problems == ()
    assert (ev.passes, ev.listed, ev.unconfirmed) == (3, 120, 0)
    assert {a["AccountId"] for a in listing.accounts} == set(ids(120, start=2))


def test_an_empty_directory_agrees_on_zero():
    ev = list_members(FakeLister(lambda _p, _n: ([], 0))).evidence
    assert ev.complete and ev.listed == 0 and ev.total_count == 0


def test_judge_is_pure_and_fed_page_by_page():
    first, second = ListingPass(), ListingPass()
    for p in (first, second):
        assert p.add_page(1, accounts(ids(100)), 150) is True
        assert p.add_page(2, accounts(ids(50, start=100)), 150) is False
    assert first.consistent and second.consistent
    assert judge([first, second]).evidence.complete
    assert not judge([first]).evidence.complete  # one pass is never enough
    with pytest.raises(ValueError):
        judge([])
    with pytest.raises(ValueError):
        list_members(FakeLister(directory(ids(1))), max_passes=1)


def test_listing_evidence_round_trips_through_report_json():
    ev = list_members(FakeLister(directory(ids(130), total=200))).evidence
    again = ListingEvidence.from_dict(ev.to_dict())
    assert again == ev
    with pytest.raises(ValueError):
        ListingEvidence.from_dict({**ev.to_dict(), "complete": "true"})
