"""Where the phone number for a member comes from: a CSV file, a member tag, or (in the CLI) a
prompt. Numbers are kept in memory only and validated by ``scanner.phones`` before any call.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ApiError, ConfigError, RemediationError
from ..findings import Result
from ..phones import mask_phone, mask_phones_in, parse_phone
from ..safe_paths import read_limited
from .api import RemediationApi


@dataclass(frozen=True)
class PhoneSources:
    """Numbers from ``--phones FILE.csv`` and the name of the ``--phone-tag``.

    ``tag_values`` holds the tag's value per member as read live from the API
    (:func:`read_tag_values`): report.json keeps phone-shaped tag values masked, so the results
    file is only a fallback, and a masked value there fails validation with a clear message.
    """

    by_account: Mapping[str, str] = field(default_factory=dict)
    tag: str | None = None
    tag_values: Mapping[str, str] = field(default_factory=dict)

    def lookup(self, result: Result) -> tuple[str | None, str]:
        """The raw number for a member and where it came from ("csv", "tag <name>"), or None."""
        if result.account_id in self.by_account:
            return self.by_account[result.account_id], "csv"
        if self.tag:
            live = self.tag_values.get(result.account_id)
            if live is not None:
                return (live.strip(), f"tag {self.tag}") if live.strip() else (None, "")
            for key, value in result.tags:
                if key == self.tag and value.strip():
                    return value.strip(), f"tag {self.tag} (from report.json)"
        return None, ""

    def __repr__(self) -> str:  # never show the numbers
        return f"PhoneSources({len(self.by_account)} numbers, tag={self.tag!r})"


def read_tag_values(
    api: RemediationApi, account_ids: Iterable[str], tag: str
) -> tuple[dict[str, str], list[str]]:
    """Read ``tag`` of each member live (GetAccount with IncludeTags).

    Returns the values by account id (members without the tag get "") and one warning per member
    whose tags could not be read (its number is then asked at the prompt). Warnings carry masked
    text only.
    """
    values: dict[str, str] = {}
    warnings: list[str] = []
    for account_id in dict.fromkeys(account_ids):
        try:
            tags = api.member_tags(account_id)
        except ApiError as exc:
            warnings.append(
                f"could not read the tags of member {account_id} ({mask_phones_in(str(exc))}); "
                f"its number is asked at the prompt instead of taken from tag {tag}"
            )
            continue
        values[account_id] = str(tags.get(tag, ""))
    return values, warnings


def _cell(value: str) -> str:
    """A CSV cell quoted in a message: masked, bounded."""
    text = mask_phones_in(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _swapped(account_id: str, phone: str) -> bool:
    """The account_id cell holds a phone number: ``86-139...`` or ``+44...``, or a bare
    phone-shaped ``13912345678`` beside a phone cell that is not a number (the columns swapped)."""
    if "-" in account_id or account_id.startswith("+"):
        return True
    if mask_phones_in(account_id) == account_id:
        return False
    try:
        parse_phone(phone)
    except RemediationError:
        return True
    return False  # an odd id beside a good number: kept, and only ever shown masked


def parse_phones_csv(text: str, *, source: str = "phones file") -> dict[str, str]:
    """Parse ``account_id,phone`` lines with that header; raise ConfigError naming the line."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    rows = [(n, row) for n, row in enumerate(reader, start=1) if any(c.strip() for c in row)]
    if not rows:
        raise ConfigError(
            f"{source} is empty",
            hint="write a header line `account_id,phone` and one line per member",
        )
    header = [c.strip().lower() for c in rows[0][1]]
    if "account_id" not in header or "phone" not in header:
        raise ConfigError(
            f"{source} line {rows[0][0]}: the header must name the columns account_id and phone",
            hint="start the file with the line `account_id,phone`",
        )
    id_col, phone_col = header.index("account_id"), header.index("phone")
    numbers: dict[str, str] = {}
    for number, row in rows[1:]:
        if len(row) <= max(id_col, phone_col):
            raise ConfigError(
                f"{source} line {number}: expected the columns account_id and phone",
                hint="write one `account_id,phone` pair per line",
            )
        account_id, phone = row[id_col].strip(), row[phone_col].strip()
        if not account_id or not phone:
            raise ConfigError(f"{source} line {number}: empty account_id or phone")
        if _swapped(account_id, phone):  # a number where the id should be
            raise ConfigError(
                f"{source} line {number}: the account_id column holds a phone number "
                f"({_cell(account_id)}), not an account id",
                hint="the columns are swapped: the header names them, e.g. `account_id,phone`",
            )
        if account_id in numbers and numbers[account_id] != phone:
            raise ConfigError(
                f"{source} line {number}: account {_cell(account_id)} is listed twice with "
                "different "
                f"numbers ({mask_phone(numbers[account_id])} and {mask_phone(phone)})",
                hint="keep one number per member",
            )
        numbers[account_id] = phone
    return numbers


MAX_PHONES_BYTES = 64 * 1024 * 1024  # one short line per member


def load_phones_csv(path: str | Path) -> dict[str, str]:
    p = Path(path)
    try:
        text = read_limited(p, MAX_PHONES_BYTES).decode("utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(
            f"phones file {p} does not exist", hint="give a CSV file with account_id,phone"
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(
            f"phones file {p} is not a UTF-8 text file",
            hint="save it as CSV (UTF-8) with the header line `account_id,phone`",
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read phones file {p}: {exc.strerror or exc}") from None
    return parse_phones_csv(text, source=f"phones file {p}")
