"""SQLite history of scans, for periodic audits: list, show, and diff two scans.

Only masked values are stored (the same fields report.json carries), never a secret or a full
phone number. Writing a scan is one transaction: a crash leaves the store as it was.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import zlib
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError
from .findings import ScanResult, Status

_SCHEMA = """
CREATE TABLE IF NOT EXISTS scans (
    id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    directory_id TEXT NOT NULL,
    site TEXT NOT NULL,
    caller_arn TEXT NOT NULL,
    policy_id TEXT NOT NULL,
    policy_digest TEXT NOT NULL,
    tool_version TEXT NOT NULL,
    members INTEGER NOT NULL,
    evaluated INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    n_pass INTEGER NOT NULL,
    n_fail INTEGER NOT NULL,
    n_exempt INTEGER NOT NULL,
    n_skipped INTEGER NOT NULL,
    n_error INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS results (
    scan_id TEXT NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
    account_id TEXT NOT NULL,
    display_name TEXT NOT NULL,
    folder_path TEXT NOT NULL,
    type TEXT NOT NULL,
    result TEXT NOT NULL,
    severity TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (scan_id, account_id)
);
CREATE INDEX IF NOT EXISTS scans_by_time ON scans(started_at);
CREATE TABLE IF NOT EXISTS scan_inputs (
    scan_id TEXT NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    content BLOB NOT NULL,
    PRIMARY KEY (scan_id, kind)
);
"""

INPUT_KINDS = ("report.json", "policy", "exemptions", "frameworks")


def default_history_path() -> Path:
    env = os.environ.get("RDSCAN_HISTORY")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "rdscan" / "history.sqlite"


@dataclass(frozen=True)
class ScanRow:
    id: str
    started_at: str
    directory_id: str
    site: str
    caller_arn: str
    policy_id: str
    members: int
    evaluated: int
    errors: int
    counts: dict[str, int]


@dataclass(frozen=True)
class ScanInput:
    """A file a scan used or wrote, kept whole so an evidence pack can be built later:
    ``report.json`` (the exact bytes written), ``policy``, ``exemptions``, ``frameworks``."""

    kind: str  # one of INPUT_KINDS
    name: str  # the file's name when the scan ran (no folder)
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass(frozen=True)
class MemberRow:
    account_id: str
    display_name: str
    folder_path: str
    result: str
    reason: str


@dataclass(frozen=True)
class Change:
    account_id: str
    display_name: str
    before: str | None  # None: the member was not in the older scan
    after: str | None  # None: the member is gone from the newer scan
    reason: str

    @property
    def kind(self) -> str:
        if self.before is None:
            return "new member"
        if self.after is None:
            return "member removed"
        if self.after == Status.FAIL.value:
            return "regressed"
        if self.before == Status.FAIL.value and self.after in (Status.PASS.value,):
            return "fixed"
        return "changed"


@dataclass(frozen=True)
class Diff:
    older: ScanRow
    newer: ScanRow
    changes: tuple[Change, ...]

    def of_kind(self, kind: str) -> list[Change]:
        return [c for c in self.changes if c.kind == kind]


class History:
    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _connect(self, *, create: bool) -> Iterator[sqlite3.Connection]:
        if not create and not self.path.exists():
            raise ConfigError(
                f"no scan history at {self.path}",
                hint="run `rdscan scan` first (history is on by default), or pass --history PATH "
                "(`rdscan demo` keeps its own: --history rdscan-report/history.sqlite)",
            )
        try:
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(
                f"cannot open scan history {self.path}: {exc}",
                hint="pass a writable --history PATH, or --no-history",
            ) from None
        with closing(conn):
            try:
                conn.row_factory = sqlite3.Row
                conn.execute("PRAGMA foreign_keys = ON")
                self._refuse_foreign(conn)
                conn.executescript(_SCHEMA)
                yield conn
            except sqlite3.DatabaseError as exc:
                if "locked" in str(exc) or "busy" in str(exc):  # a good history, held by another
                    raise ConfigError(
                        f"scan history {self.path} is in use by another program ({exc})",
                        hint="wait for the other rdscan or SQLite program to finish, "
                        "or pass another --history",
                    ) from None
                raise ConfigError(
                    f"scan history {self.path} is not a usable rdscan history ({exc})",
                    hint="move the file away (a new one is created), or pass another --history",
                ) from None

    def _refuse_foreign(self, conn: sqlite3.Connection) -> None:
        """Another program's SQLite file is never given rdscan's tables."""
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables and not {"scans", "results"} <= tables:
            raise ConfigError(
                f"{self.path} is an SQLite database but not an rdscan history "
                f"(tables: {', '.join(sorted(tables)[:5])})",
                hint="pass another --history PATH (a new file is created), or --no-history",
            )

    def check(self) -> None:
        """Fail now, before a long scan, if an existing history file cannot take the scan.
        Creates nothing."""
        if self.path.exists():
            with self._connect(create=False):
                pass
            return
        folder = next((p for p in self.path.absolute().parents if p.exists()), None)
        if folder is not None and not folder.is_dir():
            raise ConfigError(
                f"cannot create scan history {self.path}: {folder} is a file, not a folder",
                hint="pass a writable --history PATH, or --no-history",
            )

    def record(self, scan: ScanResult, inputs: Sequence[ScanInput] = ()) -> None:
        """Record the scan, its members and (``inputs``) the files it used, in one
        transaction. Inputs are stored zlib-compressed, with their SHA-256."""
        ev, cov, counts = scan.evidence, scan.coverage, scan.summary
        with self._connect(create=True) as conn, conn:
            conn.execute(
                "INSERT OR REPLACE INTO scans VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    ev.scan_id,
                    ev.started_at,
                    ev.finished_at,
                    ev.resource_directory_id,
                    ev.site,
                    ev.caller.arn,
                    ev.policy_id,
                    ev.policy_digest,
                    ev.tool_version,
                    cov.members,
                    cov.evaluated,
                    cov.errors,
                    counts["PASS"],
                    counts["FAIL"],
                    counts["EXEMPT"],
                    counts["SKIPPED"],
                    counts["ERROR"],
                ),
            )
            conn.executemany(
                "INSERT OR REPLACE INTO results VALUES (?,?,?,?,?,?,?,?)",
                [
                    (
                        ev.scan_id,
                        r.account_id,
                        r.display_name,
                        r.folder_path,
                        r.type,
                        r.result.value,
                        r.severity.value,
                        r.reason,
                    )
                    for r in scan.results
                ],
            )
            conn.execute("DELETE FROM scan_inputs WHERE scan_id = ?", (ev.scan_id,))
            conn.executemany(
                "INSERT INTO scan_inputs VALUES (?,?,?,?,?)",
                [
                    (ev.scan_id, i.kind, i.name, i.sha256, zlib.compress(i.content, 6))
                    for i in inputs
                ],
            )

    def inputs(self, scan_id: str) -> dict[str, ScanInput]:
        """The files kept for ``scan_id`` by kind (empty for a scan recorded without them).
        A stored file whose bytes no longer match its SHA-256 is a ConfigError."""
        with self._connect(create=False) as conn:
            rows = conn.execute(
                "SELECT kind, name, sha256, content FROM scan_inputs WHERE scan_id = ?",
                (scan_id,),
            ).fetchall()
        out: dict[str, ScanInput] = {}
        for row in rows:
            try:
                content = zlib.decompress(row["content"])
            except zlib.error:
                content = b""
            item = ScanInput(row["kind"], row["name"], content)
            if item.sha256 != row["sha256"]:
                raise ConfigError(
                    f"the {row['kind']} kept in the history {self.path} for scan {scan_id} is "
                    "damaged (its SHA-256 no longer matches)",
                    hint="build the pack from the files themselves: rdscan evidence build "
                    "--results report.json --policy FILE [--exemptions FILE]",
                )
            out[item.kind] = item
        return out

    def scans(self, limit: int | None = None) -> list[ScanRow]:
        sql = "SELECT * FROM scans ORDER BY started_at DESC, rowid DESC"
        with self._connect(create=False) as conn:
            rows = conn.execute(sql + (f" LIMIT {int(limit)}" if limit else "")).fetchall()
        return [_scan_row(r) for r in rows]

    def resolve(self, ref: str) -> ScanRow:
        """A scan id, or `latest` / `previous` / `latest~N`."""
        rows = self.scans()
        index = _relative_index(ref)
        if index is not None:
            if index < len(rows):
                return rows[index]
            raise ConfigError(
                f"the history has {len(rows)} scan(s); {ref!r} does not exist",
                hint="see `rdscan history list`",
            )
        matches = [r for r in rows if r.id == ref] or [r for r in rows if r.id.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise ConfigError(f"no scan {ref!r} in the history", hint="see `rdscan history list`")
        raise ConfigError(f"{ref!r} matches several scans", hint="give more of the scan id")

    def members(self, scan_id: str) -> list[MemberRow]:
        with self._connect(create=False) as conn:
            rows = conn.execute(
                "SELECT account_id, display_name, folder_path, result, reason FROM results "
                "WHERE scan_id = ? ORDER BY account_id",
                (scan_id,),
            ).fetchall()
        return [MemberRow(*tuple(r)) for r in rows]

    def diff(self, older_ref: str, newer_ref: str) -> Diff:
        older, newer = self.resolve(older_ref), self.resolve(newer_ref)
        return Diff(
            older, newer, tuple(diff_members(self.members(older.id), self.members(newer.id)))
        )


def diff_members(older: Sequence[MemberRow], newer: Sequence[MemberRow]) -> list[Change]:
    """Members whose result changed, appeared or disappeared between two scans (pure)."""
    before = {m.account_id: m for m in older}
    after = {m.account_id: m for m in newer}
    changes = []
    for account_id in sorted(before.keys() | after.keys()):
        b, a = before.get(account_id), after.get(account_id)
        if b and a and b.result == a.result:
            continue
        latest = a or b
        assert latest is not None
        changes.append(
            Change(
                account_id=account_id,
                display_name=latest.display_name,
                before=b.result if b else None,
                after=a.result if a else None,
                reason=latest.reason,
            )
        )
    return changes


def _relative_index(ref: str) -> int | None:
    if ref == "latest":
        return 0
    if ref == "previous":
        return 1
    if ref.startswith("latest~") and ref[7:].isdigit():
        return int(ref[7:])
    return None


def _scan_row(r: sqlite3.Row) -> ScanRow:
    return ScanRow(
        id=r["id"],
        started_at=r["started_at"],
        directory_id=r["directory_id"],
        site=r["site"],
        caller_arn=r["caller_arn"],
        policy_id=r["policy_id"],
        members=r["members"],
        evaluated=r["evaluated"],
        errors=r["errors"],
        counts={
            "PASS": r["n_pass"],
            "FAIL": r["n_fail"],
            "EXEMPT": r["n_exempt"],
            "SKIPPED": r["n_skipped"],
            "ERROR": r["n_error"],
        },
    )
