"""Bad input, policy files as a first user meets them: one clear message naming the problem and the
fix, a non-zero exit, nothing lost or half-written, no traceback (moved here from
test_ux_regressions.py)."""

from __future__ import annotations

from ..cli_helpers import (
    _invoke,
)


def test_a_deeply_nested_yaml_is_a_problem_not_a_crash(tmp_path):
    deep = tmp_path / "deep.yaml"
    deep.write_text("a: " + "[" * 5000 + "]" * 5000 + "\n")
    code, output = _invoke("policy", "validate", str(deep))
    assert code == 2, output
    assert "nested too deeply" in output
    code, output = _invoke("scan", "--policy", str(deep))
    assert code == 2 and "nested too deeply" in output
