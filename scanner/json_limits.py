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
from typing import Any

MAX_DEPTH = 32  # report.json nests 5 deep, a journal line 3
MAX_NUMBER_CHARS = 32  # the largest count or sequence number is far shorter

# strings (with their escapes) are removed before the brackets are counted
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


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


def _too_deep(text: str, max_depth: int) -> int:
    """The nesting depth when it exceeds ``max_depth``, else 0. Counts every bracket first (C
    speed: 20 MB in a quarter second); only when that count is over the limit are brackets
    inside strings told apart (a name like "[[[[" must not make a file too deep)."""
    if _deepest(_NOT_BRACKET.sub("", text)) <= max_depth:
        return 0
    depth = nesting_depth(text)
    return depth if depth > max_depth else 0


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
    depth = _too_deep(text, max_depth)
    if depth:
        raise JsonLimitError(f"it nests {depth} levels deep (at most {max_depth} are read)")
    try:
        return json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_int=_parse_int,
            parse_float=_parse_float,
        )
    except RecursionError:  # closing brackets hidden in strings fooled the count above
        raise JsonLimitError(
            f"it nests deeper than the parser goes (at most {max_depth} levels are read)"
        ) from None
