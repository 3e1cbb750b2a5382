"""The framework mapping: how one control (a policy id) relates to items of compliance
frameworks (CIS, MLPS 2.0, ISO/IEC 27001, SOC 2, NIST SP 800-53, CIS Controls, CSA CCM).

A mapping is data, shipped as ``policies/frameworks.yaml`` and overridable with
``--frameworks FILE``. It is read as YAML nodes (``yamlcheck``) so every problem carries its
line. Every item's relation is ``supporting``: rdscan gives evidence towards an item, it never
claims to satisfy one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

from yaml.nodes import Node, SequenceNode

from ..errors import ConfigError, PolicyError
from ..findings import FrameworkItem, FrameworkMapping
from . import yamlcheck as yc

MAPPING_RELATIONS = ("supporting",)
_FILE_KEYS = ("control", "frameworks")
_FRAMEWORK_KEYS = ("key", "name", "version", "items")
_ITEM_KEYS = ("id", "title", "relation", "rationale")
# Optional texts in another report language, under a key named after it (``zh-CN:``): for a
# framework its name and version, for an item its title and rationale. Each is optional; a
# report shows the English text of whatever a mapping does not translate, and says so.
TRANSLATED_LANGS = ("zh-CN",)
_FRAMEWORK_TEXTS = {"name": "framework", "version": "version"}
_ITEM_TEXTS = {"title": "title", "rationale": "rationale"}
_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_HINT = "fix every listed line, then check the file with: rdscan policy validate FILE"


def select_frameworks(mapping: FrameworkMapping, names: Sequence[str]) -> FrameworkMapping:
    """The items of the frameworks named (by key or full name, case-insensitively); every
    item when ``names`` is empty. An unknown name is a ConfigError listing the known keys."""
    if not names:
        return mapping
    wanted: set[str] = set()
    for name in names:
        folded = name.strip().casefold()
        keys = {
            i.framework_key
            for i in mapping.items
            if folded in (i.framework_key.casefold(), i.framework.casefold())
        }
        if not keys:
            raise ConfigError(
                f"no framework {name!r} in the framework mapping {mapping.source}",
                hint=f"use one of: {', '.join(mapping.keys)} (--framework KEY, repeatable)",
            )
        wanted |= keys
    return FrameworkMapping(
        mapping.control,
        tuple(i for i in mapping.items if i.framework_key in wanted),
        mapping.digest,
        mapping.source,
        selected=tuple(k for k in mapping.keys if k in wanted),
    )


def check_control(mapping: FrameworkMapping, policy_id: str, source: str) -> None:
    """A mapping written for another control is refused (ConfigError), before any scan."""
    if mapping.control != policy_id:
        raise ConfigError(
            f"the framework mapping {source} is for control {mapping.control!r}, but the policy "
            f"is {policy_id!r}",
            hint="give the mapping written for this policy with --frameworks FILE (its "
            "'control:' must be the policy id)",
        )


def is_mapping_file(keys: set[str]) -> bool:
    """Top-level keys that make a YAML file a framework mapping (for ``policy validate``)."""
    return "frameworks" in keys and "id" not in keys and "exemptions" not in keys


def load_frameworks(path: str | Path) -> tuple[FrameworkMapping, bytes]:
    """Read and validate a framework mapping: the mapping and the exact bytes its digest
    covers. ``PolicyError`` lists every problem with its line."""
    mapping, data, problems = check_frameworks(path)
    if problems or mapping is None:
        n = len(problems)
        raise PolicyError(
            f"{path}: invalid framework mapping ({n} problem{'s' if n != 1 else ''})",
            problems,
            hint=_HINT,
        )
    return mapping, data


def check_frameworks(path: str | Path) -> tuple[FrameworkMapping | None, bytes, list[str]]:
    """The mapping (None when invalid), the file's bytes and every problem as
    ``FILE:LINE: message``. The mapping's ``source`` is the file's name (no folder: it goes
    into report.json)."""
    ctx = yc.Problems(str(path))
    data = yc.read_bytes(Path(path), ctx)
    root = yc.compose(data, ctx) if data is not None else None
    if data is None or root is None:
        return None, b"", ctx.problems
    mapping = parse_frameworks(root, ctx, "sha256:" + hashlib.sha256(data).hexdigest())
    if ctx.found:
        return None, data, ctx.problems
    if mapping is None:
        ctx.add(root, "could not be read as a framework mapping")
        return None, data, ctx.problems
    named = FrameworkMapping(mapping.control, mapping.items, mapping.digest, Path(path).name)
    return named, data, []


def parse_frameworks(root: Node, ctx: yc.Problems, digest: str) -> FrameworkMapping | None:
    keys = yc.mapping(root, ctx, "framework mapping", _FILE_KEYS)
    if keys is None:
        return None
    yc.require(keys, _FILE_KEYS, root, ctx, "framework mapping")
    control = yc.text(keys["control"][1], ctx, "control") if "control" in keys else None
    if "frameworks" not in keys:
        return None
    node = keys["frameworks"][1]
    if not isinstance(node, SequenceNode) or not node.value:
        ctx.add(node, "frameworks must be a list of at least one framework")
        return None
    items: list[FrameworkItem] = []
    seen_keys: dict[str, int] = {}
    for child in node.value:
        items += _framework(child, ctx, seen_keys)
    if control is None:
        return None
    return FrameworkMapping(control, tuple(items), digest, ctx.source)


def _framework(node: Node, ctx: yc.Problems, seen_keys: dict[str, int]) -> list[FrameworkItem]:
    keys = yc.mapping(node, ctx, "framework", _FRAMEWORK_KEYS + TRANSLATED_LANGS)
    if keys is None:
        return []
    yc.require(keys, _FRAMEWORK_KEYS, node, ctx, "framework")
    framework_texts = translated_texts(keys, ctx, "framework", _FRAMEWORK_TEXTS)
    texts: dict[str, str | None] = {}
    for name in ("key", "name", "version"):
        texts[name] = yc.text(keys[name][1], ctx, name, numbers=True) if name in keys else None
    key = texts["key"]
    if key is not None and not _KEY_RE.match(key):
        ctx.add(keys["key"][1], f"key {key!r}: use lower-case letters, digits and '-' only")
        key = None
    if key is not None:
        if key in seen_keys:
            ctx.add(
                keys["key"][1],
                f"framework key {key!r} is used twice (first at line {seen_keys[key]})",
            )
            key = None
        else:
            seen_keys[key] = keys["key"][1].start_mark.line + 1
    if "items" not in keys:
        return []
    items_node = keys["items"][1]
    if not isinstance(items_node, SequenceNode) or not items_node.value:
        ctx.add(items_node, "items must be a list of at least one framework item")
        return []
    out: list[FrameworkItem] = []
    seen_ids: dict[str, int] = {}
    for child in items_node.value:
        item = yc.mapping(child, ctx, "framework item", _ITEM_KEYS + TRANSLATED_LANGS)
        if item is None:
            continue
        yc.require(item, _ITEM_KEYS, child, ctx, "framework item")
        item_texts = translated_texts(item, ctx, "framework item", _ITEM_TEXTS)
        values = {
            n: yc.text(item[n][1], ctx, n, numbers=n == "id") if n in item else None
            for n in _ITEM_KEYS
        }
        item_id = values["id"]
        if item_id is not None and item_id in seen_ids:
            ctx.add(child, f"item {item_id!r} is listed twice (first at line {seen_ids[item_id]})")
            continue
        if item_id is not None:
            seen_ids[item_id] = child.start_mark.line + 1
        relation = values["relation"]
        if relation is not None and relation not in MAPPING_RELATIONS:
            ctx.add(
                item["relation"][1],
                f"relation must be 'supporting' (got {relation!r}): rdscan gives evidence "
                "towards a framework item, it never claims to satisfy one",
            )
            continue
        rationale = values["rationale"]
        if rationale is not None and "\n" in rationale.strip():
            ctx.add(item["rationale"][1], "rationale must be one line (use '>-' to fold it)")
            continue
        if None in values.values() or None in texts.values() or key is None:
            continue
        out.append(
            FrameworkItem(
                framework_key=key,
                framework=str(texts["name"]),
                version=str(texts["version"]),
                id=str(item_id),
                title=str(values["title"]),
                relation=str(relation),
                rationale=" ".join(str(rationale).split()),
                translations=tuple(
                    (lang, (*framework_texts.get(lang, ()), *item_texts.get(lang, ())))
                    for lang in TRANSLATED_LANGS
                    if lang in framework_texts or lang in item_texts
                ),
            )
        )
    return out


def translated_texts(
    keys: dict[str, tuple[Node, Node]],
    ctx: yc.Problems,
    what: str,
    fields: dict[str, str],
    keep_lines: tuple[str, ...] = (),
) -> dict[str, tuple[tuple[str, str], ...]]:
    """The ``zh-CN:`` (...) mappings of a framework or item: {lang: ((field, text), ...)}, each
    text one line (folded), every problem added to ``ctx`` with its line."""
    out: dict[str, tuple[tuple[str, str], ...]] = {}
    for lang in TRANSLATED_LANGS:
        if lang not in keys:
            continue
        node = keys[lang][1]
        texts = yc.mapping(node, ctx, f"{what} {lang}", tuple(fields))
        if texts is None:
            continue
        found: list[tuple[str, str]] = []
        for name, (_, value) in texts.items():
            if name not in fields:
                continue
            text = yc.text(value, ctx, f"{lang} {name}", numbers=True)
            if text is None:
                continue
            if name == "rationale" and "\n" in text.strip():
                ctx.add(value, f"{lang} rationale must be one line (use '>-' to fold it)")
                continue
            # one line (folded), but ``keep_lines`` fields keep their lines (a remediation's
            # steps); Chinese lines must not be joined with spaces
            found.append(
                (fields[name], text.strip() if name in keep_lines else " ".join(text.split()))
            )
        if found:
            out[lang] = tuple(found)
    return out
