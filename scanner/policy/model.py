"""The audit policy and exemptions as values (frozen dataclasses), and the vocabulary they use.

``files.py`` builds these from YAML; ``scanner.engine`` applies them. Nothing here reads a file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..findings import Severity, Status

MEMBER_TYPES = ("ResourceAccount", "CloudAccount")
# Documented member statuses. ListAccounts / GetAccount (2020-03-31 and 2022-04-19) document the
# seven active ones and the promotion states; CreateCloudAccount / PromoteResourceAccount
# document the Create* states and Removed; UpdateAccount's response documents SwitchSuccess and
# Removed. Whether ListAccounts ever returns SwitchSuccess or Removed is not documented (open).
ACTIVE_STATUSES = (  # a member that exists and is used: always worth checking
    "CreateSuccess",
    "InviteSuccess",
    "PromoteVerifying",  # a ResourceAccount being promoted to a CloudAccount
    "PromoteFailed",
    "PromoteExpired",
    "PromoteCancelled",
    "PromoteSuccess",
    "SwitchSuccess",  # UpdateAccount: the member's type was switched
)
TRANSITIONAL_STATUSES = (  # creation under way or never completed, or the member left
    "CreateVerifying",
    "CreateFailed",
    "CreateExpired",
    "CreateCancelled",
    "Removed",
)
MEMBER_STATUSES = ACTIVE_STATUSES + TRANSITIONAL_STATUSES


def is_known_status(status: str) -> bool:
    """A status rdscan knows from the documentation. A member with any other status is
    evaluated like an active member and named in a scan warning: a status the tool does not
    know never puts a member out of scope silently."""
    return status in MEMBER_STATUSES


# How the check relates to a framework's control: "supporting" (it gives evidence towards the
# control) unless the framework names this exact control ("equivalent"). Policy files written
# before may say "related": it is read as "supporting".
RELATIONS = ("supporting", "equivalent")
LEGACY_RELATIONS = {"related": "supporting"}
CLOUD_ACCOUNT_RESULTS = (Status.FAIL, Status.SKIPPED)
SOON_DAYS = 30  # an exemption ending within this many days (0 = ends today) "expires soon"


def expires_soon(days_left: int, soon_days: int = SOON_DAYS) -> bool:
    """The one "expires soon" rule: an exemption with ``days_left`` days to go (0 = its last day
    is today, negative = expired) expires soon when ``0 <= days_left <= soon_days``."""
    return 0 <= days_left <= soon_days


# --------------------------------------------------------------------------------- values


@dataclass(frozen=True)
class RelatedControl:
    framework: str
    control: str  # the control's id in the framework, e.g. "1.3"
    relation: str = "supporting"  # one of RELATIONS
    title: str = ""  # the control's title in the framework
    # the title in other report languages: (("zh-CN", (("title", "..."),)),)
    translations: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()


@dataclass(frozen=True)
class TagRule:
    """``key`` matches any value of that tag; ``key=value`` matches that value only."""

    key: str
    value: str | None = None

    def matches(self, tags: Mapping[str, str]) -> bool:
        if self.key not in tags:
            return False
        return self.value is None or tags[self.key] == self.value

    def __str__(self) -> str:
        return self.key if self.value is None else f"{self.key}={self.value}"

    @classmethod
    def parse(cls, text: str) -> TagRule:
        key, sep, value = text.partition("=")
        return cls(key.strip(), value.strip() if sep else None)


@dataclass(frozen=True)
class Scope:
    """Which members the policy covers. An empty tuple means "no restriction"."""

    types: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    include_folders: tuple[str, ...] = ()  # folder ids or paths (Root/Production)
    exclude_folders: tuple[str, ...] = ()
    include_tags: tuple[TagRule, ...] = ()
    exclude_tags: tuple[TagRule, ...] = ()


@dataclass(frozen=True)
class CloudAccountRule:
    """What a CloudAccount without a secure phone gets: FAIL (remediation manual) or SKIPPED."""

    result: Status = Status.FAIL
    severity: Severity | None = None  # None: the policy's severity


@dataclass(frozen=True)
class Policy:
    id: str
    title: str
    severity: Severity
    rationale: str
    remediation: str
    related_controls: tuple[RelatedControl, ...]
    scope: Scope
    cloud_account_without_phone: CloudAccountRule
    digest: str  # "sha256:<hex>" of the file's bytes
    source: str  # the path it was read from
    content: bytes = field(default=b"", repr=False, compare=False)  # the bytes digest covers
    # what a reader should know but that is not an error, ``FILE:LINE: message`` (e.g. a
    # status in scope.statuses that no documentation names)
    warnings: tuple[str, ...] = ()
    # title, rationale and remediation in other report languages (a ``zh-CN:`` block):
    # (("zh-CN", (("title", "..."), ("rationale", "..."), ("remediation", "..."))),)
    translations: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()


@dataclass(frozen=True)
class Exemption:
    account_id: str | None
    folder: str | None  # folder id (fd-..., r-...) or path (Root/Sandbox); covers sub-folders
    reason: str
    owner: str
    ticket: str
    expires: dt.date  # last day the exemption applies
    line: int = 0  # where the entry starts in its file
    approved_by: str | None = None  # who accepted the risk; never the owner
    created: dt.date | None = None  # when the exemption was granted

    @property
    def scope(self) -> str:
        return f"account:{self.account_id}" if self.account_id else f"folder:{self.folder}"


@dataclass(frozen=True)
class Exemptions:
    entries: tuple[Exemption, ...] = ()
    digest: str | None = None
    source: str | None = None
    content: bytes = field(default=b"", repr=False, compare=False)  # the bytes digest covers
