"""Read a YAML file as nodes and check their shapes, collecting every problem with its line.

Built on PyYAML's node API (``yaml.compose``): each node knows where it starts, so every
problem becomes ``FILE:LINE: message``. Used by ``files`` for policies and exemptions.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..safe_text import UNSAFE_IN_LINES

DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")

STR = "tag:yaml.org,2002:str"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
NULL = "tag:yaml.org,2002:null"
TIMESTAMP = "tag:yaml.org,2002:timestamp"
_KIND = {
    NULL: "null",
    INT: "a number",
    FLOAT: "a number",
    "tag:yaml.org,2002:bool": "true/false",
    TIMESTAMP: "a date",
    STR: "text",
}


@dataclass
class Problems:
    """Every problem found in one file, each with its line (0: the whole file)."""

    source: str
    found: list[tuple[int, str]] = field(default_factory=list)

    def add(self, node: Node | None, message: str) -> None:
        self.add_line(node.start_mark.line + 1 if node is not None else None, message)

    def add_line(self, line: int | None, message: str) -> None:
        self.found.append((line or 0, message))

    @property
    def problems(self) -> list[str]:
        """``FILE:LINE: message`` for every problem, by line (file-wide ones first)."""
        return [
            f"{self.source}:{line}: {msg}" if line else f"{self.source}: {msg}"
            for line, msg in sorted(self.found, key=lambda p: p[0])
        ]


MAX_BYTES = 5 * 1024 * 1024  # policies and exemptions are small; this stops /dev/zero & co.


def read_bytes(path: Path, ctx: Problems) -> bytes | None:
    """The file's bytes, or None with the reason recorded (missing, a directory, too big...)."""
    try:
        if path.is_dir():
            ctx.add(None, "is a directory, not a file")
            return None
        if path.exists() and not path.is_file():
            ctx.add(None, "is not a regular file")
            return None
        with path.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            ctx.add(
                None, f"is too large for a policy or exemptions file (limit {MAX_BYTES:,} bytes)"
            )
            return None
    except FileNotFoundError:
        ctx.add(None, "file not found")
        return None
    except OSError as exc:
        ctx.add(None, f"cannot be read ({exc.strerror or exc})")
        return None
    if not data.strip():
        ctx.add_line(1, "the file is empty; expected a policy or an exemptions mapping")
        return None
    return data


def compose(data: bytes, ctx: Problems) -> Node | None:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        ctx.add_line(line, "not a UTF-8 text file (a YAML file was expected)")
        return None
    try:
        if not _plain_structure(text, ctx):
            return None
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        ctx.add_line(line, f"not a YAML text file: unacceptable character #x{exc.character:04x}")
        return None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        detail = " ".join(p for p in (exc.context, exc.problem) if p)
        ctx.add_line(mark.line + 1 if mark else None, f"YAML syntax error: {detail}")
        return None
    except yaml.YAMLError as exc:
        ctx.add(None, f"YAML error: {exc}")
        return None
    except RecursionError:
        ctx.add_line(1, "YAML nested too deeply to read (thousands of levels)")
        return None
    if node is None or (isinstance(node, ScalarNode) and node.tag == NULL):
        ctx.add_line(1, "the file has no content; expected a policy or an exemptions mapping")
        return None
    return node


MAX_DEPTH = 20  # a policy nests 4 levels deep


def _plain_structure(text: str, ctx: Problems) -> bool:
    """Refuse, in one linear pass over the parser's events, what no policy or exemptions file
    needs and what makes a YAML file expensive to walk: anchors and aliases (``&a`` / ``*a``, the
    "billion laughs" bomb) and nesting deeper than MAX_DEPTH."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        line = event.start_mark.line + 1 if event.start_mark else None
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            ctx.add_line(
                line,
                "YAML anchors and aliases (&name, *name) are not accepted in policy and "
                "exemptions files; write each value out",
            )
            return False
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                ctx.add_line(
                    line, f"YAML nested too deeply (more than {MAX_DEPTH} levels; a policy needs 4)"
                )
                return False
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            depth -= 1
    return True


def kind_of(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return _KIND.get(node.tag, "a value")


def a_an(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


def mapping(
    node: Node, ctx: Problems, what: str, allowed: tuple[str, ...]
) -> dict[str, tuple[Node, Node]] | None:
    """Keys of a mapping node (first occurrence), reporting duplicate and unknown keys."""
    if not isinstance(node, MappingNode):
        ctx.add(node, f"{what} must be a mapping, not {kind_of(node)}")
        return None
    out: dict[str, tuple[Node, Node]] = {}
    for key, value in node.value:
        if not isinstance(key, ScalarNode) or key.tag != STR:
            ctx.add(key, f"{what}: keys must be plain words, not {kind_of(key)}")
            continue
        if key.value in out:
            first = out[key.value][0].start_mark.line + 1
            ctx.add(key, f"{what}: duplicate key {key.value!r} (first at line {first})")
            continue
        out[key.value] = (key, value)
        if key.value not in allowed:
            close = difflib.get_close_matches(key.value, allowed, n=1)
            tip = f"; did you mean {close[0]!r}?" if close else f" (allowed: {', '.join(allowed)})"
            ctx.add(key, f"{what}: unknown key {key.value!r}{tip}")
    return out


def require(
    keys: dict[str, tuple[Node, Node]], names: tuple[str, ...], node: Node, ctx: Problems, what: str
) -> None:
    for name in names:
        if name not in keys:
            ctx.add(node, f"{what}: missing required key {name!r}")


def text(node: Node, ctx: Problems, what: str, *, numbers: bool = False) -> str | None:
    """A non-empty scalar text (``numbers``: also accept an unquoted number, as written)."""
    tags = (STR, INT, FLOAT) if numbers else (STR,)
    if isinstance(node, ScalarNode) and node.tag == NULL:
        ctx.add(node, f"{what} has no value")
        return None
    if not isinstance(node, ScalarNode) or node.tag not in tags:
        ctx.add(node, f"{what} must be text, not {kind_of(node)}")
        return None
    value = str(node.value).strip()
    if not value:
        ctx.add(node, f"{what} must not be empty")
        return None
    bad = list(dict.fromkeys(f"U+{ord(ch):04X}" for ch in UNSAFE_IN_LINES.findall(value)))
    if bad:
        ctx.add(
            node,
            f"{what} holds control or bidirectional-override characters ({', '.join(bad[:5])}): "
            "they can make a report or a terminal show other text than the file holds; "
            "remove them",
        )
        return None
    return value


def choice(node: Node, ctx: Problems, what: str, allowed: tuple[str, ...]) -> str | None:
    value = text(node, ctx, what)
    if value is not None and value not in allowed:
        ctx.add(node, f"{what}: {value!r} is not one of {', '.join(allowed)}")
        return None
    return value


def str_list(
    node: Node, ctx: Problems, what: str, item: Callable[[Node, str], str | None], *, empty_ok: bool
) -> tuple[str, ...] | None:
    if isinstance(node, ScalarNode) and node.tag == NULL and empty_ok:
        return ()
    if not isinstance(node, SequenceNode):
        ctx.add(node, f"{what} must be a list, not {kind_of(node)}")
        return None
    if not node.value and not empty_ok:
        ctx.add(node, f"{what} must list at least one value (leave the key out to allow all)")
        return None
    out: list[str] = []
    ok = True
    seen: dict[str, int] = {}
    for child in node.value:
        value = item(child, f"{what} item")
        if value is None:
            ok = False
            continue
        if value in seen:
            ctx.add(child, f"{what}: duplicate value {value!r} (first at line {seen[value]})")
            ok = False
            continue
        seen[value] = child.start_mark.line + 1
        out.append(value)
    return tuple(out) if ok else None


def date(node: Node, ctx: Problems, what: str) -> dt.date | None:
    if not isinstance(node, ScalarNode) or node.tag not in (STR, TIMESTAMP):
        ctx.add(node, f"{what} must be a date YYYY-MM-DD, not {kind_of(node)}")
        return None
    text = str(node.value).strip()
    if not DATE_RE.match(text):
        ctx.add(node, f"{what}: {text!r} is not a date in the form YYYY-MM-DD")
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        ctx.add(node, f"{what}: {text!r} is not a real calendar date")
        return None
