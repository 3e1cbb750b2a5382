"""The framework mapping (policies/frameworks.yaml): shipped content, validation with lines,
the control it belongs to, and --framework filtering."""

from __future__ import annotations

import hashlib
import re
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


def test_shipped_mapping_has_chinese_texts_for_every_item() -> None:
    """zh-CN reports show the shipped mapping in Chinese: every framework's name and every
    item's title and rationale (the version where it has words: MLPS, SOC 2, NIST)."""
    mapping, _ = load_frameworks(default_frameworks_path())
    for item in mapping.items:
        for name in ("framework", "title", "rationale"):
            text = item.text(name, "zh-CN")
            assert text and re.search(r"[\u4e00-\u9fff]", text), (item.id, name)
            assert "\n" not in text
        assert re.search(r"[\u4e00-\u9fff]", item.title) is None or item.framework_key == "mlps"
    versions = {i.framework_key: i.text("version", "zh-CN") for i in mapping.items}
    assert versions["mlps"] == "第三级" and versions["cis-alibaba"] is None
    back = type(mapping).from_dict(mapping.to_dict())
    assert back == mapping  # report.json keeps the translations


ZH_BAD = """\
control: rd-member-secure-mobile-phone
frameworks:
  - key: iso27001
    name: ISO/IEC 27001 Annex A
    version: "2022"
    zh-CN:
      nom: ISO
    items:
      - id: A.8.5
        title: Secure authentication
        relation: supporting
        rationale: because
        zh-CN:
          title: ""
          rationale: |
            two
            lines
      - id: A.5.17
        title: Authentication information
        relation: supporting
        rationale: because
        zh-CN: just text
"""


def test_chinese_texts_are_validated_with_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(ZH_BAD, encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_frameworks(path)
    problems = "\n".join(info.value.problems)
    assert f"{path}:7:" in problems and "unknown key 'nom'" in problems
    assert f"{path}:14:" in problems and "zh-CN title must not be empty" in problems
    assert f"{path}:15:" in problems and "zh-CN rationale must be one line" in problems
    assert f"{path}:22:" in problems and "must be a mapping" in problems


def test_a_mapping_without_chinese_falls_back_to_english_and_says_so(tmp_path: Path) -> None:
    """A user's --frameworks FILE need not translate: the zh-CN Control section shows its
    English text and counts the items shown in English."""
    from scanner.report.view import localized_frameworks

    path = tmp_path / "m.yaml"
    path.write_text(ZH_BAD.split("        zh-CN:\n          title")[0], encoding="utf-8")
    path.write_text(path.read_text().replace("    zh-CN:\n      nom: ISO\n", ""), encoding="utf-8")
    mapping, _ = load_frameworks(path)
    shown, untranslated = localized_frameworks(mapping, "zh-CN")
    assert untranslated == 1 and shown == mapping
    shipped, _ = load_frameworks(default_frameworks_path())
    shown, untranslated = localized_frameworks(shipped, "zh-CN")
    assert untranslated == 0
    assert shown is not None and shown.items[0].title == shipped.items[0].text("title", "zh-CN")
    assert localized_frameworks(shipped, "en") == (shipped, 0)
