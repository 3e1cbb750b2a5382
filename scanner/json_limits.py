"""Parse JSON written elsewhere (a report.json or journal from another machine) within limits.

``json.loads`` alone accepts ``Infinity`` and ``NaN``, turns ``1e999`` into infinity, spends
quadratic time on a 100,000-digit integer (Python 3.11 refuses over 4,300 digits with a bare
ValueError) and overflows the stack on deeply nested brackets (RecursionError). Here each of
those is one :class:`JsonLimitError` naming the limit, raised before any deep work.
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


def nesting_depth(text: str) -> int:
    """The deepest bracket nesting of a JSON text (brackets inside strings do not count)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    depth = deepest = 0
    for ch in brackets:
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


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
    depth = nesting_depth(text)
    if depth > max_depth:
        raise JsonLimitError(f"it nests {depth} levels deep (at most {max_depth} are read)")
    return json.loads(
        text,
        parse_constant=_refuse_constant,
        parse_int=_parse_int,
        parse_float=_parse_float,
    )
