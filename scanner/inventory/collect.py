"""Collect the directory: its folders, every member, and each member's secure-phone status.

1. GetResourceDirectory (fails fast on credentials, permission, not-the-management-account).
2. Folder tree: ListFoldersForParent from the root folder, level by level, concurrently;
   GetFolder for a folder the walk missed. A caller that may not read folders still gets every
   member, with paths of folder ids taken from ResourceDirectoryPath, and a warning.
3. Members: ListAccounts paged at 100 (``listing``). A listing is complete only when two
   consecutive full passes agree (same ids, every page reporting the same TotalCount, no
   duplicate, no empty or short page before the end, as many ids as TotalCount). The walk is
   bounded; without agreement the union of the passes is kept, the members not in the last
   pass are marked for GetAccount to confirm, and the inventory's ``listing`` evidence says
   the listing is incomplete, with the numbers.
4. GetAccount 2022-04-19 for every member, from the first ListAccounts page on: each id is
   read as soon as a pass lists it (``reader.PhoneReader``: the quota kept busy at any latency),
   while the confirming pass and the folder walk run alongside. Only the members of the final
   listing become members; a read of an id the final listing dropped is discarded. A member
   whose read failed after retries is kept with ``read_error``; it is never dropped. When reads
   keep failing to connect (the endpoint went away), the remaining members are kept with that
   reason instead of each retrying in turn.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ..client.sdk import RdClient
from ..errors import (
    ApiError,
    AuthError,
    NotFound,
    NotManagementAccount,
    ServiceUnavailable,
)
from ..findings import ReasonPart
from ..phones import mask_phones_in
from ..reasons import api_error_parts, english
from ..reasons import part as reason_part
from ..reasons import text as reason_text
from .listing import Listing, OnAccount, list_members
from .model import Directory, Folder, Inventory, Member
from .reader import Outcome, PhoneReader, denied_to_member

MAX_FOLDER_DEPTH = 50
ROOT_NAME = "Root"

Progress = Callable[[int, int], None]


def collect(
    client: RdClient,
    *,
    concurrency: int | None = None,
    progress: Progress | None = None,
    on_page: Callable[[int, int], None] | None = None,
    on_read: Callable[[str, Outcome], None] | None = None,
    known: Mapping[str, Outcome] | None = None,
    directory: Directory | None = None,
    caller_account_id: str | None = None,
) -> Inventory:
    """Read the whole directory. ``progress(done, total)`` follows the GetAccount calls;
    ``on_page(page_number, total_count)`` is called after each ListAccounts page;
    ``on_read(account_id, outcome)`` after each GetAccount (a checkpoint records it);
    ``known`` holds the outcomes of reads done before (a resumed scan): those ids are not
    read again. ``concurrency``: GetAccount calls in flight (None: adapted to the latency).
    ``directory``: GetResourceDirectory's answer when the caller has it already.

    ``caller_account_id`` (GetCallerIdentity's AccountId) tells the management account from a
    member: GetResourceDirectory answers a member too, with the directory it belongs to
    (ResourceManager 2020-03-31 GetResourceDirectory page), so the caller is compared with
    MasterAccountId. A member that may list the members (a delegated administrator; the
    ListAccounts page allows "the management account and delegated administrator accounts of
    trusted services") scans, each action it may not call named; any other member is refused
    with ``NotManagementAccount`` before anything else is read.
    """
    if concurrency is not None and concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    if directory is None:
        directory = client.get_resource_directory()
    warnings: list[str] = []
    delegated = caller_kind(caller_account_id, directory) == MEMBER
    if delegated:
        assert caller_account_id is not None
        check_member_may_list(client, directory, caller_account_id)
        warnings.append(
            reason_text(
                reason_part(
                    "warn.delegated", account=caller_account_id, master=directory.master_account_id
                )
            )
        )
    outcomes: dict[str, Outcome] = dict(known or {})
    state = {"total": 0, "done": 0}

    def record(account_id: str, outcome: Outcome) -> None:  # one reader thread at a time
        outcomes[account_id] = outcome
        state["done"] += 1
        if on_read is not None:
            on_read(account_id, outcome)
        if progress is not None:
            progress(state["done"], max(state["total"], reader.submitted))

    def listed_page(page: int, total: int) -> None:
        state["total"] = max(state["total"], total)
        if on_page is not None:
            on_page(page, total)

    def listed(account_id: str, total: int) -> None:
        if state["total"] == 0:
            state["total"] = total
            if progress is not None:
                progress(0, total)  # the reads start with the first page
        if account_id in outcomes:  # read before (a resumed scan)
            return
        reader.submit(account_id)

    rate = client.settings.rate_of("GetAccount")
    walk: Future[dict[str, Folder]] = Future()
    # a daemon thread: Ctrl-C does not wait for a walk of thousands of folders to end
    threading.Thread(
        target=_run_into, args=(walk, walk_folders, client, directory), daemon=True
    ).start()
    with PhoneReader(
        client, record, rate=rate, concurrency=concurrency, delegated=delegated
    ) as reader:
        listing = list_all_accounts(client, on_page=listed_page, on_account=listed)
        accounts, unconfirmed = list(listing.accounts), listing.unconfirmed
        for account_id in unconfirmed:  # read again now: still a member after the listing?
            reader.submit(account_id, again=True)
        try:
            folders = walk.result()
            walked = True
        except (AuthError, NotFound) as err:  # names unreadable: members read, paths show ids
            if isinstance(err, NotFound) and not (delegated and _denied_to_member(err)):
                raise
            warnings.append(
                reason_text(
                    reason_part("warn.folders_denied", apis=err.action), *api_error_parts(err)
                )
            )
            root = Folder(directory.root_folder_id, ROOT_NAME, None, ROOT_NAME)
            folders, walked = {root.id: root}, False
        except ApiError as err:  # the endpoint went away while the walk ran beside the reads
            warnings.append(reason_text(reason_part("warn.folders_unread"), *api_error_parts(err)))
            root = Folder(directory.root_folder_id, ROOT_NAME, None, ROOT_NAME)
            folders, walked = {root.id: root}, False
        resolver = _FolderResolver(client, folders, can_get=walked)
        for account in accounts:
            resolver.place(account)
        folders = resolver.folders
        warnings.extend(resolver.warnings)
        warnings.extend(listing.evidence.problems)
    if progress is not None:
        progress(len(accounts), len(accounts))
    members = tuple(
        _member(a, folders, outcomes[a.account_id], a.account_id in unconfirmed) for a in accounts
    )
    return Inventory(
        directory=directory,
        folders=dict(folders),
        members=members,
        api_calls=client.api_calls(),
        warnings=tuple(warnings),
        listing=listing.evidence,
    )


# -------------------------------------------------------------------- folders


def _run_into(future: Future[Any], fn: Callable[..., Any], *args: Any) -> None:
    try:
        future.set_result(fn(*args))
    except BaseException as exc:  # handed to the waiting thread
        future.set_exception(exc)


def walk_folders(
    client: RdClient, directory: Directory, pool: ThreadPoolExecutor | None = None
) -> dict[str, Folder]:
    """Every folder under the root, with readable paths (``Root/Production/Apps``). Runs
    alongside the listing; the folders of one level are listed in turn."""
    root = Folder(id=directory.root_folder_id, name=ROOT_NAME, parent_id=None, path=ROOT_NAME)
    folders: dict[str, Folder] = {root.id: root}
    level = [root]
    for _ in range(MAX_FOLDER_DEPTH):
        if not level:
            break
        children = [client.list_folders_for_parent(f.id) for f in level]
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


class _FolderResolver:
    """Places the folders that members sit in but the walk did not name: GetFolder up the
    parents to a known folder (a folder created meanwhile), else the ids in the member's
    ResourceDirectoryPath (``Root/fd-abc/fd-def``) when names cannot be read."""

    def __init__(self, client: RdClient, folders: dict[str, Folder], can_get: bool) -> None:
        self.client = client
        self.folders = dict(folders)
        self.can_get = can_get
        self.warnings: list[str] = []

    def place(self, account: Listed) -> None:
        fid = account.folder_id
        if not fid or fid in self.folders:
            return
        if self.can_get and self._get_chain(fid):
            return
        self._from_rd_path(fid, account.rd_path)

    def _get_chain(self, fid: str) -> bool:
        chain: list[dict[str, Any]] = []
        current: str | None = fid
        while current and current not in self.folders and len(chain) < MAX_FOLDER_DEPTH:
            try:
                raw = self.client.get_folder(current)
            except NotFound:
                return False
            except AuthError as err:
                self.can_get = False
                self.warnings.append(
                    reason_text(reason_part("warn.folders_unread"), *api_error_parts(err))
                )
                return False
            chain.append(raw)
            current = str(raw.get("ParentFolderId") or "") or None
        parent = self.folders.get(current) if current else None
        if parent is None:
            return False
        for raw in reversed(chain):
            rid = str(raw.get("FolderId") or "")
            name = str(raw.get("FolderName") or rid)
            self.folders[rid] = Folder(rid, name, parent.id, f"{parent.path}/{name}")
            parent = self.folders[rid]
        return True

    def _from_rd_path(self, fid: str, rd_path: str) -> None:
        # "rd-xxx/r-root/fd-a/fd-b/<account id>": the folder chain sits between the two ends
        parts = [p for p in rd_path.split("/") if p][1:-1]
        if fid not in parts:
            self.folders[fid] = Folder(fid, fid, None, fid)
            return
        parent: Folder | None = None
        for part in parts[: parts.index(fid) + 1]:
            known = self.folders.get(part)
            if known is None:
                path = f"{parent.path}/{part}" if parent else part
                known = Folder(part, part, parent.id if parent else None, path)
                self.folders[part] = known
            parent = known


# -------------------------------------------------------------------- members


@dataclass(frozen=True, slots=True)
class Listed:
    """One member as ListAccounts 2020-03-31 showed it: only what the inventory keeps (a raw
    page entry is ~1.5 KB; 50,000 of them, twice, were most of a scan's memory)."""

    account_id: str
    display_name: str
    type: str
    status: str
    folder_id: str
    join_method: str
    join_time: str
    tags: tuple[tuple[str, str], ...]
    rd_path: str  # ResourceDirectoryPath: rd-xxx/r-root/fd-a/<account id>


def _listed(raw: Mapping[str, Any], aid: str, shared: dict[str, str]) -> Listed:
    def share(value: Any) -> str:  # one copy of each repeated text (types, tag keys, ...)
        text = str(value or "")
        return shared.setdefault(text, text)

    def one(key: str) -> str:
        return share(raw.get(key))

    tags = (raw.get("Tags") or {}).get("Tag") or []
    return Listed(
        account_id=aid,
        display_name=str(raw.get("DisplayName") or ""),
        type=one("Type"),
        status=one("Status"),
        folder_id=one("FolderId"),
        join_method=one("JoinMethod"),
        join_time=str(raw.get("JoinTime") or ""),
        tags=tuple(sorted((share(t.get("Key", "")), share(t.get("Value", ""))) for t in tags)),
        rd_path=str(raw.get("ResourceDirectoryPath") or ""),
    )


def list_all_accounts(
    client: RdClient,
    *,
    on_page: Callable[[int, int], None] | None = None,
    on_account: OnAccount | None = None,
) -> Listing:
    """Every member, each once, as ``Listed`` values, with the listing's evidence
    (``listing.list_members``: two consecutive passes must agree, else the listing is
    incomplete and says why). ``on_account(id, total)`` is called for each id of each pass as
    its page arrives (the reads start from it)."""
    shared: dict[str, str] = {}
    seen: dict[str, Listed] = {}

    def make(raw: Mapping[str, Any], aid: str) -> Listed:
        entry = _listed(raw, aid, shared)
        before = seen.setdefault(aid, entry)
        return before if before == entry else entry  # one copy when unchanged

    return list_members(client, on_page=on_page, on_account=on_account, make=make)


MANAGEMENT = "management account"
MEMBER = "member account"


def caller_kind(caller_account_id: str | None, directory: Directory) -> str:
    """``MANAGEMENT`` when the caller's account is the directory's MasterAccountId (or either
    is unknown), else ``MEMBER``."""
    if not caller_account_id or not directory.master_account_id:
        return MANAGEMENT
    return MANAGEMENT if caller_account_id == directory.master_account_id else MEMBER


_denied_to_member = denied_to_member


def check_member_may_list(client: RdClient, directory: Directory, caller_account_id: str) -> None:
    """One ListAccounts call of one member: a member account that is not a delegated
    administrator is refused (``NotManagementAccount``, exit 2) with the fix; an outage stays an
    outage (exit 3)."""
    try:
        client.list_accounts_page(1, 1)
    except ServiceUnavailable:
        raise
    except ApiError as err:
        raise NotManagementAccount(
            f"the caller belongs to account {caller_account_id}, a member of resource directory "
            f"{directory.id}, not its management account {directory.master_account_id}; "
            f"ListAccounts refused it: {err}",
            hint=f"run with a RAM user or role of the management account "
            f"{directory.master_account_id}, or make account {caller_account_id} a delegated "
            "administrator of a trusted service (then it may list the members)",
        ) from None


def _member(
    account: Listed,
    folders: Mapping[str, Folder],
    phone: Outcome,
    unconfirmed: bool,
) -> Member:
    fid = account.folder_id
    folder = folders.get(fid)
    has_phone: bool | None = None
    masked: str | None = None
    read_error: str | None = None
    parts: tuple[ReasonPart, ...] = ()
    if isinstance(phone, ApiError):
        parts = api_error_parts(phone)
        if unconfirmed and isinstance(phone, NotFound):
            parts = (reason_part("error.gone"), *parts)
    else:
        has_phone = phone.has_secure_mobile_phone
        masked = phone.secure_mobile_phone_masked
        if has_phone is None:
            parts = phone.problem or (reason_part("error.flag_missing"),)
    if parts:
        read_error = english(parts)
    return Member(
        account_id=account.account_id,
        # a member named by its owner's phone number is shown masked, like a tag
        display_name=mask_phones_in(account.display_name),
        type=account.type,
        status=account.status,
        folder_id=fid,
        folder_path=folder.path if folder else fid,
        join_method=account.join_method,
        join_time=account.join_time,
        # a tag may hold a phone number (the kind --phone-tag reads): kept masked from here on
        tags=tuple(sorted((mask_phones_in(k), mask_phones_in(v)) for k, v in account.tags)),
        has_secure_mobile_phone=has_phone,
        secure_mobile_phone_masked=masked,
        read_error=read_error,
        read_error_parts=parts,
    )
