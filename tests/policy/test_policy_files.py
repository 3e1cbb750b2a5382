"""Policy and exemptions files: valid ones load, every problem is reported at once with its line."""

from __future__ import annotations

import datetime as dt
import hashlib
import textwrap

import pytest

from scanner.errors import ConfigError, PolicyError
from scanner.findings import Severity, Status
from scanner.policy import (
    TagRule,
    check_file,
    load_exemptions,
    load_policy,
    validate_file,
    validate_files,
)

GOOD_POLICY = textwrap.dedent(
    """\
    id: my-policy
    title: Phones everywhere
    severity: medium
    rationale: Because.
    remediation: |
      api: bind it; manual: ask the owner.
    related_controls:
      - {framework: CIS Alibaba Cloud Foundation Benchmark v1.0.0, control: 1.1, relation: related}
      - {framework: CIS Alibaba Cloud Foundation Benchmark, control: "1.3", relation: related}
    scope:
      types: [ResourceAccount]
      statuses: [CreateSuccess, PromoteSuccess]
      folders: {include: [Root/Production, fd-abc], exclude: [Root/Production/Legacy/]}
      tags: {include: [env=prod], exclude: [temporary, "owner=nobody"]}
    cloud_account_without_phone: {result: SKIPPED, severity: low}
    """
)

GOOD_EXEMPTIONS = textwrap.dedent(
    """\
    exemptions:
      - account_id: "1000000000000042"
        reason: Break-glass account
        owner: secops@example.com
        ticket: SEC-1
        expires: 2027-01-31
      - folder: Root/Sandbox
        reason: Sandboxes
        owner: platform@example.com
        ticket: 4711
        expires: "2026-12-01"
      - account_id: 1000000000000043
        reason: Unquoted id is kept as written
        owner: o
        ticket: T-2
        expires: 2026-12-02
    """
)


def lines_of(problems: list[str]) -> list[int]:
    return [int(p.split(":")[1]) for p in problems]


# ------------------------------------------------------------------------------ valid


def test_good_policy_loads(write):
    path = write("p.yaml", GOOD_POLICY)
    p = load_policy(path)
    assert p.id == "my-policy"
    assert p.severity is Severity.MEDIUM
    assert p.remediation.startswith("api: bind it")
    assert [(c.control, c.relation) for c in p.related_controls] == [
        ("1.1", "supporting"),  # "related", as policy files written before say: supporting
        ("1.3", "supporting"),
    ]
    assert p.scope.types == ("ResourceAccount",)
    assert p.scope.statuses == ("CreateSuccess", "PromoteSuccess")
    assert p.scope.include_folders == ("Root/Production", "fd-abc")
    assert p.scope.exclude_folders == ("Root/Production/Legacy",)
    assert p.scope.include_tags == (TagRule("env", "prod"),)
    assert p.scope.exclude_tags == (TagRule("temporary"), TagRule("owner", "nobody"))
    assert p.cloud_account_without_phone.result is Status.SKIPPED
    assert p.cloud_account_without_phone.severity is Severity.LOW
    assert p.digest == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    assert p.source == str(path)
    assert validate_file(path) == []


def test_minimal_policy_gets_defaults(write):
    p = load_policy(
        write("p.yaml", "id: p\ntitle: t\nseverity: low\nrationale: r\nremediation: m\n")
    )
    assert p.related_controls == ()
    assert p.scope.types == () and p.scope.statuses == () and p.scope.exclude_folders == ()
    assert p.cloud_account_without_phone.result is Status.FAIL
    assert p.cloud_account_without_phone.severity is None


def test_cloud_account_shorthand(write):
    text = "id: p\ntitle: t\nseverity: low\nrationale: r\nremediation: m\n"
    p = load_policy(write("p.yaml", text + "cloud_account_without_phone: SKIPPED\n"))
    assert p.cloud_account_without_phone.result is Status.SKIPPED


def test_digest_changes_with_the_bytes(write):
    a = load_policy(write("a.yaml", GOOD_POLICY))
    b = load_policy(write("b.yaml", GOOD_POLICY + "# a comment\n"))
    assert a.digest != b.digest and a.id == b.id


def test_good_exemptions_load(write):
    path = write("e.yaml", GOOD_EXEMPTIONS)
    ex = load_exemptions(path)
    assert len(ex.entries) == 3
    a, f, c = ex.entries
    assert (a.account_id, a.folder, a.expires, a.line) == (
        "1000000000000042",
        None,
        dt.date(2027, 1, 31),
        2,
    )
    assert a.scope == "account:1000000000000042"
    assert (f.folder, f.ticket, f.expires, f.line) == (
        "Root/Sandbox",
        "4711",
        dt.date(2026, 12, 1),
        7,
    )
    assert f.scope == "folder:Root/Sandbox"
    assert c.account_id == "1000000000000043"
    assert ex.digest == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    assert ex.source == str(path)


def test_no_exemptions_file_means_none():
    ex = load_exemptions(None)
    assert ex.entries == () and ex.digest is None and ex.source is None


@pytest.mark.parametrize("text", ["exemptions: []\n", "exemptions:\n"])
def test_empty_exemption_list_is_valid(write, text):
    ex = load_exemptions(write("e.yaml", text))
    assert ex.entries == () and ex.digest is not None


def test_expired_exemption_is_still_a_valid_file(write):
    text = GOOD_EXEMPTIONS.replace("2027-01-31", "2001-01-01")
    assert load_exemptions(write("e.yaml", text)).entries[0].expires == dt.date(2001, 1, 1)


# ------------------------------------------------------------- every problem at once


def test_policy_with_many_problems_lists_them_all_with_lines(write):
    text = textwrap.dedent(
        """\
        id: "bad id!"
        title: ""
        severity: urgent
        severty: high
        rationale: 12
        rationale: again
        related_controls:
          - framework: CIS
            control: 1.1
            relation: satisfies
          - {framework: CIS, control: "1.2", relation: related}
          - {framework: CIS, control: "1.2", relation: related}
          - {framework: CIS}
        scope:
          types: [ResourceAccount, Bogus, ResourceAccount]
          statuses: []
          folders: {include: [Root/A], exclude: [Root/A], other: []}
          tags: {exclude: ["=x"]}
          colour: blue
        cloud_account_without_phone: {result: PASS, severity: huge}
        """
    )
    path = write("bad.yaml", text)
    problems = validate_file(path)
    expected = [
        (1, "missing required key 'remediation'"),
        (1, "id 'bad id!'"),
        (2, "title must not be empty"),
        (3, "'urgent' is not one of critical, high, medium, low, info"),
        (4, "unknown key 'severty'; did you mean 'severity'?"),
        (5, "rationale must be text, not a number"),
        (6, "duplicate key 'rationale' (first at line 5)"),
        (10, "relation must be 'supporting' (the check gives evidence towards the control) or "),
        (12, "listed twice (first at line 11)"),
        (13, "missing required key 'control'"),
        (15, "'Bogus' is not one of ResourceAccount, CloudAccount"),
        (15, "duplicate value 'ResourceAccount'"),
        (16, "scope.statuses must list at least one value"),
        (17, "unknown key 'other'"),
        (17, "Root/A both included and excluded"),
        (18, "'=x' has no tag key"),
        (19, "scope: unknown key 'colour'"),
        (20, "'PASS' is not one of FAIL, SKIPPED"),
        (20, "'huge' is not one of"),
    ]
    assert len(problems) == len(expected), "\n".join(problems)
    for problem, (line, needle) in zip(problems, expected, strict=True):
        assert problem.startswith(f"{path}:{line}: "), problem
        assert needle in problem, problem
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    assert err.value.problems == problems
    assert isinstance(err.value, ConfigError)
    assert "19 problems" in err.value.message
    assert err.value.hint and "rdscan policy validate" in err.value.hint


def test_exemptions_with_many_problems_lists_them_all_with_lines(write):
    text = textwrap.dedent(
        """\
        exemptions:
          - account_id: "123"
            folder: Root/X
            reason: r
            owner: o
            ticket: T
            expires: 2026-02-30
          - account_id: "12a"
            reason: ""
            expires: tomorrow
            colour: red
          - folder: Root/X
            reason: r
            owner: o
            ticket: 7
            expires: 2026-01-01
          - folder: Root/X/
            reason: r
            owner: o
            ticket: 7
            expires: 2026-01-01
          - just a string
          - account_id: "1000000000000001"
            reason: r
            owner: [a, b]
            ticket: T
            expires: 2026-01-01T10:00:00Z
          - account_id: "1000000000000002"
            reason: r
            owner: o
            ticket: ~
            expires: 20260101
          - reason: no target
            owner: o
            ticket: T
            expires: 2026-01-01
        """
    )
    path = write("ex.yaml", text)
    problems = validate_file(path)
    expected = [
        (2, "give exactly one of 'account_id' or 'folder'"),
        (7, "'2026-02-30' is not a real calendar date"),
        (8, "missing required key 'owner'"),
        (8, "missing required key 'ticket'"),
        (8, "account_id '12a' must be digits only"),
        (9, "reason must not be empty"),
        (10, "'tomorrow' is not a date in the form YYYY-MM-DD"),
        (11, "unknown key 'colour'"),
        (17, "duplicate exemption for folder Root/X (first at line 12)"),
        (22, "exemption must be a mapping, not text"),
        (25, "owner must be text, not a list"),
        (27, "'2026-01-01T10:00:00Z' is not a date in the form YYYY-MM-DD"),
        (31, "ticket has no value"),
        (32, "expires must be a date YYYY-MM-DD, not a number"),
        (33, "give exactly one of 'account_id' or 'folder'"),
    ]
    assert len(problems) == len(expected), "\n".join(problems)
    for problem, (line, needle) in zip(problems, expected, strict=True):
        assert problem.startswith(f"{path}:{line}: "), problem
        assert needle in problem, problem
    with pytest.raises(PolicyError) as err:
        load_exemptions(path)
    assert err.value.problems == problems


@pytest.mark.parametrize(
    ("folder", "ok"),
    [
        ("fd-abc123", True),
        ("r-Wm0001", True),
        ("Root", True),
        ("Root/Development/Sandbox", True),
        ("Root/With Space/x", True),
        ("Production/Apps", False),  # not from the root: would never match
        ("/Root/Sandbox", False),
        ("Root//Sandbox", False),
        ("fd-", False),
    ],
)
def test_folder_must_be_an_id_or_a_path_from_root(write, folder, ok):
    text = (
        f'exemptions:\n  - folder: "{folder}"\n    reason: r\n    owner: o\n'
        "    ticket: T\n    expires: 2027-01-01\n"
    )
    policy = (
        "id: p\ntitle: t\nseverity: low\nrationale: r\nremediation: m\n"
        f'scope:\n  folders:\n    exclude: ["{folder}"]\n'
    )
    for path, line in ((write("e.yaml", text), 2), (write("p.yaml", policy), 8)):
        problems = validate_file(path)
        if ok:
            assert problems == []
        else:
            assert len(problems) == 1 and "nor a folder path from the root" in problems[0]
            assert problems[0].startswith(f"{path}:{line}: ")


def test_duplicates_are_found_even_in_entries_with_other_problems(write):
    entry = '  - account_id: "1000000000000042"\n    reason: r\n'
    problems = validate_file(write("e.yaml", "exemptions:\n" + entry + entry))
    assert [p.split(":", 1)[1] for p in problems] == [
        "2: exemption: missing required key 'owner'",
        "2: exemption: missing required key 'ticket'",
        "2: exemption: missing required key 'expires'",
        "4: exemption: missing required key 'owner'",
        "4: exemption: missing required key 'ticket'",
        "4: exemption: missing required key 'expires'",
        "4: duplicate exemption for account 1000000000000042 (first at line 2)",
    ]


def test_duplicate_account_exemption(write):
    entry = (
        '  - account_id: "1000000000000042"\n    reason: r\n    owner: o\n'
        "    ticket: T\n    expires: 2027-01-01\n"
    )
    problems = validate_file(write("e.yaml", "exemptions:\n" + entry + entry))
    assert len(problems) == 1
    assert ":7: duplicate exemption for account 1000000000000042 (first at line 2)" in problems[0]


@pytest.mark.parametrize(
    ("content", "line", "needle"),
    [
        ("", 1, "the file is empty"),
        ("   \n\n", 1, "the file is empty"),
        ("# only a comment\n", 1, "no content"),
        ("~\n", 1, "no content"),
        ("- a\n- b\n", 1, "top level must be a mapping of keys, not a list"),
        ("just text\n", 1, "top level must be a mapping of keys, not text"),
        ("foo: 1\n", 1, "neither a policy"),
        ("id: x\n  title: [\n", 2, "YAML syntax error"),
        ("a: 1\n---\nb: 2\n", 2, "YAML syntax error"),
        ("id: [unclosed\n\n\n", 4, "YAML syntax error"),
        ("id: a\x00b\n", 1, "unacceptable character #x0000"),
        (b"\x89PNG\r\n\x1a\n\x00\xff\xfe", 1, "not a UTF-8 text file"),
        (b"id: x\ntitle: \xff\n", 2, "not a UTF-8 text file"),
        ("exemptions: []\n1: x\n", 2, "keys must be plain words, not a number"),
        ("exemptions: {a: 1}\n", 1, "exemptions must be a list of entries, not a mapping"),
        ("exemptions: []\nextra: 1\n", 2, "unknown key 'extra'"),
    ],
)
def test_malformed_files_are_one_clear_problem(write, content, line, needle):
    path = write("f.yaml", content)
    problems = validate_file(path)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}:{line}: "), problems
    assert needle in problems[0], problems


def test_missing_file_and_directory(tmp_path):
    missing = tmp_path / "nope.yaml"
    assert validate_file(missing) == [f"{missing}: file not found"]
    assert validate_file(tmp_path) == [f"{tmp_path}: is a directory, not a file"]
    with pytest.raises(PolicyError) as err:
        load_policy(missing)
    assert "file not found" in str(err.value)
    with pytest.raises(PolicyError):
        load_exemptions(tmp_path)


def test_device_and_oversized_files_are_refused(write, monkeypatch):
    assert validate_file("/dev/zero") == ["/dev/zero: is not a regular file"]
    from scanner.policy import yamlcheck

    monkeypatch.setattr(yamlcheck, "MAX_BYTES", 100)
    big = write("big.yaml", "id: x\n" + "# padding\n" * 20)
    assert validate_file(big) == [
        f"{big}: is too large for a policy or exemptions file (limit 100 bytes)"
    ]


def test_wrong_kind_of_file_is_named(write):
    ex = write("e.yaml", GOOD_EXEMPTIONS)
    pol = write("p.yaml", GOOD_POLICY)
    with pytest.raises(PolicyError) as err:
        load_policy(ex)
    assert "exemptions file, not a policy file; pass it with --exemptions" in err.value.problems[0]
    with pytest.raises(PolicyError) as err:
        load_exemptions(pol)
    assert "policy file, not an exemptions file; pass it with --policy" in err.value.problems[0]


def test_kind_is_detected_by_top_level_keys(write):
    assert check_file(write("p.yaml", GOOD_POLICY)).kind == "policy"
    assert check_file(write("e.yaml", GOOD_EXEMPTIONS)).kind == "exemptions"
    # a broken policy is still checked as a policy: its problems are about policy keys
    partial = check_file(write("x.yaml", "title: t\n"))
    assert partial.kind == "policy"
    assert any("missing required key 'id'" in p for p in partial.problems)


def test_duplicate_policy_ids_across_files(write):
    a = write("a.yaml", GOOD_POLICY)
    b = write("b.yaml", GOOD_POLICY.replace("Phones everywhere", "Other"))
    c = write("c.yaml", GOOD_POLICY.replace("id: my-policy", "id: other"))
    checks = validate_files([a, b, c])
    assert [ch.ok for ch in checks] == [True, False, True]
    assert checks[1].problems == (f"{b}: policy id 'my-policy' is also used by {a}",)
    # the same file twice is not a duplicate
    assert all(ch.ok for ch in validate_files([a, a]))


def test_policy_error_message_is_printable(write):
    with pytest.raises(PolicyError) as err:
        load_policy(write("p.yaml", "id: p\n"))
    text = str(err.value)
    assert text.splitlines()[0].endswith("invalid policy file (4 problems)")
    assert all(line.startswith("  - ") for line in text.splitlines()[1:])
