"""The one module that talks to the Alibaba Cloud SDKs.

``RdClient`` builds the ResourceManager 2020-03-31, ResourceDirectoryMaster 2022-04-19 and STS
clients lazily, paces every call through a per-action token bucket, retries throttling, 5xx and
connection errors with full-jitter backoff (the SDK itself never retries), and maps every SDK
exception to a ``scanner.errors`` error that keeps the code, HTTP status, raw message, RequestId
and action, with a hint that names the fix.

Thread safety: the SDK clients keep no per-call state, but their HTTP session and credential
objects are shared process-wide, so each thread gets its own set of SDK clients (cheap) while the
credential provider (which may refresh an STS token) is shared and refreshes under its own lock.
"""

from __future__ import annotations

import configparser
import contextlib
import json
import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from alibabacloud_credentials.client import Client as CredentialClient
from alibabacloud_credentials.exceptions import CredentialException
from alibabacloud_credentials.provider import (
    CLIProfileCredentialsProvider,
    DefaultCredentialsProvider,
    ProfileCredentialsProvider,
    StaticAKCredentialsProvider,
    StaticSTSCredentialsProvider,
)
from alibabacloud_credentials.provider.refreshable import Credentials as SdkCredentials
from alibabacloud_credentials_api import ICredentials, ICredentialsProvider
from alibabacloud_resourcedirectorymaster20220419 import models as rdm_models
from alibabacloud_resourcedirectorymaster20220419.client import Client as RdmClient
from alibabacloud_resourcemanager20200331 import models as rm_models
from alibabacloud_resourcemanager20200331.client import Client as RmClient
from alibabacloud_sts20150401 import models as sts_models
from alibabacloud_sts20150401.client import Client as StsClient
from alibabacloud_tea_openapi.models import Config
from darabonba.core import DaraCore
from darabonba.exceptions import ResponseException, RetryError
from darabonba.runtime import RuntimeOptions
from Tea.exceptions import RetryError as TeaRetryError
from Tea.exceptions import TeaException, UnretryableException

from ..errors import (
    ApiError,
    AuthError,
    ConnectionFailed,
    CredentialsError,
    NotFound,
    ServiceUnavailable,
    Throttled,
    TlsError,
)
from ..findings import Caller, ReasonPart
from ..inventory.model import Directory
from ..phones import mask_phone, mask_phones_in
from ..reasons import english, part
from . import bounded
from .model import AccountPhone, SentCode
from .ratelimit import Backoff, BackoffPolicy, RateLimiter
from .settings import Settings
from .transport import proxy_for

CREDENTIALS_HINT = (
    "set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or pass --profile NAME "
    "(a profile of ~/.aliyun/config.json or ~/.alibabacloud/credentials.ini)"
)
PERMISSION_HINT = (
    "attach the policy printed by `rdscan print-policy audit` to the caller (RAM user or role "
    "of the management account)"
)
MANAGEMENT_HINT = (
    "run with credentials of the management account of the resource directory (a RAM user or "
    "role of the account that enabled it)"
)

_PAGE_SIZE_MAX = 100

# The SDKs log through StreamHandlers of their own, i.e. onto the user's terminal:
# alibabacloud_credentials every failed refresh (e.g. --role-arn) with a full traceback and the
# signed request URL (rdscan reports the failure itself, as one CredentialsError); Tea and
# darabonba, with DEBUG=sdk in the environment, every request's headers and query, which carry
# the STS token and, for Send/Bind, the full phone number. None of it may be printed.
for _sdk_logger in ("credentials", "alibabacloud-tea", "darabonba-core"):
    logging.getLogger(_sdk_logger).setLevel(logging.CRITICAL + 1)

bounded.install()  # every attempt: a total deadline and a cap on the answer's size


@dataclass(frozen=True)
class _Failure:
    error: ApiError | CredentialsError
    retryable: bool
    throttled: bool = False
    retry_after_ms: int | None = None


def _is_throttling(failure: _Failure) -> bool:
    code = getattr(failure.error, "code", "") or ""
    return code.startswith("Throttling") or code == "Rejected.Throttling"


class RdClient:
    """Rate-limited, retrying access to the Resource Directory APIs. Thread-safe."""

    def __init__(
        self,
        settings: Settings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        # each endpoint's proxy, NO_PROXY applied (transport.py says why rdscan does this)
        self.proxies: dict[str, str | None] = {
            endpoint: proxy_for(endpoint, settings.protocol, os.environ)
            for endpoint in {
                settings.endpoints.resourcemanager,
                settings.endpoints.resourcedirectory,
                settings.endpoints.sts,
            }
        }
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._rng_lock = threading.Lock()
        self._limiter = RateLimiter(
            lambda action: settings.rate_of(str(action)), clock=clock, sleep=sleep
        )
        self._policy = BackoffPolicy(
            max_attempts=settings.max_attempts,
            budget_s=settings.retry_budget_s,
            base_s=settings.retry_base_s,
            cap_s=settings.retry_cap_s,
        )
        self._local = threading.local()
        self._cred_lock = threading.Lock()
        self._credential: CredentialClient | None = None
        self._counts: dict[str, int] = {}
        self._latency: dict[str, float] = {}  # action -> smoothed seconds per answered call
        self._throttled = 0
        self._count_lock = threading.Lock()
        self.last_server_date: str | None = None  # the Date header of the last answer
        self.credential_source: str = ""  # e.g. "default/env", set when credentials load

    # ---------------------------------------------------------------- public API

    def caller_identity(self) -> Caller:
        body = self._call(
            "GetCallerIdentity",
            lambda: self._sts().get_caller_identity_with_options(self._runtime()),
        )
        return Caller(
            arn=str(body.get("Arn") or ""),
            account_id=str(body.get("AccountId") or ""),
            identity_type=str(body.get("IdentityType") or ""),
        )

    def get_resource_directory(self) -> Directory:
        body = self._call(
            "GetResourceDirectory",
            lambda: self._rm().get_resource_directory_with_options(self._runtime()),
        )
        rd = _object(body, "ResourceDirectory", "GetResourceDirectory")
        if not rd.get("ResourceDirectoryId") or not rd.get("RootFolderId"):
            raise ApiError(
                "GetResourceDirectory returned no resource directory id or root folder id",
                action="GetResourceDirectory",
                request_id=str(body.get("RequestId") or ""),
            )
        return Directory(
            id=str(rd["ResourceDirectoryId"]),
            root_folder_id=str(rd["RootFolderId"]),
            master_account_id=str(rd.get("MasterAccountId") or ""),
            master_account_name=str(rd.get("MasterAccountName") or ""),
        )

    def list_accounts_page(
        self, page_number: int, page_size: int = _PAGE_SIZE_MAX
    ) -> tuple[list[dict[str, Any]], int | None]:
        """One page of ListAccounts 2020-03-31 (tags included): raw account dicts and TotalCount
        (None when the answer has none). A page whose shape is not ``{"Accounts": {"Account":
        [{...}, ...]}}`` raises ``ApiError``: it is never read as an empty page."""
        request = rm_models.ListAccountsRequest(
            page_number=page_number, page_size=page_size, include_tags=True
        )
        body = self._call(
            "ListAccounts",
            lambda: self._rm().list_accounts_with_options(request, self._runtime()),
        )
        return _accounts_page(body)

    def list_folders_for_parent(self, parent_id: str) -> list[dict[str, Any]]:
        """Every direct child folder of ``parent_id`` (all pages)."""
        folders: list[dict[str, Any]] = []
        seen: set[str] = set()
        page = 1
        while True:
            request = rm_models.ListFoldersForParentRequest(
                parent_folder_id=parent_id, page_number=page, page_size=_PAGE_SIZE_MAX
            )
            body = self._list_folders_page(request)
            batch = _list_of_objects(
                _object(body, "Folders", "ListFoldersForParent").get("Folder"),
                "Folders.Folder",
                "ListFoldersForParent",
            )
            for f in batch:
                fid = str(f.get("FolderId") or "")
                if fid and fid not in seen:
                    seen.add(fid)
                    folders.append(dict(f))
            total = _count(body.get("TotalCount")) or 0
            if not batch or len(folders) >= total or page * _PAGE_SIZE_MAX >= total:
                return folders
            page += 1

    def list_folders_page(self, parent_id: str, page_size: int = _PAGE_SIZE_MAX) -> dict[str, Any]:
        """One page of ListFoldersForParent (2020-03-31): the raw body."""
        request = rm_models.ListFoldersForParentRequest(
            parent_folder_id=parent_id, page_number=1, page_size=page_size
        )
        return self._list_folders_page(request)

    def _list_folders_page(self, request: rm_models.ListFoldersForParentRequest) -> dict[str, Any]:
        return self._call(
            "ListFoldersForParent",
            lambda: self._rm().list_folders_for_parent_with_options(request, self._runtime()),
        )

    def get_folder(self, folder_id: str) -> dict[str, Any]:
        request = rm_models.GetFolderRequest(folder_id=folder_id)
        body = self._call(
            "GetFolder", lambda: self._rm().get_folder_with_options(request, self._runtime())
        )
        return _object(body, "Folder", "GetFolder")

    def get_account_phone(self, account_id: str) -> AccountPhone:
        """GetAccount 2022-04-19: the secure-phone flag and the (masked) number."""
        request = rdm_models.GetAccountRequest(account_id=account_id)
        body = self._call(
            "GetAccount", lambda: self._rdm().get_account_with_options(request, self._runtime())
        )
        account = _object(body, "Account", "GetAccount")
        flag = account.get("HasSecureMobilePhone")
        phone = account.get("SecureMobilePhone")
        kind = account.get("Type")
        status = account.get("Status")
        problem: tuple[ReasonPart, ...] = ()
        if "HasSecureMobilePhone" not in account:
            problem = (part("error.flag_missing"),)
        elif flag is None:
            problem = (part("error.flag_null"),)
        elif not isinstance(flag, bool):
            kind = type(flag).__name__  # the Python type of the JSON value: str, int, dict
            problem = (part("error.flag_not_boolean", kind=kind, value=_short(repr(flag), 40)),)
        return AccountPhone(
            has_secure_mobile_phone=flag if isinstance(flag, bool) else None,
            secure_mobile_phone_masked=mask_phone(str(phone)) if phone else None,
            account_type=str(kind) if isinstance(kind, str) and kind else None,
            member_status=str(status) if isinstance(status, str) and status else None,
            request_id=str(body.get("RequestId") or ""),
            problem=problem,
        )

    def get_account_tags(self, account_id: str) -> dict[str, str]:
        """GetAccount 2022-04-19 with ``IncludeTags``: the member's tags as the API holds them now.

        Values are NOT masked: remediation reads a number from a tag (``--phone-tag``) here, live,
        because report.json and the history keep tag values masked. Keep them in memory only.
        Shape (doc page api-resourcedirectorymaster-2022-04-19-getaccount): a flat
        ``Account.Tags[]`` of ``{Key, Value}``.
        """
        request = rdm_models.GetAccountRequest(account_id=account_id, include_tags=True)
        body = self._call(
            "GetAccount", lambda: self._rdm().get_account_with_options(request, self._runtime())
        )
        tags = (body.get("Account") or {}).get("Tags") or []
        if isinstance(tags, dict):  # the ListAccounts wrapper, should a server answer with it
            tags = tags.get("Tag") or []
        return {str(t.get("Key", "")): str(t.get("Value", "")) for t in tags if isinstance(t, dict)}

    def send_verification_code(self, account_id: str, phone_wire: str) -> SentCode:
        """SendVerificationCodeForBindSecureMobilePhone (2022-04-19)."""
        request = rdm_models.SendVerificationCodeForBindSecureMobilePhoneRequest(
            account_id=account_id, secure_mobile_phone=phone_wire
        )
        body = self._call(
            "SendVerificationCodeForBindSecureMobilePhone",
            lambda: self._rdm().send_verification_code_for_bind_secure_mobile_phone_with_options(
                request, self._runtime()
            ),
            idempotent=False,
        )
        return SentCode(
            expires_at=str(body.get("ExpirationDate") or ""),
            request_id=str(body.get("RequestId") or ""),
        )

    def bind_secure_mobile_phone(self, account_id: str, phone_wire: str, code: str) -> str:
        """BindSecureMobilePhone (2022-04-19); returns the RequestId."""
        request = rdm_models.BindSecureMobilePhoneRequest(
            account_id=account_id, secure_mobile_phone=phone_wire, verification_code=code
        )
        body = self._call(
            "BindSecureMobilePhone",
            lambda: self._rdm().bind_secure_mobile_phone_with_options(request, self._runtime()),
            idempotent=False,
        )
        return str(body.get("RequestId") or "")

    def api_calls(self) -> dict[str, int]:
        """Requests sent per action (every attempt, retries included)."""
        with self._count_lock:
            return dict(self._counts)

    def throttled_count(self) -> int:
        """Responses that were throttling errors (each one, retried or not)."""
        with self._count_lock:
            return self._throttled

    def latency(self, action: str) -> float | None:
        """Seconds one ``action`` call takes from request to answer (network and server; the
        wait for a rate-limit token and retries not included), smoothed over recent successful
        calls; None before the first one."""
        with self._count_lock:
            return self._latency.get(action)

    def _observe(self, action: str, seconds: float) -> None:
        with self._count_lock:
            previous = self._latency.get(action)
            self._latency[action] = (
                seconds if previous is None else previous + 0.1 * (seconds - previous)
            )

    # ---------------------------------------------------------------- the call loop

    def _call(
        self, action: str, send: Callable[[], Any], *, idempotent: bool = True
    ) -> dict[str, Any]:
        """Send one API call through the rate limiter, retrying what is worth retrying.

        A call that is not ``idempotent`` (Send delivers an SMS and counts against the daily
        limit; Bind may already have bound) is retried only after throttling, which the gateway
        answers before the call is processed; a 5xx, timeout or dropped connection may have
        done the work, so it is reported, not repeated.
        """
        self._credentials()  # a credentials problem is raised before anything is counted
        return self._send(action, send, idempotent=idempotent)

    def _send(
        self, action: str, send: Callable[[], Any], *, idempotent: bool = True
    ) -> dict[str, Any]:
        with self._rng_lock:
            seed = self._rng.random()
        backoff: Backoff | None = None
        while True:
            self._limiter.acquire(action)
            if backoff is None:  # the retry budget starts with the first attempt, not the queue
                backoff = Backoff(self._policy, clock=self._clock, rng=random.Random(seed))
            with self._count_lock:
                self._counts[action] = self._counts.get(action, 0) + 1
            sent = time.monotonic()
            _raw.body = _MISSING
            attempt = bounded.Attempt(self.settings.attempt_timeout_s, self.settings.max_body_bytes)
            try:
                with attempt:
                    response = send()
            except (
                TeaException,
                CredentialException,
                RetryError,
                TeaRetryError,
                requests.RequestException,
            ) as exc:
                failure = self._bound_failure(attempt, action) or _classify(exc, action)
            else:
                headers = getattr(response, "headers", None) or {}
                date = headers.get("date") or headers.get("Date")
                if date:
                    self.last_server_date = str(date)
                raw = getattr(_raw, "body", _MISSING)
                if raw is _MISSING:  # not through call_api (never seen): the model's view
                    raw = response.body.to_map() if response.body is not None else {}
                if isinstance(raw, dict):
                    self._observe(action, time.monotonic() - sent)
                    self._limiter.succeeded(action)
                    return raw
                kind = type(raw).__name__
                failure = _Failure(
                    ApiError(
                        f"unreadable response: the body is JSON {kind}, not an object",
                        action=action,
                        parts=(part("error.body_not_object", kind=kind),),
                    ),
                    retryable=True,
                )
            if failure.throttled:
                self._limiter.throttled(action)
                with self._count_lock:
                    self._throttled += 1
            if not failure.retryable or (not idempotent and not _is_throttling(failure)):
                raise failure.error from None
            delay = backoff.next_delay(failure.retry_after_ms)
            if delay is None:
                err = failure.error
                if isinstance(err, ApiError):
                    err.parts = (*err.message_parts(), backoff.gave_up_part)
                err.message = f"{err.message} ({backoff.gave_up_reason})"
                raise err from None
            self._sleep(delay)

    def _bound_failure(self, attempt: bounded.Attempt, action: str) -> _Failure | None:
        """The failure an attempt's bound caused, named as such (not "connection reset")."""
        s = self.settings
        if attempt.too_large is not None:  # the same question gets the same answer: no retry
            return _Failure(
                ApiError(
                    f"answer refused: larger than the {s.max_body_bytes:,}-byte cap "
                    f"({attempt.too_large:,} bytes announced or read)",
                    action=action,
                    parts=(
                        part(
                            "error.too_large",
                            cap=f"{s.max_body_bytes:,}",
                            size=f"{attempt.too_large:,}",
                        ),
                    ),
                    hint="a proxy or endpoint in between answers something else than the API",
                ),
                retryable=False,
            )
        if attempt.expired:
            return _Failure(
                ConnectionFailed(
                    f"no complete answer within {s.attempt_timeout_s:g} s "
                    "(the deadline of one attempt, connect to last byte)",
                    action=action,
                    parts=(part("error.deadline", seconds=f"{s.attempt_timeout_s:g}"),),
                    hint="the endpoint or a proxy is stalling; check --endpoint and the network",
                ),
                retryable=True,
            )
        return None

    # ---------------------------------------------------------------- SDK clients

    def _runtime(self) -> RuntimeOptions:
        return RuntimeOptions(
            connect_timeout=self.settings.connect_timeout_ms,
            read_timeout=self.settings.read_timeout_ms,
        )

    def _config(self, endpoint: str, credential: CredentialClient | None = None) -> Config:
        s = self.settings
        proxy = self.proxies.get(endpoint)
        if proxy is None:  # direct, whatever HTTP(S)_PROXY says (NO_PROXY, loopback)
            _bypass_proxies(s.protocol, endpoint, self._pool_size())
        return Config(
            credential=credential or self._credentials(),
            endpoint=endpoint,
            protocol=s.protocol,
            region_id="cn-hangzhou" if s.site == "cn" else "ap-southeast-1",
            connect_timeout=s.connect_timeout_ms,
            read_timeout=s.read_timeout_ms,
            ca=s.ca_bundle,
            http_proxy=proxy,
            https_proxy=proxy,
            max_idle_conns=self._pool_size(),
            user_agent=f"rdscan/{_tool_version()}",
        )

    def _pool_size(self) -> int:
        return max(40, (self.settings.concurrency or 0) * 2)

    def _clients(self) -> dict[str, Any]:
        clients: dict[str, Any] | None = getattr(self._local, "clients", None)
        if clients is None:
            clients = {}
            self._local.clients = clients
        return clients

    def _rm(self) -> RmClient:
        c = self._clients()
        if "rm" not in c:
            c["rm"] = _RawRm(self._config(self.settings.endpoints.resourcemanager))
        return c["rm"]

    def _rdm(self) -> RdmClient:
        c = self._clients()
        if "rdm" not in c:
            c["rdm"] = _RawRdm(self._config(self.settings.endpoints.resourcedirectory))
        return c["rdm"]

    def _sts(self) -> StsClient:
        c = self._clients()
        if "sts" not in c:
            c["sts"] = _RawSts(self._config(self.settings.endpoints.sts))
        return c["sts"]

    def _credentials(self) -> CredentialClient:
        with self._cred_lock:
            if self._credential is None:
                provider = _credentials_provider(self.settings)
                if self.settings.role_arn:
                    provider = _AssumeRoleProvider(self, provider, self.settings.role_arn)
                try:  # load once, here, so that a bad source is a clear error, not a traceback
                    loaded = provider.get_credentials()
                except (
                    CredentialException,
                    ValueError,
                    TeaException,
                    TeaRetryError,
                    requests.RequestException,
                    OSError,
                ) as exc:
                    raise CredentialsError(
                        f"cannot load credentials: {_short(str(exc))}", hint=CREDENTIALS_HINT
                    ) from None
                self.credential_source = str(loaded.get_provider_name() or "")
                self._credential = CredentialClient(provider=provider)
            return self._credential

    def credentials_summary(self) -> tuple[str, str]:
        """(where the credentials came from, the AccessKey ID's first and last characters).
        Never the secret or the token."""
        client = self._credentials()
        key_id = str(client.get_credential().access_key_id or "")
        shown = f"{key_id[:4]}...{key_id[-3:]}" if len(key_id) > 10 else "***"
        return describe_credential_source(self.credential_source, self.settings), shown


_SOURCES = (  # alibabacloud-credentials 1.0.12 provider names -> where the key came from
    ("default/env", "environment (ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET)"),
    ("default/cli_profile", "aliyun CLI profile (~/.aliyun/config.json)"),
    ("cli_profile", "aliyun CLI profile (~/.aliyun/config.json)"),
    ("default/profile", "credentials file (~/.alibabacloud/credentials.ini)"),
    ("profile", "credentials file (~/.alibabacloud/credentials.ini)"),
    ("default/oidc_role_arn", "OIDC role (ALIBABA_CLOUD_OIDC_TOKEN_FILE)"),
    ("default/ecs_ram_role", "ECS instance RAM role (metadata service)"),
    ("default/credentials_uri", "credentials URI (ALIBABA_CLOUD_CREDENTIALS_URI)"),
    ("static_sts", "AccessKey and STS token given to rdscan"),
    ("static_ak", "AccessKey given to rdscan"),
)


def describe_credential_source(provider_name: str, settings: Settings) -> str:
    """Where the credentials came from, in words, with the provider name: never a secret."""
    name = provider_name or ""
    base = name.removeprefix("ram_role_arn/") if name.startswith("ram_role_arn") else name
    text = next((t for prefix, t in _SOURCES if base.startswith(prefix)), base or "unknown")
    if settings.profile and "profile" in base:
        text += f", profile {settings.profile}"
    if name.startswith("ram_role_arn"):
        text = f"role {settings.role_arn} (--role-arn) assumed with {text}"
    return f"{text} [{name}]" if name else text


class _AssumeRoleProvider(ICredentialsProvider):
    """STS AssumeRole on top of the base credentials, through the STS SDK client with rdscan's
    own endpoint, protocol, CA bundle and proxy (alibabacloud-credentials' RamRoleArn provider
    forces HTTPS to its own host, verifies against certifi only and cannot take a CA bundle).

    The temporary credentials are kept until 5 minutes before their ``Expiration``
    (RFC 3339 UTC, STS 2015-04-01 AssumeRole), then fetched again. A refusal is a
    ``CredentialsError`` naming the role and STS's error code and message.
    """

    DURATION_S = 3600
    REFRESH_MARGIN_S = 300

    def __init__(self, client: RdClient, base: Any, role_arn: str) -> None:
        self._client = client
        self._base = base
        self._role_arn = role_arn
        self._lock = threading.Lock()
        self._cached: SdkCredentials | None = None
        self._expires_at = 0.0

    def get_provider_name(self) -> str:
        return "ram_role_arn"

    def get_credentials(self) -> ICredentials:
        with self._lock:
            if self._cached is None or time.time() > self._expires_at - self.REFRESH_MARGIN_S:
                self._cached = self._assume()
            return self._cached

    async def get_credentials_async(self) -> ICredentials:
        return self.get_credentials()

    def _assume(self) -> SdkCredentials:
        s = self._client.settings
        base_source = ""
        try:
            base_loaded = self._base.get_credentials()
            base_source = str(base_loaded.get_provider_name() or "")
        except CredentialException as exc:
            raise CredentialException(
                f"no base credentials to assume role {self._role_arn} with: {_short(str(exc))}"
            ) from None
        config = self._client._config(s.endpoints.sts, CredentialClient(provider=self._base))
        request = sts_models.AssumeRoleRequest(
            role_arn=self._role_arn,
            role_session_name="rdscan",
            duration_seconds=self.DURATION_S,
        )
        sts = StsClient(config)
        try:
            body = self._client._send(
                "AssumeRole",
                lambda: sts.assume_role_with_options(request, self._client._runtime()),
            )
        except CredentialsError:
            raise
        except ApiError as err:
            detail = " ".join(p for p in (err.code, err.message) if p)
            if err.status is not None:
                detail += f" (HTTP {err.status}"
                detail += f", RequestId {err.request_id})" if err.request_id else ")"
            raise CredentialsError(
                f"cannot assume role {self._role_arn}: STS AssumeRole answered {detail}",
                hint=_assume_role_hint(err),
            ) from None
        creds = body.get("Credentials") or {}
        key_id, secret, token = (
            creds.get("AccessKeyId"),
            creds.get("AccessKeySecret"),
            creds.get("SecurityToken"),
        )
        if not (key_id and secret and token):
            raise CredentialsError(
                f"cannot assume role {self._role_arn}: STS AssumeRole answered without "
                "AccessKeyId, AccessKeySecret and SecurityToken",
                hint="check --endpoint: it must serve STS AssumeRole",
            )
        self._expires_at = _rfc3339_epoch(str(creds.get("Expiration") or "")) or (
            time.time() + self.DURATION_S
        )
        return SdkCredentials(
            access_key_id=str(key_id),
            access_key_secret=str(secret),
            security_token=str(token),
            expiration=int(self._expires_at),
            provider_name=f"ram_role_arn/{base_source}" if base_source else "ram_role_arn",
        )


def _assume_role_hint(err: ApiError) -> str:
    code = err.code or ""
    if code.startswith(("EntityNotExist", "InvalidParameter.RoleArn")):
        return "check --role-arn: acs:ram::<account id>:role/<role name> of an existing role"
    if code.startswith(("NoPermission", "Forbidden", "AccessDenied")):
        return (
            "the base credentials may not assume this role: allow sts:AssumeRole on it for "
            "them, and make the role's trust policy trust their account"
        )
    if isinstance(err, ServiceUnavailable):
        return "STS did not answer: check --endpoint, the network and any proxy, or retry later"
    return err.hint or "check --role-arn and the base credentials"


def _rfc3339_epoch(text: str) -> float | None:
    import calendar

    try:
        return float(calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ")))
    except ValueError:
        return None


def _accounts_page(body: dict[str, Any]) -> tuple[list[dict[str, Any]], int | None]:
    container = body.get("Accounts")
    accounts = container.get("Account") if isinstance(container, dict) else container
    if accounts is None:
        accounts = []
    if not isinstance(accounts, list) or not all(isinstance(a, dict) for a in accounts):
        raise ApiError(
            "ListAccounts answered with an Accounts field that is not a list of accounts",
            action="ListAccounts",
            request_id=str(body.get("RequestId") or ""),
        )
    return [dict(a) for a in accounts], _count(body.get("TotalCount"))


def _count(value: Any) -> int | None:
    """A TotalCount: a non-negative JSON integer (or its digits as text); None otherwise."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.isdigit() and len(value) <= 12:
        return int(value)
    return None


def _object(body: dict[str, Any], key: str, action: str) -> dict[str, Any]:
    """``body[key]`` as a dict ({} when absent or null); any other JSON type is an error: the
    SDK's models would have dropped it silently."""
    value = body.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ApiError(
            f"unreadable response: {key} is a JSON {type(value).__name__}, not an object",
            action=action,
            request_id=str(body.get("RequestId") or ""),
        )
    return dict(value)


def _list_of_objects(value: Any, what: str, action: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ApiError(f"unreadable response: {what} is not a list of objects", action=action)
    return list(value)


# -------------------------------------------------------------------- raw answers

_MISSING = object()
_raw = threading.local()  # the body of this thread's last answer, as the server sent it


class _RawBodyMixin:
    """Keeps the answer's JSON body as parsed from the wire. The SDK's typed models drop
    silently what does not fit them (``DaraCore.from_map`` swallows every exception and
    leaves fields unset), so a malformed field would read as an absent one; rdscan reads the
    body itself and judges every field."""

    def call_api(self, params: Any, request: Any, runtime: Any) -> Any:
        result = super().call_api(params, request, runtime)  # type: ignore[misc]
        _raw.body = result.get("body") if isinstance(result, dict) else None
        return result


class _RawRm(_RawBodyMixin, RmClient):
    pass


class _RawRdm(_RawBodyMixin, RdmClient):
    pass


class _RawSts(_RawBodyMixin, StsClient):
    pass


# -------------------------------------------------------------------- proxies


class _DirectSession(requests.Session):
    """A requests session that never uses a proxy (for an endpoint that goes direct)."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        kwargs["proxies"] = {}
        return super().send(request, **kwargs)


_direct_lock = threading.Lock()


def _bypass_proxies(protocol: str, endpoint: str, pool_size: int) -> None:
    """Send requests to ``endpoint`` directly, whatever HTTP(S)_PROXY says (NO_PROXY names it,
    or it is a loopback address such as the emulator's); leave every other endpoint and the
    process environment alone.

    Why: darabonba (the SDK's HTTP core, 1.0.x) reads HTTP(S)_PROXY itself and hands the
    proxies to ``requests`` with ``Session.send``, which ignores ``Config.no_proxy`` and
    NO_PROXY (``scanner.client.transport`` decides which endpoints go direct). darabonba
    keeps one ``requests.Session`` per
    ``"<protocol>://<host header>:<port>:pool=<size>"`` in ``DaraCore._sessions`` (the host
    header is the endpoint, the port stays the default 80 for an endpoint string): this
    registers a proxy-less session, with darabonba's own adapter, under this endpoint's key.
    ``tests/client/test_client_errors.py`` fails if a new darabonba stops using it.
    """
    key = f"{protocol.lower()}://{endpoint.rstrip('/')}:80:pool={pool_size}"
    with _direct_lock:
        if isinstance(DaraCore._sessions.get(key), _DirectSession):
            return
        session = _DirectSession()
        session.mount(f"{protocol.lower()}://", DaraCore.get_adapter(protocol, pool_size=pool_size))
        DaraCore._sessions[key] = session


# -------------------------------------------------------------------- credentials


_ENV_KEY_ID = "ALIBABA_CLOUD_ACCESS_KEY_ID"
_ENV_SECRET = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
_ENV_TOKEN = "ALIBABA_CLOUD_SECURITY_TOKEN"


def check_env_key_pair(environ: Any = None) -> None:
    """Refuse half an AccessKey pair in the environment. The default chain would skip the
    environment step and go on to ``~/.aliyun/config.json``'s profile (alibabacloud-credentials
    1.0.12, provider/env.py and default.py): the scan would run as another identity, silently.

    Raises ``CredentialsError`` naming the variable that is missing.
    """
    env = os.environ if environ is None else environ
    key_id = (env.get(_ENV_KEY_ID) or "").strip()
    secret = (env.get(_ENV_SECRET) or "").strip()
    token = (env.get(_ENV_TOKEN) or "").strip()
    missing = ""
    if key_id and not secret:
        missing, present = _ENV_SECRET, _ENV_KEY_ID
    elif secret and not key_id:
        missing, present = _ENV_KEY_ID, _ENV_SECRET
    elif token and not (key_id and secret):
        missing, present = f"{_ENV_KEY_ID} and {_ENV_SECRET}", _ENV_TOKEN
    if missing:
        raise CredentialsError(
            f"{present} is set but {missing} is not: half a key pair in the environment "
            "would make the credentials chain fall through to another identity",
            hint=f"set {missing} too, or unset {present} to use --profile or the default chain",
        )


def _credentials_provider(settings: Settings) -> Any:
    """Explicit AccessKey in settings, else --profile, else the default chain (--role-arn is
    applied on top by ``RdClient``)."""
    key_id, secret = settings.access_key_id, settings.access_key_secret
    base: Any
    if key_id or secret:
        if not (key_id and secret):
            raise CredentialsError(
                "an AccessKey ID was given without its secret, or a secret without its ID",
                hint=CREDENTIALS_HINT,
            )
        if settings.security_token:
            base = StaticSTSCredentialsProvider(
                access_key_id=key_id,
                access_key_secret=secret,
                security_token=settings.security_token,
            )
        else:
            base = StaticAKCredentialsProvider(access_key_id=key_id, access_key_secret=secret)
    elif settings.profile:
        base = _profile_provider(settings.profile)
    else:
        check_env_key_pair()
        base = DefaultCredentialsProvider()
    if settings.role_arn and not re.fullmatch(r"acs:ram::\d+:role/\S+", settings.role_arn):
        raise CredentialsError(
            f"--role-arn {settings.role_arn!r} is not a role ARN",
            hint="pass --role-arn acs:ram::<account id>:role/<role name>",
        )
    return base


def _profile_provider(profile: str) -> Any:
    cli_file = Path.home() / ".aliyun" / "config.json"
    ini_file = Path(
        os.environ.get("ALIBABA_CLOUD_CREDENTIALS_FILE")
        or Path.home() / ".alibabacloud" / "credentials.ini"
    )
    unreadable = ""
    if cli_file.is_file():
        try:
            names = {p.get("name") for p in json.loads(cli_file.read_text()).get("profiles", [])}
        except (OSError, ValueError, AttributeError):
            names = set()
            unreadable = f"{cli_file} is not a valid aliyun CLI config (JSON with a profiles list)"
        if profile in names:
            return CLIProfileCredentialsProvider(profile_name=profile)
    if ini_file.is_file():
        parser = configparser.ConfigParser()
        with contextlib.suppress(configparser.Error):
            parser.read(ini_file)
        if parser.has_section(profile):
            return ProfileCredentialsProvider(profile_file=str(ini_file), profile_name=profile)
    if unreadable:
        raise CredentialsError(
            f"credentials profile {profile!r} was not found: {unreadable}",
            hint=f"repair {cli_file} (or re-create it with `aliyun configure --profile NAME`)",
        )
    raise CredentialsError(
        f"credentials profile {profile!r} was not found in {cli_file} or {ini_file}",
        hint="create it with `aliyun configure --profile NAME`, or pass an existing --profile",
    )


def _tool_version() -> str:
    from .. import __version__

    return str(__version__)


# -------------------------------------------------------------------- error mapping

_AUTH_HINTS: tuple[tuple[str, str], ...] = (
    (
        "InvalidAccessKeyId.Inactive",
        "the AccessKey is disabled: enable it in the RAM console or use another key",
    ),
    (
        "InvalidAccessKeyId",
        "the AccessKey ID is unknown: check ALIBABA_CLOUD_ACCESS_KEY_ID or the --profile in use",
    ),
    (
        "SignatureDoesNotMatch",
        "the AccessKey secret does not match the AccessKey ID: check "
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET or the --profile in use",
    ),
    ("IncompleteSignature", "the request signature is malformed: check the credentials"),
    ("InvalidSecurityToken", "the STS token is expired or malformed: get a fresh one"),
    ("MissingSecurityToken", "STS credentials need their security token"),
    ("InvalidTimeStamp", "the local clock is off by more than 15 minutes: sync it (NTP)"),
    ("NoPermission", PERMISSION_HINT),
    ("Forbidden", PERMISSION_HINT),
    ("InvalidCredentials", CREDENTIALS_HINT),
)


def _auth_hint(code: str) -> str | None:
    for prefix, hint in _AUTH_HINTS:
        if code == prefix or code.startswith(prefix + "."):
            return hint
    return None


def _inner(exc: BaseException) -> BaseException:
    """The exception an UnretryableException wraps (credentials, connection, parse errors)."""
    seen = 0
    while isinstance(exc, UnretryableException) and seen < 5:
        inner = getattr(exc, "inner_exception", None)
        if inner is None or inner is exc:
            break
        exc = inner
        seen += 1
    return exc


_HOST_PORT = re.compile(r"host='([^']+)', port=(\d+)")
_CONNECTION_REASONS = (  # (text of the error, message id of scanner.reasons)
    ("Connection refused", "error.refused"),
    ("Name or service not known", "error.no_dns"),
    ("Temporary failure in name resolution", "error.no_dns"),
    ("No address associated", "error.no_dns"),
    ("timed out", "error.connect_timeout"),
    ("Network is unreachable", "error.no_route"),
    ("Connection reset", "error.reset"),
)


def _connection_error_part(text: str) -> ReasonPart:
    """Where and why a connection failed, out of a urllib3/requests error text."""
    m = _HOST_PORT.search(text)
    where = f"{m.group(1)}:{m.group(2)}" if m else ""  # "": the endpoint (reasons.EMPTY_ARGS)
    for needle, key in _CONNECTION_REASONS:
        if needle in text:
            return part(key, where=where)
    return part("error.unreachable", where=where, detail=_short(text))


def _describe_connection_error(text: str) -> str:
    """``"127.0.0.1:8080: connection refused (...)"`` out of a urllib3/requests error text."""
    return english((_connection_error_part(text),)).removeprefix("cannot reach ")


def _tls_hint(text: str) -> str:
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        return (
            "the endpoint's certificate is not signed by a CA rdscan trusts: pass --ca-bundle "
            "FILE (or RDSCAN_CA_BUNDLE, REQUESTS_CA_BUNDLE, SSL_CERT_FILE) with your proxy's "
            "or the emulator's CA (DIR/ca.pem of `rdscan emulator serve --tls-dir DIR`)"
        )
    return (
        "the endpoint may speak plain HTTP: add --protocol http (the emulator without "
        "--tls-dir), or check the proxy in between"
    )


def _classify(exc: BaseException, action: str) -> _Failure:
    wrapped = isinstance(exc, UnretryableException)
    exc = _inner(exc)
    if isinstance(exc, CredentialException):
        return _Failure(
            CredentialsError(f"no usable credentials: {_short(str(exc))}", hint=CREDENTIALS_HINT),
            retryable=False,
        )
    if isinstance(exc, ResponseException):
        return _classify_response(exc, action)
    text = str(getattr(exc, "message", None) or exc)
    if isinstance(exc, RetryError | TeaRetryError | requests.RequestException | OSError):
        if "SSL" in text or "WRONG_VERSION_NUMBER" in text:
            return _Failure(
                TlsError(
                    f"TLS handshake with the endpoint failed: {_short(text)}",
                    action=action,
                    parts=(part("error.tls", detail=_short(text)),),
                    hint=_tls_hint(text),
                ),
                retryable=False,
            )
        return _Failure(
            ConnectionFailed(
                f"cannot reach {_describe_connection_error(text)}",
                action=action,
                parts=(_connection_error_part(text),),
                hint="check --endpoint/--protocol, the network and any proxy "
                "(HTTPS_PROXY/HTTP_PROXY, NO_PROXY); if the service is down, retry later",
            ),
            retryable=True,
        )
    if wrapped and isinstance(exc, RuntimeError | ValueError):
        # the SDK could not parse the body (e.g. a proxy's HTML error page): transient, as below
        return _Failure(
            ServiceUnavailable(
                f"unreadable response: {_short(text)}",
                action=action,
                parts=(part("error.unreadable", detail=_short(text)),),
            ),
            retryable=True,
        )
    if isinstance(exc, TeaException):
        code = str(getattr(exc, "code", "") or "")
        if code == "InvalidCredentials":
            return _Failure(
                CredentialsError("no credentials were configured", hint=CREDENTIALS_HINT),
                retryable=False,
            )
        # e.g. a non-JSON error page from a proxy: transient more often than not
        return _Failure(
            ServiceUnavailable(
                f"unreadable response: {_short(text)}",
                code=code,
                action=action,
                parts=(part("error.unreadable", detail=_short(text)),),
            ),
            retryable=True,
        )
    raise exc  # not an SDK failure: a bug, let it surface


def _classify_response(exc: ResponseException, action: str) -> _Failure:
    code = str(exc.code or "")
    status = exc.status_code if isinstance(exc.status_code, int) else None
    data = exc.data if isinstance(exc.data, dict) else {}
    # a message may quote the number that was sent (e.g. "86-13912345678 is invalid")
    message = mask_phones_in(str(data.get("Message") or data.get("message") or exc.message or code))
    request_id = str(getattr(exc, "request_id", None) or data.get("RequestId") or "")
    retry_after = exc.retry_after if isinstance(exc.retry_after, int) else None
    kw: dict[str, Any] = {"code": code, "status": status, "request_id": request_id}

    if code == "InvalidCredentials" and status is None:
        return _Failure(
            CredentialsError("no credentials were configured", hint=CREDENTIALS_HINT),
            retryable=False,
        )
    throttling_code = code.startswith("Throttling") or code == "Rejected.Throttling"
    # a retry-after paces throttling (429, 5xx); it never makes a 4xx business error retryable
    if throttling_code or (retry_after and (status is None or status == 429 or status >= 500)):
        return _Failure(
            Throttled(
                message,
                action=action,
                hint="lower --rate or --concurrency, or raise the API quota in Quota Center",
                **kw,
            ),
            retryable=True,
            throttled=True,
            retry_after_ms=retry_after,
        )
    if (status is not None and status >= 500) or code == "ServiceUnavailable":
        return _Failure(
            ServiceUnavailable(
                message,
                action=action,
                hint="the service failed to answer (a server error): retry later",
                **kw,
            ),
            retryable=True,
        )
    auth_hint = _auth_hint(code)
    if auth_hint is not None:
        return _Failure(AuthError(message, action=action, hint=auth_hint, **kw), retryable=False)
    if code in ("EntityNotExists.ResourceDirectory", "ResourceDirectoryNotInUse"):
        return _Failure(
            NotFound(message, action=action, hint=MANAGEMENT_HINT, **kw), retryable=False
        )
    if code.startswith("EntityNotExists"):
        return _Failure(NotFound(message, action=action, **kw), retryable=False)
    return _Failure(ApiError(message, action=action, **kw), retryable=False)


_QUERY = re.compile(r"\?[^\s'\")]*")
# a secret quoted in a message, e.g. an AssumeRole body the credentials library put in its error
_SECRET = re.compile(
    r"""((?:AccessKeySecret|SecurityToken|Signature|access_key_secret|security_token)"""
    r"""["']?\s*[:=]\s*["']?)[^"'\s,&}]+"""
)


def _short(text: str, limit: int = 300) -> str:
    """One line, no query strings (they carry AccessKeyId, signatures, account ids), no secret
    quoted in it."""
    text = _SECRET.sub(r"\1***", " ".join(text.split()))
    text = mask_phones_in(_QUERY.sub("?...", text))
    return text if len(text) <= limit else text[: limit - 3] + "..."
