"""Plain-language explanations of the API errors remediation meets, with the next step."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConnectionFailed, ScannerError

# ---- plain-language explanations of API errors --------------------------------------------


@dataclass(frozen=True)
class Explanation:
    what: str
    next_step: str
    fatal: bool = False  # the same for every member: stop sending


EXPLANATIONS: dict[str, Explanation] = {
    "SendValidateCodeExceedsLimitForAccount": Explanation(
        "The daily limit of verification codes was reached. The documentation does not say "
        "whether it counts per member or per management account, so no further code is sent "
        "in this run (the members already done are kept).",
        "Wait until tomorrow, then run `rdscan remediate --resume` again.",
        fatal=True,
    ),
    "AccountSecureMobileAlreadyExists": Explanation(
        "This member already has a secure mobile phone (bound by someone else meanwhile?).",
        "Nothing to do: recorded as already bound. Bind cannot change an existing number.",
    ),
    "AccountTypeMismatch": Explanation(
        "The member's type or status does not allow binding (only ResourceAccount members in a "
        "normal state can be bound this way).",
        "Check the member in the Resource Directory console; a CloudAccount's owner binds the "
        "phone in their own console.",
    ),
    "CallerIdentityError": Explanation(
        "The caller is not a RAM user or role of the management account (e.g. the root "
        "account's own AccessKey).",
        "Run again with the credentials of a RAM user or role of the management account that "
        "has the remediate policy (`rdscan print-policy remediate`).",
        fatal=True,
    ),
    "NotSupport.Site.Action": Explanation(
        "This site does not allow binding a secure phone through the API.",
        "Bind it in the console, or check that --site matches the directory's site.",
    ),
    "InvalidParameter.MobileCountryCode": Explanation(
        "The site does not accept this country code.",
        "China site: only 86- numbers; international site: no 86- numbers. Fix the number or "
        "--site.",
    ),
    "EnterpriseRealNameVerificationError": Explanation(
        "The member account has not passed enterprise real-name verification.",
        "Complete enterprise real-name verification for the member, then run again.",
    ),
    "Invalid.EnterpriseName": Explanation(
        "The member has no enterprise name set.",
        "Set the enterprise name of the member (real-name verification), then run again.",
    ),
    "NotSupport.AccountInAnotherResourceDirectory": Explanation(
        "The account is an Alibaba Cloud account or belongs to another resource directory.",
        "Its owner must bind the phone in their own console.",
    ),
    "EntityAlreadyExists.ResourceDirectory": Explanation(
        "The account has its own resource directory enabled.",
        "Its owner must bind the phone in their own console.",
    ),
    "EntityNotExists.Account": Explanation(
        "The member no longer exists in the resource directory.",
        "Re-run `rdscan scan` for fresh results.",
    ),
    "NoPermission": Explanation(
        "The caller lacks the RAM permission for this call (a read-only audit identity "
        "cannot send codes or bind).",
        "Attach the policy from `rdscan print-policy remediate` to the caller and run again.",
    ),
    "Forbidden.RAM": Explanation(
        "The caller lacks the RAM permission for this call (a read-only audit identity "
        "cannot send codes or bind).",
        "Attach the policy from `rdscan print-policy remediate` to the caller and run again.",
    ),
    "InvalidAccessKeyId.NotFound": Explanation(
        "The AccessKey is unknown.", "Check the credentials (env, --profile).", fatal=True
    ),
    "InvalidAccessKeyId.Inactive": Explanation(
        "The AccessKey is disabled.", "Use an active AccessKey.", fatal=True
    ),
    "SignatureDoesNotMatch": Explanation(
        "The AccessKey secret is wrong.", "Check the credentials (env, --profile).", fatal=True
    ),
}


def explain(error: ScannerError) -> Explanation:
    """A plain-language explanation and the next step for an error met during remediation."""
    code = getattr(error, "code", "") or ""
    if code in EXPLANATIONS:
        return EXPLANATIONS[code]
    status = getattr(error, "status", None)
    if (status is not None and status >= 500) or code in ("ServiceUnavailable", "InternalError"):
        return Explanation(
            "The service failed while handling the call; it may or may not have been done "
            "(a code may have been sent). rdscan does not repeat Send or Bind by itself.",
            "Run `rdscan remediate --resume` later: the member is read again with GetAccount "
            "before anything is sent.",
        )
    if code.startswith("Throttling"):
        return Explanation(
            "The API kept refusing requests for flow control, even after retries.",
            "Wait a minute, then run `rdscan remediate --resume`.",
        )
    if isinstance(error, ConnectionFailed):
        return Explanation(
            "The endpoint could not be reached.",
            "Check the network or --endpoint, then run `rdscan remediate --resume`.",
            fatal=True,
        )
    if code.startswith("InvalidSecurityToken") or code == "MissingSecurityToken":
        return Explanation("The STS token is invalid or expired.", "Refresh it.", fatal=True)
    return Explanation(
        f"The call failed: {error}",
        error.hint or "Check the message, then run `rdscan remediate --resume` to retry.",
    )
