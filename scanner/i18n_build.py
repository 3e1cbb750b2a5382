"""Compile the gettext catalogs (``.po`` -> ``.mo``) at build and install time.

Used by ``hatch_build.py`` (the hatchling build hook that runs for ``pip install .`` and
``pip install -e .``), by ``make messages`` and by the tests. Needs Babel (a build requirement
and a dev dependency, not a runtime one): rdscan itself reads the ``.mo`` with the standard
library's ``gettext`` (``scanner.i18n``).

This module imports nothing from the rest of the package, so the build hook can load it by
path before rdscan is installed.

Each ``.mo`` records the SHA-256 of the ``.po`` bytes it was compiled from (message
``SOURCE_ID`` in context ``SOURCE_CONTEXT``); ``scanner.i18n`` compares it with the ``.po``
beside it and refuses a stale catalog (a checkout whose ``.po`` was edited after install)
instead of silently showing English. Fuzzy and empty translations are left out (gettext then
shows the English source).
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

DOMAIN = "rdscan"
SOURCE_CONTEXT = "rdscan-catalog"
SOURCE_ID = "source-sha256"


def po_digest(data: bytes) -> str:
    """The hex SHA-256 of a ``.po`` file's bytes (what a ``.mo`` records of its source)."""
    return hashlib.sha256(data).hexdigest()


def compile_po(data: bytes, locale: str) -> bytes:
    """The ``.mo`` bytes of the ``.po`` bytes ``data`` (Babel's ``read_po`` and ``write_mo``,
    fuzzy entries excluded), with the source digest added."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    catalog = read_po(io.BytesIO(data), locale=locale, domain=DOMAIN)
    catalog.add(SOURCE_ID, po_digest(data), context=SOURCE_CONTEXT)
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def catalogs(locales_dir: Path) -> list[tuple[Path, str]]:
    """Every ``<locale>/LC_MESSAGES/rdscan.po`` under ``locales_dir`` with its locale."""
    return [
        (po, po.parent.parent.name) for po in sorted(locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    ]


def compile_all(locales_dir: Path, out_dir: Path | None = None) -> list[Path]:
    """Compile every catalog under ``locales_dir``; each ``.mo`` is written beside its ``.po``
    (``out_dir`` None) or at the same relative place under ``out_dir``. Returns the ``.mo``
    paths written. A file is rewritten only when its bytes change."""
    written = []
    for po, locale in catalogs(locales_dir):
        mo_bytes = compile_po(po.read_bytes(), locale)
        rel = po.relative_to(locales_dir).with_suffix(".mo")
        mo = (out_dir or locales_dir) / rel
        mo.parent.mkdir(parents=True, exist_ok=True)
        if not mo.is_file() or mo.read_bytes() != mo_bytes:
            tmp = mo.with_name(mo.name + ".tmp")
            tmp.write_bytes(mo_bytes)
            tmp.replace(mo)
        written.append(mo)
    return written
