"""SQLite history of scans, for periodic audits: record, list, show, diff, trend and prune.

Only masked values are stored (the same fields report.json carries), never a secret or a full
phone number.

Safety:
- Writing a scan is one ``BEGIN IMMEDIATE`` transaction: a scan killed midway (or a crash while
  writing) leaves the history as it was.
- Two rdscan processes writing one history at once both land: the second waits for the first's
  write lock (up to ``LOCK_TIMEOUT_S``), then writes.

Schema versions (``PRAGMA user_version``); a history is migrated forward when opened, in one
transaction, and a history written by a newer rdscan is refused, never downgraded:
- 1 (rdscan 0.1.0; user_version left at 0): tables ``scans`` and ``results``.
- 2: ``scans.target`` (the target name of a multi-directory run, "" otherwise),
  ``results.exemption_expires`` (the matched exemption's expiry date, NULL without one),
  ``scan_inputs`` (the files a scan used, for evidence packs; histories written by 0.1.0
  development builds may have it already), and indexes for the per-directory and per-member
  look-ups.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sqlite3
import zlib
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from .changes import Change, MemberState, by_class, compare, compliance_share
from .errors import ConfigError
from .findings import (
    HistoryContext,
    ScanResult,
    SincePrevious,
    Status,
    TrendPoint,
)
from .safe_paths import create_private, refuse_unsafe

SCHEMA_VERSION = 2
_SIDECARS = ("-journal", "-wal", "-shm")  # SQLite's rollback journal and WAL files
LOCK_TIMEOUT_S = 60.0
TREND_POINTS = 30  # scans of a directory kept in a report's trend

_V1 = (
    """CREATE TABLE IF NOT EXISTS scans (
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
)""",
    """CREATE TABLE IF NOT EXISTS results (
    scan_id TEXT NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
    account_id TEXT NOT NULL,
    display_name TEXT NOT NULL,
    folder_path TEXT NOT NULL,
    type TEXT NOT NULL,
    result TEXT NOT NULL,
    severity TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (scan_id, account_id)
)""",
    "CREATE INDEX IF NOT EXISTS scans_by_time ON scans(started_at)",
)
_V2 = (
    "ALTER TABLE scans ADD COLUMN target TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE results ADD COLUMN exemption_expires TEXT",
    "CREATE INDEX IF NOT EXISTS scans_by_directory ON scans(directory_id, started_at)",
    "CREATE INDEX IF NOT EXISTS results_by_account ON results(account_id, result)",
    """CREATE TABLE IF NOT EXISTS scan_inputs (
    scan_id TEXT NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    content BLOB NOT NULL,
    PRIMARY KEY (scan_id, kind)
)""",
)
# MIGRATIONS[n]: the statements that take a version-n history to version n + 1.
MIGRATIONS: dict[int, tuple[str, ...]] = {0: _V1, 1: _V2}
assert len(MIGRATIONS) == SCHEMA_VERSION

INPUT_KINDS = ("report.json", "policy", "exemptions", "frameworks")


_SQLITE_FULL, _SQLITE_IOERR = 13, 10  # sqlite3.h primary result codes (Python 3.11+ names them)


def _disk_refused(exc: sqlite3.DatabaseError) -> bool:
    """SQLITE_FULL (ENOSPC), or SQLITE_IOERR (e.g. EFBIG over a file size limit, EDQUOT)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and (code & 0xFF) in (_SQLITE_FULL, _SQLITE_IOERR):
        return True
    text = str(exc).lower()
    return "disk is full" in text or "disk i/o error" in text


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
    target: str = ""

    @property
    def compliance(self) -> float | None:
        return compliance_share(self.counts)

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "started_at": self.started_at,
            "directory_id": self.directory_id,
            "target": self.target,
            "site": self.site,
            "caller_arn": self.caller_arn,
            "policy_id": self.policy_id,
            "members": self.members,
            "evaluated": self.evaluated,
            "errors": self.errors,
            "summary": dict(self.counts),
            "compliance": self.compliance,
        }

    def trend_point(self) -> TrendPoint:
        return TrendPoint(self.id, self.started_at, dict(self.counts))


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

    def to_dict(self) -> dict[str, str]:
        return {
            "account_id": self.account_id,
            "display_name": self.display_name,
            "folder_path": self.folder_path,
            "result": self.result,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Diff:
    older: ScanRow
    newer: ScanRow
    changes: tuple[Change, ...]

    def of_class(self, name: str) -> list[Change]:
        return [c for c in self.changes if name in c.classes]

    def counts(self) -> dict[str, int]:
        return {k: len(v) for k, v in by_class(self.changes).items()}

    def to_dict(self) -> dict[str, object]:
        return {
            "older": self.older.to_dict(),
            "newer": self.newer.to_dict(),
            "same_directory": self.older.directory_id == self.newer.directory_id,
            "counts": self.counts(),
            "classes": {k: [c.to_dict() for c in v] for k, v in by_class(self.changes).items()},
        }


class History:
    def __init__(self, path: Path, *, lock_timeout: float = LOCK_TIMEOUT_S) -> None:
        self.path = path
        self.lock_timeout = lock_timeout  # seconds to wait for another writer's lock

    # --- opening, migrations ------------------------------------------------------------------

    @contextmanager
    def _connect(self, *, create: bool) -> Iterator[sqlite3.Connection]:
        if not create and not self.path.exists():
            raise ConfigError(
                f"no scan history at {self.path}",
                hint="run `rdscan scan` first (history is on by default), or pass --history PATH "
                "(`rdscan demo` keeps its own: --history rdscan-report/history.sqlite)",
            )
        # a link or another user's file is refused before SQLite opens it (exit 2)
        exists = refuse_unsafe(self.path, "scan history", option="--history")
        for suffix in _SIDECARS:  # SQLite writes these beside the file, following links
            refuse_unsafe(
                self.path.with_name(self.path.name + suffix),
                "scan history's SQLite side file",
                option="--history",
            )
        try:
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                if not exists:  # owner-only, never through a link (SQLite keeps the mode)
                    create_private(self.path)
            # isolation_level None: transactions are explicit (BEGIN IMMEDIATE ... COMMIT)
            conn = sqlite3.connect(self.path, timeout=self.lock_timeout, isolation_level=None)
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
                self._migrate(conn)
                yield conn
            except sqlite3.DatabaseError as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if "locked" in str(exc) or "busy" in str(exc):  # a good history, held by another
                    raise ConfigError(
                        f"scan history {self.path} is in use by another program ({exc})",
                        hint="wait for the other rdscan or SQLite program to finish, "
                        "or pass another --history",
                    ) from None
                if "readonly" in str(exc):
                    raise ConfigError(
                        f"cannot write scan history {self.path} ({exc})",
                        hint="pass a writable --history PATH, or --no-history",
                    ) from None
                if _disk_refused(exc):  # a full disk is not a broken history
                    raise ConfigError(
                        f"cannot write scan history {self.path}: out of space or the disk "
                        f"refused the write ({exc}); the history is unchanged",
                        hint="free some space on that disk (or raise the quota or file size "
                        "limit), or pass another --history, or --no-history",
                    ) from None
                raise ConfigError(
                    f"scan history {self.path} is not a usable rdscan history ({exc})",
                    hint="move the file away (a new one is created), or pass another --history",
                ) from None

    def _refuse_foreign(self, conn: sqlite3.Connection) -> None:
        """Another program's SQLite file is never given rdscan's tables."""
        tables = _tables(conn)
        if tables and not {"scans", "results"} <= tables:
            raise ConfigError(
                f"{self.path} is an SQLite database but not an rdscan history "
                f"(tables: {', '.join(sorted(tables)[:5])})",
                hint="pass another --history PATH (a new file is created), or --no-history",
            )

    def _migrate(self, conn: sqlite3.Connection) -> None:
        if _version(conn) == SCHEMA_VERSION:
            return
        conn.execute("BEGIN IMMEDIATE")  # another process may be migrating: wait, then re-read
        try:
            version = _version(conn)
            if version > SCHEMA_VERSION:
                raise ConfigError(
                    f"scan history {self.path} was written by a newer rdscan "
                    f"(history schema {version}; this rdscan reads up to {SCHEMA_VERSION})",
                    hint="upgrade rdscan, or pass another --history",
                )
            for step in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[step]:
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    @property
    def schema_version(self) -> int:
        """The schema version of the file as it is now, without migrating it (0: empty)."""
        with closing(sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)) as conn:
            return _version(conn)

    def check(self) -> None:
        """Fail now, before a long scan, if the history could not take the scan afterwards: a
        link, a folder or another user's file at the path (``refuse_unsafe``), a file in the way
        of its folder, a folder or file that is not writable (SQLite writes its rollback
        journal beside the file). Creates nothing (an old history is migrated)."""
        hint = "pass a writable --history PATH, or --no-history"
        exists = refuse_unsafe(self.path, "scan history", option="--history")
        folder = next((p for p in self.path.absolute().parents if p.exists()), None)
        if folder is not None and not folder.is_dir():
            raise ConfigError(
                f"cannot create scan history {self.path}: {folder} is a file, not a folder",
                hint=hint,
            )
        if folder is not None and not os.access(folder, os.W_OK | os.X_OK):
            raise ConfigError(
                f"cannot write scan history {self.path}: {folder} is not writable", hint=hint
            )
        if exists:
            if not os.access(self.path, os.R_OK | os.W_OK):
                raise ConfigError(
                    f"cannot write scan history {self.path}: the file is not writable", hint=hint
                )
            with self._connect(create=False):
                pass

    # --- writing ------------------------------------------------------------------------------

    def record(
        self, scan: ScanResult, inputs: Sequence[ScanInput] = (), *, target: str = ""
    ) -> None:
        """Store one scan, its members and (``inputs``) the files it used, in one transaction
        (a rerun replaces it). Inputs are stored zlib-compressed, with their SHA-256."""
        ev, cov, counts = scan.evidence, scan.coverage, scan.summary
        with self._connect(create=True) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute("DELETE FROM scans WHERE id = ?", (ev.scan_id,))
                conn.execute(
                    "INSERT INTO scans (id, started_at, finished_at, directory_id, site, "
                    "caller_arn, policy_id, policy_digest, tool_version, members, evaluated, "
                    "errors, n_pass, n_fail, n_exempt, n_skipped, n_error, target) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
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
                        target,
                    ),
                )
                conn.executemany(
                    "INSERT INTO results (scan_id, account_id, display_name, folder_path, type, "
                    "result, severity, reason, exemption_expires) VALUES (?,?,?,?,?,?,?,?,?)",
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
                            r.exemption.expires if r.exemption else None,
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
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

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

    def prune(
        self, *, keep: int | None = None, older_than_days: int | None = None, now: dt.datetime
    ) -> list[ScanRow]:
        """Delete scans: all but the ``keep`` newest of each directory, and/or those started
        more than ``older_than_days`` days before ``now``. Returns the deleted scans."""
        rows = self.scans()
        doomed: list[ScanRow] = []
        if keep is not None:
            seen: dict[str, int] = {}
            for r in rows:  # newest first
                seen[r.directory_id] = seen.get(r.directory_id, 0) + 1
                if seen[r.directory_id] > keep:
                    doomed.append(r)
        if older_than_days is not None:
            limit = now - dt.timedelta(days=older_than_days)
            doomed += [r for r in rows if _parse_time(r.started_at) < limit and r not in doomed]
        if not doomed:
            return []
        with self._connect(create=False) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany("DELETE FROM scans WHERE id = ?", [(r.id,) for r in doomed])
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("VACUUM")
        return doomed

    # --- reading ------------------------------------------------------------------------------

    def scans(self, limit: int | None = None, *, directory_id: str | None = None) -> list[ScanRow]:
        """Recorded scans, newest first (of one directory when ``directory_id`` is given)."""
        sql = "SELECT * FROM scans"
        args: tuple[object, ...] = ()
        if directory_id is not None:
            sql += " WHERE directory_id = ?"
            args = (directory_id,)
        sql += " ORDER BY started_at DESC, rowid DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        with self._connect(create=False) as conn:
            rows = conn.execute(sql, args).fetchall()
        return [_scan_row(r) for r in rows]

    def resolve(self, ref: str, *, directory_id: str | None = None) -> ScanRow:
        """A scan id, or `latest` / `previous` / `latest~N` (among the scans of
        ``directory_id`` when given)."""
        rows = self.scans(directory_id=directory_id)
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

    def diff(self, older_ref: str, newer_ref: str, *, directory_id: str | None = None) -> Diff:
        older = self.resolve(older_ref, directory_id=directory_id)
        newer = self.resolve(newer_ref, directory_id=directory_id)
        return Diff(
            older, newer, tuple(diff_members(self.members(older.id), self.members(newer.id)))
        )

    def trend(self, directory_id: str | None = None, limit: int | None = None) -> list[ScanRow]:
        """Scans oldest first (the ``limit`` newest), of one directory or of all."""
        return list(reversed(self.scans(limit, directory_id=directory_id)))

    def context_for(self, scan: ScanResult) -> HistoryContext:
        """What the history says about ``scan`` before it is recorded: the previous scan of the
        same directory (started before it) and the change classes since, when each member
        failing now started failing (its run of consecutive FAIL scans), and the trend."""
        ev = scan.evidence
        if not self.path.exists():
            earlier: list[ScanRow] = []
        else:
            earlier = [
                r
                for r in self.scans(directory_id=ev.resource_directory_id)
                if r.id != ev.scan_id and r.started_at <= ev.started_at
            ]
        current = TrendPoint(ev.scan_id, ev.started_at, scan.summary)
        trend = (*tuple(r.trend_point() for r in reversed(earlier[: TREND_POINTS - 1])), current)
        if not earlier:
            return HistoryContext(since_previous=None, first_failed_at={}, trend=trend)
        previous = earlier[0]
        now_states = [
            MemberState(r.account_id, r.display_name, r.result.value) for r in scan.results
        ]
        before_states = [
            MemberState(m.account_id, m.display_name, m.result) for m in self.members(previous.id)
        ]
        grouped = by_class(compare(before_states, now_states))
        since = SincePrevious(
            scan_id=previous.id,
            started_at=previous.started_at,
            classes={k: tuple(c.account_id for c in v) for k, v in grouped.items()},
        )
        failing = {r.account_id for r in scan.results if r.result is Status.FAIL}
        return HistoryContext(
            since_previous=since,
            first_failed_at=self._fail_runs(failing, ev.started_at, earlier),
            trend=trend,
        )

    def _fail_runs(
        self, failing: set[str], started_at: str, earlier: Sequence[ScanRow]
    ) -> dict[str, str]:
        """For each failing account: the start of its run of FAIL results, walking back over
        ``earlier`` (newest first) until a scan where it did not FAIL."""
        first = {a: started_at for a in failing}
        still_open = set(failing)
        with self._connect(create=False) as conn:
            for row in earlier:
                if not still_open:
                    break
                failed_then = {
                    r[0]
                    for r in conn.execute(
                        "SELECT account_id FROM results WHERE scan_id = ? AND result = 'FAIL'",
                        (row.id,),
                    )
                }
                for account_id in list(still_open):
                    if account_id in failed_then:
                        first[account_id] = row.started_at
                    else:
                        still_open.discard(account_id)
        return first


def diff_members(older: Sequence[MemberRow], newer: Sequence[MemberRow]) -> list[Change]:
    """Members in at least one change class between two scans (pure)."""
    return compare(
        [MemberState(m.account_id, m.display_name, m.result) for m in older],
        [MemberState(m.account_id, m.display_name, m.result) for m in newer],
    )


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def _version(conn: sqlite3.Connection) -> int:
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version == 0 and {"scans", "results"} <= _tables(conn):
        return 1  # rdscan 0.1.0 created its tables without setting user_version
    return version


def _parse_time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


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
        target=r["target"],
    )
