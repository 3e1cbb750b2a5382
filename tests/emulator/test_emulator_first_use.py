"""Bad input, the emulator CLI as a first user meets it: one clear message naming the problem and
the fix, a non-zero exit, nothing lost or half-written, no traceback (moved here from
test_ux_regressions.py)."""

from __future__ import annotations

import pytest

from ..cli_helpers import (
    _invoke,
)


@pytest.mark.parametrize(
    "args",
    [["--port", "99999"], ["--port", "-1"], ["--rate-limit", "-5"], ["--code-ttl", "0"]],
    ids=["port-too-big", "port-negative", "negative-rate", "zero-ttl"],
)
def test_emulator_serve_refuses_impossible_numbers(args):
    code, output = _invoke("emulator", "serve", *args)
    assert code == 2, output
    assert "Error: Invalid value" in output
