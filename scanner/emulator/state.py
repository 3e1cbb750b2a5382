"""The emulator's mutable directory: members, bindings, verification codes, send counts.

One lock guards everything; handlers read consistent snapshots. Tests mutate the directory
while the server runs (``add_account``, ``remove_account``, ``bind_phone``).
"""

from __future__ import annotations

import dataclasses
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..clock import rfc3339
from ..errors import ConfigError
from .fixture import AccountSpec, Fixture, FolderSpec, parse_account
from .sts import SessionStore


@dataclass(frozen=True)
class PendingCode:
    phone: str
    code: str
    expires_at: float  # epoch seconds


def wire_time(epoch: float) -> str:
    """Epoch seconds as the API writes times: RFC 3339 UTC with milliseconds."""
    return rfc3339(epoch, "milliseconds")


class DirectoryState:
    def __init__(
        self,
        fixture: Fixture,
        *,
        sms_outbox: str | Path | None = None,
        code_ttl_s: float | None = None,
        daily_send_limit: int | None = None,
        seed: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.fixture = fixture
        self.site = fixture.site
        self.directory = fixture.directory
        self.folders: dict[str, FolderSpec] = {f.id: f for f in fixture.folders}
        self._accounts: dict[str, AccountSpec] = {a.id: a for a in fixture.accounts}
        # listing snapshots, rebuilt after a change: a ListAccounts page is a slice, not a copy
        # and filter of every member (at 50,000 members that made the emulator the bottleneck)
        self._listing: tuple[AccountSpec, ...] | None = None
        self._by_folder: dict[str, tuple[AccountSpec, ...]] | None = None
        self._lock = threading.RLock()
        self._codes: dict[str, PendingCode] = {}
        self._sends: dict[tuple[str, str], int] = {}
        self._outbox: list[dict[str, Any]] = []
        self._outbox_path = Path(sms_outbox) if sms_outbox else None
        if self._outbox_path is not None:
            try:
                self._outbox_path.open("a", encoding="utf-8").close()
            except OSError as exc:
                raise ConfigError(
                    f"cannot write the SMS outbox {self._outbox_path}: {exc.strerror or exc}",
                    hint="give --sms-outbox a file in a writable, existing folder",
                ) from exc
        knobs = fixture.undocumented
        self.code_ttl_s = knobs.code_ttl_s if code_ttl_s is None else code_ttl_s
        self.daily_send_limit = (
            knobs.daily_send_limit if daily_send_limit is None else daily_send_limit
        )
        self.daily_send_limit_scope = knobs.daily_send_limit_scope
        self._rng = random.Random(seed)
        self._clock = clock
        self.sessions = SessionStore(clock)

    # ---- reads --------------------------------------------------------------------------
    def accounts(self) -> tuple[AccountSpec, ...]:
        """Every member, in listing order (an immutable snapshot, shared between calls)."""
        with self._lock:
            if self._listing is None:
                self._listing = tuple(self._accounts.values())
            return self._listing

    def accounts_in_folder(self, folder_id: str) -> tuple[AccountSpec, ...]:
        """The members directly in ``folder_id``, in listing order (indexed once per change)."""
        with self._lock:
            if self._by_folder is None:
                index: dict[str, list[AccountSpec]] = {}
                for a in self.accounts():
                    index.setdefault(a.folder, []).append(a)
                self._by_folder = {k: tuple(v) for k, v in index.items()}
            return self._by_folder.get(folder_id, ())

    def _changed(self) -> None:
        self._listing = None
        self._by_folder = None

    def account(self, account_id: str) -> AccountSpec | None:
        with self._lock:
            return self._accounts.get(account_id)

    def folder_chain(self, folder_id: str) -> list[str]:
        """Folder ids from the root down to ``folder_id`` (root included)."""
        chain = []
        current = folder_id
        while current in self.folders:
            chain.append(current)
            current = self.folders[current].parent
        chain.append(self.directory.root_folder_id)
        return list(reversed(chain))

    def path_of(self, folder_id: str) -> str:
        return "/".join([self.directory.id, *self.folder_chain(folder_id)])

    # ---- directory changes (tests) ----------------------------------------------------------
    def add_account(self, account_id: str, display_name: str = "", **fields: Any) -> AccountSpec:
        """Add a member (fixture keys as keyword arguments: type, status, folder, tags, ...)."""
        entry = {"id": account_id, "display_name": display_name or account_id, **fields}
        entry.setdefault("type", "ResourceAccount")
        spec = parse_account(entry, "add_account", self.directory.root_folder_id)
        if spec.folder != self.directory.root_folder_id and spec.folder not in self.folders:
            raise ValueError(f"unknown folder {spec.folder!r}")
        with self._lock:
            if spec.id in self._accounts:
                raise ValueError(f"account {spec.id} exists already")
            self._accounts[spec.id] = spec
            self._changed()
        return spec

    def remove_account(self, account_id: str) -> None:
        with self._lock:
            if self._accounts.pop(account_id, None) is None:
                raise KeyError(account_id)
            self._changed()
            self._codes.pop(account_id, None)

    def bind_phone(self, account_id: str, phone: str) -> None:
        """Bind a number directly, as if someone bound it outside this flow."""
        with self._lock:
            spec = self._accounts[account_id]
            self._accounts[account_id] = dataclasses.replace(
                spec, secure_mobile_phone=phone, modify_time=wire_time(self._clock())
            )
            self._changed()
            self._codes.pop(account_id, None)

    def expire_codes(self) -> None:
        with self._lock:
            self._codes = {
                k: dataclasses.replace(v, expires_at=self._clock() - 1)
                for k, v in self._codes.items()
            }

    # ---- the verification-code flow --------------------------------------------------------
    def _send_key(self, account_id: str) -> tuple[str, str]:
        """What the daily limit counts: the member, or the whole management account."""
        if self.daily_send_limit_scope == "management_account":
            return (self.directory.master_account_id + "/*", self._today())
        return (account_id, self._today())

    def send_count_today(self, account_id: str) -> int:
        with self._lock:
            return self._sends.get(self._send_key(account_id), 0)

    def issue_code(self, account_id: str, phone: str) -> PendingCode | str:
        """Record a send ("deliver" the SMS to the outbox), or return the error code
        ``SendValidateCodeExceedsLimitForAccount`` when the daily limit is used up.

        A member that has a number already still gets a code: the docs list
        AccountSecureMobileAlreadyExists for Bind only, so Bind refuses it later."""
        with self._lock:
            key = self._send_key(account_id)
            if self._sends.get(key, 0) >= self.daily_send_limit:
                return "SendValidateCodeExceedsLimitForAccount"
            self._sends[key] = self._sends.get(key, 0) + 1
            code = f"{self._rng.randrange(10**6):06d}"
            pending = PendingCode(phone, code, self._clock() + self.code_ttl_s)
            self._codes[account_id] = pending
            record = {
                "account_id": account_id,
                "phone": phone,
                "code": code,
                "expires_at": wire_time(pending.expires_at),
            }
            self._outbox.append(record)
            if self._outbox_path is not None:
                with self._outbox_path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(record) + "\n")
            return pending

    def redeem_code(self, account_id: str, phone: str, code: str) -> str:
        """Bind when the code matches the number it was sent to and has not expired.

        Returns "" when bound, else the error code: ``AccountSecureMobileAlreadyExists`` when
        another request bound the member first, ``Invalid.VerificationCode`` otherwise."""
        with self._lock:
            if self._accounts[account_id].secure_mobile_phone:
                return "AccountSecureMobileAlreadyExists"
            pending = self._codes.get(account_id)
            if (
                pending is None
                or pending.expires_at <= self._clock()
                or pending.phone != phone
                or pending.code != code
            ):
                return "Invalid.VerificationCode"
            del self._codes[account_id]
            spec = self._accounts[account_id]
            self._accounts[account_id] = dataclasses.replace(
                spec, secure_mobile_phone=phone, modify_time=wire_time(self._clock())
            )
            self._changed()
            return ""

    def outbox(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._outbox]

    def _today(self) -> str:
        return datetime.fromtimestamp(self._clock(), tz=timezone.utc).strftime("%Y-%m-%d")
