"""Listing integrity: how the inventory knows that ListAccounts gave it every member.

ListAccounts (ResourceManager 2020-03-31) pages by ``PageNumber``/``PageSize`` and reports
``TotalCount`` on every page. Nothing in the API makes a paged listing a snapshot: members added
or removed between two pages shift the later pages, which can hide a member or show one twice,
and a faulty server or proxy can answer a page empty or short while ``TotalCount`` says more.
The documentation is silent on what a client should do about it; rdscan's answer:

- A **pass** reads the pages in order. A pass is *consistent* when every page reported the same
  ``TotalCount``, no id came twice, no page before the last one came back empty or short, every
  entry had an ``AccountId``, and the ids it saw number exactly ``TotalCount``.
- The listing is **complete** when two consecutive passes are consistent and saw the same ids.
- Within ``max_passes`` passes without that agreement, the listing is **incomplete**: the union
  of every pass is kept (members only an earlier pass saw are ``unconfirmed``, for GetAccount to
  confirm), and :attr:`ListingEvidence.problems` names each fault with its numbers. An incomplete
  listing makes the scan incomplete (exit 3), and coverage counts members by ``TotalCount``.

``ListingPass`` and ``judge`` are pure (no IO): a streamed pipeline feeds ``ListingPass.add_page``
page by page and calls ``judge`` on the finished passes; ``list_members`` is the paged loop over
an ``RdClient``-shaped object.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..findings import ListingEvidence
from ..reasons import part, text

PAGE_SIZE = 100  # ListAccounts' largest PageSize
MAX_LIST_PASSES = 4
EMPTY_PAGES_TO_STOP = 2  # consecutive empty pages after which a pass stops reading


# (raw ListAccounts entry, its AccountId) -> what the listing keeps for it (default: the dict)
Make = Callable[[Mapping[str, Any], str], Any]
OnAccount = Callable[[str, int], None]  # (account id, the page's TotalCount or 0) per new id


class ListsAccounts(Protocol):
    def list_accounts_page(
        self, page_number: int, page_size: int
    ) -> tuple[list[dict[str, Any]], int | None]: ...


class ListingPass:
    """One pass over the ListAccounts pages, fed page by page. Not thread-safe.

    ``add_page`` returns whether another page should be read. A pass stops when the pages
    reached ``TotalCount``, after ``EMPTY_PAGES_TO_STOP`` empty pages in a row, when a page
    brought no new id (a server repeating itself), or, without a ``TotalCount``, at the first
    page that was not full.
    """

    def __init__(
        self,
        page_size: int = PAGE_SIZE,
        *,
        make: Make | None = None,
        on_account: OnAccount | None = None,
    ) -> None:
        self.page_size = page_size
        self.make = make
        self.on_account = on_account
        self.accounts: dict[str, Any] = {}  # by AccountId, listing order
        self.totals: list[int | None] = []  # TotalCount as each page reported it
        self.duplicates = 0  # entries whose id an earlier page of this pass had listed
        self.without_id = 0  # entries without an AccountId
        self.gaps: list[tuple[int, int]] = []  # (page number, entries) empty/short before the end
        self._pending_short: tuple[int, int] | None = None
        self._empty_run = 0

    @property
    def pages(self) -> int:
        return len(self.totals)

    @property
    def total_count(self) -> int | None:
        """The TotalCount of the last page read (None when it was absent)."""
        return self.totals[-1] if self.totals else None

    def add_page(
        self, page_number: int, accounts: Sequence[Mapping[str, Any]], total: int | None
    ) -> bool:
        self.totals.append(total)
        if self._pending_short is not None:  # a short page that turned out not to be the last
            self.gaps.append(self._pending_short)
            self._pending_short = None
        new = 0
        for raw in accounts:
            aid = str(raw.get("AccountId") or "")
            if not aid:
                self.without_id += 1
                continue
            if aid in self.accounts:
                self.duplicates += 1
                continue
            if self.make is not None:
                self.accounts[aid] = self.make(raw, aid)
            else:
                account = dict(raw)
                account["AccountId"] = aid
                self.accounts[aid] = account
            new += 1
            if self.on_account is not None:  # the reads may start before the listing ends
                self.on_account(aid, total or 0)
        known = [t for t in self.totals if t is not None]
        expected = max(known) if known else None
        if expected is None:  # no TotalCount: read on while pages are full
            return len(accounts) >= self.page_size and new > 0
        if page_number * self.page_size >= expected:
            return False
        if not accounts:
            self._empty_run += 1
            self.gaps.append((page_number, 0))
            return self._empty_run < EMPTY_PAGES_TO_STOP
        self._empty_run = 0
        if new == 0:  # the page repeated earlier ids only: reading on would not end
            return False
        if len(accounts) < self.page_size:
            self._pending_short = (page_number, len(accounts))
        return True

    @property
    def consistent(self) -> bool:
        distinct = set(self.totals)
        return (
            len(distinct) == 1
            and None not in distinct
            and self.duplicates == 0
            and self.without_id == 0
            and not self.gaps
            and len(self.accounts) == self.totals[0]
        )


@dataclass(frozen=True)
class Listing:
    accounts: tuple[Any, ...]  # each member once (``make``'s values), the latest pass winning
    unconfirmed: frozenset[str]  # ids only an earlier, disagreeing pass listed
    evidence: ListingEvidence


def judge(passes: Sequence[ListingPass]) -> Listing:
    """The members and the evidence of a finished walk (``passes`` in the order read)."""
    if not passes:
        raise ValueError("judge needs at least one pass")
    last = passes[-1]
    agreed = len(passes) >= 2 and _agree(passes[-2], last)
    merged = dict(last.accounts)
    if not agreed:  # keep everyone any pass saw: GetAccount confirms who is still there
        for p in passes[:-1]:
            for aid, account in p.accounts.items():
                merged.setdefault(aid, account)
    unconfirmed = frozenset(merged) - frozenset(last.accounts)
    total = last.total_count
    problems = () if agreed else tuple(_problems(passes, len(merged)))
    evidence = ListingEvidence(
        complete=agreed,
        passes=len(passes),
        agreeing_passes=2 if agreed else 0,
        pages=sum(p.pages for p in passes),
        total_count=total,
        total_counts=tuple(sorted({t for p in passes for t in p.totals if t is not None})),
        listed=len(merged),
        unconfirmed=len(unconfirmed),
        problems=problems,
    )
    return Listing(tuple(merged.values()), unconfirmed, evidence)


def _agree(a: ListingPass, b: ListingPass) -> bool:
    return a.consistent and b.consistent and a.accounts.keys() == b.accounts.keys()


def _problems(passes: Sequence[ListingPass], listed: int) -> list[str]:
    last = passes[-1]
    out: list[str] = []
    total = last.total_count
    if total is None:
        out.append(text(part("listing.no_total")))
    elif total != listed:
        out.append(text(part("listing.total_mismatch", total=f"{total:,}", listed=f"{listed:,}")))
    totals = sorted({t for t in last.totals if t is not None})
    if len(totals) > 1:
        shown = ", ".join(f"{t:,}" for t in totals)
        out.append(text(part("listing.total_changed", totals=shown)))
    for page, count in last.gaps[:5]:
        if count == 0:
            out.append(text(part("listing.page_empty", page=page)))
        else:
            out.append(
                text(part("listing.page_short", page=page, count=count, size=last.page_size))
            )
    if len(last.gaps) > 5:
        out.append(text(part("listing.more_gaps", n=len(last.gaps) - 5)))
    if last.duplicates:
        out.append(text(part("listing.duplicates", n=f"{last.duplicates:,}")))
    if last.without_id:
        out.append(text(part("listing.without_id", n=f"{last.without_id:,}")))
    sizes = "/".join(f"{len(p.accounts):,}" for p in passes)
    out.append(text(part("listing.no_agreement", passes=len(passes), sizes=sizes)))
    return out


def list_members(
    client: ListsAccounts,
    *,
    max_passes: int = MAX_LIST_PASSES,
    page_size: int = PAGE_SIZE,
    on_page: Callable[[int, int], None] | None = None,
    on_account: OnAccount | None = None,
    make: Make | None = None,
) -> Listing:
    """Read ListAccounts until two consecutive passes agree, at most ``max_passes`` passes.

    ``on_page(page_number, total_count)`` is called after each page (``total_count`` 0 when the
    page had none); ``on_account(id, total_count)`` for each id a pass lists for the first time
    (a streamed pipeline starts reading it at once); ``make(raw, id)`` turns a page entry into
    what the listing keeps (default: the entry's dict). Raises what
    ``client.list_accounts_page`` raises (``ApiError`` after retries).
    """
    if max_passes < 2:
        raise ValueError("max_passes must be at least 2 (a listing is confirmed by a second pass)")
    passes: list[ListingPass] = []
    for _ in range(max_passes):
        current = ListingPass(page_size, make=make, on_account=on_account)
        page = 1
        while True:
            accounts, total = client.list_accounts_page(page, page_size)
            more = current.add_page(page, accounts, total)
            if on_page is not None:
                on_page(page, total or 0)
            if not more:
                break
            page += 1
        passes.append(current)
        if len(passes) >= 2 and _agree(passes[-2], passes[-1]):
            break
    return judge(passes)


__all__ = [
    "EMPTY_PAGES_TO_STOP",
    "MAX_LIST_PASSES",
    "PAGE_SIZE",
    "Listing",
    "ListingPass",
    "ListsAccounts",
    "Make",
    "OnAccount",
    "judge",
    "list_members",
]
