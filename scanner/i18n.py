"""Report languages: English (the source strings) and Simplified Chinese (``zh-CN``).

Standard gettext: the strings of the report templates (jinja2's i18n extension) and of the
terminal summary are extracted with Babel (``make messages``: ``babel.cfg`` ->
``scanner/locales/rdscan.pot`` -> ``scanner/locales/zh_CN/LC_MESSAGES/rdscan.po``). The catalog
is compiled when first needed, in memory, with Babel (``read_po`` + ``write_mo``), so the
``.po`` file a translator edits is the only copy. A missing or empty translation falls back to
English; a test fails when any template string lacks one.
"""

from __future__ import annotations

import gettext
import io
from functools import lru_cache
from pathlib import Path

from .errors import ConfigError

LANGS: tuple[str, ...] = ("en", "zh-CN")
DEFAULT_LANG = "en"
DOMAIN = "rdscan"
LOCALES_DIR = Path(__file__).resolve().parent / "locales"
_LOCALE = {"zh-CN": "zh_CN"}


def check_lang(value: str | None) -> str:
    """``en`` / ``zh-CN`` (case and ``_`` forgiven); anything else is a ConfigError."""
    if not value:
        return DEFAULT_LANG
    folded = value.strip().replace("_", "-").casefold()
    for lang in LANGS:
        if lang.casefold() == folded:
            return lang
    raise ConfigError(
        f"unknown report language {value!r}",
        hint=f"use one of: {', '.join(LANGS)} (--lang or RDSCAN_LANG)",
    )


def po_path(lang: str) -> Path:
    return LOCALES_DIR / _LOCALE[lang] / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=4)
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalog of ``lang`` (English: no translation)."""
    if lang == DEFAULT_LANG:
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    path = po_path(lang)
    try:
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=_LOCALE[lang], domain=DOMAIN)
    except OSError as exc:
        raise ConfigError(
            f"the {lang} report catalog {path} cannot be read: {exc.strerror or exc}",
            hint="reinstall rdscan, or use --lang en",
        ) from None
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def N_(message: str) -> str:
    """Mark a string for extraction without translating it here (it is looked up later)."""
    return message


# Shown through ``_(c.title)`` in the report templates (scanner.changes.CLASS_TITLES); listed so
# extraction finds them. A test checks this list against CLASS_TITLES.
CHANGE_CLASS_TITLES = (
    N_("New failures"),
    N_("Fixed"),
    N_("Still failing"),
    N_("Newly exempt"),
    N_("Exemption expired"),
    N_("Members added"),
    N_("Members removed"),
    N_("Became unreadable (ERROR)"),
    N_("Readable again"),
    N_("Left the policy's scope (SKIPPED)"),
    N_("Entered the policy's scope"),
)
