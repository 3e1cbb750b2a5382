"""The framework mapping (policies/frameworks.yaml): shipped content, validation with lines,
the control it belongs to, and --framework filtering."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli import main
from scanner.errors import ConfigError, PolicyError
from scanner.policy import check_control, load_frameworks, load_policy, select_frameworks
from scanner.resources import default_frameworks_path, default_policy_path

EXPECTED = {
    "cis-alibaba": {"1.1", "1.3"},
    "mlps": {"8.1.4.1 a)", "8.1.4.1 d)", "8.1.4.2 a)"},
    "iso27001": {"A.5.16", "A.5.17", "A.8.5"},
    "soc2": {"CC6.1", "CC6.2", "CC6.3", "CC7.1"},
    "nist-800-53": {"IA-2(1)", "AC-2"},
    "cis-controls": {"5.1", "6.5"},
    "csa-ccm": {"IAM-14"},
}


def test_shipped_mapping_covers_each_framework_item_as_supporting() -> None:
    mapping, data = load_frameworks(default_frameworks_path())
    got: dict[str, set[str]] = {}
    for item in mapping.items:
        got.setdefault(item.framework_key, set()).add(item.id)
        assert item.relation == "supporting"
        assert item.rationale and "\n" not in item.rationale and item.title
    assert got == EXPECTED
    assert mapping.control == load_policy(default_policy_path()).id
    assert mapping.digest == "sha256:" + hashlib.sha256(data).hexdigest()
    assert mapping.source == "frameworks.yaml"
    assert {i.version for i in mapping.items if i.framework_key == "cis-alibaba"} == {"2.0.0"}


BAD = """\
control: rd-member-secure-mobile-phone
frameworks:
  - key: iso27001
    name: ISO/IEC 27001 Annex A
    version: "2022"
    items:
      - id: A.8.5
        title: Secure authentication
        relation: satisfies
        rationale: because
      - id: A.8.5
        title: again
        relation: supporting
        rationale: twice
  - key: Bad Key
    name: X
    version: "1"
    items:
      - id: "1"
        title: t
        relation: supporting
        rationale: r
        extra: nope
"""


def test_every_problem_is_listed_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "fw.yaml"
    path.write_text(BAD)
    with pytest.raises(PolicyError) as err:
        load_frameworks(path)
    problems = err.value.problems
    assert any(p.startswith(f"{path}:9: relation must be 'supporting'") for p in problems)
    assert any(f"{path}:11: item 'A.8.5' is listed twice (first at line 7)" in p for p in problems)
    assert any(f"{path}:15: key 'Bad Key'" in p for p in problems)
    assert any(f"{path}:23: framework item: unknown key 'extra'" in p for p in problems)
    # `rdscan policy validate` tells a mapping apart by its keys and lists the same problems
    result = CliRunner().invoke(main, ["policy", "validate", str(path)])
    assert result.exit_code == 2
    assert f"{path}:9: relation must be 'supporting'" in result.output


def test_validate_accepts_the_shipped_mapping() -> None:
    result = CliRunner().invoke(main, ["policy", "validate", str(default_frameworks_path())])
    assert result.exit_code == 0
    assert "OK (framework mapping for rd-member-secure-mobile-phone: 17 items in 7 frameworks)" in (
        result.output
    )


def test_a_mapping_for_another_control_is_refused() -> None:
    mapping, _ = load_frameworks(default_frameworks_path())
    with pytest.raises(ConfigError, match="is for control 'rd-member-secure-mobile-phone'"):
        check_control(mapping, "another-policy", "frameworks.yaml")


def test_select_by_key_or_name_and_unknown_names() -> None:
    mapping, _ = load_frameworks(default_frameworks_path())
    only = select_frameworks(mapping, ["MLPS", "iso/iec 27001 annex a"])
    assert {i.framework_key for i in only.items} == {"mlps", "iso27001"}
    assert only.selected == ("mlps", "iso27001") and only.digest == mapping.digest
    assert select_frameworks(mapping, []) is mapping
    with pytest.raises(ConfigError) as err:
        select_frameworks(mapping, ["pci"])
    assert "no framework 'pci'" in str(err.value) and "mlps" in (err.value.hint or "")
