"""Transport decisions (pure): CA bundle resolution, each endpoint's proxy with NO_PROXY, the
documented quotas rdscan paces at."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.client.quotas import QUOTAS, documented_rate, pacing_rate
from scanner.client.sdk import check_env_key_pair
from scanner.client.settings import Settings
from scanner.client.transport import proxy_for, redact_proxy, resolve_ca_bundle
from scanner.errors import ConfigError, CredentialsError

PROXY = "http://127.0.0.1:3128"


@pytest.mark.parametrize(
    ("endpoint", "no_proxy", "expected"),
    [
        ("vm:8080", "vm", None),  # a host name
        ("vm:8080", "other,vm", None),
        ("vm:8080", " other , vm ", None),
        ("vm:8080", "other", PROXY),
        ("vm:8080", "m", PROXY),  # not a suffix on a label boundary
        ("api.corp.example:443", ".corp.example", None),  # a domain suffix
        ("api.corp.example:443", "corp.example", None),
        ("api.corp.example:443", "xcorp.example", PROXY),
        ("corp.example", "corp.example", None),
        ("resourcemanager.aliyuncs.com", "*", None),  # every host
        ("resourcemanager.aliyuncs.com", "", PROXY),
        ("vm:8080", "vm:8080", None),  # with the port
        ("127.0.0.1:8080", "", None),  # a literal loopback address is never proxied
        ("[::1]:8080", "", None),
        ("localhost:8080", "", None),
    ],
)
def test_no_proxy_host_names_suffixes_and_star(endpoint, no_proxy, expected):
    env = {"HTTP_PROXY": PROXY, "NO_PROXY": no_proxy}
    assert proxy_for(endpoint, "http", env) == expected


def test_proxy_variables_follow_the_protocol_and_lower_case_forms():
    env = {"https_proxy": "http://p:1", "http_proxy": "http://p:2", "no_proxy": "skip.example"}
    assert proxy_for("rm.example", "https", env) == "http://p:1"
    assert proxy_for("rm.example", "http", env) == "http://p:2"
    assert proxy_for("skip.example", "https", env) is None
    assert proxy_for("rm.example", "https", {}) is None


def test_proxy_credentials_are_redacted():
    assert redact_proxy("http://user:pw@proxy.corp:3128") == "http://***@proxy.corp:3128"
    assert redact_proxy(None) == "none (direct)"


def test_ca_bundle_precedence_and_checks(tmp_path: Path):
    import trustme

    ca = trustme.CA()
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    other = tmp_path / "other.pem"
    ca.cert_pem.write_to_path(str(other))
    env = {"SSL_CERT_FILE": str(other), "REQUESTS_CA_BUNDLE": str(pem)}
    assert resolve_ca_bundle(None, env).source == "REQUESTS_CA_BUNDLE"
    assert resolve_ca_bundle(None, {"SSL_CERT_FILE": str(other)}).path == str(other)
    env["RDSCAN_CA_BUNDLE"] = str(other)
    assert resolve_ca_bundle(None, env).source == "RDSCAN_CA_BUNDLE"
    assert resolve_ca_bundle(str(pem), env).source == "--ca-bundle"
    assert resolve_ca_bundle(None, {}).path is None

    with pytest.raises(ConfigError, match=r"from SSL_CERT_FILE\) is not a file"):
        resolve_ca_bundle(None, {"SSL_CERT_FILE": str(tmp_path / "missing.pem")})
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    with pytest.raises(ConfigError, match="holds no usable PEM certificate"):
        resolve_ca_bundle(str(junk), {})


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAI-x"}, "ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
        ({"ALIBABA_CLOUD_ACCESS_KEY_SECRET": "very-secret"}, "ALIBABA_CLOUD_ACCESS_KEY_ID"),
        ({"ALIBABA_CLOUD_SECURITY_TOKEN": "t"}, "ALIBABA_CLOUD_ACCESS_KEY_ID and"),
    ],
)
def test_half_a_key_pair_in_the_environment_is_refused(env, missing):
    with pytest.raises(CredentialsError) as info:
        check_env_key_pair(env)
    assert f"but {missing}" in str(info.value)
    assert "very-secret" not in str(info.value) + (info.value.hint or "")
    check_env_key_pair({})  # nothing set: the default chain's other sources
    check_env_key_pair({"ALIBABA_CLOUD_ACCESS_KEY_ID": "a", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "b"})


def test_pacing_follows_the_documented_quotas_unless_rate_is_given():
    assert documented_rate("GetAccount") == 50.0
    assert documented_rate("ListAccounts") == 20.0
    assert documented_rate("SendVerificationCodeForBindSecureMobilePhone") == 10.0
    assert documented_rate("BindSecureMobilePhone") == 20.0
    assert documented_rate("ListFoldersForParent") == 50.0
    assert documented_rate("GetResourceDirectory") == 50.0
    assert documented_rate("SomethingNew") == 20.0  # undocumented: 20/s
    assert all(q.source for q in QUOTAS.values())
    assert pacing_rate("GetAccount", None) == 50.0
    assert pacing_rate("GetAccount", 7.0) == 7.0
    assert Settings().rate_of("GetAccount") == 50.0
    assert Settings(rate=5).rate_of("ListAccounts") == 5.0
