"""The targets file of a multi-directory run (``rdscan scan --targets FILE``): one entry per
Resource Directory, each with its own connection settings, checked like the policy files
(every problem with its line) without calling the cloud.

    targets:
      - name: prod                       # letters, digits, . _ - (a folder name)
        profile: rd-prod                 # or access_key_id_env + access_key_secret_env
        role_arn: acs:ram::1234567890123456:role/rdscan-audit   # optional, on top
        site: cn                         # cn (default) | intl
        endpoint: 127.0.0.1:8080         # optional HOST:PORT (a proxy, the emulator)
        protocol: https                  # https (default) | http
        ca_bundle: corp-ca.pem           # optional PEM file
        policy: policies/prod.yaml       # optional (default: the shipped policy)
        exemptions: exemptions-prod.yaml # optional

Relative paths are read from the targets file's folder. Secrets are never in the file: keys
come from the environment variables it names.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from yaml.nodes import Node, SequenceNode

from .client.settings import SITES, Settings
from .client.transport import check_ca_bundle
from .errors import ConfigError, PolicyError
from .policy import Exemptions, Policy, load_exemptions, load_policy
from .policy import yamlcheck as yc
from .resources import default_policy_path

_KEYS = (
    "name",
    "profile",
    "role_arn",
    "access_key_id_env",
    "access_key_secret_env",
    "security_token_env",
    "site",
    "endpoint",
    "protocol",
    "ca_bundle",
    "policy",
    "exemptions",
)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
FIX_HINT = "fix the lines listed (see docs/scheduling.md, Many directories), then run again"


@dataclass(frozen=True)
class Target:
    name: str
    settings: Settings
    policy: Policy
    policy_path: Path
    exemptions: Exemptions
    exemptions_path: Path | None
    line: int


def load_targets(path: str | Path) -> list[Target]:
    """Read and check a targets file, its policies and exemptions; PolicyError lists every
    problem as FILE:LINE. Calls nothing in the cloud."""
    ctx = yc.Problems(str(path))
    targets: list[Target] = []
    data = yc.read_bytes(Path(path), ctx)
    if data is not None:
        root = yc.compose(data, ctx)
        if root is not None:
            targets = _parse(root, ctx, Path(path).parent)
    if ctx.found:
        n = len(ctx.found)
        raise PolicyError(
            f"{path}: invalid targets file ({n} problem{'s' if n != 1 else ''})",
            ctx.problems,
            hint=FIX_HINT,
        )
    return targets


def _parse(root: Node, ctx: yc.Problems, base: Path) -> list[Target]:
    keys = yc.mapping(root, ctx, "targets file", ("targets",))
    if keys is None:
        return []
    if "targets" not in keys:
        ctx.add(root, "targets file: missing required key 'targets'")
        return []
    node = keys["targets"][1]
    if not isinstance(node, SequenceNode) or not node.value:
        ctx.add(node, "targets must be a list of at least one target")
        return []
    out: list[Target] = []
    names: dict[str, int] = {}
    for child in node.value:
        target = _target(child, ctx, base)
        if target is None:
            continue
        if target.name in names:
            ctx.add(
                child, f"duplicate target name {target.name!r} (first at line {names[target.name]})"
            )
            continue
        names[target.name] = target.line
        out.append(target)
    return out


def _text(keys: dict[str, tuple[Node, Node]], key: str, ctx: yc.Problems, what: str) -> str | None:
    return yc.text(keys[key][1], ctx, f"{what} {key}") if key in keys else None


def _path(value: str | None, base: Path) -> Path | None:
    if value is None:
        return None
    p = Path(value).expanduser()
    return p if p.is_absolute() else base / p


def _target(node: Node, ctx: yc.Problems, base: Path) -> Target | None:
    line = node.start_mark.line + 1
    what = f"target at line {line}"
    keys = yc.mapping(node, ctx, what, _KEYS)
    if keys is None:
        return None
    before = len(ctx.found)
    name = _text(keys, "name", ctx, what)
    if "name" not in keys:
        ctx.add(node, f"{what}: missing required key 'name'")
    elif name is not None and not _NAME.match(name):
        ctx.add(keys["name"][1], f"{what}: name {name!r} must be letters, digits, '.', '_' or '-'")
    if name is not None:
        what = f"target {name!r}"
    values = {k: _text(keys, k, ctx, what) for k in _KEYS if k != "name"}
    id_env, secret_env = values["access_key_id_env"], values["access_key_secret_env"]
    if (id_env is None) != (secret_env is None):
        ctx.add(node, f"{what}: give both access_key_id_env and access_key_secret_env")
    if values["profile"] and id_env:
        ctx.add(keys["profile"][0], f"{what}: give profile or access keys, not both")
    secrets: dict[str, str] = {}
    for key, field in (
        ("access_key_id_env", "access_key_id"),
        ("access_key_secret_env", "access_key_secret"),
        ("security_token_env", "security_token"),
    ):
        var = values[key]
        if var is None:
            continue
        value = os.environ.get(var, "").strip()
        if not value:
            ctx.add(keys[key][1], f"{what}: environment variable {var} is not set or empty")
        secrets[field] = value
    site = values["site"] or "cn"
    if site not in SITES:
        ctx.add(keys["site"][1], f"{what}: site {site!r} is not one of {', '.join(SITES)}")
    ca_bundle = None
    if values["ca_bundle"]:
        try:
            ca_bundle = check_ca_bundle(str(_path(values["ca_bundle"], base)), f"{what} ca_bundle")
        except ConfigError as err:
            ctx.add(keys["ca_bundle"][1], f"{what}: {err.message}")
    settings = None
    if len(ctx.found) == before:
        try:
            settings = Settings(
                site=site,
                endpoint=values["endpoint"],
                protocol=values["protocol"] or "https",
                profile=values["profile"],
                role_arn=values["role_arn"],
                ca_bundle=ca_bundle,
                ca_bundle_source=f"{what} ca_bundle" if ca_bundle else "",
                access_key_id=secrets.get("access_key_id"),
                access_key_secret=secrets.get("access_key_secret"),
                security_token=secrets.get("security_token"),
            )
        except ConfigError as err:
            ctx.add(node, f"{what}: {err.message}")
    policy_path = _path(values["policy"], base) or default_policy_path()
    exemptions_path = _path(values["exemptions"], base)
    policy = exemptions = None
    try:
        policy = load_policy(policy_path)
    except PolicyError as err:
        node_at = keys["policy"][1] if "policy" in keys else node
        ctx.add(node_at, f"{what}: {err.message}")
        for p in err.problems:
            ctx.add(node_at, f"  {p}")
    try:
        exemptions = load_exemptions(exemptions_path)
    except PolicyError as err:
        ctx.add(keys["exemptions"][1], f"{what}: {err.message}")
        for p in err.problems:
            ctx.add(keys["exemptions"][1], f"  {p}")
    if len(ctx.found) > before or name is None or settings is None:
        return None
    assert policy is not None and exemptions is not None
    return Target(name, settings, policy, policy_path, exemptions, exemptions_path, line)
