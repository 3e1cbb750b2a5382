"""Test-wide setup. Runs before any test module imports the Alibaba SDKs."""

from __future__ import annotations

import os

# alibabacloud_credentials reads its environment once, at import time: set it first.
os.environ["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] = "true"
os.environ["ALIBABA_CLOUD_CLI_PROFILE_DISABLED"] = "true"
for _var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_var, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
for _var in (
    "ALIBABA_CLOUD_ACCESS_KEY_ID",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "ALIBABA_CLOUD_SECURITY_TOKEN",
    "ALIBABA_CLOUD_PROFILE",
    "ALIBABA_CLOUD_CREDENTIALS_FILE",
    "ALIBABA_CLOUD_ROLE_ARN",
):
    os.environ.pop(_var, None)


# ---- the compiled catalogs ------------------------------------------------------------------


def pytest_sessionstart(session: object) -> None:
    """A checkout whose .po changed after install (a rebase, a pull), or a venv installed
    before the catalogs were compiled at install time, has a stale or no .mo, which rdscan
    refuses (scanner.i18n); compile it here, as `make messages` would, so the suite runs. The
    build hook itself is tested in tests/report/test_i18n_catalog.py and, through a real
    wheel build, in tests/scheduling/test_dockerfile.py."""
    from scanner import i18n
    from scanner.errors import ConfigError
    from scanner.i18n_build import compile_all

    try:
        i18n.translations("zh-CN")
    except ConfigError:
        compile_all(i18n.LOCALES_DIR)
    i18n.translations.cache_clear()


# ---- rdscan as a child process ------------------------------------------------------------


def child_process_env(
    caller: tuple[str | None, str | None] | None = None, **extra: str
) -> dict[str, str]:
    """Environment for `rdscan` run as a real process: this one, less proxies and any
    ALIBABA_*/RDSCAN_* setting, offline (no ECS metadata, no CLI profile), with ``caller``'s
    AccessKey (None, or a None part, leaves it unset) and ``extra`` on top."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.lower().endswith("_proxy") and not k.startswith(("ALIBABA_", "RDSCAN_"))
    }
    env.update(
        ALIBABA_CLOUD_ECS_METADATA_DISABLED="true",
        ALIBABA_CLOUD_CLI_PROFILE_DISABLED="true",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        PYTHONUNBUFFERED="1",
        COLUMNS="200",
    )
    key_id, secret = caller or (None, None)
    if key_id:
        env["ALIBABA_CLOUD_ACCESS_KEY_ID"] = key_id
    if secret:
        env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = secret
    env.update(extra)
    return env


# ---- emulator fixtures (shared by every area's tests) ----------------------------------------
from collections.abc import Callable, Iterator  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402

from scanner.emulator import EmulatorServer, Fixture, load_fixture, sample_fixture_path  # noqa: E402

# Callers of the bundled sample (and of generated fixtures): name -> (access key id, secret).
SAMPLE_CALLERS = {
    "auditor": ("LTAI-auditor", "auditor-secret"),
    "operator": ("LTAI-operator", "operator-secret"),
    "root": ("LTAI-root", "root-secret"),
    "lister": ("LTAI-lister", "lister-secret"),
    "outsider": ("LTAI-outsider", "outsider-secret"),
    "sts": ("STS.auditor-session", "sts-secret"),
    "delegated": ("LTAI-delegated", "delegated-secret"),
    "member": ("LTAI-member", "member-secret"),
    "assumer": ("LTAI-assumer", "assumer-secret"),
}
SAMPLE_ROLE_ARN = "acs:ram::1512345678901234:role/rdscan-audit"
SAMPLE_STS_TOKEN = "sts-token-auditor"


@pytest.fixture(scope="session")
def sample_fixture() -> Fixture:
    """The bundled sample directory, loaded and validated."""
    return load_fixture(sample_fixture_path())


@pytest.fixture
def emulator(sample_fixture: Fixture) -> Iterator[Callable[..., EmulatorServer]]:
    """Factory: ``emulator(fixture=None, **kwargs)`` -> a started EmulatorServer on 127.0.0.1:0.

    ``fixture`` may be a Fixture, fixture data (dict), a path, or None (the bundled sample).
    Keyword arguments go to EmulatorServer (rate_limit, latency_ms, fault_rate, sms_outbox,
    ...). Stopped at teardown.
    """
    started: list[EmulatorServer] = []

    def make(fixture: Any = None, **kwargs: Any) -> EmulatorServer:
        if fixture is None:
            fixture = sample_fixture
        kwargs.setdefault("host", "127.0.0.1")
        kwargs.setdefault("port", 0)
        srv = EmulatorServer(fixture, **kwargs)
        srv.start()
        started.append(srv)
        return srv

    yield make
    for srv in started:
        srv.stop()


@pytest.fixture
def sdk_config() -> Callable[..., Any]:
    """Factory: ``sdk_config(srv, caller="auditor", **config_kwargs)`` -> tea-openapi Config.

    ``caller`` is a name from SAMPLE_CALLERS ("sts" adds the security token) or a
    (access_key_id, secret) pair. Extra keywords go to Config (e.g. signature_algorithm="v2").
    """
    from alibabacloud_tea_openapi.models import Config

    def make(srv: EmulatorServer, caller: Any = "auditor", **kwargs: Any) -> Config:
        if isinstance(caller, str):
            key_id, secret = SAMPLE_CALLERS[caller]
            if caller == "sts":
                kwargs.setdefault("security_token", SAMPLE_STS_TOKEN)
        else:
            key_id, secret = caller
        return Config(
            access_key_id=key_id,
            access_key_secret=secret,
            endpoint=srv.endpoint,
            protocol="http",
            **kwargs,
        )

    return make
