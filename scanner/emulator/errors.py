"""API errors the emulator answers with: code, HTTP status and the documented message."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# code -> (HTTP status, message). Messages follow alibaba-rd-api.md sections 3 and 6.
CATALOG: dict[str, tuple[int, str]] = {
    "Throttling.User": (400, "Request was denied due to user flow control."),
    "ServiceUnavailable": (
        503,
        "The request has failed due to a temporary failure of the server.",
    ),
    "InternalError": (
        500,
        "The request processing has failed due to some unknown error, exception or failure.",
    ),
    "InvalidAccessKeyId.NotFound": (404, "Specified access key is not found."),
    "InvalidAccessKeyId.Inactive": (400, "Specified access key is disabled."),
    "MissingAccessKeyId": (400, "AccessKeyId is mandatory for this action."),
    "SignatureDoesNotMatch": (
        400,
        "Specified signature is not matched with our calculation.",
    ),
    "IncompleteSignature": (400, "The request signature does not conform to Aliyun standards."),
    "InvalidTimeStamp.Expired": (400, "Specified time stamp or date value is expired."),
    "InvalidTimeStamp.Format": (
        400,
        "Specified time stamp or date value is not well formatted.",
    ),
    "SignatureNonceUsed": (400, "Specified signature nonce was used already."),
    "MissingSignatureNonce": (400, "SignatureNonce is mandatory for this action."),
    "InvalidSignatureMethod": (400, "Specified signature method is not valid."),
    "UnsupportedHTTPMethod": (400, "This http method is not supported."),
    "InvalidApi.NotFound": (404, "Specified api is not found, please check your url and method."),
    "MissingSecurityToken": (400, "SecurityToken is mandatory for this action."),
    "InvalidSecurityToken.Expired": (400, "Specified SecurityToken is expired."),
    "InvalidSecurityToken.Malformed": (400, "Specified SecurityToken is malformed."),
    "InvalidSecurityToken.MismatchWithAccessKey": (
        400,
        "Specified SecurityToken mismatch with the AccessKey.",
    ),
    "NoPermission": (403, "User is not authorized to operate on the specified resource."),
    "EntityNotExists.ResourceDirectory": (404, "The resource directory does not exist."),
    "ResourceDirectoryNotInUse": (404, "The resource directory is not enabled."),
    "EntityNotExists.Account": (404, "The specified account does not exist."),
    "EntityNotExists.Folder": (404, "The specified folder does not exist."),
    "InvalidParameter.ParentFolderId": (400, "The specified parent folder ID is invalid."),
    "InvalidParameter.AccountId": (400, "The specified account ID is invalid."),
    "InvalidParameter.FolderId": (400, "The specified folder ID is invalid."),
    "InvalidParameter.SecureMobilePhone": (
        400,
        "The specified secure mobile phone is invalid. Use the <country code>-<number> format.",
    ),
    "InvalidParameter.MobileCountryCode": (
        409,
        "The current site does not support the country code.",
    ),
    "NotSupport.Site.Action": (400, "Site does not allow current action."),
    "SendValidateCodeExceedsLimitForAccount": (
        409,
        "For the same account, the number of verification codes sent exceeds the limit.",
    ),
    "Invalid.VerificationCode": (409, "The verification code is invalid."),
    "AccountTypeMismatch": (
        409,
        "The type or status of the member account cannot satisfy the current operation.",
    ),
    "AccountSecureMobileAlreadyExists": (
        409,
        "The secure mobile number of the member already exists.",
    ),
    "CallerIdentityError": (409, "Please use the RAM user or role of the Management Account."),
    "NotSupport.AccountInAnotherResourceDirectory": (
        409,
        "The specified account is an Alibaba Cloud account or already exists in another "
        "resource directory.",
    ),
    "Invalid.EnterpriseName": (409, "You must specify the enterprise name."),
    "EntityAlreadyExists.ResourceDirectory": (
        409,
        "The resource directory for the account is already enabled. We recommend that you do "
        "not enable the resource directory again.",
    ),
    "RequestEntityTooLarge": (413, "The request body is too large."),
    # STS AssumeRole (HTTP statuses UNVERIFIED; see sts.py)
    "EntityNotExist.Role": (404, "The specified Role not exists."),
    "InvalidParameter.RoleSessionName": (400, "The parameter RoleSessionName is wrongly formed."),
    "InvalidParameter.DurationSeconds": (
        400,
        "The Min/Max value of DurationSeconds is 15min/1hr.",
    ),
    "EnterpriseRealNameVerificationError": (
        409,
        "The specified account does not pass enterprise real-name verification. Complete "
        "enterprise real-name verification first.",
    ),
}


@dataclass
class ApiFault(Exception):
    """Raised by handlers; the server turns it into the JSON error response."""

    code: str
    message: str = ""
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        status, message = CATALOG.get(self.code, (400, ""))
        if not self.status:
            self.status = status
        if not self.message:
            self.message = message or self.code
        super().__init__(self.code)


def missing(param: str) -> ApiFault:
    return ApiFault(
        f"MissingParameter.{param}", f"{param} is mandatory for this action.", status=400
    )


def invalid(param: str, value: str | None = None, *, code: str | None = None) -> ApiFault:
    shown = "" if value is None else f" ({value[:64]!r})"
    return ApiFault(
        code or f"InvalidParameter.{param}",
        f"The specified parameter {param}{shown} is not valid.",
        status=400,
    )
