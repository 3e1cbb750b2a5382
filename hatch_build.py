"""Hatchling build hook: compile the gettext catalogs (``scanner/locales/*/LC_MESSAGES/*.po``)
into ``.mo`` files beside them whenever a wheel is built, so rdscan reads them with the
standard library alone.

It runs for a standard wheel (``pip install .``, ``python -m build``, the Dockerfile) and for an
editable one (``pip install -e .``: what ``make test`` and ``make demo`` use, where the package
is read from the checkout). Git ignores the ``.mo`` files; ``artifacts`` in pyproject.toml puts
them in the wheel all the same. The compiling itself is ``scanner/i18n_build.py``, loaded by
path (rdscan is not installed yet).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


def _i18n_build(root: Path) -> Any:
    path = root / "scanner" / "i18n_build.py"
    spec = importlib.util.spec_from_file_location("_rdscan_i18n_build", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class CatalogBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        compiled = _i18n_build(root).compile_all(root / "scanner" / "locales")
        if not compiled:
            raise RuntimeError("rdscan: no gettext catalog (.po) found under scanner/locales")
        for mo in compiled:
            self.app.display_info(f"rdscan: compiled {mo.relative_to(root)} ({version} wheel)")
