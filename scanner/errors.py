"""One error root for everything rdscan raises on purpose.

Every error carries a message that names the problem and, where there is one, a ``hint`` that
names the fix. The CLI prints ``Error: <message>`` and ``Fix: <hint>`` and exits non-zero; it
never shows a traceback for a ``ScannerError``.
"""

from __future__ import annotations

from .exit_codes import ExitCode
from .findings import ReasonPart


class ScannerError(Exception):
    """Root of every error rdscan raises on purpose."""

    exit_code: int = ExitCode.USAGE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class ConfigError(ScannerError):
    """Bad settings, options or files given by the user."""


class CredentialsError(ConfigError):
    """No credentials could be found, or they were refused."""


class NotManagementAccount(ConfigError):
    """The caller belongs to a member account that may not list the directory's members."""


class FixtureError(ConfigError):
    """An emulator fixture file is malformed."""


class ResultsFileError(ConfigError):
    """A saved report.json is corrupt, of another schema, or missing."""


class PolicyError(ConfigError):
    """A policy or exemptions file is malformed. ``problems`` lists every problem found."""

    def __init__(self, message: str, problems: list[str] | None = None, *, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.problems = list(problems or [])

    def __str__(self) -> str:
        if not self.problems:
            return self.message
        return self.message + "\n" + "\n".join(f"  - {p}" for p in self.problems)


class ApiError(ScannerError):
    """An Alibaba Cloud API call failed (after retries, where retries apply)."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        status: int | None = None,
        request_id: str = "",
        action: str = "",
        hint: str | None = None,
        parts: tuple[ReasonPart, ...] = (),
    ) -> None:
        super().__init__(message, hint=hint)
        self.code = code
        self.status = status
        self.request_id = request_id
        self.action = action
        # ``message`` as message ids of ``scanner.reasons`` when the words are rdscan's own
        # (a deadline, an unreachable endpoint); () when the message is the API's own text
        self.parts = parts

    def message_parts(self) -> tuple[ReasonPart, ...]:
        """``message`` as reason parts: rdscan's own words by message id, else the text as
        data (the API's words are never translated)."""
        return self.parts or (ReasonPart("data", (("text", self.message),)),)

    def __str__(self) -> str:
        parts = [self.action + ":" if self.action else "", self.code, self.message]
        text = " ".join(p for p in parts if p)
        if self.status is not None:
            text += f" (HTTP {self.status}"
            text += f", RequestId {self.request_id})" if self.request_id else ")"
        return text


class AuthError(ApiError):
    """Credentials refused (unknown key, bad signature, expired token) or lacking permission."""


class ServiceUnavailable(ApiError):
    """The service did not answer usefully after every retry: throttling, a 5xx, an unreadable
    response or a connection that failed. Not a configuration problem: when nothing could be
    scanned because of it, rdscan exits 3 (could not complete; retry later), not 2."""

    exit_code = ExitCode.INCOMPLETE


class Throttled(ServiceUnavailable):
    """Throttling outlived the retry budget."""


class NotFound(ApiError):
    """The entity (account, folder, resource directory) does not exist."""


class ConnectionFailed(ServiceUnavailable):
    """The endpoint could not be reached (refused, reset, timed out, no route)."""


class TlsError(ApiError):
    """The TLS handshake failed: a plain-HTTP endpoint, or a certificate rdscan cannot verify
    (corporate interception, a private CA: see --ca-bundle). Configuration, not an outage."""


class RemediationError(ScannerError):
    """A remediation step cannot go on (bad phone number, journal problem, ...)."""


class EvidenceError(ScannerError):
    """An evidence pack cannot be built as asked, or its signature cannot be checked."""
