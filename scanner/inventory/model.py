"""Inventory values: the directory as read from the API, built once, never mutated.

``collect`` builds these from API payloads; ``engine.py`` evaluates them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..findings import ListingEvidence, ReasonPart


@dataclass(frozen=True)
class Directory:
    id: str
    root_folder_id: str
    master_account_id: str
    master_account_name: str = ""


@dataclass(frozen=True)
class Folder:
    id: str
    name: str
    parent_id: str | None  # None for the root folder
    path: str  # readable path from the root, e.g. "Root/Production/Apps"


@dataclass(frozen=True, slots=True)  # 50,000 of them are held by a scan
class Member:
    """One member account.

    ``has_secure_mobile_phone`` is None when it could not be read; ``read_error`` then says why
    (after retries). A member is never dropped because a read failed.
    """

    account_id: str
    display_name: str
    type: str  # ResourceAccount | CloudAccount
    status: str  # CreateSuccess, InviteSuccess, PromoteVerifying, ...
    folder_id: str
    folder_path: str
    join_method: str = ""
    join_time: str = ""
    tags: tuple[tuple[str, str], ...] = ()
    has_secure_mobile_phone: bool | None = None
    secure_mobile_phone_masked: str | None = None  # already masked; never a full number
    read_error: str | None = None
    # read_error as message ids and data (scanner.reasons), for reports in another language
    read_error_parts: tuple[ReasonPart, ...] = ()

    @property
    def tag_map(self) -> dict[str, str]:
        return dict(self.tags)


@dataclass(frozen=True)
class Inventory:
    directory: Directory
    folders: Mapping[str, Folder]  # by folder id, the root folder included
    members: tuple[Member, ...]
    api_calls: Mapping[str, int] = field(default_factory=dict)
    # what the collection could not do fully, e.g. folder names unreadable (paths show ids)
    warnings: tuple[str, ...] = ()
    # how it knows it has every member; None only for inventories built by hand (tests)
    listing: ListingEvidence | None = None

    def folder_path(self, folder_id: str) -> str:
        folder = self.folders.get(folder_id)
        return folder.path if folder else folder_id
