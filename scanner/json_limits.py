"""Parse JSON written elsewhere (a report.json or journal from another machine) within limits.

``json.loads`` alone accepts ``Infinity`` and ``NaN``, turns ``1e999`` into infinity, spends
quadratic time on a 100,000-digit integer (Python 3.11 refuses over 4,300 digits with a bare
ValueError) and overflows the stack on deeply nested brackets (RecursionError). Here each of
those is one :class:`JsonLimitError` naming the limit, raised before any deep work (and the
parser's own recursion guard backs the nesting count up).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

MAX_DEPTH = 32  # report.json nests 6 deep (reason_parts args), a journal line 3
MAX_NUMBER_CHARS = 32  # the largest count or sequence number is far shorter

# strings (with their escapes) are removed before the brackets are counted
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
# every byte but [ ] { } (no byte of a multi-byte UTF-8 character is one of those)
_NOT_BRACKET_BYTES = bytes(b for b in range(256) if b not in b"[]{}")


class JsonLimitError(ValueError):
    """The text is JSON rdscan will not read: names the limit that was crossed."""


def _deepest(brackets: str) -> int:
    depth = deepest = 0
    for ch in brackets:
        if ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
        else:
            depth -= 1
    return deepest


def nesting_depth(text: str) -> int:
    """The deepest bracket nesting of a JSON text (brackets inside strings do not count)."""
    return _deepest(_NOT_BRACKET.sub("", _STRING.sub("", text)))


def _too_deep(text: str | bytes, max_depth: int) -> int:
    """The nesting depth when it exceeds ``max_depth``, else 0. Counts every bracket first (C
    speed: 25 MB in 0.02 s as UTF-8 bytes, 0.2 s as text); only when that count is over the
    limit are brackets inside strings told apart (a name like "[[[[" must not make a file too
    deep). ``text``: the JSON text, or its UTF-8 bytes."""
    if isinstance(text, bytes):
        brackets = text.translate(None, _NOT_BRACKET_BYTES).decode("ascii")
    else:
        brackets = _NOT_BRACKET.sub("", text)
    if _deepest(brackets) <= max_depth:
        return 0
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    depth = nesting_depth(text)
    return depth if depth > max_depth else 0


def check_nesting(text: str | bytes, max_depth: int = MAX_DEPTH) -> None:
    """Raise JsonLimitError when the JSON ``text`` (or its UTF-8 bytes: 10x faster) nests
    deeper than ``max_depth``."""
    depth = _too_deep(text, max_depth)
    if depth:
        raise JsonLimitError(f"it nests {depth} levels deep (at most {max_depth} are read)")


def _refuse_constant(name: str) -> Any:
    raise JsonLimitError(f"it holds {name}, which is not a JSON number")


def _parse_int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise JsonLimitError(
            f"it holds a {len(text)}-digit integer (at most {MAX_NUMBER_CHARS} are read)"
        )
    return int(text)


def _parse_float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise JsonLimitError(f"it holds a {len(text)}-character number")
    value = float(text)
    if not math.isfinite(value):
        raise JsonLimitError(f"it holds {text}, which overflows to infinity")
    return value


def loads_bounded(text: str, *, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` that refuses Infinity/NaN, overlong numbers and deep nesting.

    Raises JsonLimitError (a ValueError) for a crossed limit and json.JSONDecodeError for text
    that is not JSON.
    """
    check_nesting(text, max_depth)
    try:
        return _DECODER.decode(text)
    except RecursionError:  # closing brackets hidden in strings fooled the count above
        raise JsonLimitError(
            f"it nests deeper than the parser goes (at most {max_depth} levels are read)"
        ) from None


_DECODER = json.JSONDecoder(
    parse_constant=_refuse_constant, parse_int=_parse_int, parse_float=_parse_float
)
_WS = re.compile(r"[ \t\n\r]*")


def loads_bounded_converting(
    text: str,
    key: str,
    convert: Callable[[Any], Any],
    *,
    max_depth: int = MAX_DEPTH,
    nesting_checked: bool = False,
) -> Any:
    """:func:`loads_bounded` of a JSON object whose top-level array ``key`` is turned into
    ``[convert(item) for item in array]`` while it is parsed: each item's parsed form (a dict of
    a report.json member, ~1.5 KB) is dropped as soon as it is converted, instead of all of them
    being held at once (75 MB at 50,000 members).

    Same answers as ``loads_bounded`` then converting: the same limits and errors, a duplicate
    key keeps its last value (each ``key`` array is converted), and text whose top level is not
    an object is parsed whole (the caller refuses it). ``convert``'s own exceptions propagate.
    ``nesting_checked``: the caller ran :func:`check_nesting` on the text or its bytes.
    """
    if not nesting_checked:
        check_nesting(text, max_depth)
    i = _WS.match(text, 0).end()  # type: ignore[union-attr]
    if not text.startswith("{", i):
        return loads_bounded(text, max_depth=max_depth)
    try:
        out, end = _object_converting(text, i + 1, key, convert)
    except RecursionError:
        raise JsonLimitError(
            f"it nests deeper than the parser goes (at most {max_depth} levels are read)"
        ) from None
    end = _WS.match(text, end).end()  # type: ignore[union-attr]
    if end != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return out


def _object_converting(
    text: str, i: int, key: str, convert: Callable[[Any], Any]
) -> tuple[dict[str, Any], int]:
    """The object whose ``{`` ends before ``i``; returns it and the index after its ``}``."""
    out: dict[str, Any] = {}
    i = _WS.match(text, i).end()  # type: ignore[union-attr]
    if text.startswith("}", i):
        return out, i + 1
    while True:
        if not text.startswith('"', i):
            raise json.JSONDecodeError("Expecting property name enclosed in double quotes", text, i)
        name, i = _DECODER.raw_decode(text, i)  # a JSON string: the member's name
        i = _WS.match(text, i).end()  # type: ignore[union-attr]
        if not text.startswith(":", i):
            raise json.JSONDecodeError("Expecting ':' delimiter", text, i)
        i = _WS.match(text, i + 1).end()  # type: ignore[union-attr]
        if name == key and text.startswith("[", i):
            out[name], i = _array_converting(text, i + 1, convert)
        else:
            out[name], i = _value(text, i)
        i = _WS.match(text, i).end()  # type: ignore[union-attr]
        if text.startswith("}", i):
            return out, i + 1
        if not text.startswith(",", i):
            raise json.JSONDecodeError("Expecting ',' delimiter", text, i)
        i = _WS.match(text, i + 1).end()  # type: ignore[union-attr]


def _array_converting(text: str, i: int, convert: Callable[[Any], Any]) -> tuple[list[Any], int]:
    items: list[Any] = []
    i = _WS.match(text, i).end()  # type: ignore[union-attr]
    if text.startswith("]", i):
        return items, i + 1
    while True:
        item, i = _value(text, i)
        items.append(convert(item))
        i = _WS.match(text, i).end()  # type: ignore[union-attr]
        if text.startswith("]", i):
            return items, i + 1
        if not text.startswith(",", i):
            raise json.JSONDecodeError("Expecting ',' delimiter", text, i)
        i = _WS.match(text, i + 1).end()  # type: ignore[union-attr]


def _value(text: str, i: int) -> tuple[Any, int]:
    return _DECODER.raw_decode(text, i)  # JSONDecodeError("Expecting value") when none
