"""Fixture validation (refused whole, naming the entry) and the generator."""

from __future__ import annotations

import copy

import pytest
import yaml

from scanner.emulator import (
    generate_fixture,
    load_fixture,
    parse_fixture,
    sample_fixture_path,
)
from scanner.errors import FixtureError

BASE = {
    "site": "cn",
    "resource_directory": {
        "id": "rd-T1",
        "root_folder_id": "r-T1",
        "master_account_id": "1512345678901234",
    },
    "folders": [
        {"id": "fd-a", "name": "A", "parent": "r-T1"},
        {"id": "fd-b", "name": "B", "parent": "fd-a"},
    ],
    "accounts": [
        {"id": "1000000000000001", "display_name": "one", "type": "ResourceAccount",
         "status": "CreateSuccess", "folder": "fd-b"},
        {"id": 1000000000000002, "display_name": "two", "type": "CloudAccount",
         "status": "InviteSuccess", "folder": "fd-a", "secure_mobile_phone": "86-13900001234"},
    ],
    "callers": [
        {"access_key_id": "K1", "access_key_secret": "S1",
         "arn": "acs:ram::1512345678901234:user/a", "identity_type": "RAMUser", "allow": ["*"]},
    ],
}  # fmt: skip


def _variant(mutate):
    data = copy.deepcopy(BASE)
    mutate(data)
    return data


def test_valid_fixture_loads():
    fx = parse_fixture(BASE, source="t")
    assert [a.id for a in fx.accounts] == ["1000000000000001", "1000000000000002"]
    assert fx.callers[0].account_id == "1512345678901234"
    assert fx.accounts[1].secure_mobile_phone == "86-13900001234"
    assert "13900001234" not in repr(fx.accounts[1])


@pytest.mark.parametrize(
    "mutate,expected",
    [
        (lambda d: d["accounts"].append(dict(d["accounts"][0])), "duplicate account id"),
        (lambda d: d["accounts"][0].update(folder="fd-zzz"), "unknown folder 'fd-zzz'"),
        (lambda d: d["accounts"][1].update(type="SuperAccount"), "bad type 'SuperAccount'"),
        (lambda d: d["folders"].append({"id": "fd-a", "name": "X"}), "duplicate folder id"),
        (lambda d: d["folders"][1].update(parent="fd-nope"), "unknown parent folder"),
        (lambda d: d["folders"][0].update(parent="fd-b"), "cycle"),
        (lambda d: d["accounts"][0].update(secure_mobile_phone="13900001234"), "country code"),
        (lambda d: d["accounts"][0].pop("display_name"), "missing 'display_name'"),
        (lambda d: d["callers"][0].update(identity_type="God"), "bad identity_type"),
        (lambda d: d["callers"].append(dict(d["callers"][0])), "duplicate access_key_id"),
        (lambda d: d.update(site="mars"), "unknown site"),
        (lambda d: d.pop("resource_directory"), "resource_directory"),
        (lambda d: d["accounts"][0].update(tags=["a"]), "bad tag 'a'"),
        (lambda d: d["accounts"][0].update(tags="env=prod"), "tags must be a mapping"),
    ],
)
def test_malformed_fixture_is_refused_naming_the_entry(mutate, expected):
    with pytest.raises(FixtureError) as err:
        parse_fixture(_variant(mutate), source="bad.yaml")
    assert expected in str(err.value)
    assert "bad.yaml" in str(err.value)
    assert err.value.hint


def test_error_names_the_entry():
    with pytest.raises(FixtureError) as err:
        parse_fixture(_variant(lambda d: d["accounts"][1].update(type="X")), source="f")
    assert "accounts[1] (id 1000000000000002)" in str(err.value)


def test_unknown_keys_are_warnings():
    fx = parse_fixture(_variant(lambda d: d["accounts"][0].update(colour="red")), source="f")
    assert any("colour" in w for w in fx.warnings)


def test_load_fixture_file_errors(tmp_path):
    with pytest.raises(FixtureError, match="cannot read"):
        load_fixture(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("accounts: [unclosed\n")
    with pytest.raises(FixtureError, match="not valid YAML"):
        load_fixture(bad)
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(BASE))
    assert len(load_fixture(good).accounts) == 2


def test_sample_directory_shape():
    fx = load_fixture(sample_fixture_path())
    assert 50 <= len(fx.accounts) <= 70
    assert {a.type for a in fx.accounts} == {"ResourceAccount", "CloudAccount"}
    assert len({a.status for a in fx.accounts}) >= 3
    assert any(a.secure_mobile_phone for a in fx.accounts)
    assert any(not a.secure_mobile_phone for a in fx.accounts)
    names = [a.display_name for a in fx.accounts]
    assert "<img src=x onerror=alert(1)>" in names
    assert any("|" in n and "`" in n and "*" in n and "\n" in n for n in names)
    folders = {f.id: f for f in fx.folders}
    depth = max(_depth(f.id, folders, fx.directory.root_folder_id) for f in fx.folders)
    assert depth >= 3
    keys = {c.access_key_id for c in fx.callers}
    assert {"LTAI-auditor", "LTAI-operator", "LTAI-root", "LTAI-lister", "LTAI-outsider"} <= keys
    assert any(c.security_token for c in fx.callers)


def _depth(folder_id, folders, root):
    depth = 0
    while folder_id != root:
        depth += 1
        folder_id = folders[folder_id].parent
    return depth


def test_generate_is_valid_deterministic_and_sized():
    data = generate_fixture(accounts=500, seed=5, missing_ratio=0.3)
    assert data == generate_fixture(accounts=500, seed=5, missing_ratio=0.3)
    assert data != generate_fixture(accounts=500, seed=6, missing_ratio=0.3)
    fx = parse_fixture(data, source="gen")
    assert len(fx.accounts) == 500 and not fx.warnings
    missing = sum(1 for a in fx.accounts if not a.secure_mobile_phone) / 499
    assert 0.2 < missing < 0.4
    assert all(a.secure_mobile_phone for a in parse_fixture(generate_fixture(50, 1, 0.0)).accounts)
    with pytest.raises(ValueError):
        generate_fixture(accounts=0)


def test_yaml_timestamps_and_numeric_ids():
    data = yaml.safe_load(
        "resource_directory: {id: rd-1, root_folder_id: r-1, master_account_id: 1512345678901234}\n"
        "accounts:\n"
        "  - {id: 1000000000000001, display_name: a, type: ResourceAccount,"
        " join_time: 2024-03-01T08:00:00Z}\n"
        "  - {id: 1000000000000002, display_name: b, type: CloudAccount,"
        " join_time: 2024-03-01T08:00:00.5+08:00}\n"
    )
    fx = parse_fixture(data, source="ts")
    assert fx.directory.master_account_id == "1512345678901234"
    assert [a.id for a in fx.accounts] == ["1000000000000001", "1000000000000002"]
    assert [a.join_time for a in fx.accounts] == [
        "2024-03-01T08:00:00Z",
        "2024-03-01T00:00:00.500Z",
    ]
    assert fx.accounts[0].folder == "r-1" and fx.accounts[0].status == "CreateSuccess"


def test_lenient_forms_of_contract_values():
    def mutate(d):
        d["accounts"][0].update(
            tags=[{"Key": "env", "Value": "prod"}, {"key": "team", "value": None}],
            secure_mobile_phone="",
            join_method="Created",
        )
        d["callers"].append(
            {
                "access_key_id": "K2",
                "access_key_secret": "S",
                "arn": "acs:ram::1512345678901234:root",
            }
        )
        d["callers"].append(
            {"access_key_id": "K3", "access_key_secret": "S",
             "arn": "acs:ram::1512345678901234:assumed-role/r/s"}
        )  # fmt: skip

    fx = parse_fixture(_variant(mutate), source="f")
    first = fx.accounts[0]
    assert first.tags == (("env", "prod"), ("team", ""))
    assert first.secure_mobile_phone is None and first.join_method == "created"
    assert fx.caller("K2").identity_type == "Account"
    assert fx.caller("K3").identity_type == "AssumedRoleUser"
    assert fx.caller("K1").identity_type == "RAMUser"


def test_binary_and_absurdly_nested_fixture_files_are_clear_errors(tmp_path):
    from scanner.emulator import load_fixture
    from scanner.errors import FixtureError

    binary = tmp_path / "fixture.yaml"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00garbage")
    with pytest.raises(FixtureError, match="not UTF-8"):
        load_fixture(binary)
    for name, text in (
        ("deep.yaml", "[" * 5000 + "]" * 5000),
        ("deep.json", "[" * 50000 + "]" * 50000),
    ):
        deep = tmp_path / name
        deep.write_text(text)
        with pytest.raises(FixtureError):
            load_fixture(deep)


def test_listing_snapshots_follow_every_change():
    # ListAccounts pages slice a cached snapshot; every change must rebuild it
    from scanner.emulator.state import DirectoryState

    fixture = parse_fixture(generate_fixture(accounts=30, seed=3))
    state = DirectoryState(fixture)
    first = state.accounts()
    assert first is state.accounts()  # cached between calls
    folder = first[5].folder
    in_folder = state.accounts_in_folder(folder)
    assert in_folder and all(a.folder == folder for a in in_folder)
    assert [a.id for a in in_folder] == [a.id for a in first if a.folder == folder]

    state.add_account("1999999999999999", folder=folder)
    assert state.accounts()[-1].id == "1999999999999999"
    assert state.accounts_in_folder(folder)[-1].id == "1999999999999999"
    state.remove_account(first[5].id)
    assert first[5].id not in {a.id for a in state.accounts()}
    assert first[5].id not in {a.id for a in state.accounts_in_folder(folder)}
    unbound = next(a for a in state.accounts() if a.secure_mobile_phone is None)
    state.bind_phone(unbound.id, "86-13900001234")
    assert state.account(unbound.id) in state.accounts()
    assert next(a for a in state.accounts() if a.id == unbound.id).secure_mobile_phone
