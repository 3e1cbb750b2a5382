"""Helpers for the emulator contract tests: SDK client factories."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from alibabacloud_resourcedirectorymaster20220419.client import Client as RdmClient
from alibabacloud_resourcemanager20200331.client import Client as RmClient
from alibabacloud_sts20150401.client import Client as StsClient


@pytest.fixture
def rm(sdk_config: Callable[..., Any]) -> Callable[..., RmClient]:
    """``rm(srv, caller="auditor", **config)`` -> ResourceManager 2020-03-31 client."""
    return lambda srv, caller="auditor", **kw: RmClient(sdk_config(srv, caller, **kw))


@pytest.fixture
def rdm(sdk_config: Callable[..., Any]) -> Callable[..., RdmClient]:
    """``rdm(srv, caller="auditor", **config)`` -> ResourceDirectoryMaster 2022-04-19 client."""
    return lambda srv, caller="auditor", **kw: RdmClient(sdk_config(srv, caller, **kw))


@pytest.fixture
def sts(sdk_config: Callable[..., Any]) -> Callable[..., StsClient]:
    """``sts(srv, caller="auditor", **config)`` -> STS 2015-04-01 client."""
    return lambda srv, caller="auditor", **kw: StsClient(sdk_config(srv, caller, **kw))
