"""The compiled zh-CN catalog: built by the install (hatch_build.py -> scanner/i18n_build.py),
read with the standard library's gettext, and refused with a clear message when missing or
compiled from another .po than the one beside it."""

from __future__ import annotations

import gettext
import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner import i18n
from scanner.cli import main
from scanner.errors import ConfigError
from scanner.i18n_build import compile_all, compile_po
from scanner.report import write_reports


def _messages(data: bytes) -> dict[object, str]:
    """msgid -> msgstr of a .mo, without the header (it names the Babel version)."""
    catalog = gettext.GNUTranslations(io.BytesIO(data))
    return {k: v for k, v in catalog._catalog.items() if k != ""}  # type: ignore[attr-defined]


def test_the_installed_catalog_is_the_po_compiled() -> None:
    """`pip install -e .` (make test) ran the build hook: the .mo beside the .po holds exactly
    what a fresh compile of the .po holds, fuzzy entries excluded."""
    mo, po = i18n.mo_path("zh-CN"), i18n.po_path("zh-CN")
    assert mo.is_file(), f"{mo} missing: the build hook did not run (pip install -e .)"
    installed = _messages(mo.read_bytes())
    fresh = _messages(compile_po(po.read_bytes(), "zh_CN"))
    assert installed == fresh
    assert len(installed) > 100
    assert installed["Members"] == "成员账号"


def test_fuzzy_and_empty_entries_are_left_out() -> None:
    po = (
        b'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        b'msgid "Kept"\nmsgstr "\xe4\xbf\x9d\xe7\x95\x99"\n\n'
        b'#, fuzzy\nmsgid "Guessed"\nmsgstr "\xe7\x8c\x9c"\n\n'
        b'msgid "Empty"\nmsgstr ""\n'
    )
    catalog = gettext.GNUTranslations(io.BytesIO(compile_po(po, "zh_CN")))
    assert catalog.gettext("Kept") == "保留"
    assert catalog.gettext("Guessed") == "Guessed" and catalog.gettext("Empty") == "Empty"


@pytest.fixture
def locales(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the catalogs, compiled, that scanner.i18n reads instead of the installed one."""
    copy = tmp_path / "locales"
    shutil.copytree(i18n.LOCALES_DIR, copy, ignore=shutil.ignore_patterns("*.mo"))
    compile_all(copy)
    monkeypatch.setattr(i18n, "LOCALES_DIR", copy)
    i18n.translations.cache_clear()
    yield copy
    i18n.translations.cache_clear()


def test_a_compiled_copy_translates(locales: Path) -> None:
    assert i18n.translations("zh-CN").gettext("Members") == "成员账号"


def test_a_missing_catalog_is_a_clear_error(locales: Path) -> None:
    i18n.mo_path("zh-CN").unlink()
    with pytest.raises(ConfigError) as info:
        i18n.translations("zh-CN")
    assert "rdscan.mo is missing" in str(info.value)
    assert "make messages" in str(info.value.hint) and "--lang en" in str(info.value.hint)
    assert i18n.translations("en").gettext("Members") == "Members"  # English needs no catalog


def test_a_catalog_older_than_its_po_is_a_clear_error(locales: Path) -> None:
    """A checkout whose .po was edited (or pulled) after install: refused, not shown stale."""
    po = i18n.po_path("zh-CN")
    po.write_bytes(po.read_bytes().replace("成员账号".encode(), "成员".encode(), 1))
    with pytest.raises(ConfigError) as info:
        i18n.translations("zh-CN")
    assert "out of date" in str(info.value) and "rdscan.po changed" in str(info.value)
    compile_all(locales)  # what `make messages` and a reinstall do
    i18n.translations.cache_clear()
    assert i18n.translations("zh-CN").gettext("Members")


def test_a_corrupt_catalog_is_a_clear_error(locales: Path) -> None:
    i18n.mo_path("zh-CN").write_bytes(b"not a catalog")
    with pytest.raises(ConfigError, match="cannot be read"):
        i18n.translations("zh-CN")


def test_the_cli_names_the_fix(locales: Path, tmp_path: Path, golden_scan) -> None:  # type: ignore[no-untyped-def]
    results = write_reports(golden_scan, ["json"], tmp_path / "scan")["json"]
    i18n.mo_path("zh-CN").unlink()
    result = CliRunner().invoke(main, ["report", str(results), "--lang", "zh-CN"])
    assert result.exit_code == 2, result.output
    assert "rdscan.mo is missing" in result.stderr and "Traceback" not in result.stderr
    assert "Fix: in a source checkout run `make messages`" in result.stderr
    assert not (results.parent / "report.html").exists()
