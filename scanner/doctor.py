"""`rdscan doctor`: will a scan (and a remediation) work with these settings? No printing here.

Each step runs once, read-only, in the order a scan needs it; the first step that fails is
"the first thing to fix". Nothing here sends an SMS or binds a phone: Send and Bind are
probed for the management account's own id, which neither can act on, with a number no
phone has (see ``probe_remediation``).

Wire facts relied on (UNVERIFIED against the real cloud; the emulator plays them):
- a permission refusal is answered before the request is looked at: 403 ``NoPermission`` /
  ``Forbidden.RAM`` (common gateway codes), so any other answer to a probe means "allowed";
- Send and Bind for the management account's own id are refused with a business error
  (the emulator: 409 ``EntityAlreadyExists.ResourceDirectory``), never carried out;
- the gateway's ``Date`` response header is the server's clock (RFC 7231 HTTP-date).
"""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Callable
from dataclasses import dataclass, field

from .client.quotas import QUOTAS
from .client.sdk import RdClient
from .client.transport import redact_proxy
from .errors import ApiError, AuthError, NotFound, ScannerError, ServiceUnavailable, TlsError
from .findings import Caller
from .inventory.collect import MANAGEMENT, MEMBER, caller_kind
from .inventory.model import Directory

ALLOWED = "allowed"
DENIED = "denied"
UNKNOWN = "unknown"

SEND = "SendVerificationCodeForBindSecureMobilePhone"
BIND = "BindSecureMobilePhone"
# a number no phone has: a probe that got past every check could reach nobody
PROBE_PHONE = "86-00000000000"
PROBE_CODE = "000000"
CLOCK_WARN_S = 60.0
CLOCK_LIMIT_S = 900.0  # InvalidTimeStamp.Expired beyond 15 minutes (common gateway codes)


@dataclass(frozen=True)
class Probe:
    action: str
    needed_by: str  # "scan", "scan (folder names)", "remediate"
    result: str  # allowed | denied | unknown
    detail: str = ""
    required: bool = True  # False: the command works without it (e.g. folder names)


@dataclass(frozen=True)
class Problem:
    what: str
    fix: str


@dataclass(frozen=True)
class DoctorReport:
    credential_source: str = ""
    access_key: str = ""  # the AccessKey ID shortened (LTAI...xyz), never a secret
    caller: Caller | None = None
    caller_kind: str = ""  # management account | delegated administrator | member account
    directory: Directory | None = None
    probes: tuple[Probe, ...] = ()
    endpoints: tuple[tuple[str, str, str], ...] = ()  # (service, host, proxy)
    protocol: str = "https"
    tls: str = ""
    clock_offset_s: float | None = None
    quotas: tuple[tuple[str, float, float, str], ...] = ()  # action, pacing, documented, source
    warnings: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = field(default=())
    outage: bool = False  # a step could not be checked because the service did not answer

    @property
    def ok(self) -> bool:
        return not self.problems


def _classify(err: ScannerError) -> tuple[str, str]:
    """(result, detail) of a probe that raised ``err``."""
    if isinstance(err, ServiceUnavailable):
        return UNKNOWN, f"the service did not answer: {err}"
    if isinstance(err, AuthError) and (err.code.startswith(("NoPermission", "Forbidden"))):
        return DENIED, str(err)
    if isinstance(err, ApiError) and err.code == "CallerIdentityError":
        return DENIED, f"{err} (Bind needs a RAM user or role, not the root identity)"
    if isinstance(err, NotFound) and err.code == "EntityNotExists.ResourceDirectory":
        return DENIED, f"not allowed for this caller: {err}"
    if isinstance(err, ApiError):  # refused for the request, not for the caller
        return ALLOWED, f"allowed (the probe was refused for its arguments: {err.code or err})"
    return UNKNOWN, str(err)


def _probe(action: str, needed_by: str, call: Callable[[], object], required: bool = True) -> Probe:
    try:
        call()
    except TlsError:
        raise
    except ScannerError as err:
        result, detail = _classify(err)
        return Probe(action, needed_by, result, detail, required)
    return Probe(action, needed_by, ALLOWED, "", required)


def probe_remediation(client: RdClient, master_account_id: str) -> tuple[Probe, Probe]:
    """Send and Bind probed for the management account's own id (they can act only on
    members), with a number no phone has and a code that was never sent: 403 means denied,
    any other refusal means the caller may call them."""
    target = master_account_id
    send = _probe(SEND, "remediate", lambda: client.send_verification_code(target, PROBE_PHONE))
    bind = _probe(
        BIND,
        "remediate",
        lambda: client.bind_secure_mobile_phone(target, PROBE_PHONE, PROBE_CODE),
    )
    return send, bind


def run_doctor(
    client: RdClient,
    *,
    remediate: bool = False,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc),
) -> DoctorReport:
    s = client.settings
    e = s.endpoints
    report: dict[str, object] = {
        "protocol": s.protocol,
        "endpoints": tuple(
            (service, host, redact_proxy(client.proxies.get(host)))
            for service, host in (
                ("ResourceManager 2020-03-31", e.resourcemanager),
                ("ResourceDirectoryMaster 2022-04-19", e.resourcedirectory),
                ("STS 2015-04-01", e.sts),
            )
        ),
        "quotas": tuple((q.action, s.rate_of(q.action), q.rate, q.source) for q in QUOTAS.values()),
        "tls": _tls_text(s.protocol, s.ca_bundle, s.ca_bundle_source),
    }
    problems: list[Problem] = []
    warnings: list[str] = []
    probes: list[Probe] = []

    def done() -> DoctorReport:
        return DoctorReport(
            **report,  # type: ignore[arg-type]
            probes=tuple(probes),
            warnings=tuple(warnings),
            problems=tuple(problems),
            outage=any(p.result == UNKNOWN for p in probes)
            or any(isinstance(p, _Outage) for p in problems),
        )

    try:
        source, key = client.credentials_summary()
        report.update(credential_source=source or "(unnamed)", access_key=key)
        caller = client.caller_identity()
        report["caller"] = caller
        if caller.identity_type == "Account" or caller.arn.endswith(":root"):
            warnings.append(
                "the AccessKey is the root identity's: use a RAM user or role with only "
                "`rdscan print-policy audit`"
            )
        directory = client.get_resource_directory()
        report["directory"] = directory
    except TlsError as err:
        problems.append(Problem(f"TLS: {err}", err.hint or ""))
        report["tls"] = f"{report['tls']}: FAILED"
        return done()
    except ServiceUnavailable as err:
        problems.append(_Outage(str(err), err.hint or "retry later"))
        return done()
    except ScannerError as err:
        problems.append(Problem(str(err), err.hint or ""))
        return done()
    _clock(client, now, report, problems, warnings)
    if s.protocol == "https":
        report["tls"] = f"{report['tls']}: verified"

    kind = caller_kind(caller.account_id, directory)
    first_page: list[list[dict[str, object]]] = []
    probes.append(
        _probe(
            "ListAccounts",
            "scan",
            lambda: first_page.append(client.list_accounts_page(1, 1)[0]),
        )
    )
    listed = probes[-1].result == ALLOWED
    if kind == MANAGEMENT:
        report["caller_kind"] = MANAGEMENT
    elif listed:
        report["caller_kind"] = "delegated administrator"
    else:
        report["caller_kind"] = MEMBER
    accounts = first_page[0] if first_page else []
    member_id = str(accounts[0].get("AccountId") or "") if accounts else ""
    member_id = member_id or directory.master_account_id
    probes.append(_probe("GetAccount", "scan", lambda: client.get_account_phone(member_id)))
    probes.append(
        _probe(
            "ListFoldersForParent",
            "scan (folder names)",
            lambda: client.list_folders_page(directory.root_folder_id, 1),
            required=False,
        )
    )
    if remediate:
        probes.extend(probe_remediation(client, directory.master_account_id))

    if report["caller_kind"] == MEMBER:
        problems.append(
            Problem(
                f"the caller's account {caller.account_id} is a member of {directory.id}, not "
                f"its management account {directory.master_account_id}, and may not list the "
                "members",
                f"use a RAM user or role of the management account "
                f"{directory.master_account_id}, or make {caller.account_id} a delegated "
                "administrator",
            )
        )
    for p in probes:
        if p.required and p.result == DENIED:
            fix = (
                "run remediation as a RAM user or role of the management account, not the "
                "root identity"
                if "CallerIdentityError" in p.detail
                else "attach the policy printed by `rdscan print-policy "
                f"{'remediate' if p.needed_by == 'remediate' else 'audit'}` to the caller"
            )
            problems.append(
                Problem(f"{p.action} is denied ({p.needed_by} needs it): {p.detail}", fix)
            )
        elif p.required and p.result == UNKNOWN:
            problems.append(_Outage(f"{p.action} could not be checked: {p.detail}", "retry later"))
        elif p.result == DENIED:
            warnings.append(f"{p.action} is denied: {p.needed_by} will show folder ids, not names")
    return done()


class _Outage(Problem):
    """A problem that is the service's, not the setup's."""


def _tls_text(protocol: str, ca_bundle: str | None, source: str) -> str:
    if protocol != "https":
        return "not used (--protocol http)"
    if ca_bundle:
        return f"HTTPS, CAs from {ca_bundle} ({source})"
    return "HTTPS, the SDK's bundled CAs (certifi)"


def _clock(
    client: RdClient,
    now: Callable[[], dt.datetime],
    report: dict[str, object],
    problems: list[Problem],
    warnings: list[str],
) -> None:
    if not client.last_server_date:
        warnings.append("the server sent no Date header: the clock offset is unknown")
        return
    try:
        server = email.utils.parsedate_to_datetime(client.last_server_date)
    except (TypeError, ValueError):
        warnings.append(f"the server's Date header is unreadable: {client.last_server_date!r}")
        return
    offset = (now() - server).total_seconds()
    report["clock_offset_s"] = offset
    if abs(offset) > CLOCK_LIMIT_S:
        problems.append(
            Problem(
                f"the local clock is {offset:+.0f} s off the server's: signed requests older "
                "than 15 minutes are refused (InvalidTimeStamp.Expired)",
                "sync the clock (NTP)",
            )
        )
    elif abs(offset) > CLOCK_WARN_S:
        warnings.append(f"the local clock is {offset:+.0f} s off the server's: sync it (NTP)")
