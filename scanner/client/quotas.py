"""The documented API quotas rdscan paces at, per action. Pure data, no IO.

Alibaba Cloud counts each quota per action and per management account ("Request Rate: N/1(s)",
quota dimension regionId, API, ParentUid): every AccessKey, STS token and role of the account
draws from the same bucket, so another tool of the same account slows rdscan down (rdscan's
retries absorb that throttling; see ``scanner.client.sdk``).

Sources (read 2026-11; ``/work/shared/docs/alibaba-rd-api.md`` section 8):

- ResourceDirectoryMaster 2022-04-19 quota page (help.aliyun.com/zh/resource-management/
  developer-reference/api-resourcedirectorymaster-2022-04-19-quota):
  GetAccount 50/s, ListAccounts 20/s, ListAccountsForParent 50/s, BindSecureMobilePhone 20/s.
- ResourceManager 2020-03-31 quota page (help.aliyun.com/zh/resource-management/
  resource-directory/developer-reference/api-resourcemanager-2020-03-31-quota):
  SendVerificationCodeForBindSecureMobilePhone 10/s, BindSecureMobilePhone 20/s, ListAccounts
  20/s (one snapshot of the page says 50/s: rdscan takes the lower), ListFoldersForParent 50/s,
  GetResourceDirectory 50/s, ListAccountsForParent 50/s.
- Not documented anywhere found: GetFolder, Send 2022-04-19 (rdscan's Send goes through the
  2022-04-19 client; the 2020-03-31 figure of 10/s is used, the lower of the two candidates),
  STS GetCallerIdentity and AssumeRole. rdscan uses ``UNDOCUMENTED_RATE`` (20/s) for those.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

UNDOCUMENTED_RATE = 20.0


@dataclass(frozen=True)
class Quota:
    action: str
    rate: float  # requests per second, per management account
    source: str  # where the figure comes from (API version and doc page), or "undocumented"


_RDM_2022 = "ResourceDirectoryMaster 2022-04-19 quota page"
_RM_2020 = "ResourceManager 2020-03-31 quota page"
_NONE = "undocumented: rdscan assumes 20/s"

# the action names rdscan's client uses (the version each is called with is in sdk.py)
QUOTAS: Mapping[str, Quota] = MappingProxyType(
    {
        q.action: q
        for q in (
            Quota("GetAccount", 50.0, f"{_RDM_2022} (GetAccount 2022-04-19)"),
            Quota("ListAccounts", 20.0, f"{_RM_2020} (ListAccounts 2020-03-31)"),
            Quota("ListFoldersForParent", 50.0, _RM_2020),
            Quota("ListAccountsForParent", 50.0, _RM_2020),
            Quota("GetResourceDirectory", 50.0, _RM_2020),
            Quota(
                "SendVerificationCodeForBindSecureMobilePhone",
                10.0,
                f"{_RM_2020} (the 2022-04-19 figure is not documented)",
            ),
            Quota("BindSecureMobilePhone", 20.0, f"{_RDM_2022} and {_RM_2020}"),
            Quota("GetFolder", UNDOCUMENTED_RATE, _NONE),
            Quota("GetCallerIdentity", UNDOCUMENTED_RATE, _NONE),
            Quota("AssumeRole", UNDOCUMENTED_RATE, _NONE),
        )
    }
)


def documented_rate(action: str) -> float:
    """Requests per second the documentation allows ``action`` (20/s when it says nothing)."""
    quota = QUOTAS.get(action)
    return quota.rate if quota is not None else UNDOCUMENTED_RATE


def pacing_rate(action: str, override: float | None) -> float:
    """The rate rdscan paces ``action`` at: ``override`` (``--rate N``: every action at N) when
    given, else the documented quota."""
    return float(override) if override is not None else documented_rate(action)
