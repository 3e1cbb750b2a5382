"""Local emulator of the Alibaba Cloud Resource Directory API (fixture format: docs/fixture.md).

Python API::

    fx = load_fixture(path)                 # validated; FixtureError naming the entry
    fx = parse_fixture(data, source="name") # the same from a dict
    data = generate_fixture(accounts=1000, seed=1, missing_ratio=0.3)   # dict, callers included
    with EmulatorServer(fx, port=0, rate_limit=None, rate_limits=None, latency_ms=0,
                        fault_rate=0.0, sms_outbox=None, code_ttl_s=300, daily_send_limit=5,
                        seed=None) as srv:
        srv.endpoint      # "127.0.0.1:PORT": Config(endpoint=srv.endpoint, protocol="http")
        srv.script_fault(action="GetAccount", count=5, code="ServiceUnavailable", status=503)
        srv.script_drop(action="ListAccounts", count=3)  # no answer: a connection error
        srv.call_counts(); srv.reset_counts(); srv.outbox(); srv.expire_codes()
        srv.set_rate_limit(100); srv.set_rate_limit(5, action="GetAccount")
        srv.set_rate_limit(None)  # the documented quotas again; srv.quotas() -> the table
        srv.fault_rate = 0.1
        srv.state.add_account("1000000000009999", "new", folder="fd-x")
        srv.state.remove_account("1000000000009999")
        srv.state.bind_phone(account_id, "86-13900001234")

Routing: ``x-acs-action``/``x-acs-version`` headers (ACS3), or ``Action``/``Version`` parameters
in the query or a form body (legacy RPC, GET or POST). Order of checks: HTTP method (400
UnsupportedHTTPMethod unless GET/POST), route (404 InvalidApi.NotFound, also for a known action
in an unknown version), scripted/random faults, signature, timestamp (15 min), nonce, STS token
(InvalidSecurityToken.Malformed for a token nobody issued, .MismatchWithAccessKey for another
key's), rate limit (400 Throttling.User), RAM allow list (403 NoPermission), the action's rules.

Quotas (``limits.py``): each action at its documented rate (GetAccount 2022-04-19 50/s,
ListAccounts 20/s in both versions, Send 2020-03-31 10/s, ...; 20/s where no quota page
exists), one token bucket per (caller's account, version, action): every key, STS token and
role of one account shares it, as the cloud counts per account. ``rate_limit=N`` sets every
action, ``rate_limits={"GetAccount": 5, "ListAccounts@2020-03-31": 1}`` single ones.

Signatures: ACS3-HMAC-SHA256 and ACS3-HMAC-SM3 (a form body is covered by
``x-acs-content-sha256``; its parameters are read like query ones); legacy HMAC-SHA1 over the
query and form parameters together (``SignatureMethod`` anything else: InvalidSignatureMethod).
A legacy request with ``Format=XML`` is answered in XML (``text/xml;charset=utf-8``; errors under
``<Error>``), as the RPC gateway does. HostId names the product's host: resourcemanager for
2020-03-31, resourcedirectory (``-intl`` when ``site: intl``) for 2022-04-19, sts for STS. Every
error, protocol-level ones included (bad request line 400, request line over 64 KiB 414, body
over 1 MiB 413 RequestEntityTooLarge), has a body with Code, Message and RequestId.

Fixture keys beyond the design contract (all optional):

- callers[].account_id: the caller's own account (default: read from the ARN); see "Callers
  by account" below.
- callers[].security_token: an STS token the caller must send (x-acs-security-token or
  SecurityToken); callers[].security_token_expired: true answers InvalidSecurityToken.Expired.
- callers[].active: false answers InvalidAccessKeyId.Inactive.
- callers[].user_id / role_id / principal_id: returned by GetCallerIdentity (derived if absent).
- accounts[].account_name: AccountName (default ``<id>@rd.onaliyun.com``).
- accounts[].modify_time: ModifyTime (default 2024-01-01T00:00:00Z), join_time likewise.
- accounts[].enterprise_real_name_verified: false makes Bind answer
  EnterpriseRealNameVerificationError.
- accounts[].omit_phone_flag: true makes GetAccount 2022-04-19 leave out HasSecureMobilePhone and
  SecureMobilePhone (to test a scanner's handling of a response without the flag).
- accounts[].in_another_resource_directory: true makes Send and Bind answer 409
  NotSupport.AccountInAnotherResourceDirectory.
- accounts[].enterprise_name_specified: false makes Bind answer 409 Invalid.EnterpriseName.
- resource_directory.create_time, folders[].create_time.
- accounts[].status: any of the documented statuses (the seven of ListAccounts, the Create*
  ones, SwitchSuccess, Removed; case-insensitive); any other one-word string is served as
  written, with a warning on load.
- delegated_administrators: member account ids (or ``{account_id, service_principal}``) that
  are delegated administrators: their callers may call ListAccounts (documented) and, with
  ``undocumented.delegated_admin_reads``, GetAccount and the folder APIs.
- undocumented: what the documentation leaves open, one knob each (defaults = the emulator's
  behaviour before the knobs; see ``fixture.Undocumented`` and docs/fixture.md):
  daily_send_limit (5), daily_send_limit_scope (member | management_account), code_ttl_s
  (300), bind_statuses (CreateSuccess, PromoteFailed, PromoteExpired, PromoteCancelled),
  phone_flag_for_cloud_accounts and phone_flag_for_management_account (actual | omitted |
  false), delegated_admin_reads (true), not_allowed_error (EntityNotExists.ResourceDirectory),
  missing_parameter_before_permission (false).
- roles: ``[{arn: acs:ram::<account>:role/<name>, trusted_callers: [access key ids], allow:
  [...], role_id, max_session_duration_s}]``: STS AssumeRole (2015-04-01) issues a temporary
  key, secret and token for them that every action then accepts (see ``sts.py``); the caller
  needs ``sts:AssumeRole`` in its own ``allow`` and must be listed in ``trusted_callers``.

Clock: ``EmulatorServer(..., clock_skew_s=S)`` (``serve --clock-skew S``) runs the emulator's
clock S seconds ahead (negative: behind): the ``Date`` header, the 15-minute timestamp check,
code and session expiry follow it.

HTTPS: ``EmulatorServer(..., tls_dir=DIR)`` (``rdscan emulator serve --tls-dir DIR``) makes a
private CA with ``trustme``, a certificate for 127.0.0.1, localhost and ::1, writes the CA to
``DIR/ca.pem`` (``srv.ca_path``) and serves HTTPS (``srv.protocol == "https"``).

Callers by account: the management account's callers may call everything their ``allow``
list permits. A member's caller gets its directory from GetResourceDirectory and
``undocumented.not_allowed_error`` for every other RD read; an account outside the directory
gets EntityNotExists.ResourceDirectory (GetResourceDirectory: ResourceDirectoryNotInUse).
Send answers only its documented errors (caller identity, member type and status, a phone
already bound are Bind's checks, so Send "delivers" to such a member and Bind refuses).

Lenient forms: ids, secrets and names given as YAML numbers are read as strings; ``type`` and
``status`` are matched case-insensitively (status must be a documented member status); a fixture
file ending in ``.json`` (or starting with ``{``) is read as JSON. Unknown keys are ignored and
listed in ``Fixture.warnings``. GetCallerIdentity needs no permission (as in the cloud); every
other action needs ``resourcemanager:<Action>`` in the caller's ``allow`` list: ``*``,
``service:Action`` or a RAM-style wildcard (``resourcemanager:*``, ``resourcemanager:List*``),
matched case-insensitively; an entry without ``service:`` is read as ``*:<entry>`` (warning).
"""

from __future__ import annotations

from .fixture import (
    AccountSpec,
    CallerSpec,
    DirectorySpec,
    Fixture,
    FolderSpec,
    load_fixture,
    parse_fixture,
    sample_fixture_path,
)
from .generate import generate_fixture
from .server import EmulatorServer, RequestLog

__all__ = [
    "AccountSpec",
    "CallerSpec",
    "DirectorySpec",
    "EmulatorServer",
    "Fixture",
    "FolderSpec",
    "RequestLog",
    "generate_fixture",
    "load_fixture",
    "parse_fixture",
    "sample_fixture_path",
]
