"""The shipped policy and exemptions on the bundled sample directory, read over HTTP from the
emulator with the real SDKs: every member's result checked against the fixture file itself."""

from __future__ import annotations

import copy
import datetime as dt
import textwrap

import pytest
import yaml

from scanner.client.sdk import RdClient
from scanner.client.settings import Settings
from scanner.emulator import sample_fixture_path
from scanner.engine import evaluate, exit_code
from scanner.findings import Remediation, Status
from scanner.inventory.collect import collect
from scanner.policy import Exemptions, load_exemptions, load_policy
from scanner.resources import default_policy_path, policies_dir

TODAY = dt.date(2026, 11, 27)


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(sample_fixture_path().read_text(encoding="utf-8"))


def folder_paths(raw: dict) -> dict[str, str]:
    root = raw["resource_directory"]["root_folder_id"]
    by_id = {f["id"]: f for f in raw["folders"]}

    def path(fid: str) -> str:
        if fid == root:
            return "Root"
        return f"{path(by_id[fid]['parent'])}/{by_id[fid]['name']}"

    return {root: "Root", **{fid: path(fid) for fid in by_id}}


def test_shipped_policy_on_the_sample_directory(emulator, raw, write):
    data = copy.deepcopy(raw)
    unphoned = [a for a in data["accounts"] if not a.get("secure_mobile_phone")]
    flagless = unphoned[0]
    flagless["omit_phone_flag"] = True  # GetAccount leaves out HasSecureMobilePhone
    expired_target = unphoned[1]
    ex_path = write(
        "ex.yaml",
        textwrap.dedent(
            f"""\
            exemptions:
              - account_id: "{expired_target["id"]}"
                reason: Waiting for the new handset
                owner: secops@example.com
                ticket: SEC-9
                expires: 2026-11-26
            """
        ),
    )
    srv = emulator(data, rate_limit=1000)
    settings = Settings(
        site="cn",
        endpoint=srv.endpoint,
        protocol="http",
        access_key_id="LTAI-auditor",
        access_key_secret="auditor-secret",
        rate=500,
    )
    inventory = collect(RdClient(settings), concurrency=8)
    policy = load_policy(default_policy_path())
    shipped_ex = load_exemptions(policies_dir() / "exemptions.example.yaml")
    extra = load_exemptions(ex_path)
    exemptions = Exemptions(shipped_ex.entries + extra.entries)

    results = evaluate(policy, exemptions, inventory, TODAY)

    paths = folder_paths(raw)
    by_account = {e.account_id: e for e in exemptions.entries if e.account_id}
    by_folder = {e.folder: e for e in exemptions.entries if e.folder}
    assert sorted(r.account_id for r in results) == sorted(a["id"] for a in raw["accounts"])
    got = {r.account_id: r for r in results}
    for acct in data["accounts"]:
        r = got[acct["id"]]
        path = paths[acct["folder"]]
        assert r.folder_path == path
        if acct["status"] not in policy.scope.statuses:
            assert r.result is Status.SKIPPED and acct["status"] in r.reason
        elif acct.get("omit_phone_flag"):
            assert r.result is Status.ERROR
            assert "HasSecureMobilePhone" in r.reason
        elif acct.get("secure_mobile_phone"):
            assert r.result is Status.PASS
            assert r.secure_mobile_phone_masked and "*" in r.secure_mobile_phone_masked
        else:
            cloud = acct["type"] == "CloudAccount"
            assert r.remediation is (Remediation.MANUAL if cloud else Remediation.API)
            exemption = by_account.get(acct["id"]) or next(
                (e for f, e in by_folder.items() if path == f or path.startswith(f + "/")), None
            )
            if exemption is None:
                assert r.result is Status.FAIL and r.exemption is None
            elif exemption.expires < TODAY:
                assert r.result is Status.FAIL
                assert r.exemption is not None and r.exemption.expired
            else:
                assert r.result is Status.EXEMPT
                assert r.exemption is not None and r.exemption.ticket == exemption.ticket
    counts = {s: sum(1 for r in results if r.result is s) for s in Status}
    assert all(counts[s] > 0 for s in Status), counts
    assert got[expired_target["id"]].result is Status.FAIL
    assert exit_code(results) == 3
