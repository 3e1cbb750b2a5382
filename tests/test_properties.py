"""Property-based tests (hypothesis) for the parts that must hold for every input (issue 10):
emulator signature verification against the official SDK's signing, phone validation and
masking, HTML / Markdown / CSV escaping, and the policy and exemptions loaders on random input.

Example counts are kept small for CI (``max_examples`` per test); the generators aim at the
edges (separators, non-ASCII digits, markup characters, control characters) rather than volume.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape

from scanner.emulator.signing import (
    acs3_signature,
    acs3_string_to_sign,
    parse_authorization,
    rpc_signature,
    rpc_string_to_sign,
    signatures_equal,
)
from scanner.errors import RemediationError
from scanner.findings import (
    Caller,
    Evidence,
    Remediation,
    Result,
    ScanResult,
    Severity,
    Status,
)
from scanner.phones import PhoneNumber, mask_phone, mask_phones_in, parse_phone
from scanner.policy.files import check_file
from scanner.report import render
from scanner.report.csv_format import csv_safe
from scanner.report.md_escape import md_escape

FAST = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
SLOW = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# ---- signature verification: the emulator accepts exactly what the official SDK signs ----------

_PARAM_NAME = st.from_regex(r"[A-Za-z][A-Za-z0-9.]{0,15}", fullmatch=True)
_VALUE = st.text(max_size=40)


def _sdk_authorization(query: dict[str, str], headers: dict[str, str], secret: str) -> str:
    from alibabacloud_tea_openapi.utils import Utils

    request = SimpleNamespace(method="POST", pathname="/", query=query, headers=headers)
    return str(
        Utils.get_authorization(request, "ACS3-HMAC-SHA256", "e3b0c442" * 8, "LTAI-x", secret)
    )


def _emulator_accepts(
    auth: str, query: dict[str, str], headers: dict[str, str], secret: str
) -> bool:
    parsed = parse_authorization(auth)
    assert parsed is not None
    lowered = {k.lower(): v for k, v in headers.items()}
    sts = acs3_string_to_sign(
        algorithm=parsed.algorithm,
        method="POST",
        path="/",
        query=query.items(),
        header_values=lambda name: [lowered[name]] if name in lowered else [],
        signed_headers=parsed.signed_headers,
        hashed_payload="e3b0c442" * 8,
    )
    return signatures_equal(acs3_signature(parsed.algorithm, secret, sts), parsed.signature)


@FAST
@given(
    query=st.dictionaries(_PARAM_NAME, _VALUE, max_size=6),
    action=st.from_regex(r"[A-Z][A-Za-z]{2,30}", fullmatch=True),
    secret=st.text(min_size=1, max_size=30),
    tamper=st.sampled_from(["none", "value", "secret", "extra"]),
)
def test_acs3_signatures_of_the_sdk_verify_and_tampering_fails(
    query: dict[str, str], action: str, secret: str, tamper: str
) -> None:
    headers = {
        "host": "127.0.0.1:8080",
        "x-acs-action": action,
        "x-acs-version": "2022-04-19",
        "x-acs-date": "2026-11-30T00:00:00Z",
        "x-acs-signature-nonce": "n" * 32,
        "x-acs-content-sha256": "e3b0c442" * 8,
    }
    auth = _sdk_authorization(query, headers, secret)
    assert _emulator_accepts(auth, query, headers, secret)
    if tamper == "value":
        headers = {**headers, "x-acs-action": action + "X"}
    elif tamper == "secret":
        secret = secret + "x"
    elif tamper == "extra":
        query = {**query, "Injected": "1"} if "Injected" not in query else {}
    if tamper != "none":
        assert not _emulator_accepts(auth, query, headers, secret)


@FAST
@given(
    params=st.dictionaries(_PARAM_NAME, _VALUE, min_size=1, max_size=8),
    secret=st.text(min_size=1, max_size=30),
    method=st.sampled_from(["GET", "POST"]),
)
def test_rpc_signatures_of_the_sdk_verify_and_a_changed_value_fails(
    params: dict[str, str], secret: str, method: str
) -> None:
    from alibabacloud_tea_openapi.utils import Utils

    signature = Utils.get_rpcsignature(params, method, secret)
    expected = rpc_signature(secret, rpc_string_to_sign(method, params.items()))
    assert signatures_equal(expected, signature)
    key = sorted(params)[0]
    changed = {**params, key: params[key] + "!"}
    assert not signatures_equal(
        rpc_signature(secret, rpc_string_to_sign(method, changed.items())), signature
    )


# ---- phones: validation never leaks, masking never shows the number ------------------------------

_DIGITS = "0123456789"
_NOT_DIGIT_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Nd",), blacklist_characters="+"), max_size=12
)


@FAST
@given(value=st.text(max_size=40))
def test_parse_phone_returns_a_number_or_one_clear_error(value: str) -> None:
    try:
        phone = parse_phone(value)
    except RemediationError as exc:
        text = str(exc) + (exc.hint or "")
        run = re.sub(r"\D", "", value)
        if len(run) >= 9:
            assert run not in text  # the refused value is quoted masked
        return
    assert isinstance(phone, PhoneNumber)
    assert phone.number not in repr(phone) and phone.number not in str(phone)
    assert sum(ch.isdigit() for ch in phone.masked) <= len(phone.country_code) + 7


@st.composite
def _phone_in_text(draw: Any) -> tuple[str, str]:
    cc = draw(st.from_regex(r"[1-9][0-9]{0,3}", fullmatch=True))
    national = draw(st.text(alphabet=_DIGITS, min_size=7, max_size=11))
    style = draw(st.sampled_from(["dash", "plus", "space", "bare", "groups", "paren"]))
    if style == "dash":
        shown = f"{cc}-{national}"
    elif style == "plus":
        shown = f"+{cc}{national}"
    elif style == "space":
        shown = f"+{cc} {national}"
    elif style == "bare":
        shown = national
    elif style == "groups":
        cut = draw(st.integers(min_value=1, max_value=len(national) - 1))
        sep = draw(st.sampled_from([" ", "-"]))
        shown = f"{national[:cut]}{sep}{national[cut:]}"
    else:
        shown = f"({cc}) {national}"
    before, after = draw(_NOT_DIGIT_TEXT), draw(_NOT_DIGIT_TEXT)
    if before.endswith(("-", " ")):
        before += "x"
    if after.startswith(("-", " ")):
        after = "x" + after
    return before + shown + after, national


@FAST
@given(case=_phone_in_text())
def test_a_phone_number_anywhere_in_text_is_never_shown_whole(case: tuple[str, str]) -> None:
    text, national = case
    masked = mask_phones_in(text)
    assert national not in masked
    assert mask_phones_in(masked) == masked  # idempotent


@FAST
@given(text=st.text(max_size=60))
def test_masking_is_idempotent_and_keeps_text_without_long_digit_runs(text: str) -> None:
    once = mask_phones_in(text)
    assert mask_phones_in(once) == once
    if not re.search(r"\d", text):
        assert once == text


@FAST
@given(value=st.text(alphabet=_DIGITS + "-+* ", max_size=30))
def test_mask_phone_shows_at_most_seven_digits_after_the_country_code(value: str) -> None:
    masked = mask_phone(value) or ""
    _, sep, rest = masked.partition("-")
    body = rest if sep and re.fullmatch(r"\+?[0-9]{1,4}", masked.partition("-")[0]) else masked
    assert sum(ch.isdigit() for ch in body) <= 7


# ---- escaping: HTML, Markdown, CSV ------------------------------------------------------

_HOSTILE_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("<>&\"'`|*_[]()#!-+=@~$\\\t\r\n\x00\x1b\u202e\u2028{}%;:/. ")),
        st.characters(blacklist_categories=("Cs",)),
    ),
    max_size=40,
)


def _scan_with(name: str, reason: str) -> ScanResult:
    result = Result(
        account_id="1000000000000001",
        display_name=name,
        type="ResourceAccount",
        member_status="CreateSuccess",
        folder_path="Root/" + name[:10],
        has_secure_mobile_phone=False,
        secure_mobile_phone_masked=None,
        result=Status.FAIL,
        severity=Severity.HIGH,
        reason=reason,
        remediation=Remediation.API,
        tags=(("k", name),),
    )
    evidence = Evidence(
        scan_id="scan-prop",
        started_at="2026-11-30T00:00:00Z",
        finished_at="2026-11-30T00:00:01Z",
        tool_version="0",
        site="cn",
        caller=Caller("acs:ram::1:user/a", "1", "RAMUser"),
        resource_directory_id="rd-1",
        master_account_id="1",
        policy_id="p",
        policy_digest="sha256:" + "0" * 64,
    )
    return ScanResult(evidence=evidence, results=(result,))


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.handlers += [k for k, _ in attrs if k.startswith("on")]


_BASELINE: dict[str, list[str]] = {}


def _elements(page: str) -> _Elements:
    parser = _Elements()
    parser.feed(page)
    return parser


@SLOW
@given(name=_HOSTILE_TEXT, reason=_HOSTILE_TEXT)
def test_html_report_has_the_same_elements_whatever_the_names(name: str, reason: str) -> None:
    if "plain" not in _BASELINE:
        _BASELINE["plain"] = _elements(render("html", _scan_with("plain", "plain"), "0" * 64)).tags
    page = render("html", _scan_with(name, reason), "0" * 64)
    parsed = _elements(page)
    assert parsed.tags == _BASELINE["plain"]  # no value opened or closed an element
    assert parsed.handlers == []
    shown = mask_phones_in(name)  # reports mask phone-shaped values
    if re.fullmatch(r"[ -~]*\S[ -~]*", shown):  # printable ASCII: shown, escaped as jinja does
        assert str(escape(shown)) in page


@FAST
@given(value=_HOSTILE_TEXT)
def test_markdown_cell_is_one_inert_text(value: str) -> None:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark").enable("table").enable("strikethrough")
    doc = f"| a | b |\n|---|---|\n| {md_escape(value)} | end |\n"
    tokens = md.parse(doc)
    types = [t.type for t in tokens]
    assert types.count("tr_open") == 2 and types.count("td_open") == 2
    cells = [t for t in tokens if t.type == "inline"]
    children = [c for cell in cells[2:3] for c in (cell.children or [])]
    assert all(c.type == "text" for c in children), [c.type for c in children]
    assert cells[3].content == "end"


@FAST
@given(name=_HOSTILE_TEXT, reason=_HOSTILE_TEXT)
def test_csv_cells_round_trip_and_never_start_a_formula(name: str, reason: str) -> None:
    text = render("csv", _scan_with(name, reason))
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))
    assert len(rows) == 2  # a header and one member: no row injected by a line break
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["display_name"] == csv_safe(mask_phones_in(name))
    assert row["reason"] == csv_safe(mask_phones_in(reason))
    for cell in rows[1]:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


# ---- policy and exemptions loaders on random input --------------------------------------------

_KEYS = st.sampled_from(
    [
        "id", "title", "severity", "rationale", "remediation", "scope", "exemptions",
        "account_id", "folder", "reason", "owner", "ticket", "expires", "include", "exclude",
        "member_types", "statuses", "folders", "tags", "cloud_account", "related_controls", "x",
    ]
)  # fmt: skip
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    _HOSTILE_TEXT,
    st.dates().map(str),
)
_YAML_VALUE = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.one_of(_KEYS, _SCALARS), inner, max_size=5)
    ),
    max_leaves=25,
)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("loaders")


def _checked(path: Path) -> None:
    start = time.process_time()
    check = check_file(path)  # never raises: every problem is listed
    assert time.process_time() - start < 2
    assert check.ok or check.problems
    for problem in check.problems:
        assert "Traceback" not in problem and len(problem) < 2000


@SLOW
@given(doc=st.dictionaries(_KEYS, _YAML_VALUE, max_size=6))
def test_loaders_list_problems_for_any_yaml_structure(doc: dict[str, Any], scratch: Path) -> None:
    path = scratch / "random.yaml"
    try:
        text = yaml.safe_dump(doc, allow_unicode=True)
    except yaml.YAMLError:
        return
    path.write_text(text, encoding="utf-8")
    _checked(path)


@SLOW
@given(data=st.binary(max_size=300))
def test_loaders_list_problems_for_any_bytes(data: bytes, scratch: Path) -> None:
    path = scratch / "random.bin"
    path.write_bytes(data)
    _checked(path)


@SLOW
@given(
    depth=st.integers(min_value=21, max_value=3000),
    opener=st.sampled_from(["[", "{a: ", "- "]),
    anchors=st.integers(min_value=1, max_value=12),
)
def test_bombs_are_refused_within_bounds(
    depth: int, opener: str, anchors: int, scratch: Path
) -> None:
    path = scratch / "bomb.yaml"
    if opener == "- ":
        body = "".join("  " * i + "- \n" for i in range(min(depth, 300)))
    else:
        close = "]" if opener == "[" else "}"
        body = "exemptions: " + opener * depth + "1" + close * depth + "\n"
    path.write_text(body)
    _checked(path)
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, anchors)]
    path.write_text("\n".join([*lines, f"exemptions: *a{anchors - 1}"]) + "\n")
    start = time.process_time()
    check = check_file(path)
    assert time.process_time() - start < 2
    assert any("anchors and aliases" in p for p in check.problems)


# ---- journals and report.json from elsewhere: one clear error, never a crash --------------------

_JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**40), max_value=10**40),
        st.floats(allow_nan=False, allow_infinity=False),
        _HOSTILE_TEXT,
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(_HOSTILE_TEXT, inner, max_size=3)
    ),
    max_leaves=10,
)
_JOURNAL_KEYS = (
    "v", "seq", "time", "operator_arn", "account_id", "phone_masked", "action", "request_id",
    "outcome", "detail", "scan_id", "prev_sha256", "extra",
)  # fmt: skip


@FAST
@given(
    data=st.one_of(
        st.binary(max_size=400),
        st.lists(
            st.fixed_dictionaries({}, optional={k: _JSON for k in _JOURNAL_KEYS}), max_size=4
        ).map(lambda lines: "".join(json.dumps(x) + "\n" for x in lines).encode()),
    )
)
def test_any_journal_bytes_verify_or_fail_with_one_journal_error(
    data: bytes, scratch: Path
) -> None:
    from scanner.remediate.journal import JournalError, verify_journal

    path = scratch / "j.jsonl"
    path.write_bytes(data)
    try:
        check = verify_journal(path)
    except JournalError as exc:
        assert len(str(exc)) < 1000
        return
    assert check.lines + (1 if check.torn_bytes else 0) <= data.count(b"\n") + 1


@FAST
@given(field=st.sampled_from(["tags", "exemption", "result", "has_secure_mobile_phone",
                              "account_id", "severity", "secure_mobile_phone_masked"]),
       value=_JSON)  # fmt: skip
def test_any_field_of_a_report_json_loads_or_fails_with_one_results_error(
    field: str, value: Any, scratch: Path
) -> None:
    from scanner.errors import ResultsFileError
    from scanner.report.results_file import dumps, load_results

    data = json.loads(dumps(_scan_with("m", "r")))
    data["accounts"][0][field] = value
    path = scratch / "report.json"
    path.write_text(json.dumps(data))
    try:
        scan, _ = load_results(path)
    except ResultsFileError as exc:
        assert len(str(exc)) < 1000
        return
    assert len(scan.results) == 1


# --- shortcuts that must not change an answer (scale: issue 11) --------------------------------


@FAST
@given(value=_HOSTILE_TEXT)
def test_markdown_shortcut_is_the_full_escape(value: str) -> None:
    from scanner.report.md_escape import md_escape_every_rule

    assert md_escape(value) == md_escape_every_rule(value)


@FAST
@given(
    value=st.one_of(
        st.from_regex(r"(?:[1-9][0-9]{0,3}-)?[0-9]{1,3}\*{4}[0-9]{2,4}", fullmatch=True),
        st.text(alphabet="0123456789-*+ ", max_size=24),
    )
)
def test_masked_form_shortcut_changes_nothing(value: str) -> None:
    from scanner.phones import _MASKED_FORM_RE

    if _MASKED_FORM_RE.fullmatch(value):
        # the shortcut keeps it: the full rule must keep it too
        rest = value.partition("-")[2] if "-" in value else value
        assert "*" in rest and sum(ch.isdigit() for ch in rest) <= 7
    assert mask_phone(mask_phone(value)) == mask_phone(value)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**9), 10**9) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=20,
)


@FAST
@given(
    value=st.dictionaries(
        st.sampled_from(["accounts", "scan", "a", ""]),
        _JSON | st.lists(_JSON, max_size=5),
        max_size=4,
    ),
    indent=st.sampled_from([None, 0, 2]),
)
def test_converting_parser_is_parse_then_convert(value: dict[str, Any], indent: int | None) -> None:
    """report.json's members are converted as they are parsed: the same answer as parsing the
    whole file, then converting each member."""
    from scanner.json_limits import loads_bounded, loads_bounded_converting

    text = json.dumps(value, indent=indent)
    expected = loads_bounded(text)
    if isinstance(expected.get("accounts"), list):
        expected["accounts"] = [("converted", item) for item in expected["accounts"]]
    got = loads_bounded_converting(text, "accounts", lambda item: ("converted", item))
    assert got == expected


@FAST
@given(text=st.text(alphabet='{}[]",: 0123456789abtrue', max_size=30))
def test_converting_parser_refuses_what_json_refuses(text: str) -> None:
    from scanner.json_limits import JsonLimitError, loads_bounded, loads_bounded_converting

    def outcome(parse: Any) -> Any:
        try:
            parse()
        except json.JSONDecodeError as exc:
            return ("refused", exc.msg, exc.pos)
        except (JsonLimitError, RecursionError) as exc:
            return ("limit", type(exc).__name__)
        return "parsed"

    whole = outcome(lambda: loads_bounded(text))
    converting = outcome(lambda: loads_bounded_converting(text, "accounts", lambda item: item))
    assert converting == whole
