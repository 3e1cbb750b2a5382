"""Action handlers: ResourceManager 2020-03-31, ResourceDirectoryMaster 2022-04-19, STS 2015-04-01.

Each handler takes a ``Call`` (state, caller, parameters, version) and returns the response
body without ``RequestId`` (the server adds it), or raises ``ApiFault``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..phones import mask_phone
from .errors import ApiFault, invalid, missing
from .fixture import PHONE_RE, AccountSpec, CallerSpec
from .state import DirectoryState, wire_time
from .sts import assume_role

V2020 = "2020-03-31"
V2022 = "2022-04-19"
V_STS = "2015-04-01"

_TAG_RE = re.compile(r"^Tag\.(\d+)\.(Key|Value)$")
_DIGITS = re.compile(r"^\d+$")

MANAGEMENT = "management"
DELEGATED = "delegated administrator"
MEMBER = "member"
OUTSIDE = "outside"
# RD reads a delegated administrator may call when undocumented.delegated_admin_reads is true
_ADMIN_READS = {"GetAccount", "ListAccountsForParent", "ListFoldersForParent", "GetFolder"}


@dataclass(frozen=True)
class Call:
    state: DirectoryState
    caller: CallerSpec
    params: dict[str, str]
    version: str
    action: str


Handler = Callable[[Call], dict[str, Any]]


# ---- parameter parsing ------------------------------------------------------------------
def _bool(call: Call, name: str, default: bool = False) -> bool:
    raw = call.params.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise invalid(name, raw)


def _int(call: Call, name: str, default: int, low: int, high: int | None) -> int:
    raw = call.params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise invalid(name, raw) from None
    if value < low or (high is not None and value > high):
        raise invalid(name, raw)
    return value


def _required(call: Call, name: str) -> str:
    value = (call.params.get(name) or "").strip()
    if not value:
        raise missing(name)
    return value


def _tag_filter(call: Call) -> list[tuple[str, str | None]]:
    found: dict[int, dict[str, str]] = {}
    for key, value in call.params.items():
        m = _TAG_RE.match(key)
        if m:
            found.setdefault(int(m.group(1)), {})[m.group(2)] = value
    filters: list[tuple[str, str | None]] = []
    for n in sorted(found):
        entry = found[n]
        if not entry.get("Key"):
            raise missing(f"Tag.{n}.Key")
        filters.append((entry["Key"], entry.get("Value")))
    return filters


def _matches_tags(account: AccountSpec, filters: list[tuple[str, str | None]]) -> bool:
    tags = dict(account.tags)
    return all(k in tags and (v is None or tags[k] == v) for k, v in filters)


def _matches_keyword(account: AccountSpec, keyword: str) -> bool:
    if not keyword:
        return True
    needle = keyword.lower()
    return any(
        needle in text.lower() for text in (account.display_name, account.id, account.account_name)
    )


def _page(call: Call, items: Sequence[Any]) -> tuple[Sequence[Any], int, int]:
    number = _int(call, "PageNumber", 1, 1, None)
    size = _int(call, "PageSize", 10, 1, 100)
    start = (number - 1) * size
    return items[start : start + size], number, size


# ---- checks shared by the RD actions ------------------------------------------------------
def caller_kind(call: Call) -> str:
    """Who calls, by the caller's account: the management account, a delegated administrator
    (fixture ``delegated_administrators``), another member, or an account outside."""
    account = call.caller.account_id
    if account == call.state.directory.master_account_id:
        return MANAGEMENT
    if account in call.state.fixture.delegated_administrators:
        return DELEGATED
    if call.state.account(account) is not None:
        return MEMBER
    return OUTSIDE


def _require_directory(call: Call) -> str:
    """The caller's kind, after the checks of who may call this RD read.

    - An account outside the directory: 404 EntityNotExists.ResourceDirectory
      (GetResourceDirectory: ResourceDirectoryNotInUse, its one documented error).
    - GetResourceDirectory answers every member with the directory it belongs to (documented).
    - ListAccounts: "only the management account or a delegated administrator account of a
      trusted service" (documented). The error a member's caller gets is not documented:
      ``undocumented.not_allowed_error`` (default EntityNotExists.ResourceDirectory, the one
      error ListAccounts documents). UNVERIFIED.
    - GetAccount, ListAccountsForParent, ListFoldersForParent, GetFolder: the management
      account; a delegated administrator when ``undocumented.delegated_admin_reads``
      (UNVERIFIED either way); never another member (UNVERIFIED).
    """
    kind = caller_kind(call)
    if kind == OUTSIDE:
        if call.action == "GetResourceDirectory":
            raise ApiFault("ResourceDirectoryNotInUse")
        raise ApiFault("EntityNotExists.ResourceDirectory")
    if kind == MANAGEMENT or call.action == "GetResourceDirectory":
        return kind
    knobs = call.state.fixture.undocumented
    if kind == DELEGATED and (
        call.action == "ListAccounts"
        or (knobs.delegated_admin_reads and call.action in _ADMIN_READS)
    ):
        return kind
    raise ApiFault(knobs.not_allowed_error)


def _account_id(call: Call) -> str:
    value = _required(call, "AccountId")
    if call.state.account(value) is None and not _DIGITS.match(value):
        raise invalid("AccountId", value)
    return value


def _member(call: Call, account_id: str) -> AccountSpec:
    account = call.state.account(account_id)
    if account is None:
        raise ApiFault("EntityNotExists.Account")
    return account


def _folder_id(call: Call, name: str, *, required: bool) -> str:
    value = (call.params.get(name) or "").strip()
    if not value:
        if required:
            raise missing(name)
        return call.state.directory.root_folder_id
    if value != call.state.directory.root_folder_id and value not in call.state.folders:
        if not re.match(r"^(fd|r)-[A-Za-z0-9]+$", value):
            raise invalid(name, value, code=f"InvalidParameter.{name}")
        raise ApiFault("EntityNotExists.Folder")
    return value


# ---- response shapes -----------------------------------------------------------------------
def _list_item(call: Call, a: AccountSpec, *, with_path: bool, tags: bool) -> dict[str, Any]:
    item: dict[str, Any] = {
        "AccountId": a.id,
        "DisplayName": a.display_name,
        "FolderId": a.folder,
        "JoinMethod": a.join_method,
        "JoinTime": a.join_time,
        "ModifyTime": a.modify_time,
        "ResourceDirectoryId": call.state.directory.id,
        "Status": a.status,
        "Type": a.type,
    }
    if with_path:
        item["ResourceDirectoryPath"] = f"{call.state.path_of(a.folder)}/{a.id}"
    if call.version == V2022:
        item["AccountName"] = a.account_name
        item["DeletionStatus"] = ""
    if tags:
        item["Tags"] = {"Tag": [{"Key": k, "Value": v} for k, v in a.tags]}
    return item


def _accounts_page(
    call: Call, members: Sequence[AccountSpec], *, with_path: bool
) -> dict[str, Any]:
    include_tags = _bool(call, "IncludeTags")
    filters = _tag_filter(call)
    keyword = ""
    if call.action != "ListAccounts" or call.version == V2022:  # not in ListAccounts 2020
        keyword = (call.params.get("QueryKeyword") or "").strip()
    selected = members
    if filters or keyword:
        selected = [
            a for a in members if _matches_tags(a, filters) and _matches_keyword(a, keyword)
        ]
    body: dict[str, Any] = {"TotalCount": len(selected)}
    token_paging = call.version == V2022 and (
        "MaxResults" in call.params or "NextToken" in call.params
    )
    if token_paging:
        size = _int(call, "MaxResults", 10, 1, 100)
        token = (call.params.get("NextToken") or "").strip()
        start = _decode_token(token) if token else 0
        page = selected[start : start + size]
        if start + size < len(selected):
            body["NextToken"] = _encode_token(start + size)
        body["PageNumber"] = start // size + 1
        body["PageSize"] = size
    else:
        page, number, size = _page(call, selected)
        body["PageNumber"] = number
        body["PageSize"] = size
    body["Accounts"] = {
        "Account": [_list_item(call, a, with_path=with_path, tags=include_tags) for a in page]
    }
    return body


def _encode_token(offset: int) -> str:
    return f"nt-{offset:08x}"


def _decode_token(token: str) -> int:
    if not re.match(r"^nt-[0-9a-f]{8}$", token):
        raise invalid("NextToken", token, code="InvalidParameter.NextToken")
    return int(token[3:], 16)


# ---- handlers --------------------------------------------------------------------------------
def list_accounts(call: Call) -> dict[str, Any]:
    _require_directory(call)
    return _accounts_page(call, call.state.accounts(), with_path=True)


def list_accounts_for_parent(call: Call) -> dict[str, Any]:
    _require_directory(call)
    parent = _folder_id(call, "ParentFolderId", required=False)
    return _accounts_page(call, call.state.accounts_in_folder(parent), with_path=False)


def get_account(call: Call) -> dict[str, Any]:
    _require_directory(call)
    a = _member(call, _account_id(call))
    account: dict[str, Any] = {
        "AccountId": a.id,
        "AccountName": a.account_name,
        "DisplayName": a.display_name,
        "EmailStatus": "",
        "FolderId": a.folder,
        "IdentityInformation": "",
        "JoinMethod": a.join_method,
        "JoinTime": a.join_time,
        "Location": "",
        "ModifyTime": a.modify_time,
        "ResourceDirectoryId": call.state.directory.id,
        "ResourceDirectoryPath": f"{call.state.path_of(a.folder)}/{a.id}",
        "Status": a.status,
        "Type": a.type,
    }
    if _bool(call, "IncludeTags"):
        account["Tags"] = [{"Key": k, "Value": v} for k, v in a.tags]
    if call.version == V2022:
        mode = _phone_flag_mode(call, a)
        if mode == "false":
            account["HasSecureMobilePhone"] = False
        elif mode == "actual":
            account["HasSecureMobilePhone"] = a.secure_mobile_phone is not None
            if a.secure_mobile_phone:
                account["SecureMobilePhone"] = mask_phone(a.secure_mobile_phone)
    return {"Account": account}


def _phone_flag_mode(call: Call, a: AccountSpec) -> str:
    """``actual``, ``omitted`` or ``false``: what GetAccount 2022-04-19 says about the phone.

    Documented: HasSecureMobilePhone and SecureMobilePhone (masked) for a member. UNVERIFIED:
    whether they come back for a CloudAccount member and for the management account itself
    (fixture knobs ``undocumented.phone_flag_for_cloud_accounts`` / ``..._management_account``);
    ``accounts[].omit_phone_flag`` leaves them out for one member."""
    if a.omit_phone_flag:
        return "omitted"
    knobs = call.state.fixture.undocumented
    if a.id == call.state.directory.master_account_id:
        return knobs.phone_flag_for_management_account
    if a.type == "CloudAccount":
        return knobs.phone_flag_for_cloud_accounts
    return "actual"


def list_folders_for_parent(call: Call) -> dict[str, Any]:
    _require_directory(call)
    parent = _folder_id(call, "ParentFolderId", required=False)
    keyword = (call.params.get("QueryKeyword") or "").strip().lower()
    folders = [
        f
        for f in call.state.folders.values()
        if f.parent == parent and (not keyword or keyword in f.name.lower())
    ]
    page, number, size = _page(call, folders)
    return {
        "TotalCount": len(folders),
        "PageNumber": number,
        "PageSize": size,
        "Folders": {
            "Folder": [
                {"FolderId": f.id, "FolderName": f.name, "CreateTime": f.create_time} for f in page
            ]
        },
    }


def get_folder(call: Call) -> dict[str, Any]:
    _require_directory(call)
    folder_id = _folder_id(call, "FolderId", required=True)
    rd = call.state.directory
    if folder_id == rd.root_folder_id:
        folder = {
            "FolderId": folder_id,
            "FolderName": "Root",
            "CreateTime": rd.create_time,
            "ResourceDirectoryPath": f"{rd.id}/{folder_id}",
        }
    else:
        spec = call.state.folders[folder_id]
        folder = {
            "FolderId": spec.id,
            "FolderName": spec.name,
            "ParentFolderId": spec.parent,
            "CreateTime": spec.create_time,
            "ResourceDirectoryPath": call.state.path_of(spec.id),
        }
    return {"Folder": folder}


def get_resource_directory(call: Call) -> dict[str, Any]:
    _require_directory(call)
    rd = call.state.directory
    return {
        "ResourceDirectory": {
            "ResourceDirectoryId": rd.id,
            "RootFolderId": rd.root_folder_id,
            "CreateTime": rd.create_time,
            "MasterAccountId": rd.master_account_id,
            "MasterAccountName": rd.master_account_name,
            "ControlPolicyStatus": "Disabled",
            "MemberDeletionStatus": "Disabled",
            "IdentityInformation": "",
        }
    }


def _target(call: Call) -> tuple[AccountSpec, str]:
    """The parameter checks Send and Bind share, and the member they name.

    Any caller with a directory gets this far (an account outside: EntityNotExists.
    ResourceDirectory). UNVERIFIED: the error for an AccountId that is not a member
    (EntityNotExists.Account, as in GetAccount; neither Send nor Bind documents it)."""
    if caller_kind(call) == OUTSIDE:
        raise ApiFault("EntityNotExists.ResourceDirectory")
    account_id = _account_id(call)
    phone = _required(call, "SecureMobilePhone")
    if call.action == "BindSecureMobilePhone":
        _required(call, "VerificationCode")
    if not PHONE_RE.match(phone):
        raise invalid("SecureMobilePhone", code="InvalidParameter.SecureMobilePhone")
    return _member(call, account_id), phone


def _documented_for_both(call: Call, account: AccountSpec) -> None:
    """NotSupport.AccountInAnotherResourceDirectory and EntityAlreadyExists.ResourceDirectory:
    documented for Send and Bind. UNVERIFIED: that the second one is what the management
    account's own id gets (its message: the account's resource directory is enabled)."""
    if account.in_another_resource_directory:
        raise ApiFault("NotSupport.AccountInAnotherResourceDirectory")
    if account.id == call.state.directory.master_account_id:
        raise ApiFault("EntityAlreadyExists.ResourceDirectory")


def send_verification_code(call: Call) -> dict[str, Any]:
    """SendVerificationCodeForBindSecureMobilePhone: only the errors its page documents
    (NotSupport.AccountInAnotherResourceDirectory, EntityAlreadyExists.ResourceDirectory,
    SendValidateCodeExceedsLimitForAccount, InvalidParameter.MobileCountryCode; all 409) plus
    the global ones. The caller's identity, the member's type and status and a phone already
    bound are Bind's checks (documented for Bind only): Send "delivers" a code to such a
    member, as the cloud may, and Bind refuses it. UNVERIFIED: that the cloud's Send does not
    check them."""
    account, phone = _target(call)
    _documented_for_both(call, account)
    if (call.state.site == "cn") != phone.startswith("86-"):
        raise ApiFault("InvalidParameter.MobileCountryCode")
    pending = call.state.issue_code(account.id, phone)
    if isinstance(pending, str):
        raise ApiFault(pending)
    return {"ExpirationDate": wire_time(pending.expires_at)}


def bind_secure_mobile_phone(call: Call) -> dict[str, Any]:
    """BindSecureMobilePhone: every error its page documents, in this order (the order is the
    emulator's choice; UNVERIFIED): CallerIdentityError (not a RAM user or role of the
    management account), NotSupport.AccountInAnotherResourceDirectory,
    EntityAlreadyExists.ResourceDirectory, AccountTypeMismatch (not a ResourceAccount, or a
    status outside ``undocumented.bind_statuses``), AccountSecureMobileAlreadyExists,
    NotSupport.Site.Action, Invalid.EnterpriseName, EnterpriseRealNameVerificationError,
    Invalid.VerificationCode."""
    account, phone = _target(call)
    caller = call.caller
    if (
        caller.identity_type not in ("RAMUser", "AssumedRoleUser")
        or caller_kind(call) != MANAGEMENT
    ):
        raise ApiFault("CallerIdentityError")
    _documented_for_both(call, account)
    statuses = call.state.fixture.undocumented.bind_statuses
    if account.type != "ResourceAccount" or account.status not in statuses:
        raise ApiFault("AccountTypeMismatch")
    if account.secure_mobile_phone:
        raise ApiFault("AccountSecureMobileAlreadyExists")
    if (call.state.site == "cn") != phone.startswith("86-"):
        raise ApiFault("NotSupport.Site.Action")
    if not account.enterprise_name_specified:
        raise ApiFault("Invalid.EnterpriseName")
    if not account.enterprise_real_name_verified:
        raise ApiFault("EnterpriseRealNameVerificationError")
    problem = call.state.redeem_code(account.id, phone, _required(call, "VerificationCode"))
    if problem:
        raise ApiFault(problem)
    return {}


def _derived_id(seed: str) -> str:
    return str(int(hashlib.sha256(seed.encode()).hexdigest()[:15], 16) % 10**16).rjust(16, "2")


def get_caller_identity(call: Call) -> dict[str, Any]:
    c = call.caller
    body: dict[str, Any] = {
        "AccountId": c.account_id,
        "Arn": c.arn,
        "IdentityType": c.identity_type,
    }
    # All seven documented keys are always present (typed SDKs in other languages read them);
    # the ones that do not apply to the identity are empty strings.
    if c.identity_type == "Account":
        body["UserId"] = c.user_id or c.account_id
        body["PrincipalId"] = c.principal_id or c.account_id
        body["RoleId"] = c.role_id
    elif c.identity_type == "AssumedRoleUser":
        role_id = c.role_id or _derived_id("role:" + c.arn.rsplit("/", 1)[0])
        session = c.arn.rsplit("/", 1)[-1]
        body["RoleId"] = role_id
        body["PrincipalId"] = c.principal_id or f"{role_id}:{session}"
        body["UserId"] = c.user_id or body["PrincipalId"]
    else:
        user_id = c.user_id or _derived_id("user:" + c.arn)
        body["UserId"] = user_id
        body["PrincipalId"] = c.principal_id or user_id
        body["RoleId"] = c.role_id
    return body


_RD_ACTIONS: dict[str, Handler] = {
    "ListAccounts": list_accounts,
    "ListAccountsForParent": list_accounts_for_parent,
    "GetAccount": get_account,
    "ListFoldersForParent": list_folders_for_parent,
    "GetFolder": get_folder,
    "GetResourceDirectory": get_resource_directory,
    "SendVerificationCodeForBindSecureMobilePhone": send_verification_code,
    "BindSecureMobilePhone": bind_secure_mobile_phone,
}


@dataclass(frozen=True)
class Route:
    product: str  # for HostId / Recommend
    host: str
    handler: Handler
    ram_action: str | None  # None: no authorization needed (GetCallerIdentity)


ROUTES: dict[tuple[str, str], Route] = {}
for _name, _handler in _RD_ACTIONS.items():
    ROUTES[(V2020, _name)] = Route(
        "ResourceManager", "resourcemanager.aliyuncs.com", _handler, f"resourcemanager:{_name}"
    )
    ROUTES[(V2022, _name)] = Route(
        "ResourceDirectoryMaster",
        "resourcedirectory.aliyuncs.com",
        _handler,
        f"resourcemanager:{_name}",
    )
ROUTES[(V_STS, "GetCallerIdentity")] = Route("Sts", "sts.aliyuncs.com", get_caller_identity, None)
ROUTES[(V_STS, "AssumeRole")] = Route("Sts", "sts.aliyuncs.com", assume_role, "sts:AssumeRole")

KNOWN_ACTIONS = {action for _, action in ROUTES}

# Parameters each action requires (SDK models and the API pages). With the fixture knob
# undocumented.missing_parameter_before_permission a request without one is answered
# MissingParameter.<name> before the RAM check (else the RAM check comes first).
REQUIRED_PARAMS: dict[str, tuple[str, ...]] = {
    "GetAccount": ("AccountId",),
    "GetFolder": ("FolderId",),
    "SendVerificationCodeForBindSecureMobilePhone": ("AccountId", "SecureMobilePhone"),
    "BindSecureMobilePhone": ("AccountId", "SecureMobilePhone", "VerificationCode"),
    "AssumeRole": ("RoleArn", "RoleSessionName"),
}
