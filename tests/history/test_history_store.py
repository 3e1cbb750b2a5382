"""History schema versions, migrations, concurrency, context for reports, trend and prune."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli import main
from scanner.errors import ConfigError
from scanner.findings import Status
from scanner.history import SCHEMA_VERSION, History

from .conftest import make_result, make_scan

V010 = Path(__file__).parent / "data" / "history-0.1.0.sqlite"  # written by rdscan 0.1.0 (demo)


def _copy_v010(tmp_path: Path) -> History:
    path = tmp_path / "old.sqlite"
    shutil.copy(V010, path)
    return History(path)


def test_a_history_written_by_0_1_0_opens_after_the_upgrade(tmp_path: Path) -> None:
    h = _copy_v010(tmp_path)
    assert h.schema_version == 1
    rows = h.scans()
    assert h.schema_version == SCHEMA_VERSION  # migrated on open
    assert [r.members for r in rows] == [59, 59]
    assert rows[0].counts == {"PASS": 35, "FAIL": 19, "EXEMPT": 2, "SKIPPED": 3, "ERROR": 0}
    assert {r.target for r in rows} == {""}
    d = h.diff("previous", "latest")
    assert [(c.before, c.after, c.classes) for c in d.changes if c.before != c.after] == [
        ("EXEMPT", "FAIL", ("new_fail", "exemption_expired"))
    ]
    assert d.counts()["still_failing"] == 18
    # the old scans are the history of a new one of the same directory
    old = h.members(rows[0].id)
    new = make_scan(
        "scan-new",
        "2027-07-01T00:00:00Z",
        [make_result(m.account_id, Status(m.result)) for m in old],
        directory_id=rows[0].directory_id,
    )
    ctx = h.context_for(new)
    assert ctx.since_previous is not None and ctx.since_previous.scan_id == rows[0].id
    assert [p.scan_id for p in ctx.trend] == [rows[1].id, rows[0].id, "scan-new"]
    failing = [m.account_id for m in old if m.result == "FAIL"]
    assert ctx.first_failed_at[failing[0]] <= rows[0].started_at
    h.record(new)
    assert len(h.scans()) == 3


def test_a_history_of_a_newer_rdscan_is_refused_untouched(tmp_path: Path) -> None:
    h = _copy_v010(tmp_path)
    h.scans()
    conn = sqlite3.connect(h.path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    before = h.path.read_bytes()
    with pytest.raises(ConfigError, match="written by a newer rdscan") as info:
        h.scans()
    assert "upgrade rdscan" in (info.value.hint or "")
    assert h.path.read_bytes() == before


def test_a_failed_write_leaves_the_history_as_it_was(tmp_path: Path) -> None:
    h = History(tmp_path / "h.sqlite")
    h.record(make_scan("scan-a", "2026-11-01T00:00:00Z", [make_result("1", Status.FAIL)]))
    before = h.path.read_bytes()
    # two results for one account break the primary key halfway through the insert
    bad = make_scan(
        "scan-b",
        "2026-11-02T00:00:00Z",
        [make_result("2", Status.PASS), make_result("2", Status.FAIL)],
    )
    with pytest.raises(ConfigError):
        h.record(bad)
    assert [r.id for r in h.scans()] == ["scan-a"]
    assert h.path.read_bytes() == before


def test_two_writers_at_once_both_land(tmp_path: Path) -> None:
    """Both writers start while a third connection holds the write lock; both wait for it."""
    h = History(tmp_path / "h.sqlite")
    h.record(make_scan("scan-0", "2026-11-01T00:00:00Z", [make_result("1", Status.FAIL)]))
    holder = sqlite3.connect(h.path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            results = [make_result(str(i), Status.FAIL) for i in range(200)]
            History(h.path, lock_timeout=10).record(
                make_scan(f"scan-{n}", f"2026-11-0{n + 1}T00:00:00Z", results)
            )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in (1, 2)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    holder.execute("ROLLBACK")
    holder.close()
    for t in threads:
        t.join(20)
    assert not errors
    assert sorted(r.id for r in h.scans()) == ["scan-0", "scan-1", "scan-2"]
    assert len(h.members("scan-1")) == len(h.members("scan-2")) == 200


def test_context_counts_consecutive_fails_per_directory(tmp_path: Path) -> None:
    h = History(tmp_path / "h.sqlite")
    r = make_result
    h.record(make_scan("s1", "2026-11-01T00:00:00Z", [r("1", Status.FAIL), r("2", Status.PASS)]))
    h.record(make_scan("x1", "2026-11-02T00:00:00Z", [r("2", Status.FAIL)], directory_id="rd-2"))
    h.record(make_scan("s2", "2026-11-03T00:00:00Z", [r("1", Status.FAIL), r("2", Status.FAIL)]))
    h.record(make_scan("s3", "2026-11-04T00:00:00Z", [r("1", Status.ERROR), r("2", Status.FAIL)]))
    now = make_scan(
        "s4",
        "2026-11-10T12:00:00Z",
        [r("1", Status.FAIL), r("2", Status.FAIL), r("3", Status.FAIL)],
    )
    ctx = h.context_for(now)
    assert ctx.since_previous is not None and ctx.since_previous.scan_id == "s3"
    assert ctx.first_failed_at == {
        "1": "2026-11-10T12:00:00Z",  # the ERROR in s3 ends its run
        "2": "2026-11-03T00:00:00Z",  # rd-2's scan is another directory
        "3": "2026-11-10T12:00:00Z",
    }
    data = json.loads(json.dumps(now.__class__(now.evidence, now.results, ctx).to_dict()))
    rows = {a["account_id"]: a for a in data["accounts"]}
    assert rows["2"]["days_failing"] == 7 and rows["1"]["days_failing"] == 0
    assert data["since_previous"]["classes"]["new_fail"] == ["1", "3"]
    assert data["since_previous"]["classes"]["still_failing"] == ["2"]
    assert data["since_previous"]["classes"]["error_cleared"] == ["1"]
    assert [p["scan_id"] for p in data["trend"]] == ["s1", "s2", "s3", "s4"]


def test_first_scan_of_a_directory_has_no_previous(tmp_path: Path) -> None:
    h = History(tmp_path / "absent.sqlite")
    scan = make_scan("s1", "2026-11-01T00:00:00Z", [make_result("1", Status.FAIL)])
    ctx = h.context_for(scan)
    assert ctx.since_previous is None and [p.scan_id for p in ctx.trend] == ["s1"]
    assert not h.path.exists()
    data = scan.__class__(scan.evidence, scan.results, ctx).to_dict()
    assert data["since_previous"] is None
    assert data["accounts"][0]["first_failed_at"] == "2026-11-01T00:00:00Z"
    assert data["accounts"][0]["days_failing"] == 0


@pytest.fixture
def three(tmp_path: Path) -> History:
    h = History(tmp_path / "h.sqlite")
    r = make_result
    h.record(make_scan("s1", "2026-10-01T00:00:00Z", [r("1", Status.FAIL), r("2", Status.PASS)]))
    h.record(make_scan("s2", "2026-10-20T00:00:00Z", [r("1", Status.PASS), r("2", Status.PASS)]))
    h.record(make_scan("s3", "2026-11-01T00:00:00Z", [r("1", Status.PASS), r("2", Status.SKIPPED)]))
    return h


def _cli(*args: str) -> tuple[int, str]:
    out = CliRunner().invoke(main, list(args))
    return out.exit_code, out.output


def test_cli_json_formats(three: History) -> None:
    code, text = _cli("history", "list", "--format", "json", "--history", str(three.path))
    assert code == 0
    assert [s["id"] for s in json.loads(text)["scans"]] == ["s3", "s2", "s1"]
    code, text = _cli("history", "show", "s1", "--format", "json", "--history", str(three.path))
    assert code == 0
    assert json.loads(text)["members"][0]["result"] == "FAIL"
    code, text = _cli("history", "diff", "--format", "json", "--history", str(three.path))
    assert code == 0, text  # no new_fail
    doc = json.loads(text)
    assert doc["counts"]["became_skipped"] == 1 and doc["counts"]["new_fail"] == 0
    assert doc["classes"]["became_skipped"][0]["account_id"] == "2"
    code, text = _cli(
        "history", "diff", "s2", "s1", "--format", "json", "--history", str(three.path)
    )
    assert code == 1 and json.loads(text)["counts"]["new_fail"] == 1


def test_cli_trend(three: History) -> None:
    code, text = _cli("history", "trend", "--directory", "rd-1", "--history", str(three.path))
    assert code == 0
    lines = [line for line in text.splitlines() if line.startswith("2026-")]
    assert [line.split()[-1] for line in lines] == ["50.0%", "100.0%", "100.0%"]
    code, text = _cli("history", "trend", "--format", "json", "--history", str(three.path))
    assert [p["compliance"] for p in json.loads(text)["trend"]] == [0.5, 1.0, 1.0]
    code, text = _cli("history", "trend", "--directory", "rd-9", "--history", str(three.path))
    assert code == 0 and "No scans" in text


def test_cli_prune(three: History) -> None:
    code, text = _cli("history", "prune", "--history", str(three.path))
    assert code == 2 and "--keep" in text
    code, text = _cli("history", "prune", "--keep", "2", "--history", str(three.path))
    assert code == 0 and "Deleted 1 scan" in text
    assert [r.id for r in three.scans()] == ["s3", "s2"]
    conn = sqlite3.connect(three.path)
    assert conn.execute("select count(*) from results where scan_id='s1'").fetchone() == (0,)
    conn.close()
    deleted = three.prune(older_than_days=20, now=dt.datetime(2026, 11, 15, tzinfo=dt.timezone.utc))
    assert [r.id for r in deleted] == ["s2"]
