"""Collect the directory: its folders, every member, and each member's secure-phone status.

1. GetResourceDirectory (fails fast on credentials, permission, not-the-management-account).
2. Folder tree: ListFoldersForParent from the root folder, level by level, concurrently.
3. Members: ListAccounts paged at 100. A listing is trusted only when two consecutive full
   passes agree (same ids, every page reporting the same TotalCount, no duplicate, as many ids
   as TotalCount): members added or removed between pages shift the pages, which can hide a
   member or show one twice. The walk is bounded; without agreement the union of the passes is
   kept and the members not in the last pass are marked for GetAccount to confirm.
4. GetAccount 2022-04-19 for every member, ``concurrency`` at a time; the client's token bucket
   keeps them at the allowed rate. A member whose read failed after retries is kept with
   ``read_error``; it is never dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from .client import AccountPhone, RdClient
from .errors import ApiError, NotFound
from .model import Directory, Folder, Inventory, Member

PAGE_SIZE = 100
MAX_LIST_PASSES = 4
MAX_FOLDER_DEPTH = 50
ROOT_NAME = "Root"

Progress = Callable[[int, int], None]


def collect(
    client: RdClient,
    *,
    concurrency: int,
    progress: Progress | None = None,
    on_page: Callable[[int, int], None] | None = None,
) -> Inventory:
    """Read the whole directory. ``progress(done, total)`` follows the GetAccount calls;
    ``on_page(page_number, total_count)`` is called after each ListAccounts page."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    directory = client.get_resource_directory()
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="rdscan") as pool:
        folders = walk_folders(client, directory, pool)
        accounts, unconfirmed = list_all_accounts(client, on_page=on_page)
        folders = _resolve_unknown_folders(client, folders, accounts)
        phones = _read_phones(client, [a["AccountId"] for a in accounts], pool, progress)
    members = tuple(
        _member(a, folders, phones[a["AccountId"]], a["AccountId"] in unconfirmed) for a in accounts
    )
    return Inventory(
        directory=directory,
        folders=dict(folders),
        members=members,
        api_calls=client.api_calls(),
    )


# -------------------------------------------------------------------- folders


def walk_folders(
    client: RdClient, directory: Directory, pool: ThreadPoolExecutor
) -> dict[str, Folder]:
    """Every folder under the root, with readable paths (``Root/Production/Apps``)."""
    root = Folder(id=directory.root_folder_id, name=ROOT_NAME, parent_id=None, path=ROOT_NAME)
    folders: dict[str, Folder] = {root.id: root}
    level = [root]
    for _ in range(MAX_FOLDER_DEPTH):
        if not level:
            break
        children = list(pool.map(lambda f: client.list_folders_for_parent(f.id), level))
        next_level: list[Folder] = []
        for parent, kids in zip(level, children, strict=True):
            for raw in kids:
                fid = str(raw.get("FolderId") or "")
                if not fid or fid in folders:
                    continue
                name = str(raw.get("FolderName") or fid)
                folder = Folder(
                    id=fid, name=name, parent_id=parent.id, path=f"{parent.path}/{name}"
                )
                folders[fid] = folder
                next_level.append(folder)
        level = next_level
    return folders


def _resolve_unknown_folders(
    client: RdClient, folders: dict[str, Folder], accounts: Iterable[Mapping[str, Any]]
) -> dict[str, Folder]:
    """Folders that members sit in but the walk did not see (created meanwhile): GetFolder up
    the parents until a known folder. A folder that no longer exists keeps its id as path."""
    folders = dict(folders)
    for account in accounts:
        fid = str(account.get("FolderId") or "")
        if not fid or fid in folders:
            continue
        chain: list[dict[str, Any]] = []
        current: str | None = fid
        while current and current not in folders and len(chain) < MAX_FOLDER_DEPTH:
            try:
                raw = client.get_folder(current)
            except NotFound:
                break
            chain.append(raw)
            current = str(raw.get("ParentFolderId") or "") or None
        parent = folders.get(current) if current else None
        if parent is None:
            # unreachable from the root: name what we know, never invent a place in the tree
            for raw in chain:
                rid = str(raw.get("FolderId") or "")
                if rid and rid not in folders:
                    folders[rid] = Folder(rid, str(raw.get("FolderName") or rid), None, rid)
            if fid not in folders:
                folders[fid] = Folder(fid, fid, None, fid)
            continue
        for raw in reversed(chain):
            rid = str(raw.get("FolderId") or "")
            name = str(raw.get("FolderName") or rid)
            folders[rid] = Folder(rid, name, parent.id, f"{parent.path}/{name}")
            parent = folders[rid]
    return folders


# -------------------------------------------------------------------- members


def list_all_accounts(
    client: RdClient, *, on_page: Callable[[int, int], None] | None = None
) -> tuple[list[dict[str, Any]], set[str]]:
    """Every member, each once. Returns the accounts (listing order) and the ids that only an
    earlier, disagreeing pass saw (to be confirmed by GetAccount)."""
    previous: dict[str, dict[str, Any]] | None = None
    seen_ever: dict[str, dict[str, Any]] = {}
    last: dict[str, dict[str, Any]] = {}
    for _ in range(MAX_LIST_PASSES):
        last, consistent = _one_pass(client, on_page)
        for aid, account in last.items():
            seen_ever.setdefault(aid, account)
        if consistent and previous is not None and previous.keys() == last.keys():
            return list(last.values()), set()
        previous = last if consistent else None
    # No two agreeing passes within the bound: keep everyone seen; the latest data wins.
    merged = dict(last)
    for aid, account in seen_ever.items():
        merged.setdefault(aid, account)
    return list(merged.values()), set(merged) - set(last)


def _one_pass(
    client: RdClient, on_page: Callable[[int, int], None] | None
) -> tuple[dict[str, dict[str, Any]], bool]:
    by_id: dict[str, dict[str, Any]] = {}
    totals: set[int] = set()
    duplicates = False
    page = 1
    while True:
        accounts, total = client.list_accounts_page(page, PAGE_SIZE)
        totals.add(total)
        for account in accounts:
            aid = str(account.get("AccountId") or "")
            if not aid:
                continue
            account["AccountId"] = aid
            if aid in by_id:
                duplicates = True
            by_id[aid] = account
        if on_page is not None:
            on_page(page, total)
        if not accounts or page * PAGE_SIZE >= max(totals):
            break
        page += 1
    consistent = len(totals) == 1 and not duplicates and len(by_id) == next(iter(totals))
    return by_id, consistent


def _read_phones(
    client: RdClient,
    account_ids: list[str],
    pool: ThreadPoolExecutor,
    progress: Progress | None,
) -> dict[str, AccountPhone | ApiError]:
    results: dict[str, AccountPhone | ApiError] = {}
    total = len(account_ids)
    if progress is not None:
        progress(0, total)

    def read(aid: str) -> AccountPhone | ApiError:
        try:
            return client.get_account_phone(aid)
        except ApiError as err:  # after retries: the member is kept with the reason
            return err

    futures = {pool.submit(read, aid): aid for aid in account_ids}
    for done, future in enumerate(as_completed(futures), start=1):
        results[futures[future]] = future.result()
        if progress is not None:
            progress(done, total)
    return results


def _member(
    account: Mapping[str, Any],
    folders: Mapping[str, Folder],
    phone: AccountPhone | ApiError,
    unconfirmed: bool,
) -> Member:
    fid = str(account.get("FolderId") or "")
    folder = folders.get(fid)
    tags = (account.get("Tags") or {}).get("Tag") or []
    has_phone: bool | None = None
    masked: str | None = None
    read_error: str | None = None
    if isinstance(phone, ApiError):
        read_error = str(phone)
        if unconfirmed and isinstance(phone, NotFound):
            read_error = f"listed during the scan but gone since (removed mid-scan?): {phone}"
    else:
        has_phone = phone.has_secure_mobile_phone
        masked = phone.secure_mobile_phone_masked
        if has_phone is None:
            read_error = "GetAccount response has no HasSecureMobilePhone field"
    return Member(
        account_id=str(account["AccountId"]),
        display_name=str(account.get("DisplayName") or ""),
        type=str(account.get("Type") or ""),
        status=str(account.get("Status") or ""),
        folder_id=fid,
        folder_path=folder.path if folder else fid,
        join_method=str(account.get("JoinMethod") or ""),
        join_time=str(account.get("JoinTime") or ""),
        tags=tuple(sorted((str(t.get("Key", "")), str(t.get("Value", ""))) for t in tags)),
        has_secure_mobile_phone=has_phone,
        secure_mobile_phone_masked=masked,
        read_error=read_error,
    )
