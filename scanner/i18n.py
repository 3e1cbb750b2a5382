"""Report languages: English (the source strings) and Simplified Chinese (``zh-CN``).

Standard gettext: the strings of the report templates (jinja2's i18n extension) and of the
terminal summary are extracted with Babel (``make messages``: ``babel.cfg`` ->
``scanner/locales/rdscan.pot`` -> ``scanner/locales/zh_CN/LC_MESSAGES/rdscan.po``). The ``.po``
is compiled into ``rdscan.mo`` beside it at build and install time (``hatch_build.py``, which
``pip install .`` and ``pip install -e .`` run; ``make messages`` too), and read here with the
standard library's ``gettext`` alone.

A missing ``.mo`` (an install that skipped the build hook, a checkout never installed), or one
compiled from another ``.po`` than the one beside it (a checkout whose ``.po`` was edited or
pulled after install: each ``.mo`` records its ``.po``'s SHA-256) is a ConfigError naming the
fix, never a report silently in English. Within a good catalog an empty translation falls back
to English; a test fails when any template string lacks one.
"""

from __future__ import annotations

import gettext
import hashlib
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


def mo_path(lang: str) -> Path:
    return po_path(lang).with_suffix(".mo")


# The message in each .mo that records the SHA-256 of the .po it was compiled from
# (scanner/i18n_build.py writes it).
SOURCE_CONTEXT = "rdscan-catalog"
SOURCE_ID = "source-sha256"
_REBUILD_HINT = (
    "in a source checkout run `make messages` (or reinstall: pip install -e .); otherwise "
    "reinstall rdscan; or use --lang en"
)


@lru_cache(maxsize=4)
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalog of ``lang`` (English: no translation). ConfigError when the
    ``.mo`` is missing, unreadable, or was compiled from another ``.po`` than the one beside
    it."""
    if lang == DEFAULT_LANG:
        return gettext.NullTranslations()
    mo = mo_path(lang)
    try:
        with mo.open("rb") as fh:
            catalog = gettext.GNUTranslations(fh)
    except FileNotFoundError:
        raise ConfigError(
            f"the {lang} report catalog {mo} is missing: it is compiled from "
            f"{mo.with_suffix('.po').name} when rdscan is installed",
            hint=_REBUILD_HINT,
        ) from None
    except (OSError, ValueError) as exc:  # gettext raises OSError for a bad magic number
        raise ConfigError(
            f"the {lang} report catalog {mo} cannot be read: {exc}", hint=_REBUILD_HINT
        ) from None
    recorded = catalog.pgettext(SOURCE_CONTEXT, SOURCE_ID)
    po = po_path(lang)
    try:
        current = hashlib.sha256(po.read_bytes()).hexdigest()
    except FileNotFoundError:  # an install that ships the .mo alone
        current = recorded
    except OSError as exc:
        raise ConfigError(
            f"the {lang} translations {po} cannot be read: {exc.strerror or exc}",
            hint=_REBUILD_HINT,
        ) from None
    if recorded != current:
        raise ConfigError(
            f"the {lang} report catalog {mo} is out of date: {po.name} changed after it was "
            "compiled (edited or pulled after install)",
            hint=_REBUILD_HINT,
        )
    return catalog


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

# scanner.exit_codes's meanings, shown through ``_(code.meaning)`` by the terminal summaries; a
# test checks this list against ExitCode.
EXIT_MEANINGS = (
    N_("compliant"),
    N_("non-compliant: FAIL at or above --fail-on"),
    N_("usage, configuration or credential error (nothing scanned, nothing written)"),
    N_("incomplete: some members could not be evaluated or were not listed"),
    N_("compliant, but the reports could not be written"),
    N_("interrupted (Ctrl-C)"),
)
