"""`rdscan evidence verify` reads a zip someone else made: traversal, links, duplicates,
encryption and zip bombs are refused before anything is inflated past the limits."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from scanner.evidence import verify_pack
from scanner.evidence.zipsafe import Limits

from .conftest import run


def _zip(path: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return path


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("../evil.txt", "climbs out"),
        ("inputs/../../evil.txt", "climbs out"),
        ("/etc/evil", "absolute path"),
        ("C:/evil", "':'"),
        ("inputs\\evil", "'\\\\'"),
    ],
)
def test_path_traversal_is_refused(tmp_path: Path, name: str, says: str) -> None:
    pack = _zip(tmp_path / "p.zip", [("manifest.json", b"{}"), (name, b"x")])
    code, out = run("evidence", "verify", str(pack))
    assert code == 1
    assert "unsafe zip" in out and says in out


def test_links_and_duplicates_are_refused(tmp_path: Path) -> None:
    link = zipfile.ZipInfo("report.json")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    code, out = run("evidence", "verify", str(_zip(tmp_path / "l.zip", [(link, b"/etc/passwd")])))
    assert code == 1 and "link or special file" in out
    with pytest.warns(UserWarning):
        dup = _zip(tmp_path / "d.zip", [("report.json", b"a"), ("report.json", b"b")])
    code, out = run("evidence", "verify", str(dup))
    assert code == 1 and "appears twice" in out


def test_a_zip_bomb_is_refused_before_inflating(tmp_path: Path) -> None:
    """20 MB of zeros deflate to ~20 KB: the ratio alone refuses it under the default limits."""
    bomb = _zip(tmp_path / "b.zip", [("manifest.json", b"{}"), ("report.json", bytes(20 << 20))])
    assert bomb.stat().st_size < 100_000
    code, out = run("evidence", "verify", str(bomb))
    assert code == 1 and "zip bomb" in out and "report.json" in out


def test_total_size_and_entry_count_limits(tmp_path: Path) -> None:
    many = _zip(tmp_path / "m.zip", [(f"f{i}", b"x") for i in range(10)])
    result = verify_pack(many, limits=Limits(max_entries=5))
    assert not result.ok and "10 entries" in result.problem
    big = _zip(tmp_path / "t.zip", [("a", b"x" * 600), ("b", b"y" * 600)])
    result = verify_pack(big, limits=Limits(max_total_bytes=1000))
    assert not result.ok and "'b'" in result.problem and "more than 1,000 bytes" in result.problem


def test_not_a_zip_is_one_clear_line(tmp_path: Path) -> None:
    junk = tmp_path / "pack.zip"
    junk.write_bytes(b"PK\x03\x04 but not really")
    code, out = run("evidence", "verify", str(junk))
    assert code == 1 and "not a readable zip file" in out and "Traceback" not in out
    code, out = run("evidence", "verify", str(tmp_path / "missing.zip"))
    assert code == 2 and "does not exist" in out
