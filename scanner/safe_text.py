"""Text that came from somewhere else (the API, a report.json or journal written elsewhere, a
phones CSV), made safe to show: no terminal control, no bidirectional override, bounded length.

Pure functions; the CLI applies them to everything it prints (``scanner.cli.common.printable``),
and the policy loader refuses the same characters in exemption text.
"""

from __future__ import annotations

import re

# C0 controls (ESC starts terminal sequences; CR and BS overwrite what was shown), DEL, C1
# controls (CSI U+009B is ESC [ in one character), the Unicode line and paragraph separators,
# and the bidirectional controls that reorder what is shown (Trojan Source, CVE-2021-42574):
# LRM/RLM/ALM marks, LRE/RLE/PDF/LRO/RLO embeddings and overrides, LRI/RLI/FSI/PDI isolates.
UNSAFE_CHARS = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
# The same set less TAB and LF, for text where line breaks are allowed (multi-line messages).
UNSAFE_IN_LINES = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)

DEFAULT_QUOTE_LIMIT = 80  # characters of a crafted value quoted in a message


def strip_unsafe(text: str, replacement: str = "?") -> str:
    """Replace every control and bidirectional-override character (line breaks included)."""
    return UNSAFE_CHARS.sub(replacement, text)


def unsafe_chars(text: str) -> list[str]:
    """The unsafe characters in ``text`` as ``U+XXXX`` names, in order of first appearance."""
    return list(dict.fromkeys(f"U+{ord(ch):04X}" for ch in UNSAFE_CHARS.findall(text)))


def clip(text: str, limit: int = DEFAULT_QUOTE_LIMIT) -> str:
    """At most ``limit`` characters; a longer text ends with ``...(N characters)``."""
    if len(text) <= limit:
        return text
    return f"{text[: max(limit - 20, 1)]}...({len(text)} characters)"


def quote(value: object, limit: int = DEFAULT_QUOTE_LIMIT) -> str:
    """A value from a file or the API, quoted in a message: clipped, then made safe, in quotes."""
    return "'" + strip_unsafe(clip(str(value), limit)) + "'"
