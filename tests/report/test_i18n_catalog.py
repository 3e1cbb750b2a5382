"""The compiled zh-CN catalog: built by the install (hatch_build.py -> scanner/i18n_build.py),
read with the standard library's gettext, and refused with a clear message when missing or
compiled from another .po than the one beside it."""

from __future__ import annotations

import gettext
import importlib.util
import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomllib
from click.testing import CliRunner

from scanner import i18n
from scanner.cli import main
from scanner.errors import ConfigError
from scanner.i18n_build import compile_all, compile_po
from scanner.report import write_reports

ROOT = Path(__file__).resolve().parents[2]


def _messages(data: bytes) -> dict[object, str]:
    """msgid -> msgstr of a .mo, without the header (it names the Babel version)."""
    catalog = gettext.GNUTranslations(io.BytesIO(data))
    return {k: v for k, v in catalog._catalog.items() if k != ""}  # type: ignore[attr-defined]


def test_the_catalog_rdscan_reads_is_the_po_compiled() -> None:
    """The .mo beside the .po (made by `pip install -e .`'s build hook, or by tests/conftest.py
    when a rebase changed the .po) holds exactly what a fresh compile of the .po holds."""
    mo, po = i18n.mo_path("zh-CN"), i18n.po_path("zh-CN")
    assert mo.is_file(), f"{mo} missing: the build hook did not run (pip install -e .)"
    installed = _messages(mo.read_bytes())
    fresh = _messages(compile_po(po.read_bytes(), "zh_CN"))
    assert installed == fresh
    assert len(installed) > 100
    assert installed["Members"] == "成员账号"


def _hook(root: Path) -> Any:
    spec = importlib.util.spec_from_file_location("_hatch_build", ROOT / "hatch_build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CatalogBuildHook(str(root), {}, None, None, str(root / "dist"), "wheel")


@pytest.mark.parametrize("version", ["standard", "editable"])
def test_the_build_hook_compiles_each_catalog_beside_its_po(tmp_path: Path, version: str) -> None:
    """hatch_build.py, as hatchling runs it for `pip install .` and `pip install -e .`, on a
    copy of the source without any .mo; pyproject.toml puts the .mo in the wheel."""
    (tmp_path / "scanner").mkdir()
    shutil.copy(ROOT / "scanner" / "i18n_build.py", tmp_path / "scanner")
    shutil.copytree(
        ROOT / "scanner" / "locales",
        tmp_path / "scanner" / "locales",
        ignore=shutil.ignore_patterns("*.mo"),
    )
    _hook(tmp_path).initialize(version, {})
    mo = tmp_path / "scanner" / "locales" / "zh_CN" / "LC_MESSAGES" / "rdscan.mo"
    assert _messages(mo.read_bytes()) == _messages(
        compile_po(mo.with_suffix(".po").read_bytes(), "zh_CN")
    )
    wheel = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]
    assert wheel["targets"]["wheel"]["hooks"]["custom"]["path"] == "hatch_build.py"
    assert "scanner/locales/*/LC_MESSAGES/*.mo" in wheel["targets"]["wheel"]["artifacts"]


def test_the_build_hook_refuses_a_source_without_catalogs(tmp_path: Path) -> None:
    (tmp_path / "scanner" / "locales").mkdir(parents=True)
    shutil.copy(ROOT / "scanner" / "i18n_build.py", tmp_path / "scanner")
    with pytest.raises(RuntimeError, match="no gettext catalog"):
        _hook(tmp_path).initialize("standard", {})


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
