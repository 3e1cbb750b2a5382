"""HTTPS for the emulator: a private CA and a server certificate, made with ``trustme``.

``make_server_context(tls_dir)`` creates a fresh CA and a certificate for ``127.0.0.1``,
``localhost`` and ``::1`` signed by it, writes the CA certificate (PEM, public; no private key
is written anywhere) to ``tls_dir/ca.pem`` and returns the server's ``ssl.SSLContext``. A
client trusts the emulator by trusting ``ca.pem`` (rdscan ``--ca-bundle``, SDK
``RuntimeOptions(ca=...)``, ``curl --cacert``). Every start makes a new CA: an old ``ca.pem``
is replaced.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from ..errors import ConfigError

CA_FILE = "ca.pem"
SERVER_NAMES = ("127.0.0.1", "localhost", "::1")


def make_server_context(tls_dir: str | Path) -> tuple[ssl.SSLContext, Path]:
    """(server SSL context, path of the CA certificate written). ConfigError when the
    folder cannot be created or written."""
    import trustme  # a runtime dependency, only needed for --tls-dir

    folder = Path(tls_dir)
    ca = trustme.CA(organization_name="rdscan emulator")
    cert = ca.issue_cert(*SERVER_NAMES)
    ca_path = folder / CA_FILE
    try:
        folder.mkdir(parents=True, exist_ok=True)
        ca.cert_pem.write_to_path(str(ca_path))
    except OSError as exc:
        raise ConfigError(
            f"cannot write the emulator's CA certificate to {ca_path}: {exc.strerror or exc}",
            hint="give --tls-dir a folder you can write (it is created if missing)",
        ) from exc
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    cert.configure_cert(context)
    return context, ca_path
