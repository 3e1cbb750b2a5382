"""Collect the directory: its folders, every member, and each member's secure-phone status.

1. GetResourceDirectory (fails fast on credentials, permission, not-the-management-account).
2. Folder tree: ListFoldersForParent from the root folder, level by level, concurrently;
   GetFolder for a folder the walk missed. A caller that may not read folders still gets every
   member, with paths of folder ids taken from ResourceDirectoryPath, and a warning.
3. Members: ListAccounts paged at 100. A listing is trusted only when two consecutive full
   passes agree (same ids, every page reporting the same TotalCount, no duplicate, as many ids
   as TotalCount): members added or removed between pages shift the pages, which can hide a
   member or show one twice. The walk is bounded; without agreement the union of the passes is
   kept and the members not in the last pass are marked for GetAccount to confirm.
4. GetAccount 2022-04-19 for every member, ``concurrency`` at a time; the client's token bucket
   keeps them at the allowed rate. A member whose read failed after retries is kept with
   ``read_error``; it is never dropped. When reads keep failing to connect (the endpoint went
   away), the remaining members are kept with that reason instead of each retrying in turn.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from ..client.model import AccountPhone
from ..client.sdk import RdClient
from ..errors import (
    ApiError,
    AuthError,
    ConnectionFailed,
    NotFound,
    NotManagementAccount,
    ServiceUnavailable,
)
from ..phones import mask_phones_in
from .model import Directory, Folder, Inventory, Member

PAGE_SIZE = 100
MAX_LIST_PASSES = 4
MAX_FOLDER_DEPTH = 50
BREAKER_MIN = 8  # consecutive connection failures before the remaining reads are skipped
ROOT_NAME = "Root"

Progress = Callable[[int, int], None]


def collect(
    client: RdClient,
    *,
    concurrency: int,
    progress: Progress | None = None,
    on_page: Callable[[int, int], None] | None = None,
    caller_account_id: str | None = None,
) -> Inventory:
    """Read the whole directory. ``progress(done, total)`` follows the GetAccount calls;
    ``on_page(page_number, total_count)`` is called after each ListAccounts page.

    ``caller_account_id`` (GetCallerIdentity's AccountId) tells the management account from a
    member: GetResourceDirectory answers a member too, with the directory it belongs to
    (ResourceManager 2020-03-31 GetResourceDirectory page), so the caller is compared with
    MasterAccountId. A member that may list the members (a delegated administrator; the
    ListAccounts page allows "the management account and delegated administrator accounts of
    trusted services") scans, each action it may not call named; any other member is refused
    with ``NotManagementAccount`` before anything else is read.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    directory = client.get_resource_directory()
    warnings: list[str] = []
    delegated = caller_kind(caller_account_id, directory) == MEMBER
    if delegated:
        assert caller_account_id is not None
        check_member_may_list(client, directory, caller_account_id)
        warnings.append(
            f"scanned by account {caller_account_id}, a member of the directory (a delegated "
            f"administrator), not its management account {directory.master_account_id}: "
            "what it may not read is named below and in the members' reasons"
        )
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="rdscan") as pool:
        try:
            folders = walk_folders(client, directory, pool)
            walked = True
        except (AuthError, NotFound) as err:  # names unreadable: members read, paths show ids
            if isinstance(err, NotFound) and not (delegated and _denied_to_member(err)):
                raise
            warnings.append(
                f"folder names could not be read ({err.action or 'the folder APIs'} is not "
                f"allowed for this caller), paths show ids: {err}"
            )
            root = Folder(directory.root_folder_id, ROOT_NAME, None, ROOT_NAME)
            folders, walked = {root.id: root}, False
        accounts, unconfirmed = list_all_accounts(client, on_page=on_page)
        resolver = _FolderResolver(client, folders, can_get=walked)
        for account in accounts:
            resolver.place(account)
        folders = resolver.folders
        warnings.extend(resolver.warnings)
        phones = _read_phones(
            client,
            [a["AccountId"] for a in accounts],
            pool,
            concurrency,
            progress,
            delegated=delegated,
        )
    members = tuple(
        _member(a, folders, phones[a["AccountId"]], a["AccountId"] in unconfirmed) for a in accounts
    )
    return Inventory(
        directory=directory,
        folders=dict(folders),
        members=members,
        api_calls=client.api_calls(),
        warnings=tuple(warnings),
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


class _FolderResolver:
    """Places the folders that members sit in but the walk did not name: GetFolder up the
    parents to a known folder (a folder created meanwhile), else the ids in the member's
    ResourceDirectoryPath (``Root/fd-abc/fd-def``) when names cannot be read."""

    def __init__(self, client: RdClient, folders: dict[str, Folder], can_get: bool) -> None:
        self.client = client
        self.folders = dict(folders)
        self.can_get = can_get
        self.warnings: list[str] = []

    def place(self, account: Mapping[str, Any]) -> None:
        fid = str(account.get("FolderId") or "")
        if not fid or fid in self.folders:
            return
        if self.can_get and self._get_chain(fid):
            return
        self._from_rd_path(fid, str(account.get("ResourceDirectoryPath") or ""))

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
                self.warnings.append(f"folder names could not be read, paths show ids: {err}")
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
    concurrency: int,
    progress: Progress | None,
    *,
    delegated: bool = False,
) -> dict[str, AccountPhone | ApiError]:
    results: dict[str, AccountPhone | ApiError] = {}
    total = len(account_ids)
    if progress is not None:
        progress(0, total)

    breaker = _Breaker(threshold=max(BREAKER_MIN, 2 * concurrency))
    denied: list[ApiError] = []  # a delegated administrator that may not call GetAccount

    def read(aid: str) -> AccountPhone | ApiError:
        if breaker.open is not None:
            return ConnectionFailed(
                f"not read: the endpoint stopped answering ({breaker.open})",
                action="GetAccount",
                hint=breaker.hint,
            )
        if denied:
            return denied[0]
        try:
            phone = client.get_account_phone(aid)
        except (AuthError, NotFound) as err:
            if delegated and (isinstance(err, AuthError) or _denied_to_member(err)):
                refusal = AuthError(
                    "GetAccount (2022-04-19) is not allowed for this delegated administrator, "
                    f"so no member's phone could be read: {err}",
                    code=err.code,
                    status=err.status,
                    request_id=err.request_id,
                    action="GetAccount",
                    hint="scan with a RAM user or role of the management account",
                )
                denied.append(refusal)
                return refusal
            breaker.record(err)
            return err.with_traceback(None)
        except ApiError as err:  # after retries: the member is kept with the reason
            breaker.record(err)
            return err.with_traceback(None)  # kept per member: not its frames, SDK objects
        breaker.record(None)
        return phone

    futures = {pool.submit(read, aid): aid for aid in account_ids}
    try:
        for done, future in enumerate(as_completed(futures), start=1):
            results[futures[future]] = future.result()
            if progress is not None:
                progress(done, total)
    except BaseException:  # Ctrl-C: drop the reads not started, so the pool ends promptly
        for future in futures:
            future.cancel()
        raise
    return results


MANAGEMENT = "management account"
MEMBER = "member account"


def caller_kind(caller_account_id: str | None, directory: Directory) -> str:
    """``MANAGEMENT`` when the caller's account is the directory's MasterAccountId (or either
    is unknown), else ``MEMBER``."""
    if not caller_account_id or not directory.master_account_id:
        return MANAGEMENT
    return MANAGEMENT if caller_account_id == directory.master_account_id else MEMBER


def _denied_to_member(err: ApiError) -> bool:
    """What the RD APIs answer a member account for an action it may not call. UNVERIFIED:
    the documentation does not say; the emulator plays EntityNotExists.ResourceDirectory (the
    answer for a directory the caller cannot see) or NoPermission."""
    return isinstance(err, AuthError) or err.code == "EntityNotExists.ResourceDirectory"


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


class _Breaker:
    """Stops calling once ``threshold`` reads in a row failed to connect (the endpoint went
    away): the members left are kept with that reason instead of each one waiting out its own
    retries."""

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold
        self._lock = threading.Lock()
        self._run = 0
        self.open: str | None = None
        self.hint: str | None = None

    def record(self, err: ApiError | None) -> None:
        with self._lock:
            if not isinstance(err, ConnectionFailed):
                self._run = 0
                return
            self._run += 1
            if self._run >= self.threshold and self.open is None:
                self.open = f"{self._run} reads in a row could not connect; last: {err}"
                self.hint = err.hint


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
        # a member named by its owner's phone number is shown masked, like a tag
        display_name=mask_phones_in(str(account.get("DisplayName") or "")),
        type=str(account.get("Type") or ""),
        status=str(account.get("Status") or ""),
        folder_id=fid,
        folder_path=folder.path if folder else fid,
        join_method=str(account.get("JoinMethod") or ""),
        join_time=str(account.get("JoinTime") or ""),
        # a tag may hold a phone number (the kind --phone-tag reads): kept masked from here on
        tags=tuple(
            sorted(
                (mask_phones_in(str(t.get("Key", ""))), mask_phones_in(str(t.get("Value", ""))))
                for t in tags
            )
        ),
        has_secure_mobile_phone=has_phone,
        secure_mobile_phone_masked=masked,
        read_error=read_error,
    )
