"""Bad input, the command line as a first user meets it: one clear message naming the problem and
the fix, a non-zero exit, nothing lost or half-written, no traceback (moved here from
test_ux_regressions.py)."""

from __future__ import annotations

import pytest

from .cli_helpers import (
    _invoke,
)


@pytest.mark.parametrize(
    ("args", "var", "value"),
    [
        (["scan"], "RDSCAN_RATE", "abc"),
        (["scan"], "RDSCAN_CONCURRENCY", "0"),
        (["remediate", "--dry-run"], "RDSCAN_SITE", "mars"),
        (["history", "list"], "RDSCAN_HISTORY", "/"),
        (["emulator", "serve"], "RDSCAN_EMULATOR_PORT", "abc"),
    ],
    ids=["rate", "concurrency", "site", "history", "emulator-port"],
)
def test_a_bad_environment_variable_is_named(args, var, value):
    code, output = _invoke(*args, **{var: value})
    assert code == 2, output
    assert f"(from the environment variable {var})." in output
    code, output = _invoke(*args, "--help", **{var: value})
    assert code == 0  # --help still works with a broken environment
