"""Local emulator of the Alibaba Cloud Resource Directory API (see design.md, "Emulator fixture").

Python API::

    fx = load_fixture(path)                 # validated; FixtureError naming the entry
    with EmulatorServer(fx, port=0) as srv: # srv.endpoint == "127.0.0.1:PORT"
        ...

Fixture keys beyond the design contract (all optional):

- callers[].account_id: the caller's own account (default: read from the ARN). A caller whose
  account is not the management account is outside the directory: RD calls answer 404
  EntityNotExists.ResourceDirectory (ResourceDirectoryNotInUse for GetResourceDirectory).
- callers[].security_token: an STS token the caller must send (x-acs-security-token or
  SecurityToken); callers[].security_token_expired: true answers InvalidSecurityToken.Expired.
- callers[].active: false answers InvalidAccessKeyId.Inactive.
- callers[].user_id / role_id / principal_id: returned by GetCallerIdentity (derived if absent).
- accounts[].account_name: AccountName (default ``<id>@rd.onaliyun.com``).
- accounts[].modify_time: ModifyTime (default 2024-01-01T00:00:00Z), join_time likewise.
- accounts[].enterprise_real_name_verified: false makes Bind answer
  EnterpriseRealNameVerificationError.
- accounts[].omit_phone_flag: true makes GetAccount 2022-04-19 leave out HasSecureMobilePhone and
  SecureMobilePhone (to test a scanner's handling of a response without the flag).
- resource_directory.create_time, folders[].create_time.

Unknown keys are ignored and listed in ``Fixture.warnings``. GetCallerIdentity needs no
permission (as in the cloud); every other action needs ``resourcemanager:<Action>`` in the
caller's ``allow`` list (shell-style wildcards, e.g. ``resourcemanager:List*`` or ``*``).
"""

from __future__ import annotations

from .fixture import (
    AccountSpec,
    CallerSpec,
    DirectorySpec,
    Fixture,
    FolderSpec,
    load_fixture,
    parse_fixture,
    sample_fixture_path,
)
from .generate import generate_fixture
from .server import EmulatorServer, RequestLog

__all__ = [
    "AccountSpec",
    "CallerSpec",
    "DirectorySpec",
    "EmulatorServer",
    "Fixture",
    "FolderSpec",
    "RequestLog",
    "generate_fixture",
    "load_fixture",
    "parse_fixture",
    "sample_fixture_path",
]
