"""Frozen connection settings: site, endpoints, credentials source, rate. No network here."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ConfigError
from .quotas import pacing_rate

SITES = ("cn", "intl")

# ResourceManager is a central endpoint; ResourceDirectoryMaster must be set explicitly per site
# (the Python SDK's default host is not the documented one); STS is regional.
_ENDPOINTS = {
    "cn": {
        "resourcemanager": "resourcemanager.aliyuncs.com",
        "resourcedirectory": "resourcedirectory.aliyuncs.com",
        "sts": "sts.cn-hangzhou.aliyuncs.com",
    },
    "intl": {
        "resourcemanager": "resourcemanager.aliyuncs.com",
        "resourcedirectory": "resourcedirectory-intl.aliyuncs.com",
        "sts": "sts.ap-southeast-1.aliyuncs.com",
    },
}


@dataclass(frozen=True)
class Endpoints:
    resourcemanager: str
    resourcedirectory: str
    sts: str


@dataclass(frozen=True)
class Settings:
    site: str = "cn"
    endpoint: str | None = None  # HOST:PORT overriding all three services (emulator, proxy)
    protocol: str = "https"
    profile: str | None = None  # aliyun CLI / credentials.ini profile name
    role_arn: str | None = None  # assume this role on top of the base credentials
    access_key_id: str | None = None  # explicit static credentials (tests, demo)
    # secrets: never shown by repr() (tracebacks, logs, debuggers)
    access_key_secret: str | None = field(default=None, repr=False)
    security_token: str | None = field(default=None, repr=False)
    # client-side requests per second for every action; None: each action at its documented
    # quota (scanner.client.quotas: GetAccount 50/s, ListAccounts 20/s, Send 10/s, ...)
    rate: float | None = None
    # parallel GetAccount calls; None: adapted to the observed latency so that GetAccount's
    # rate stays busy (rate x latency in flight: 50/s x 0.3 s = 15), see scanner.inventory.reader
    concurrency: int | None = None
    # PEM file of the CAs to trust for HTTPS (corporate TLS interception, the emulator's CA);
    # None: the SDK's bundled CAs (certifi). ``ca_bundle_source`` says where the path came from.
    ca_bundle: str | None = None
    ca_bundle_source: str = ""
    max_attempts: int = 6  # per call, first attempt included
    retry_budget_s: float = 60.0  # total time one call may spend retrying
    retry_base_s: float = 0.2  # first backoff ceiling; doubles per attempt (full jitter)
    retry_cap_s: float = 10.0  # largest backoff ceiling
    connect_timeout_ms: int = 5000
    read_timeout_ms: int = 10000  # per receive (the SDK's); the deadline below bounds the whole
    # one attempt, connect to last byte; a slower answer is that call's failure (retried)
    attempt_timeout_s: float = 30.0
    # largest answer accepted (after decompression); a ListAccounts page of 100 is ~100 KB
    max_body_bytes: int = 4 * 1024 * 1024

    def __post_init__(self) -> None:
        if self.site not in SITES:
            raise ConfigError(
                f"unknown site {self.site!r}",
                hint="use --site cn (China site) or --site intl (international site)",
            )
        if self.protocol not in ("https", "http"):
            raise ConfigError(
                f"unknown protocol {self.protocol!r}", hint="use --protocol https or http"
            )
        if self.endpoint is not None and ("://" in self.endpoint or not self.endpoint.strip()):
            raise ConfigError(
                f"endpoint {self.endpoint!r} must be HOST or HOST:PORT without a scheme",
                hint="e.g. --endpoint 127.0.0.1:8080 --protocol http",
            )
        if self.rate is not None and self.rate <= 0:
            raise ConfigError(f"--rate must be positive, got {self.rate}")
        if self.max_attempts < 1:
            raise ConfigError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if self.retry_budget_s < 0 or self.retry_base_s < 0 or self.retry_cap_s < 0:
            raise ConfigError("retry budget, base and cap must not be negative")
        if not self.attempt_timeout_s > 0:
            raise ConfigError(
                f"--timeout must be positive, got {self.attempt_timeout_s}",
                hint="pass --timeout SECONDS, e.g. --timeout 30",
            )
        if self.max_body_bytes < 1024:
            raise ConfigError(f"max_body_bytes must be at least 1024, got {self.max_body_bytes}")
        if self.concurrency is not None and self.concurrency < 1:
            raise ConfigError(f"--concurrency must be at least 1, got {self.concurrency}")

    def rate_of(self, action: str) -> float:
        """Requests per second rdscan paces ``action`` at (``--rate`` or the documented quota)."""
        return pacing_rate(action, self.rate)

    @property
    def endpoints(self) -> Endpoints:
        if self.endpoint:
            return Endpoints(self.endpoint, self.endpoint, self.endpoint)
        e = _ENDPOINTS[self.site]
        return Endpoints(e["resourcemanager"], e["resourcedirectory"], e["sts"])
