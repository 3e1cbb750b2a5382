"""`rdscan policy validate` and `rdscan policy show` through click's CliRunner."""

from __future__ import annotations

import datetime as dt
import textwrap

import pytest
from click.testing import CliRunner

from scanner.cli import main
from scanner.resources import default_policy_path, policies_dir

POLICY = "id: p1\ntitle: T\nseverity: low\nrationale: r\nremediation: m\n"
EXEMPTIONS = textwrap.dedent(
    """\
    exemptions:
      - {account_id: "1000000000000001", reason: r, owner: o, ticket: T, expires: 2027-01-01}
      - {folder: Root/Sandbox, reason: r, owner: o, ticket: T, expires: 2027-01-01}
    """
)


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_validate_ok_files(write):
    p = write("p.yaml", POLICY)
    e = write("e.yaml", EXEMPTIONS)
    one = write("one.yaml", EXEMPTIONS.splitlines()[0] + "\n" + EXEMPTIONS.splitlines()[1])
    result = run("policy", "validate", "--as-of", "2026-01-01", str(p), str(e), str(one))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"{p}: OK (policy p1)",
        f"{e}: OK (2 exemptions)",
        f"{one}: OK (1 exemption)",
    ]


def test_validate_counts_expired_and_soon_to_expire(write):
    today = dt.date(2026, 11, 27)
    entry = '  - {{account_id: "{}", reason: r, owner: o, ticket: T, expires: {}}}\n'
    text = "exemptions:\n" + "".join(
        entry.format(1000000000000001 + i, day.isoformat())
        for i, day in enumerate(
            [
                today - dt.timedelta(days=1),  # expired
                today,  # last day: expires within 30 days
                today + dt.timedelta(days=30),  # within 30 days
                today + dt.timedelta(days=31),
            ]
        )
    )
    path = write("e.yaml", text)
    result = run("policy", "validate", "--as-of", "2026-11-27", str(path))
    assert result.exit_code == 0, result.output
    assert result.output == f"{path}: OK (4 exemptions: 1 expired, 2 expire within 30 days)\n"
    later = run("policy", "validate", "--as-of", "2027-01-01", str(path))
    assert later.output == f"{path}: OK (4 exemptions: 4 expired)\n"


def test_validate_shipped_files():
    files = [str(p) for p in sorted(policies_dir().glob("*.yaml"))]
    result = run("policy", "validate", *files)
    assert result.exit_code == 0, result.output
    assert "OK (policy rd-member-secure-mobile-phone)" in result.output


def test_validate_lists_every_problem_and_exits_2(write):
    good = write("good.yaml", POLICY)
    bad = write("bad.yaml", "id: p2\ntitle: T\nseverity: urgent\nrationale: r\nextra: 1\n")
    result = run("policy", "validate", str(good), str(bad))
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    out = result.stdout.splitlines()
    assert out[0] == f"{good}: OK (policy p1)"
    assert out[1:] == [
        f"{bad}:1: policy: missing required key 'remediation'",
        f"{bad}:3: severity: 'urgent' is not one of critical, high, medium, low, info",
        f"{bad}:5: policy: unknown key 'extra' (allowed: id, title, severity, rationale, "
        "remediation, related_controls, scope, cloud_account_without_phone, zh-CN)",
    ]
    assert "3 problems in 1 of 2 files." in result.stderr


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"", "the file is empty"),
        (b"\x00\x01\x02\xff\xfe binary", "not a UTF-8 text file"),
        (b"- 1\n- 2\n", "not a list"),
        (b"key: [\n", "YAML syntax error"),
        (b"id: \x1b[31mred\n", "unacceptable character"),
    ],
)
def test_validate_junk_never_tracebacks(write, content, needle):
    path = write("junk.yaml", content)
    result = run("policy", "validate", str(path))
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert needle in result.stdout
    assert "\x1b" not in result.output


def test_validate_missing_file_and_directory(tmp_path):
    result = run("policy", "validate", str(tmp_path / "nope.yaml"), str(tmp_path))
    assert result.exit_code == 2
    assert f"{tmp_path / 'nope.yaml'}: file not found" in result.stdout
    assert f"{tmp_path}: is a directory, not a file" in result.stdout
    assert "Traceback" not in result.output


def test_validate_needs_a_file():
    result = run("policy", "validate")
    assert result.exit_code == 2
    assert "Missing argument" in result.output


def test_validate_duplicate_policy_ids(write):
    a = write("a.yaml", POLICY)
    b = write("b.yaml", POLICY)
    result = run("policy", "validate", str(a), str(b))
    assert result.exit_code == 2
    assert f"{b}: policy id 'p1' is also used by {a}" in result.stdout


def test_show_default_policy():
    result = run("policy", "show")
    assert result.exit_code == 0, result.output
    assert "Policy:    rd-member-secure-mobile-phone" in result.output
    assert f"Source:    {default_policy_path()}" in result.output
    assert "Digest:    sha256:" in result.output
    assert (
        'CIS Alibaba Cloud Foundations Benchmark 2.0.0 1.3 Ensure MFA is enabled for the "root" '
        "account (supporting)"
    ) in result.output
    assert "CloudAccount without a secure phone: FAIL, severity high, remediation manual" in (
        result.output
    )


def test_show_scope_of_a_custom_policy(write):
    text = POLICY + textwrap.dedent(
        """\
        scope:
          types: [CloudAccount]
          folders: {exclude: [Root/Sandbox]}
          tags: {include: [env=prod]}
        cloud_account_without_phone: SKIPPED
        """
    )
    result = run("policy", "show", str(write("p.yaml", text)))
    assert result.exit_code == 0, result.output
    assert "member types:     CloudAccount" in result.output
    assert "member statuses:  all" in result.output
    assert "folders excluded: Root/Sandbox" in result.output
    assert "tags included:    env=prod" in result.output
    assert "CloudAccount without a secure phone: SKIPPED" in result.output


def test_show_invalid_policy_is_an_error_not_a_traceback(write):
    result = run("policy", "show", str(write("p.yaml", "id: p\n")))
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "Error: " in result.stderr and "invalid policy file (4 problems)" in result.stderr
    assert "missing required key 'title'" in result.stderr
    assert "Fix: " in result.stderr
