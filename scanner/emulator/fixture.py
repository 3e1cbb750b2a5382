"""Emulator fixtures: load a YAML (or JSON) file, validate every entry, return frozen values.

A fixture is refused as a whole (``FixtureError`` naming the entry) when any entry is wrong; it
is never half-loaded. The keys are documented in ``scanner/emulator/__init__.py``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from ..errors import FixtureError
from .errors import CATALOG as _ERROR_CODES

SITES = ("cn", "intl")
ACCOUNT_TYPES = ("ResourceAccount", "CloudAccount")
IDENTITY_TYPES = ("RAMUser", "AssumedRoleUser", "Account")
JOIN_METHODS = ("created", "invited")
PHONE_RE = re.compile(r"^(\d{1,4})-(\d{4,20})$")
# Member statuses the RD docs name: the seven of ListAccounts / GetAccount ``Status``, the
# Create* ones of CreateCloudAccount / PromoteResourceAccount, and SwitchSuccess and Removed of
# UpdateAccount's response (alibaba-rd-api.md section 8). UNVERIFIED: whether ListAccounts or
# GetAccount ever return SwitchSuccess or Removed. A fixture may give any other string: it is
# served as written, with a warning on load (to model a status no tool has seen yet).
ACCOUNT_STATUSES = (
    "CreateSuccess",
    "CreateVerifying",
    "CreateFailed",
    "CreateExpired",
    "CreateCancelled",
    "PromoteVerifying",
    "PromoteFailed",
    "PromoteExpired",
    "PromoteCancelled",
    "PromoteSuccess",
    "InviteSuccess",
    "SwitchSuccess",
    "Removed",
)
_ALLOW_RE = re.compile(r"^(\*|[A-Za-z0-9*?_-]+:[A-Za-z0-9*?_-]+)$")
_ACCOUNT_ID_FROM_ARN = re.compile(r"^acs:[a-z]+::(\d+):")
DEFAULT_TIME = "2024-01-01T00:00:00Z"

_RD_KEYS = {"id", "root_folder_id", "master_account_id", "master_account_name", "create_time"}
_FOLDER_KEYS = {"id", "name", "parent", "create_time"}
_ACCOUNT_KEYS = {
    "id",
    "display_name",
    "account_name",
    "type",
    "status",
    "folder",
    "join_method",
    "join_time",
    "modify_time",
    "secure_mobile_phone",
    "tags",
    "enterprise_real_name_verified",
    "omit_phone_flag",
    "in_another_resource_directory",
    "enterprise_name_specified",
}
_CALLER_KEYS = {
    "access_key_id",
    "access_key_secret",
    "arn",
    "identity_type",
    "allow",
    "account_id",
    "security_token",
    "security_token_expired",
    "active",
    "user_id",
    "role_id",
    "principal_id",
}
_TOP_KEYS = {
    "site",
    "resource_directory",
    "folders",
    "accounts",
    "callers",
    "delegated_administrators",
    "undocumented",
    "roles",
}
_ROLE_KEYS = {"arn", "trusted_callers", "allow", "role_id", "max_session_duration_s"}
_ROLE_ARN = re.compile(r"^acs:ram::(\d+):role/([A-Za-z0-9._-]{1,64})$")
_UNDOCUMENTED_KEYS = {
    "daily_send_limit",
    "daily_send_limit_scope",
    "code_ttl_s",
    "bind_statuses",
    "phone_flag_for_cloud_accounts",
    "phone_flag_for_management_account",
    "delegated_admin_reads",
    "not_allowed_error",
    "missing_parameter_before_permission",
}
SEND_LIMIT_SCOPES = ("member", "management_account")
PHONE_FLAG_MODES = ("actual", "omitted", "false")
# Statuses Bind accepts by default (the emulator's choice; the docs say only "the type or
# status of the member account cannot satisfy the current operation").
DEFAULT_BIND_STATUSES = ("CreateSuccess", "PromoteFailed", "PromoteExpired", "PromoteCancelled")


@dataclass(frozen=True)
class DirectorySpec:
    id: str
    root_folder_id: str
    master_account_id: str
    master_account_name: str = ""
    create_time: str = DEFAULT_TIME


@dataclass(frozen=True)
class FolderSpec:
    id: str
    name: str
    parent: str  # a folder id or the root folder id
    create_time: str = DEFAULT_TIME


@dataclass(frozen=True)
class AccountSpec:
    id: str
    display_name: str
    type: str
    status: str
    folder: str
    account_name: str = ""
    join_method: str = "created"
    join_time: str = DEFAULT_TIME
    modify_time: str = DEFAULT_TIME
    secure_mobile_phone: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    enterprise_real_name_verified: bool = True
    omit_phone_flag: bool = False
    in_another_resource_directory: bool = False
    enterprise_name_specified: bool = True

    def __repr__(self) -> str:  # never show a full phone number
        return f"AccountSpec(id={self.id!r}, display_name={self.display_name!r}, type={self.type})"


@dataclass(frozen=True)
class CallerSpec:
    access_key_id: str
    access_key_secret: str = field(repr=False)
    arn: str
    identity_type: str
    allow: tuple[str, ...]
    account_id: str
    security_token: str | None = field(default=None, repr=False)
    security_token_expired: bool = False
    active: bool = True
    user_id: str = ""
    role_id: str = ""
    principal_id: str = ""
    expires_at: float | None = None  # epoch seconds; sessions issued by AssumeRole


@dataclass(frozen=True)
class RoleSpec:
    """A RAM role that STS AssumeRole serves (fixture ``roles:``)."""

    arn: str  # acs:ram::<account id>:role/<name>
    name: str
    account_id: str
    trusted_callers: tuple[str, ...]  # access key ids the role's trust policy allows
    allow: tuple[str, ...]  # what a session of the role may call
    role_id: str = ""
    max_session_duration_s: int = 3600


@dataclass(frozen=True)
class Undocumented:
    """What the documentation leaves open, one knob each (fixture section ``undocumented:``).

    Every default is the emulator's behaviour before these knobs existed. UNVERIFIED, each:

    - ``daily_send_limit`` (codes per UTC day) and ``daily_send_limit_scope`` (``member``: per
      member; ``management_account``: all sends of the directory together): the docs name
      SendValidateCodeExceedsLimitForAccount ("daily limit" in the Chinese page) without a
      number or a scope. Also unverified: that the day is a UTC day.
    - ``code_ttl_s``: the code lifetime (the real one comes back in Send's ExpirationDate).
    - ``bind_statuses``: the member statuses Bind accepts (others: AccountTypeMismatch).
    - ``phone_flag_for_cloud_accounts`` / ``phone_flag_for_management_account``: what
      GetAccount 2022-04-19 returns for a CloudAccount member / for the management account:
      ``actual`` (HasSecureMobilePhone as bound), ``omitted`` (no HasSecureMobilePhone, no
      SecureMobilePhone), ``false`` (HasSecureMobilePhone false whatever is bound).
    - ``delegated_admin_reads``: whether a delegated administrator may call GetAccount (both
      versions), ListAccountsForParent, ListFoldersForParent and GetFolder (ListAccounts and
      GetResourceDirectory it may call: documented).
    - ``not_allowed_error``: the error code a caller gets for an RD read it may not call (a
      member's caller calling ListAccounts; a delegated administrator, GetAccount when
      ``delegated_admin_reads`` is false). Default EntityNotExists.ResourceDirectory, the one
      error ListAccounts documents; NoPermission is the other plausible answer.
    - ``missing_parameter_before_permission``: whether a request that lacks a required
      parameter is answered MissingParameter.<name> before the RAM permission check (true) or
      NoPermission first when the caller lacks the action (false, the default). This decides
      what a read-only probe of Send or Bind (a call without its parameters) learns.
    """

    daily_send_limit: int = 5
    daily_send_limit_scope: str = "member"
    code_ttl_s: float = 300.0
    bind_statuses: tuple[str, ...] = DEFAULT_BIND_STATUSES
    phone_flag_for_cloud_accounts: str = "actual"
    phone_flag_for_management_account: str = "actual"
    delegated_admin_reads: bool = True
    not_allowed_error: str = "EntityNotExists.ResourceDirectory"
    missing_parameter_before_permission: bool = False


@dataclass(frozen=True)
class Fixture:
    site: str
    directory: DirectorySpec
    folders: tuple[FolderSpec, ...]
    accounts: tuple[AccountSpec, ...]
    callers: tuple[CallerSpec, ...]
    source: str = "<fixture>"
    warnings: tuple[str, ...] = ()
    delegated_administrators: tuple[str, ...] = ()  # member account ids
    undocumented: Undocumented = field(default_factory=Undocumented)
    roles: tuple[RoleSpec, ...] = ()

    def caller(self, access_key_id: str) -> CallerSpec | None:
        for c in self.callers:
            if c.access_key_id == access_key_id:
                return c
        return None

    def role(self, arn: str) -> RoleSpec | None:
        """The role with this ARN (role names are matched case-insensitively)."""
        wanted = arn.strip().lower()
        for r in self.roles:
            if r.arn.lower() == wanted:
                return r
        return None


def sample_fixture_path() -> Path:
    """The bundled sample directory (about 60 members) that ``rdscan demo`` serves."""
    return Path(__file__).with_name("samples") / "sample-directory.yaml"


def load_fixture(path: str | Path) -> Fixture:
    """Read and validate a fixture file (YAML or JSON)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise FixtureError(
            f"fixture {p} is not UTF-8 text (is it a binary file?)",
            hint="give a YAML or JSON fixture file (see `rdscan emulator generate`)",
        ) from None
    except OSError as exc:
        raise FixtureError(
            f"cannot read fixture {p}: {exc.strerror or exc}",
            hint="check the path given to --fixture",
        ) from None
    try:
        if p.suffix.lower() == ".json" or text.lstrip().startswith("{"):
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise FixtureError(
                    f"fixture {p} is not valid JSON: {exc}",
                    hint="fix the syntax at the line and column shown",
                ) from None
        else:
            try:
                data = yaml.safe_load(text)
            except yaml.YAMLError as exc:
                raise FixtureError(
                    f"fixture {p} is not valid YAML: {exc}",
                    hint="fix the syntax at the position shown",
                ) from None
        return parse_fixture(data, source=str(p))
    except RecursionError:
        raise FixtureError(
            f"fixture {p} is nested too deeply to be a fixture",
            hint="give a fixture with site, resource_directory, folders, accounts and callers: "
            f"start from the bundled sample ({sample_fixture_path()}) or `rdscan emulator "
            "generate`",
        ) from None


def parse_fixture(data: Any, source: str = "<fixture>") -> Fixture:
    """Validate fixture data (already parsed from YAML/JSON) into a frozen ``Fixture``."""
    return _Parser(source).parse(data)


def parse_account(entry: Any, where: str, default_folder: str) -> AccountSpec:
    """Validate one account entry (used by ``DirectoryState.add_account`` too)."""
    return _Parser("<account>").account(entry, where, default_folder)


def _identity_of(arn: str) -> str:
    """The identity type an ARN implies: ``...:root`` -> Account, ``assumed-role/`` -> role."""
    if arn.endswith(":root"):
        return "Account"
    if ":assumed-role/" in arn:
        return "AssumedRoleUser"
    return "RAMUser"


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.warnings: list[str] = []

    def fail(self, where: str, problem: str, hint: str) -> FixtureError:
        return FixtureError(f"fixture {self.source}: {where}: {problem}", hint=hint)

    def unknown(self, where: str, entry: Mapping[str, Any], known: set[str]) -> None:
        for key in sorted(set(entry) - known):
            self.warnings.append(f"{where}: unknown key {key!r} ignored")

    def text(self, entry: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str:
        value = entry.get(key)
        if value is None:
            if required:
                raise self.fail(where, f"missing {key!r}", f"add {key}: to this entry")
            return ""
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise self.fail(
                where, f"{key!r} must be a string, not {type(value).__name__}", "quote the value"
            )
        text = str(value).strip()
        if required and not text:
            raise self.fail(where, f"{key!r} is empty", f"give {key} a value")
        return text

    def flag(self, entry: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
        value = entry.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(where, f"{key!r} must be true or false", f"write {key}: true|false")
        return value

    def time(self, entry: Mapping[str, Any], key: str, where: str) -> str:
        value = entry.get(key)
        if value is None:
            return DEFAULT_TIME
        if isinstance(value, datetime):  # YAML parses unquoted timestamps
            if value.tzinfo is not None:
                value = value.astimezone(timezone.utc)
            millis = f".{value.microsecond // 1000:03d}" if value.microsecond else ""
            return value.strftime("%Y-%m-%dT%H:%M:%S") + millis + "Z"
        if isinstance(value, date):
            return f"{value.isoformat()}T00:00:00Z"
        return self.text(entry, key, where)

    def mapping(self, value: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(where, "must be a mapping of keys to values", "write it as key: value")
        return value

    def parse(self, data: Any) -> Fixture:
        top = self.mapping(data, "top level")
        self.unknown("top level", top, _TOP_KEYS)
        site = str(top.get("site") or "cn").strip().lower()
        if site not in SITES:
            raise self.fail("site", f"unknown site {site!r}", "use site: cn or site: intl")
        rd = self.mapping(top.get("resource_directory"), "resource_directory")
        self.unknown("resource_directory", rd, _RD_KEYS)
        directory = DirectorySpec(
            id=self.text(rd, "id", "resource_directory"),
            root_folder_id=self.text(rd, "root_folder_id", "resource_directory"),
            master_account_id=self.text(rd, "master_account_id", "resource_directory"),
            master_account_name=self.text(
                rd, "master_account_name", "resource_directory", required=False
            ),
            create_time=self.time(rd, "create_time", "resource_directory"),
        )
        folders = self.folders(top.get("folders") or [], directory.root_folder_id)
        folder_ids = {f.id for f in folders} | {directory.root_folder_id}
        accounts = self.accounts(top.get("accounts") or [], folder_ids, directory.root_folder_id)
        callers = self.callers(top.get("callers") or [])
        delegated = self.delegated(
            top.get("delegated_administrators") or [], {a.id for a in accounts}, directory
        )
        undocumented = self.undocumented(top.get("undocumented") or {})
        roles = self.roles(top.get("roles") or [], {c.access_key_id for c in callers})
        return Fixture(
            site=site,
            directory=directory,
            folders=folders,
            accounts=accounts,
            callers=callers,
            source=self.source,
            warnings=tuple(self.warnings),
            delegated_administrators=delegated,
            undocumented=undocumented,
            roles=roles,
        )

    def roles(self, value: Any, caller_keys: set[str]) -> tuple[RoleSpec, ...]:
        out: dict[str, RoleSpec] = {}
        for i, raw in enumerate(self.entries(value, "roles")):
            where = f"roles[{i}]"
            entry = self.mapping(raw, where)
            arn = self.text(entry, "arn", where)
            where = f"roles[{i}] (arn {arn})"
            self.unknown(where, entry, _ROLE_KEYS)
            m = _ROLE_ARN.match(arn)
            if not m:
                raise self.fail(
                    where, f"bad role arn {arn!r}", "write it as acs:ram::<account id>:role/<name>"
                )
            if arn.lower() in out:
                raise self.fail(where, "duplicate role arn", "give each role its own arn")
            trusted = entry.get("trusted_callers") or []
            if isinstance(trusted, str):
                trusted = [trusted]
            if not isinstance(trusted, list) or not all(
                isinstance(t, (str, int)) and not isinstance(t, bool) for t in trusted
            ):
                raise self.fail(
                    where,
                    "trusted_callers must be a list of access key ids",
                    "write trusted_callers: [LTAI-...]",
                )
            unknown = [str(t) for t in trusted if str(t) not in caller_keys]
            if unknown:
                raise self.fail(
                    where,
                    f"trusted_callers names unknown access key ids: {', '.join(unknown)}",
                    "list access_key_id values of entries under callers:",
                )
            limit = entry.get("max_session_duration_s", 3600)
            if isinstance(limit, bool) or not isinstance(limit, int) or not 900 <= limit <= 43200:
                raise self.fail(
                    where,
                    "max_session_duration_s must be a whole number from 900 to 43200",
                    "write max_session_duration_s: 3600",
                )
            out[arn.lower()] = RoleSpec(
                arn=arn,
                name=m.group(2),
                account_id=m.group(1),
                trusted_callers=tuple(str(t) for t in trusted),
                allow=self.allow_list(entry, where),
                role_id=self.text(entry, "role_id", where, required=False),
                max_session_duration_s=limit,
            )
        return tuple(out.values())

    def delegated(self, value: Any, members: set[str], directory: DirectorySpec) -> tuple[str, ...]:
        """``delegated_administrators``: a list of member account ids, or of mappings
        ``{account_id, service_principal}`` (the service is informational)."""
        out: list[str] = []
        for i, raw in enumerate(self.entries(value, "delegated_administrators")):
            where = f"delegated_administrators[{i}]"
            if isinstance(raw, Mapping):
                self.unknown(where, raw, {"account_id", "service_principal"})
                account_id = self.text(raw, "account_id", where)
            else:
                account_id = self.text({"account_id": raw}, "account_id", where)
            if account_id == directory.master_account_id or account_id not in members:
                raise self.fail(
                    where,
                    f"{account_id!r} is not a member account of the directory",
                    "a delegated administrator is a member: list its id under accounts:",
                )
            out.append(account_id)
        return tuple(out)

    def undocumented(self, value: Any) -> Undocumented:
        where = "undocumented"
        entry = self.mapping(value, where)
        self.unknown(where, entry, _UNDOCUMENTED_KEYS)
        base = Undocumented()

        def number(key: str, default: float, low: float) -> float:
            raw = entry.get(key, default)
            if isinstance(raw, bool) or not isinstance(raw, (int, float)) or raw < low:
                raise self.fail(
                    where, f"{key!r} must be a number >= {low:g}", f"write {key}: {default:g}"
                )
            return raw

        def choice(key: str, default: str, allowed: tuple[str, ...]) -> str:
            raw = entry.get(key, default)
            if raw is True:  # YAML true/false for the phone-flag knobs
                raw = "actual"
            elif raw is False:
                raw = "omitted"
            text = str(raw).strip().lower()
            if text not in allowed:
                raise self.fail(where, f"bad {key} {raw!r}", f"use one of {', '.join(allowed)}")
            return text

        statuses = entry.get("bind_statuses", list(base.bind_statuses))
        if isinstance(statuses, str):
            statuses = [statuses]
        if not isinstance(statuses, list) or not all(isinstance(x, str) for x in statuses):
            raise self.fail(
                where, "bind_statuses must be a list of statuses", "write bind_statuses: [...]"
            )
        canonical = {x.lower(): x for x in ACCOUNT_STATUSES}
        error = self.text(entry, "not_allowed_error", where, required=False)
        error = error or base.not_allowed_error
        if error not in _ERROR_CODES:
            raise self.fail(
                where,
                f"unknown not_allowed_error {error!r}",
                "use an error code the emulator knows, e.g. EntityNotExists.ResourceDirectory "
                "or NoPermission",
            )
        return Undocumented(
            daily_send_limit=int(number("daily_send_limit", base.daily_send_limit, 0)),
            daily_send_limit_scope=choice(
                "daily_send_limit_scope", base.daily_send_limit_scope, SEND_LIMIT_SCOPES
            ),
            code_ttl_s=float(number("code_ttl_s", base.code_ttl_s, 1)),
            bind_statuses=tuple(canonical.get(x.strip().lower(), x.strip()) for x in statuses),
            phone_flag_for_cloud_accounts=choice(
                "phone_flag_for_cloud_accounts",
                base.phone_flag_for_cloud_accounts,
                PHONE_FLAG_MODES,
            ),
            phone_flag_for_management_account=choice(
                "phone_flag_for_management_account",
                base.phone_flag_for_management_account,
                PHONE_FLAG_MODES,
            ),
            delegated_admin_reads=self.flag(
                entry, "delegated_admin_reads", where, base.delegated_admin_reads
            ),
            not_allowed_error=error,
            missing_parameter_before_permission=self.flag(
                entry,
                "missing_parameter_before_permission",
                where,
                base.missing_parameter_before_permission,
            ),
        )

    def entries(self, value: Any, name: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(name, "must be a list", f"write {name}: as a YAML list (- ...)")
        return value

    def folders(self, value: Any, root: str) -> tuple[FolderSpec, ...]:
        out: dict[str, FolderSpec] = {}
        for i, raw in enumerate(self.entries(value, "folders")):
            where = f"folders[{i}]"
            entry = self.mapping(raw, where)
            fid = self.text(entry, "id", where)
            where = f"folders[{i}] (id {fid})"
            self.unknown(where, entry, _FOLDER_KEYS)
            if fid in out or fid == root:
                raise self.fail(
                    where, f"duplicate folder id {fid!r}", "give each folder its own id"
                )
            out[fid] = FolderSpec(
                id=fid,
                name=self.text(entry, "name", where),
                parent=self.text(entry, "parent", where, required=False) or root,
                create_time=self.time(entry, "create_time", where),
            )
        for i, f in enumerate(out.values()):
            if f.parent != root and f.parent not in out:
                raise self.fail(
                    f"folders[{i}] (id {f.id})",
                    f"unknown parent folder {f.parent!r}",
                    "use the id of a folder listed under folders:, or the root_folder_id",
                )
        for i, f in enumerate(out.values()):  # every chain must reach the root
            seen = {f.id}
            parent = f.parent
            while parent != root:
                if parent in seen:
                    raise self.fail(
                        f"folders[{i}] (id {f.id})",
                        "folder parents form a cycle",
                        "make every folder chain end at the root folder",
                    )
                seen.add(parent)
                parent = out[parent].parent
        return tuple(out.values())

    def accounts(self, value: Any, folder_ids: set[str], root: str) -> tuple[AccountSpec, ...]:
        out: dict[str, AccountSpec] = {}
        for i, raw in enumerate(self.entries(value, "accounts")):
            account = self.account(raw, f"accounts[{i}]", root)
            where = f"accounts[{i}] (id {account.id})"
            if account.id in out:
                raise self.fail(
                    where, f"duplicate account id {account.id!r}", "give each account its own id"
                )
            if account.folder not in folder_ids:
                raise self.fail(
                    where,
                    f"unknown folder {account.folder!r}",
                    "use the id of a folder listed under folders:, or the root_folder_id",
                )
            out[account.id] = account
        return tuple(out.values())

    def account(self, raw: Any, where: str, root: str) -> AccountSpec:
        entry = self.mapping(raw, where)
        aid = self.text(entry, "id", where)
        where = f"{where} (id {aid})"
        self.unknown(where, entry, _ACCOUNT_KEYS)
        if any(ch.isspace() for ch in aid) or len(aid) > 64:
            raise self.fail(where, f"bad account id {aid!r}", "use the 16-digit account id")
        kind = self.text(entry, "type", where)
        kind = {t.lower(): t for t in ACCOUNT_TYPES}.get(kind.lower(), kind)
        if kind not in ACCOUNT_TYPES:
            raise self.fail(where, f"bad type {kind!r}", "use ResourceAccount or CloudAccount")
        status = self.text(entry, "status", where, required=False) or "CreateSuccess"
        status = {s.lower(): s for s in ACCOUNT_STATUSES}.get(status.lower(), status)
        if status not in ACCOUNT_STATUSES:
            if any(ch.isspace() or not ch.isprintable() for ch in status) or len(status) > 64:
                raise self.fail(
                    where,
                    f"bad status {status!r}",
                    "a status is one word, e.g. " + ", ".join(ACCOUNT_STATUSES),
                )
            self.warnings.append(
                f"{where}: status {status!r} is not a documented member status; served as "
                "written (documented: " + ", ".join(ACCOUNT_STATUSES) + ")"
            )
        join_method = self.text(entry, "join_method", where, required=False).lower() or (
            "created" if kind == "ResourceAccount" else "invited"
        )
        if join_method not in JOIN_METHODS:
            raise self.fail(where, f"bad join_method {join_method!r}", "use created or invited")
        phone = entry.get("secure_mobile_phone")
        if phone is not None:
            phone = str(phone).strip()
            if phone and not PHONE_RE.match(phone):
                raise self.fail(
                    where,
                    "secure_mobile_phone is not in the form <country code>-<number>",
                    "write it as e.g. 86-13900001234, or leave it out for no phone",
                )
        tags = self.tags(entry.get("tags"), where)
        display = self.text(entry, "display_name", where)
        return AccountSpec(
            id=aid,
            display_name=display,
            type=kind,
            status=status,
            folder=self.text(entry, "folder", where, required=False) or root,
            account_name=self.text(entry, "account_name", where, required=False)
            or f"{aid}@rd.onaliyun.com",
            join_method=join_method,
            join_time=self.time(entry, "join_time", where),
            modify_time=self.time(entry, "modify_time", where),
            secure_mobile_phone=phone or None,
            tags=tags,
            enterprise_real_name_verified=self.flag(
                entry, "enterprise_real_name_verified", where, True
            ),
            omit_phone_flag=self.flag(entry, "omit_phone_flag", where, False),
            in_another_resource_directory=self.flag(
                entry, "in_another_resource_directory", where, False
            ),
            enterprise_name_specified=self.flag(entry, "enterprise_name_specified", where, True),
        )

    def tags(self, raw: Any, where: str) -> tuple[tuple[str, str], ...]:
        """``{key: value}``, or a list of ``{key|Key: ..., value|Value: ...}``."""
        if not raw:
            return ()
        if isinstance(raw, list):
            pairs = []
            for item in raw:
                if not isinstance(item, Mapping) or not (item.get("key") or item.get("Key")):
                    raise self.fail(where, f"bad tag {item!r}", "write tags: {key: value}")
                value = item.get("value", item.get("Value"))
                pairs.append((item.get("key") or item.get("Key"), value))
        elif isinstance(raw, Mapping):
            pairs = list(raw.items())
        else:
            raise self.fail(where, "tags must be a mapping", "write tags: {key: value}")
        out = []
        for k, v in pairs:
            if isinstance(v, (Mapping, list)) or not str(k):
                raise self.fail(where, f"bad tag {k!r}", "tags are key: value strings")
            out.append((str(k), "" if v is None else str(v)))
        return tuple(out)

    def allow_list(self, entry: Mapping[str, Any], where: str) -> tuple[str, ...]:
        if "allow" not in entry:
            self.warnings.append(f"{where}: no allow list: every RD call answers NoPermission")
        allow_raw = entry.get("allow") or []
        if isinstance(allow_raw, str):
            allow_raw = [allow_raw]
        if not isinstance(allow_raw, list) or not all(isinstance(a, str) for a in allow_raw):
            raise self.fail(where, "allow must be a list of actions", 'write allow: ["*"]')
        allow = []
        for pattern in (a.strip() for a in allow_raw):
            if ":" not in pattern and pattern != "*":
                self.warnings.append(
                    f"{where}: allow entry {pattern!r} has no service: read as *:{pattern}"
                )
                pattern = f"*:{pattern}"
            if not _ALLOW_RE.match(pattern):
                raise self.fail(
                    where,
                    f"bad allow entry {pattern!r}",
                    'use "*", "service:Action" or a wildcard like "resourcemanager:List*"',
                )
            allow.append(pattern)
        return tuple(allow)

    def callers(self, value: Any) -> tuple[CallerSpec, ...]:
        out: dict[str, CallerSpec] = {}
        for i, raw in enumerate(self.entries(value, "callers")):
            where = f"callers[{i}]"
            entry = self.mapping(raw, where)
            key_id = self.text(entry, "access_key_id", where)
            where = f"callers[{i}] (access_key_id {key_id})"
            self.unknown(where, entry, _CALLER_KEYS)
            if key_id in out:
                raise self.fail(where, "duplicate access_key_id", "give each caller its own key")
            arn = self.text(entry, "arn", where)
            identity = self.text(entry, "identity_type", where, required=False) or _identity_of(arn)
            if identity not in IDENTITY_TYPES:
                raise self.fail(
                    where,
                    f"bad identity_type {identity!r}",
                    "use RAMUser, AssumedRoleUser or Account",
                )
            account_id = self.text(entry, "account_id", where, required=False)
            if not account_id:
                m = _ACCOUNT_ID_FROM_ARN.match(arn)
                if not m:
                    raise self.fail(
                        where,
                        f"cannot read the account id from arn {arn!r}",
                        "use an ARN like acs:ram::<account id>:user/<name>, or add account_id:",
                    )
                account_id = m.group(1)
            allow = self.allow_list(entry, where)
            token = self.text(entry, "security_token", where, required=False) or None
            out[key_id] = CallerSpec(
                access_key_id=key_id,
                access_key_secret=self.text(entry, "access_key_secret", where),
                arn=arn,
                identity_type=identity,
                allow=allow,
                account_id=account_id,
                security_token=token,
                security_token_expired=self.flag(entry, "security_token_expired", where, False),
                active=self.flag(entry, "active", where, True),
                user_id=self.text(entry, "user_id", where, required=False),
                role_id=self.text(entry, "role_id", where, required=False),
                principal_id=self.text(entry, "principal_id", where, required=False),
            )
        return tuple(out.values())
