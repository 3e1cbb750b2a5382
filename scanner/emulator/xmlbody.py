"""XML response bodies for legacy RPC requests that ask for ``Format=XML``.

The RPC gateway answers in the format the request names: JSON by default, XML for
``Format=XML``. Lists repeat their element (``<Accounts><Account>..</Account>..</Accounts>``;
a flat list such as GetAccount's ``Tags`` repeats ``<Tags>``); booleans are ``true``/``false``.
Errors use the root ``<Error>``, successes ``<{Action}Response>``. The content type is
``text/xml;charset=utf-8``, the exact value tea-openapi checks before parsing an XML error.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

CONTENT_TYPE = "text/xml;charset=utf-8"


def wants_xml(params: dict[str, str]) -> bool:
    return (params.get("Format") or "").strip().lower() == "xml"


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape("" if value is None else str(value))


def _element(name: str, value: Any, out: list[str]) -> None:
    if isinstance(value, list):
        for item in value:
            _element(name, item, out)
        return
    out.append(f"<{name}>")
    if isinstance(value, dict):
        for key, child in value.items():
            _element(str(key), child, out)
    else:
        out.append(_scalar(value))
    out.append(f"</{name}>")


def to_xml(root: str, body: dict[str, Any]) -> bytes:
    out = ['<?xml version="1.0" encoding="UTF-8"?>']
    _element(root, body, out)
    return "".join(out).encode("utf-8")
