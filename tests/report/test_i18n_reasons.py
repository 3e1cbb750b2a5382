"""The results' reasons in zh-CN reports: every reason the engine and the reader produce is a
message id with data arguments (report.json keeps the English ``reason`` beside them), and a
zh-CN report of FAIL, EXEMPT, SKIPPED and ERROR members of every kind shows no English word in
its reasons outside the data (ids, names, dates, the API's own error text)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re
from pathlib import Path

import pytest

from scanner import reasons
from scanner.engine import evaluate
from scanner.errors import ApiError, AuthError, ConnectionFailed, NotFound, TlsError
from scanner.findings import Result, ScanResult, Status
from scanner.i18n import translations
from scanner.inventory.model import Directory, Folder, Inventory, Member
from scanner.policy import load_policy
from scanner.policy.model import Exemption, Exemptions, Scope, TagRule
from scanner.reasons import api_error_parts, english, part
from scanner.report import BY_NAME, ReportInput
from scanner.report.results_file import load_results
from scanner.resources import default_policy_path

from .test_i18n import ALLOWED, _Text

TODAY = dt.date(2026, 11, 27)
ROOT = Folder("r-root", "Root", None, "Root")
PROD = Folder("fd-prod", "Production", "r-root", "Root/Production")
SANDBOX = Folder("fd-sand", "Sandbox", "r-root", "Root/Sandbox")
FOLDERS = {f.id: f for f in (ROOT, PROD, SANDBOX)}


def _member(i: int, **kw: object) -> Member:
    values: dict[str, object] = {
        "account_id": f"10000000000001{i:02d}",
        "display_name": f"member-{i}",
        "type": "ResourceAccount",
        "status": "CreateSuccess",
        "folder_id": "fd-prod",
        "folder_path": "Root/Production",
        "has_secure_mobile_phone": False,
    }
    values.update(kw)
    return Member(**values)  # type: ignore[arg-type]


def _read_error(i: int, err: ApiError, *prefix: object) -> Member:
    parts = (*prefix, *api_error_parts(err))
    return _member(
        i,
        has_secure_mobile_phone=None,
        read_error=english(parts),  # type: ignore[arg-type]
        read_error_parts=parts,
    )


def _errors() -> list[Member]:
    """An ERROR of each kind the client and the reader produce (see scanner/client/sdk.py)."""
    denied = AuthError(
        "You are not authorized to do this action.",
        code="NoPermission",
        status=403,
        request_id="4D7F-REQ-9",
        action="GetAccount",
    )
    deadline = ConnectionFailed(
        "x", action="GetAccount", parts=(part("error.deadline", seconds=5),)
    )
    deadline.parts = (*deadline.message_parts(), part("error.gave_up", attempts=3))
    throttled = ApiError(
        "Request was denied due to user flow control.",
        code="Throttling.User",
        status=400,
        action="GetAccount",
    )
    throttled.parts = (
        *throttled.message_parts(),
        part("error.gave_up_budget", attempts=4, seconds="12.5", budget=30),
    )
    refused = ConnectionFailed(
        "x", action="GetAccount", parts=(part("error.refused", where="127.0.0.1:9"),)
    )
    gone = NotFound("The account does not exist.", code="EntityNotExists.Account", status=404)
    return [
        _read_error(20, denied),
        _read_error(21, deadline),
        _read_error(22, throttled),
        _read_error(23, refused),
        _read_error(24, ConnectionFailed("x", parts=(part("error.no_dns", where=""),))),
        _read_error(25, gone, part("error.gone")),
        _read_error(26, TlsError("x", parts=(part("error.tls", detail="[SSL] record layer"),))),
        _read_error(
            27,
            AuthError("x", action="GetAccount", parts=(part("error.delegated_refused"),)),
        ),
        _read_error(28, ConnectionFailed("x", parts=(part("error.breaker", count=8),))),
        _read_error(29, ApiError("x", parts=(part("error.too_large", cap="8", size="9"),))),
        _read_error(30, ApiError("x", parts=(part("error.body_not_object", kind="list"),))),
        _read_error(31, ApiError("x", parts=(part("error.unreadable", detail="<html>"),))),
        _member(32, has_secure_mobile_phone=None),  # no read error, no flag
        _member(33, has_secure_mobile_phone=None, read_error="x",
                read_error_parts=(part("error.flag_null"),)),
        _member(34, has_secure_mobile_phone=None, read_error="x",
                read_error_parts=(part("error.flag_not_boolean", kind="str", value="'yes'"),)),
        _member(35, has_secure_mobile_phone=None, read_error="x",
                read_error_parts=(part("error.flag_missing"),)),
    ]  # fmt: skip


def _ex(folder: str | None, account: str | None, days: int, ticket: str) -> Exemption:
    return Exemption(
        account_id=account,
        folder=folder,
        reason="legacy billing account, migrating",
        owner="alice@example.com",
        ticket=ticket,
        expires=TODAY + dt.timedelta(days=days),
    )


def _scan(golden_scan: ScanResult) -> ScanResult:
    policy = dataclasses.replace(load_policy(default_policy_path()), scope=Scope())
    members = [
        _member(1),  # FAIL: ResourceAccount
        _member(2, type="CloudAccount"),  # FAIL: CloudAccount
        _member(3, type="FutureAccount"),  # FAIL: a type rdscan does not know
        _member(4, type=""),  # FAIL: no type
        _member(5),  # FAIL: expired exemption
        _member(6, folder_id="fd-sand", folder_path="Root/Sandbox"),  # EXEMPT (folder)
        _member(7),  # EXEMPT, last day
        _member(8),  # EXEMPT, expires in 3 days
        _member(9),  # EXEMPT, expires in 1 day
        _member(10, status="Frozen", has_secure_mobile_phone=True),  # PASS, unknown status
        _member(11, status="Frozen"),  # FAIL, unknown status
        _member(12, has_secure_mobile_phone=True),  # PASS
        *_errors(),
    ]
    exemptions = Exemptions(
        (
            _ex(None, members[4].account_id, -10, "SEC-1"),
            _ex("Root/Sandbox", None, 200, "SEC-2"),
            _ex(None, members[6].account_id, 0, "SEC-3"),
            _ex(None, members[7].account_id, 3, "SEC-4"),
            _ex(None, members[8].account_id, 1, "SEC-5"),
        )
    )
    inv = Inventory(Directory("rd-zh", "r-root", "1512345678901234"), FOLDERS, tuple(members))
    results = list(evaluate(policy, exemptions, inv, TODAY))
    # SKIPPED, one of each scope rule (and the CloudAccount rule)
    scopes = [
        Scope(types=("ResourceAccount",)),
        Scope(statuses=("CreateSuccess",)),
        Scope(exclude_folders=("Root/Production",)),
        Scope(include_folders=("Root/Sandbox", "fd-other")),
        Scope(exclude_tags=(TagRule("env", "test"),)),
        Scope(include_tags=(TagRule("env", "prod"), TagRule("owner"))),
    ]
    skipped = [
        _member(40, type="CloudAccount"),
        _member(41, status="InviteSuccess"),
        _member(42),
        _member(43),
        _member(44, tags=(("env", "test"),)),
        _member(45),
    ]
    for i, (scope, m) in enumerate(zip(scopes, skipped, strict=True)):
        p = dataclasses.replace(policy, scope=scope)
        one = Inventory(inv.directory, FOLDERS, (m,))
        results += evaluate(p, Exemptions(), one, TODAY)
        assert results[-1].result is Status.SKIPPED, (i, results[-1].reason)
    cloud_skip = dataclasses.replace(
        policy,
        cloud_account_without_phone=dataclasses.replace(
            policy.cloud_account_without_phone, result=Status.SKIPPED
        ),
    )
    one = Inventory(inv.directory, FOLDERS, (_member(46, type="CloudAccount"),))
    results += evaluate(cloud_skip, Exemptions(), one, TODAY)
    return dataclasses.replace(golden_scan, results=tuple(results))


def _data(r: Result) -> list[str]:
    """What a reason may show as it is: its arguments (and the member's own fields)."""
    values = reasons.args_of(r.reason_parts)
    values += [r.account_id, r.display_name, r.folder_path, r.type]
    return sorted({v for v in values if v.strip()}, key=len, reverse=True)


def _english(text: str, r: Result) -> set[str]:
    for value in _data(r):
        text = text.replace(value, " ")
    words = set(re.findall(r"[A-Za-z][A-Za-z0-9/_.-]*[A-Za-z0-9]", text))
    allowed = ALLOWED | {"GetAccount", "HasSecureMobilePhone", "BindSecureMobilePhone", "HTTP",
                         "CloudAccount", "CloudAccounts", "cloud_account_without_phone", "true",
                         "false", "null", "remediate", "TLS", "JSON"}  # fmt: skip
    return words - allowed


def test_every_result_carries_parts_that_make_its_english_reason(golden_scan) -> None:  # type: ignore[no-untyped-def]
    scan = _scan(golden_scan)
    kinds = {p.key for r in scan.results for p in r.reason_parts}
    untested = {"error.unreachable", "error.connect_timeout", "error.no_route", "error.reset"}
    of_results = {k for k in reasons.MESSAGES if not k.startswith(("warn.", "listing."))}
    assert kinds >= of_results - untested - {"error.http"}
    for r in scan.results:
        assert r.reason_parts, r
        assert english(r.reason_parts) == r.reason


def test_zh_cn_reasons_are_chinese_outside_the_data(golden_scan) -> None:  # type: ignore[no-untyped-def]
    scan = _scan(golden_scan)
    data = ReportInput.of(scan, "a" * 64, lang="zh-CN")
    for r in data.scan.results:
        zh = data.reason(r)
        assert zh != r.reason
        assert not _english(zh, r), (r.reason, zh)
        assert re.search(r"[\u4e00-\u9fff]", zh), zh
    # and in the rendered reports: every reason cell of the HTML, the Markdown and the plan
    page = BY_NAME["html"].render(data)
    parser = _Text()
    parser.feed(page)
    text = " ".join(parser.parts)
    md = html.unescape(re.sub(r"\\(.)", r"\1", BY_NAME["md"].render(data)))
    plan = BY_NAME["action-plan"].render(data)
    for r in data.scan.results:
        if r.result in (Status.FAIL, Status.ERROR):
            assert data.reason(r) in text, data.reason(r)
            assert " ".join(data.reason(r).split()) in md
        if r.result is Status.FAIL:
            assert data.reason(r) in plan
        assert r.reason not in text and r.reason not in md


def test_the_english_reason_stays_the_record(golden_scan, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """report.json keeps `reason` (English) and `reason_parts`; read back, the parts render the
    same Chinese; an older report.json (no parts) shows its English reason as data."""
    from scanner.report import write_reports

    scan = _scan(golden_scan)
    path = write_reports(scan, ["json"], tmp_path)["json"]
    back, _ = load_results(path)
    assert [r.reason for r in back.results] == [r.reason for r in scan.results]
    assert [r.reason_parts for r in back.results] == [r.reason_parts for r in scan.results]
    zh = ReportInput.of(back, "", lang="zh-CN")
    assert zh.reason(back.results[0]).startswith("未绑定安全手机")
    legacy = dataclasses.replace(back.results[0], reason_parts=())
    assert zh.reason(legacy) == legacy.reason
    unknown = dataclasses.replace(
        back.results[0],
        reason_parts=(dataclasses.replace(back.results[0].reason_parts[0], key="x"),),
    )
    assert zh.reason(unknown) == unknown.reason  # an id of a newer rdscan: its English as data
    missing = dataclasses.replace(
        back.results[5],
        reason_parts=(dataclasses.replace(back.results[5].reason_parts[0], args=()),),
    )
    assert zh.reason(missing) == missing.reason


def test_every_message_has_a_chinese_translation_with_its_placeholders() -> None:
    catalog = translations("zh-CN")
    for key, message in reasons.MESSAGES.items():
        if isinstance(message, tuple):
            texts = [catalog.ngettext(message[0], message[1], n) for n in (1, 2)]
            sources = message
        else:
            texts, sources = [catalog.gettext(message)], (message,)
        for text, source in zip(texts, sources, strict=False):
            assert text != source, key
            assert re.search(r"[\u4e00-\u9fff]", text), key
            names = set(re.findall(r"%\((\w+)\)s", source))
            assert set(re.findall(r"%\((\w+)\)s", text)) == names, key


@pytest.mark.parametrize(
    ("texts", "joined"),
    [
        (["未绑定安全手机。", "成员账号状态"], "未绑定安全手机。成员账号状态"),
        (
            ["GetAccount 调用失败：", "NoPermission", "denied"],
            "GetAccount 调用失败：NoPermission denied",
        ),
        (["denied", "（HTTP 状态码 403）"], "denied（HTTP 状态码 403）"),
        (["GetAccount:", "NoPermission", "(HTTP 403)"], "GetAccount: NoPermission (HTTP 403)"),
    ],
)
def test_parts_join_as_each_language_writes(texts: list[str], joined: str) -> None:
    assert reasons.join(texts) == joined


def _warnings() -> list[str]:
    """One warning of each kind a scan records (as scanner/scan.py, inventory and policy make
    them), plus one known only as text."""
    from scanner.reasons import text

    err = AuthError(
        "Permission denied.", code="NoPermission", status=403, action="ListFoldersForParent"
    )
    w = [
        text(part("warn.delegated", account="1234", master="5678")),
        text(part("warn.folders_denied", apis=""), *api_error_parts(err)),
        text(part("warn.folders_unread"), *api_error_parts(err)),
        text(part("warn.root_identity", account="5678")),
        text(part("warn.scope_folder_unmatched", rule="Root/Prod (include)")),
        text(part("warn.exemption_unmatched", scope="account:9", line=4, file="")),
        text(part("warn.unknown_statuses", n=2, statuses="'Frozen': 2")),
        text(part("warn.checkpoint_unwritten", path="/o/.rdscan", problem="No space left")),
        text(part("warn.resumed", scan="scan-1", started="2026-11-27T08:00:00Z", before=3,
                  total=40)),
        text(part("warn.nothing_listed")),
        text(part("warn.all_skipped")),
        text(part("warn.policy_status", where="p.yaml:3", what="scope.statuses", value="'X'",
                  documented="CreateSuccess")),
        text(part("warn.policy_status_guess", where="p.yaml:3", what="scope.statuses",
                  value="'Creat'", guess="CreateSuccess", documented="CreateSuccess")),
        text(part("warn.notify_failed", channel="webhook h (line 2)", file="n.yaml", n=3,
                  detail="HTTP 500")),
        text(part("listing.no_total")),
        text(part("listing.total_mismatch", total="12", listed="10")),
        text(part("listing.total_changed", totals="10, 12")),
        text(part("listing.page_empty", page=2)),
        text(part("listing.page_short", page=3, count=7, size=100)),
        text(part("listing.more_gaps", n=2)),
        text(part("listing.duplicates", n=1)),
        text(part("listing.without_id", n=1)),
        text(part("listing.no_agreement", passes=4, sizes="10/12/10/12")),
    ]  # fmt: skip
    assert {p.key for t in w for p in reasons.parts_of(t)} >= {
        k for k in reasons.MESSAGES if k.startswith(("warn.", "listing."))
    }
    return w


def test_zh_cn_warnings_are_chinese_outside_the_data(golden_scan, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Every warning a scan records, in the zh-CN HTML and Markdown and through report.json;
    a warning known only as text (an older file) is shown as it is."""
    from scanner.report import write_reports

    warnings = _warnings()
    ev = dataclasses.replace(
        golden_scan.evidence,
        warnings=(*warnings, "an older warning"),
        warning_parts=(*(reasons.parts_of(w) for w in warnings), ()),
    )
    scan = dataclasses.replace(_scan(golden_scan), evidence=ev)
    back, _ = load_results(write_reports(scan, ["json"], tmp_path)["json"])
    assert back.evidence.warnings == ev.warnings and back.evidence.warning_parts == ev.warning_parts
    data = ReportInput.of(back, "a" * 64, lang="zh-CN")
    shown = data.view.warnings
    assert shown[-1] == "an older warning"
    for w, zh in zip(warnings, shown, strict=False):
        assert zh != w and re.search(r"[\u4e00-\u9fff]", zh), zh
        values = sorted({v for p in reasons.parts_of(w) for v in dict(p.args).values() if v},
                        key=len, reverse=True)  # fmt: skip
        rest = zh
        for v in values:
            rest = rest.replace(v, " ")
        words = set(re.findall(r"[A-Za-z][A-Za-z0-9/_.-]*[A-Za-z0-9]", rest))
        allowed = ALLOWED | {"ListAccounts", "TotalCount", "AccountId", "GetAccount", "HTTP",
                             "AccessKey", "RAM", "print-policy", "audit", "root"}  # fmt: skip
        assert not words - allowed, (words - allowed, zh)
    page = BY_NAME["html"].render(data)
    md = BY_NAME["md"].render(data)
    for zh in shown[:-1]:
        assert html.escape(zh, quote=False) in page or zh in html.unescape(page), zh
    assert "ListAccounts 的应答中没有 TotalCount" in md
    en = ReportInput.of(back, "a" * 64)
    assert list(en.view.warnings) == list(ev.warnings)


def test_the_whole_zh_cn_page_is_chinese_outside_the_data(golden_scan) -> None:  # type: ignore[no-untyped-def]
    """The walker of test_i18n.py over a scan the engine made (FAIL, EXEMPT, SKIPPED and ERROR
    of every kind, warnings of every kind): a member's English ``reason`` and the English
    warnings are not data here, only the arguments of their parts are."""
    from .test_i18n import _english_words

    said = _warnings()
    scan = _scan(golden_scan)
    ev = dataclasses.replace(
        scan.evidence,
        warnings=tuple(said),
        warning_parts=tuple(reasons.parts_of(w) for w in said),
    )
    scan = dataclasses.replace(scan, evidence=ev)
    data = ReportInput.of(scan, "a" * 64, lang="zh-CN")
    # the data a page may show: the scan less its reasons and warnings, plus their arguments
    bare = dataclasses.replace(
        data.scan,
        evidence=dataclasses.replace(data.scan.evidence, warnings=(), warning_parts=()),
        results=tuple(
            dataclasses.replace(r, reason="", reason_parts=()) for r in data.scan.results
        ),
    )
    args = [v for r in data.scan.results for v in reasons.args_of(r.reason_parts)]
    args += [v for w in said for v in reasons.args_of(reasons.parts_of(w))]
    extra = ["a" * 64, args, "cloud_account_without_phone: SKIPPED"]  # the policy's key
    allowed = {"GetAccount", "HasSecureMobilePhone", "BindSecureMobilePhone", "HTTP", "TLS",
               "true", "false", "null", "cloud_account_without_phone", "remediate",
               "CloudAccounts", "ListAccounts", "TotalCount", "AccountId", "AccessKey", "RAM",
               "print-policy", "audit", "root"}  # fmt: skip
    parser = _Text()
    parser.feed(BY_NAME["html"].render(data))
    page = " ".join(parser.parts)
    md = html.unescape(re.sub(r"\\(.)", r"\1", BY_NAME["md"].render(data)))
    for text in (page, md):
        left = _english_words(text, bare, extra) - allowed
        assert not left, left
