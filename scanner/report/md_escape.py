"""Markdown escaping: any text made inert in GitHub-flavoured Markdown, table cells included."""

from __future__ import annotations

import re
from typing import Any


class MdSafe(str):
    """A string built as Markdown on purpose: ``md_finalize`` leaves it alone."""


_MD_BREAKS = re.compile(r"\r\n|[\r\n\v\f\x85\u2028\u2029]")
_MD_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # exactly Unicode category Cc
_MD_PUNCT = re.compile(r"([\\`*_\[\]|~$#])")  # markup anywhere in a line
_MD_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")  # "&lt;" would decode: "R&D" is fine as is
# Block markup when a value starts a line: list markers, setext underline, "1." or "1)".
_MD_LEADING = re.compile(r"(\s*)([#+\-=!]|\d+[.)](?=\s|$))")
# any character one of the rules below changes (breaks, controls, entities, markup)
_MD_ANY = re.compile(r"[\x00-\x1f\x7f-\x9f\x85\u2028\u2029&<>\\`*_\[\]|~$#]")


def md_escape(value: object) -> str:
    """Make any text inert in GFM: one line, no markup, no HTML, safe inside a table cell.

    Line breaks and control characters become spaces, and the ends are trimmed (no indented
    code block, no hard line break); ``<`` and ``>`` become entities (no HTML element, no
    autolink); ``\\ ` * _ [ ] | ~ $ #`` are backslash-escaped (no emphasis, code, link, table
    cell break, strikethrough, math or heading close); a leading ``+ - = !`` or ``1.`` is
    escaped (no list or setext underline when the value starts a line).
    """
    if value is None:
        return ""
    text = str(value)
    if not _MD_ANY.search(text) and not _MD_LEADING.match(text) and text == text.strip():
        return text  # nothing to escape (most ids, names and paths), at C speed
    return md_escape_every_rule(text)


def md_escape_every_rule(text: str) -> str:
    """``md_escape`` without its shortcut for text that needs nothing (a test holds the two
    equal)."""
    text = _MD_BREAKS.sub(" ", text)
    text = _MD_CONTROL.sub(" ", text).strip()
    text = _MD_ENTITY.sub("&amp;", text).replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_PUNCT.sub(r"\\\1", text)
    m = _MD_LEADING.match(text)
    if m:
        lead = m.group(2)
        text = m.group(1) + lead[:-1] + "\\" + lead[-1] + text[m.end() :]
    return text


def md_finalize(value: Any) -> Any:
    """jinja2 ``finalize``: escape every ``{{ value }}`` unless it is MdSafe or a number."""
    if isinstance(value, (MdSafe, int, float)) and not isinstance(value, bool):
        return value
    return md_escape(value)


def md_code(value: object) -> MdSafe:
    """Our own identifiers (digests) as a code span; refuses anything that is not plain."""
    text = str(value)
    if not re.fullmatch(r"[A-Za-z0-9:._\-/]*", text):
        return MdSafe(md_escape(text))
    return MdSafe(f"`{text}`") if text else MdSafe("")
