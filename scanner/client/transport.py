"""How rdscan reaches the endpoints: which CA bundle verifies TLS, which proxy (if any) each
endpoint goes through. Pure: the environment is passed in as a mapping.

Why rdscan decides this itself (tea-openapi 0.4.6 / darabonba-core 1.0.9, read in the source):

- The SDK takes ``HTTP_PROXY``/``HTTPS_PROXY`` (and the lower-case forms) from the environment
  on every request but never reads ``NO_PROXY``: its ``Config.no_proxy`` goes into the
  ``proxies`` dict that ``requests``' ``Session.send`` ignores. So rdscan resolves each
  endpoint's proxy here (``NO_PROXY`` host names, domain suffixes, ``*``, as curl and Python's
  ``urllib`` read them) and passes the result explicitly; an endpoint that goes direct gets a
  proxy-less session (``scanner.client.sdk._bypass_proxies``).
- The SDK verifies TLS against certifi's bundle only, unless ``Config.ca`` names a file; it
  does not read ``REQUESTS_CA_BUNDLE`` or ``SSL_CERT_FILE``. rdscan reads them (after
  ``--ca-bundle`` / ``RDSCAN_CA_BUNDLE``) and passes the file as ``Config.ca``.
"""

from __future__ import annotations

import ssl
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError

# in the order they are honoured; the first one set wins
CA_BUNDLE_VARIABLES = ("RDSCAN_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")
PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy")


@dataclass(frozen=True)
class CaBundle:
    path: str | None  # None: the SDK's bundled CAs (certifi)
    source: str  # "--ca-bundle", an environment variable's name, or "" (the default)


def resolve_ca_bundle(option: str | None, environ: Mapping[str, str]) -> CaBundle:
    """``--ca-bundle`` wins, then ``RDSCAN_CA_BUNDLE``, ``REQUESTS_CA_BUNDLE``,
    ``SSL_CERT_FILE``. The file is checked here (it exists and holds at least one PEM
    certificate), so a wrong path is exit 2 before any call.

    Raises ``ConfigError`` naming the file and where the path came from.
    """
    if option:
        return CaBundle(check_ca_bundle(option, "--ca-bundle"), "--ca-bundle")
    for name in CA_BUNDLE_VARIABLES:
        value = (environ.get(name) or "").strip()
        if value:
            return CaBundle(check_ca_bundle(value, name), name)
    return CaBundle(None, "")


def check_ca_bundle(path: str, source: str) -> str:
    file = Path(path).expanduser()
    if not file.is_file():
        raise ConfigError(
            f"CA bundle {path} (from {source}) is not a file",
            hint="point it at a PEM file of the CA certificates to trust (for the emulator: "
            "DIR/ca.pem written by `rdscan emulator serve --tls-dir DIR`)",
        )
    try:
        context = ssl.create_default_context(cafile=None)
        context.load_verify_locations(cafile=str(file))
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise ConfigError(
            f"CA bundle {path} (from {source}) holds no usable PEM certificate: "
            f"{exc.__class__.__name__}",
            hint="export the CA certificate(s) as PEM (-----BEGIN CERTIFICATE-----) into it",
        ) from None
    return str(file)


def split_host(endpoint: str) -> str:
    """``host`` out of ``host``, ``host:port`` or ``[v6]:port``."""
    host = endpoint.strip()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        return host.rsplit(":", 1)[0]
    return host


def is_loopback_address(endpoint: str) -> bool:
    """A loopback address (127.0.0.0/8, ::1, localhost): no proxy can reach rdscan's own host."""
    host = split_host(endpoint).lower()
    return host in ("::1", "localhost") or host.startswith("127.")


def proxy_for(endpoint: str, protocol: str, environ: Mapping[str, str]) -> str | None:
    """The proxy URL requests to ``endpoint`` go through, or None (direct).

    ``HTTPS_PROXY``/``https_proxy`` for ``https``, ``HTTP_PROXY``/``http_proxy`` for ``http``
    (the upper-case form first, as the SDK reads them); none when ``NO_PROXY``/``no_proxy``
    names the host (exactly, as a domain suffix such as ``.corp.example`` or
    ``corp.example``, or ``*`` for every host), or when the host is loopback.
    """
    names = ("HTTPS_PROXY", "https_proxy") if protocol == "https" else ("HTTP_PROXY", "http_proxy")
    proxy = next((environ[n].strip() for n in names if (environ.get(n) or "").strip()), None)
    if not proxy or is_loopback_address(endpoint):
        return None
    no_proxy = (environ.get("NO_PROXY") or environ.get("no_proxy") or "").strip()
    if no_proxy and _bypassed(endpoint, no_proxy):
        return None
    return proxy


def _bypassed(endpoint: str, no_proxy: str) -> bool:
    # urllib's reading of no_proxy: "*", host names, ".suffix" / "suffix" matching on a
    # label boundary, with an optional ":port"
    host = split_host(endpoint)
    rest = endpoint.strip()[len(host) :].lstrip("]")
    target = f"{host}{rest}" if rest.startswith(":") else host
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
    return bool(bypass(target, {"no": no_proxy}))


def redact_proxy(url: str | None) -> str:
    """A proxy URL without its user:password part, for reports and ``rdscan doctor``."""
    if not url:
        return "none (direct)"
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    if "@" in rest:
        rest = "***@" + rest.rsplit("@", 1)[1]
    return f"{scheme}{sep}{rest}"
