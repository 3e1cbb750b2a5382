"""Locate data shipped beside the package: report templates and policies.

In a wheel they live in ``scanner/_data/``; in a source checkout (editable install) at the
repository's top level.
"""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    for candidate in (_PKG / "_data" / name, _PKG.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"rdscan data folder {name!r} not found next to the package")


def templates_dir() -> Path:
    return data_dir("report_templates")


def policies_dir() -> Path:
    return data_dir("policies")


def default_policy_path() -> Path:
    return policies_dir() / "secure-mobile-phone.yaml"


def default_frameworks_path() -> Path:
    return policies_dir() / "frameworks.yaml"
