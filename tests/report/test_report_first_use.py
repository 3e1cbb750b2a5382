"""Bad input, reports as a first user meets them: one clear message naming the problem and the fix,
a non-zero exit, nothing lost or half-written, no traceback (moved here from
test_ux_regressions.py)."""

from __future__ import annotations

from ..cli_helpers import (
    _invoke,
    _one_member_report,
)


def test_a_template_that_fails_while_rendering_is_a_clear_error(tmp_path, sample_fixture):
    results = _one_member_report(tmp_path, sample_fixture)
    templates = tmp_path / "tpl"
    templates.mkdir()
    (templates / "report.md.j2").write_text("# Report\n{{ v.no_such_field.deeper }}\n")
    code, output = _invoke(
        "report", str(results), "--format", "md", "--templates-dir", str(templates)
    )
    assert code == 2, output
    assert "report.md.j2 line 2" in output and "no_such_field" in output
    assert "Fix: fix the template" in output
    assert not (results.parent / "report.md").exists()


def test_error_messages_do_not_pass_escape_sequences_to_the_terminal(tmp_path):
    name = tmp_path / "evil\x1b[31m\x07.json"
    code, output = _invoke("report", str(name))
    assert code == 2
    assert "\x1b" not in output and "\x07" not in output
    assert "evil?[31m?.json does not exist" in output
