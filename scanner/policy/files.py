"""Load and validate policy and exemptions files (YAML), reporting every problem at once.

A policy says which members the secure-phone check covers (scope), how bad a miss is
(severity) and what a CloudAccount without a phone gets. An exemptions file lists accounts or
folders excused until a date, each with a reason, an owner and a ticket.

Files are read as YAML nodes (``yamlcheck``) so that every problem carries the line it is on:
``FILE:LINE: message``. Nothing here talks to the cloud; ``engine.py`` applies the
values built here.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import PolicyError
from ..findings import Severity, Status
from ..reasons import part as reason_part
from ..reasons import text
from . import yamlcheck as yc
from .frameworks import (
    TRANSLATED_LANGS,
    FrameworkMapping,
    is_mapping_file,
    parse_frameworks,
    translated_texts,
)
from .model import (
    CLOUD_ACCOUNT_RESULTS,
    LEGACY_RELATIONS,
    MEMBER_STATUSES,
    MEMBER_TYPES,
    RELATIONS,
    CloudAccountRule,
    Exemption,
    Exemptions,
    Policy,
    RelatedControl,
    Scope,
    TagRule,
)

_RELATION_HINT = (
    "relation must be 'supporting' (the check gives evidence towards the control) or "
    "'equivalent' (the framework names this exact control)"
)
_POLICY_KEYS = (
    "id",
    "title",
    "severity",
    "rationale",
    "remediation",
    "related_controls",
    "scope",
    "cloud_account_without_phone",
    *TRANSLATED_LANGS,  # zh-CN: the title, rationale and remediation in Chinese reports
)
_POLICY_TEXTS = {"title": "title", "rationale": "rationale", "remediation": "remediation"}
_CONTROL_TEXTS = {"framework": "framework", "title": "title"}
_POLICY_REQUIRED = ("id", "title", "severity", "rationale", "remediation")
_EXEMPTION_KEYS = (
    "account_id",
    "folder",
    "reason",
    "owner",
    "ticket",
    "expires",
    "approved_by",
    "created",
)
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_ACCOUNT_ID_RE = re.compile(r"^[0-9]{1,32}$")
_FOLDER_RE = re.compile(r"^((fd|r)-[A-Za-z0-9]+|Root(/[^/]+)*)$")  # an id, or a path from Root
FIX_HINT = "fix every listed line, then check the file with: rdscan policy validate FILE"


@dataclass(frozen=True)
class FileCheck:
    """The outcome of reading one file: its kind, every problem, and the value when valid."""

    path: str
    kind: str  # "policy" | "exemptions" | "unknown"
    problems: tuple[str, ...]
    policy: Policy | None = None
    exemptions: Exemptions | None = None
    frameworks: FrameworkMapping | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


# ---------------------------------------------------------------------------- public API


def load_policy(path: str | Path) -> Policy:
    """Read and validate a policy file; ``PolicyError`` lists every problem found."""
    check = check_file(path, expect="policy")
    if check.problems or check.policy is None:
        raise _error(check, "policy")
    return check.policy


def load_exemptions(path: str | Path | None) -> Exemptions:
    """Read and validate an exemptions file; ``None`` gives no exemptions."""
    if path is None:
        return Exemptions()
    check = check_file(path, expect="exemptions")
    if check.problems or check.exemptions is None:
        raise _error(check, "exemptions")
    return check.exemptions


def validate_file(path: str | Path) -> list[str]:
    """Every problem in a policy or exemptions file (told apart by its top-level keys)."""
    return list(check_file(path).problems)


def validate_files(paths: list[str | Path]) -> list[FileCheck]:
    """Check several files; also reports two policies sharing one id."""
    checks = [check_file(p) for p in paths]
    seen: dict[str, str] = {}
    out = []
    for c in checks:
        if c.policy is not None:
            first = seen.setdefault(c.policy.id, c.path)
            if first != c.path:
                problem = f"{c.path}: policy id {c.policy.id!r} is also used by {first}"
                c = FileCheck(c.path, c.kind, (*c.problems, problem), None, None)
        out.append(c)
    return out


def check_file(path: str | Path, expect: str | None = None) -> FileCheck:
    """Read one file and check it as ``expect`` ("policy", "exemptions") or by its keys."""
    name = str(path)
    ctx = yc.Problems(name)
    data = yc.read_bytes(Path(path), ctx)
    if data is None:
        return FileCheck(name, expect or "unknown", tuple(ctx.problems))
    root = yc.compose(data, ctx)
    if root is None:
        return FileCheck(name, expect or "unknown", tuple(ctx.problems))
    if not isinstance(root, MappingNode):
        ctx.add(root, f"the top level must be a mapping of keys, not {yc.kind_of(root)}")
        return FileCheck(name, expect or "unknown", tuple(ctx.problems))
    keys = {k.value for k, _ in root.value if isinstance(k, ScalarNode)}
    if expect is None and is_mapping_file(keys):
        mapping = parse_frameworks(root, ctx, "sha256:" + hashlib.sha256(data).hexdigest())
        if mapping is None and not ctx.found:
            ctx.add(root, "could not be read as a framework mapping")
        if ctx.found or mapping is None:
            return FileCheck(name, "frameworks", tuple(ctx.problems))
        return FileCheck(name, "frameworks", (), frameworks=mapping)
    kind = "exemptions" if "exemptions" in keys and "id" not in keys else "policy"
    if expect is None and not keys & (set(_POLICY_KEYS) | {"exemptions"}):
        ctx.add(
            root,
            "neither a policy (needs id, title, severity, rationale, remediation) nor an "
            "exemptions file (needs a top-level 'exemptions:' list)",
        )
        return FileCheck(name, "unknown", tuple(ctx.problems))
    if expect is not None and kind != expect:
        other = "--exemptions" if kind == "exemptions" else "--policy"
        ctx.add(
            root, f"this is {yc.a_an(kind)} file, not {yc.a_an(expect)} file; pass it with {other}"
        )
        return FileCheck(name, expect, tuple(ctx.problems))
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    value = (_parse_policy if kind == "policy" else _parse_exemptions)(root, ctx, digest)
    if value is None and not ctx.found:  # never report "OK" for a file that gave no value
        ctx.add(root, f"could not be read as {yc.a_an(kind)} file")
    if ctx.found:
        return FileCheck(name, kind, tuple(ctx.problems))
    if isinstance(value, Policy):
        return FileCheck(name, kind, (), policy=replace(value, content=data))
    assert value is not None
    return FileCheck(name, kind, (), exemptions=replace(value, content=data))


# ------------------------------------------------------------------------------- errors


def _error(check: FileCheck, what: str) -> PolicyError:
    n = len(check.problems)
    return PolicyError(
        f"{check.path}: invalid {what} file ({n} problem{'s' if n != 1 else ''})",
        list(check.problems),
        hint=FIX_HINT,
    )


# ------------------------------------------------------------------------------- policy


def _parse_policy(root: Node, ctx: yc.Problems, digest: str) -> Policy | None:
    keys = yc.mapping(root, ctx, "policy", _POLICY_KEYS)
    if keys is None:
        return None
    yc.require(keys, _POLICY_REQUIRED, root, ctx, "policy")
    vals: dict[str, str | None] = {}
    for name in ("id", "title", "rationale", "remediation"):
        vals[name] = yc.text(keys[name][1], ctx, name) if name in keys else None
    pid = vals["id"]
    if pid is not None and not _ID_RE.match(pid):
        ctx.add(keys["id"][1], f"id {pid!r} may hold only letters, digits, '.', '_' and '-'")
    severity = None
    if "severity" in keys:
        sev = yc.choice(keys["severity"][1], ctx, "severity", tuple(s.value for s in Severity))
        severity = Severity(sev) if sev else None
    controls = (
        _related_controls(keys["related_controls"][1], ctx) if "related_controls" in keys else ()
    )
    warnings: list[str] = []
    scope = _scope(keys["scope"][1], ctx, warnings) if "scope" in keys else Scope()
    rule = (
        _cloud_rule(keys["cloud_account_without_phone"][1], ctx)
        if "cloud_account_without_phone" in keys
        else CloudAccountRule()
    )
    texts = translated_texts(keys, ctx, "policy", _POLICY_TEXTS, keep_lines=("remediation",))
    if ctx.found or None in (pid, severity, controls, scope, rule) or None in vals.values():
        return None
    assert severity is not None and controls is not None and scope is not None and rule is not None
    return Policy(
        id=str(pid),
        title=str(vals["title"]),
        severity=severity,
        rationale=str(vals["rationale"]),
        remediation=str(vals["remediation"]),
        related_controls=controls,
        scope=scope,
        cloud_account_without_phone=rule,
        digest=digest,
        source=ctx.source,
        warnings=tuple(warnings),
        translations=tuple(texts.items()),
    )


def _related_controls(node: Node, ctx: yc.Problems) -> tuple[RelatedControl, ...] | None:
    if isinstance(node, ScalarNode) and node.tag == yc.NULL:
        return ()
    if not isinstance(node, SequenceNode):
        ctx.add(node, f"related_controls must be a list, not {yc.kind_of(node)}")
        return None
    out: list[RelatedControl] = []
    seen: dict[tuple[str, str], int] = {}
    allowed = ("framework", "control", "title", "relation", *TRANSLATED_LANGS)
    for child in node.value:
        keys = yc.mapping(child, ctx, "related_controls item", allowed)
        if keys is None:
            continue
        yc.require(keys, ("framework", "control"), child, ctx, "related_controls item")
        fw = yc.text(keys["framework"][1], ctx, "framework") if "framework" in keys else None
        ctl = (
            yc.text(keys["control"][1], ctx, "control", numbers=True) if "control" in keys else None
        )
        title = yc.text(keys["title"][1], ctx, "title") if "title" in keys else ""
        rel = yc.text(keys["relation"][1], ctx, "relation") if "relation" in keys else "supporting"
        rel = LEGACY_RELATIONS.get(rel, rel) if rel is not None else None
        if rel is not None and rel not in RELATIONS:
            ctx.add(keys["relation"][1], f"{_RELATION_HINT} (got {rel!r})")
            rel = None
        if fw is None or ctl is None or rel is None:
            continue
        if (fw, ctl) in seen:
            ctx.add(
                child,
                f"related control {fw} {ctl} is listed twice (first at line {seen[(fw, ctl)]})",
            )
            continue
        seen[(fw, ctl)] = child.start_mark.line + 1
        texts = translated_texts(keys, ctx, "related_controls item", _CONTROL_TEXTS)
        out.append(RelatedControl(fw, ctl, rel, title or "", tuple(texts.items())))
    return tuple(out)


def _scope(node: Node, ctx: yc.Problems, warnings: list[str]) -> Scope | None:
    keys = yc.mapping(node, ctx, "scope", ("types", "statuses", "folders", "tags"))
    if keys is None:
        return None
    before = len(ctx.found)
    types: tuple[str, ...] | None = ()
    statuses: tuple[str, ...] | None = ()
    if "types" in keys:
        types = yc.str_list(
            keys["types"][1],
            ctx,
            "scope.types",
            lambda n, w: yc.choice(n, ctx, w, MEMBER_TYPES),
            empty_ok=False,
        )
    if "statuses" in keys:
        statuses = yc.str_list(
            keys["statuses"][1],
            ctx,
            "scope.statuses",
            lambda n, w: _status_item(n, ctx, w, warnings),
            empty_ok=False,
        )
    folders = _include_exclude(keys, "folders", ctx, _folder_item)
    tags = _include_exclude(keys, "tags", ctx, _tag_item)
    if len(ctx.found) > before or None in (types, statuses, folders, tags):
        return None
    assert types is not None and statuses is not None and folders is not None and tags is not None
    return Scope(
        types=types,
        statuses=statuses,
        include_folders=folders[0],
        exclude_folders=folders[1],
        include_tags=tuple(TagRule.parse(t) for t in tags[0]),
        exclude_tags=tuple(TagRule.parse(t) for t in tags[1]),
    )


def _status_item(node: Node, ctx: yc.Problems, what: str, warnings: list[str]) -> str | None:
    """Any status string is accepted (the cloud may answer one rdscan has never seen); one no
    documentation names is a warning, with the documented status it most resembles."""
    value = yc.text(node, ctx, what)
    if value is not None and value not in MEMBER_STATUSES:
        close = difflib.get_close_matches(value, MEMBER_STATUSES, n=1, cutoff=0.75)
        args: dict[str, object] = {
            "where": f"{ctx.source}:{node.start_mark.line + 1}",
            "what": what,
            "value": repr(value),
            "documented": ", ".join(MEMBER_STATUSES),
        }
        if close:
            warnings.append(text(reason_part("warn.policy_status_guess", guess=close[0], **args)))
        else:
            warnings.append(text(reason_part("warn.policy_status", **args)))
    return value


def _folder_item(node: Node, ctx: yc.Problems, what: str) -> str | None:
    value = yc.text(node, ctx, what)
    if value is None:
        return None
    value = value.rstrip("/")
    if not _FOLDER_RE.match(value):
        ctx.add(
            node,
            f"{what}: {node.value!r} is neither a folder id (fd-..., r-...) nor a folder path "
            "from the root (Root/...)",
        )
        return None
    return value


def _tag_item(node: Node, ctx: yc.Problems, what: str) -> str | None:
    value = yc.text(node, ctx, what, numbers=True)
    if value is None:
        return None
    rule = TagRule.parse(value)
    if not rule.key:
        ctx.add(node, f"{what}: {value!r} has no tag key; write key or key=value")
        return None
    return str(rule)


def _include_exclude(
    keys: dict[str, tuple[Node, Node]],
    name: str,
    ctx: yc.Problems,
    item: Callable[[Node, yc.Problems, str], str | None],
) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    if name not in keys:
        return ((), ())
    node = keys[name][1]
    sub = yc.mapping(node, ctx, f"scope.{name}", ("include", "exclude"))
    if sub is None:
        return None
    lists: list[tuple[str, ...] | None] = []
    for part in ("include", "exclude"):
        if part not in sub:
            lists.append(())
            continue
        lists.append(
            yc.str_list(
                sub[part][1],
                ctx,
                f"scope.{name}.{part}",
                lambda n, w: item(n, ctx, w),
                empty_ok=True,
            )
        )
    include, exclude = lists
    if include is None or exclude is None:
        return None
    both = sorted(set(include) & set(exclude))
    if both:
        ctx.add(node, f"scope.{name}: {', '.join(both)} both included and excluded")
        return None
    return include, exclude


def _cloud_rule(node: Node, ctx: yc.Problems) -> CloudAccountRule | None:
    allowed = tuple(s.value for s in CLOUD_ACCOUNT_RESULTS)
    what = "cloud_account_without_phone"
    if isinstance(node, ScalarNode):  # shorthand: cloud_account_without_phone: SKIPPED
        value = yc.choice(node, ctx, what, allowed)
        return CloudAccountRule(Status(value)) if value else None
    keys = yc.mapping(node, ctx, what, ("result", "severity"))
    if keys is None:
        return None
    yc.require(keys, ("result",), node, ctx, what)
    result = (
        yc.choice(keys["result"][1], ctx, f"{what}.result", allowed) if "result" in keys else None
    )
    severity: Severity | None = None
    if "severity" in keys:
        sev = yc.choice(
            keys["severity"][1], ctx, f"{what}.severity", tuple(s.value for s in Severity)
        )
        if sev is None:
            return None
        severity = Severity(sev)
    if result is None:
        return None
    return CloudAccountRule(Status(result), severity)


# --------------------------------------------------------------------------- exemptions


def _parse_exemptions(root: Node, ctx: yc.Problems, digest: str) -> Exemptions | None:
    keys = yc.mapping(root, ctx, "exemptions file", ("exemptions",))
    if keys is None or "exemptions" not in keys:
        return None
    node = keys["exemptions"][1]
    if isinstance(node, ScalarNode) and node.tag == yc.NULL:
        return Exemptions((), digest, ctx.source)
    if not isinstance(node, SequenceNode):
        ctx.add(node, f"exemptions must be a list of entries, not {yc.kind_of(node)}")
        return None
    entries: list[Exemption] = []
    seen: dict[str, int] = {}
    for child in node.value:
        entry = _exemption(child, ctx)
        target = _target_of(child)  # duplicates are found even in entries with other problems
        if target is not None and target in seen:
            ctx.add(
                child,
                f"duplicate exemption for {target.replace(':', ' ', 1)} "
                f"(first at line {seen[target]})",
            )
            continue
        if target is not None:
            seen[target] = child.start_mark.line + 1
        if entry is not None:
            entries.append(entry)
    return Exemptions(tuple(entries), digest, ctx.source)


def _target_of(node: Node) -> str | None:
    """The entry's target as written: account:<id> or folder:<id or path> (None: not one)."""
    if not isinstance(node, MappingNode):
        return None
    found = [
        (k.value, str(v.value).strip().rstrip("/") if k.value == "folder" else str(v.value).strip())
        for k, v in node.value
        if isinstance(k, ScalarNode)
        and k.value in ("account_id", "folder")
        and isinstance(v, ScalarNode)
        and str(v.value).strip()
    ]
    return f"{found[0][0].replace('_id', '')}:{found[0][1]}" if len(found) == 1 else None


def _exemption(node: Node, ctx: yc.Problems) -> Exemption | None:
    what = "exemption"
    keys = yc.mapping(node, ctx, what, _EXEMPTION_KEYS)
    if keys is None:
        return None
    before = len(ctx.found)
    yc.require(keys, ("reason", "owner", "ticket", "expires"), node, ctx, what)
    if ("account_id" in keys) == ("folder" in keys):
        ctx.add(node, f"{what}: give exactly one of 'account_id' or 'folder'")
    account_id = folder = None
    if "account_id" in keys:
        account_id = yc.text(keys["account_id"][1], ctx, "account_id", numbers=True)
        if account_id is not None and not _ACCOUNT_ID_RE.match(account_id):
            ctx.add(keys["account_id"][1], f"account_id {account_id!r} must be digits only")
    if "folder" in keys:
        folder = _folder_item(keys["folder"][1], ctx, "folder")
    texts = {}
    for name in ("reason", "owner", "ticket", "approved_by"):
        if name in keys:
            texts[name] = yc.text(keys[name][1], ctx, name, numbers=name == "ticket")
    expires = yc.date(keys["expires"][1], ctx, "expires") if "expires" in keys else None
    created = yc.date(keys["created"][1], ctx, "created") if "created" in keys else None
    approver, owner = texts.get("approved_by"), texts.get("owner")
    if approver and owner and approver.casefold() == owner.casefold():
        ctx.add(
            keys["approved_by"][1],
            f"approved_by {approver!r} is the owner: an exemption is approved by someone "
            "other than the owner who asks for it",
        )
    if created is not None and expires is not None and created > expires:
        ctx.add(
            keys["created"][1],
            f"created {created.isoformat()} is after expires {expires.isoformat()}",
        )
    if len(ctx.found) > before or expires is None:
        return None
    return Exemption(
        account_id=account_id,
        folder=folder,
        reason=str(texts["reason"]),
        owner=str(texts["owner"]),
        ticket=str(texts["ticket"]),
        expires=expires,
        line=node.start_mark.line + 1,
        approved_by=texts.get("approved_by"),
        created=created,
    )
