"""Result values of a scan: one ``Result`` per member, plus evidence and summary.

Pure values; this module imports nothing from the rest of the package.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TypeVar

E = TypeVar("E", bound=Enum)


class Status(str, Enum):
    PASS = "PASS"
    FAIL = "FAIL"
    EXEMPT = "EXEMPT"
    SKIPPED = "SKIPPED"
    ERROR = "ERROR"


STATUS_ORDER: tuple[Status, ...] = (
    Status.FAIL,
    Status.ERROR,
    Status.EXEMPT,
    Status.SKIPPED,
    Status.PASS,
)


class Severity(str, Enum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    def at_least(self, other: Severity) -> bool:
        return self.rank >= other.rank


_SEVERITY_RANK = {
    Severity.INFO: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
}


class Remediation(str, Enum):
    API = "api"  # BindSecureMobilePhone can fix it (ResourceAccount)
    MANUAL = "manual"  # the owner binds it in their own console (CloudAccount)
    NONE = "none"  # nothing to do


_ENUMS: dict[type[Enum], dict[Any, Any]] = {}


def _enum(kind: type[E], value: Any) -> E:
    """``kind(value)`` through a dict (an Enum call costs microseconds; 50,000 members make
    150,000 of them); an unknown value raises the Enum's own ValueError."""
    table = _ENUMS.get(kind)
    if table is None:
        table = _ENUMS[kind] = {m.value: m for m in kind}
    member = table.get(value) if isinstance(value, str) else None
    return member if member is not None else kind(value)


def _flag(data: Mapping[str, Any], key: str, *, nullable: bool) -> bool | None:
    """A JSON true/false (or null when ``nullable``); anything else (``"false"``, 0) is refused,
    never coerced: ``bool("false")`` is True."""
    value = data.get(key) if nullable else data[key]
    if isinstance(value, bool) or (nullable and value is None):
        return value
    allowed = "true, false or null" if nullable else "true or false"
    raise ValueError(f"{key} must be {allowed}, not {value!r}")


@dataclass(frozen=True, slots=True)
class ReasonPart:
    """One sentence (or fragment) of a result's reason: a message id of ``scanner.reasons``
    and its arguments (data: ids, names, dates, API error text), so a report can show the
    reason in its own language. ``key`` ``"data"`` is text shown as it is (``args`` ``text``).
    """

    key: str
    args: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """``{"key": ..., "args": {...}}``; ``args`` left out when there are none."""
        return {"key": self.key, "args": dict(self.args)} if self.args else {"key": self.key}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReasonPart:
        args = data.get("args") or {}
        if not isinstance(args, Mapping):
            raise ValueError(f"reason_parts args must be an object, not {args!r}")
        return cls(str(data["key"]), tuple((str(k), str(v)) for k, v in args.items()))


@dataclass(frozen=True, slots=True)
class ExemptionInfo:
    """The exemption that matched a member (applied, or expired and no longer applied)."""

    scope: str  # "account:<id>" or "folder:<id or path>"
    reason: str
    owner: str
    ticket: str
    expires: str  # ISO date YYYY-MM-DD
    expired: bool
    days_left: int  # negative when expired
    approved_by: str = ""  # "" when the exemption names no approver
    created: str = ""  # ISO date, "" when not given

    def to_dict(self) -> dict[str, Any]:
        return {
            "scope": self.scope,
            "reason": self.reason,
            "owner": self.owner,
            "ticket": self.ticket,
            "expires": self.expires,
            "expired": self.expired,
            "days_left": self.days_left,
            "approved_by": self.approved_by,
            "created": self.created,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExemptionInfo:
        return cls(
            scope=str(data["scope"]),
            reason=str(data["reason"]),
            owner=str(data["owner"]),
            ticket=str(data["ticket"]),
            expires=str(data["expires"]),
            expired=bool(_flag(data, "expired", nullable=False)),
            days_left=int(data["days_left"]),
            approved_by=str(data.get("approved_by") or ""),
            created=str(data.get("created") or ""),
        )


@dataclass(frozen=True, slots=True)  # slots: 50,000 of them are held by a report
class Result:
    """The outcome for one member account."""

    account_id: str
    display_name: str
    type: str  # ResourceAccount | CloudAccount
    member_status: str  # the member's status as ListAccounts says it, e.g. CreateSuccess
    folder_path: str  # e.g. Root/Production/Apps
    has_secure_mobile_phone: bool | None  # None: unknown (could not be read)
    secure_mobile_phone_masked: str | None
    result: Status
    severity: Severity
    reason: str
    remediation: Remediation
    exemption: ExemptionInfo | None = None
    folder_id: str = ""
    tags: tuple[tuple[str, str], ...] = ()
    # ``reason`` as message ids and arguments (``scanner.reasons``), for reports in another
    # language; () when not known (a report.json written before, a hand-made result)
    reason_parts: tuple[ReasonPart, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        # an enum's ``_value_`` (its documented value attribute) read directly: ``value`` is a
        # Python-level descriptor, and 50,000 members read it 150,000 times
        return {
            "account_id": self.account_id,
            "display_name": self.display_name,
            "type": self.type,
            "status": self.member_status,  # report.json key unchanged
            "folder_id": self.folder_id,
            "folder_path": self.folder_path,
            "tags": {k: v for k, v in self.tags},
            "has_secure_mobile_phone": self.has_secure_mobile_phone,
            "secure_mobile_phone_masked": self.secure_mobile_phone_masked,
            "result": self.result._value_,
            "severity": self.severity._value_,
            "reason": self.reason,
            "reason_parts": [p.to_dict() for p in self.reason_parts],
            "remediation": self.remediation._value_,
            "exemption": self.exemption.to_dict() if self.exemption else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], shared: dict[str, str] | None = None) -> Result:
        """From a report.json member. ``shared`` (optional) keeps one copy of each repeated
        text (type, status, folder, reason) across the members of a file."""
        get = data.get
        exemption = get("exemption")
        hsp = get("has_secure_mobile_phone")
        if hsp is not None and not isinstance(hsp, bool):
            _flag(data, "has_secure_mobile_phone", nullable=True)  # raises, naming the value
        tags = get("tags")
        if shared is None:
            shared = {}
        return cls(
            str(data["account_id"]),
            str(get("display_name") or ""),
            _shared(shared, get("type")),
            _shared(shared, get("status")),
            _shared(shared, get("folder_path")),
            hsp,
            get("secure_mobile_phone_masked"),
            _enum(Status, data["result"]),
            _enum(Severity, data["severity"]),
            _shared(shared, get("reason")),
            _enum(Remediation, get("remediation") or "none"),
            ExemptionInfo.from_dict(exemption) if exemption else None,
            _shared(shared, get("folder_id")),
            tuple(sorted((str(k), str(v)) for k, v in dict(tags).items())) if tags else (),
            _reason_parts(get("reason_parts")),
        )


def _reason_parts(raw: Any) -> tuple[ReasonPart, ...]:
    """A report.json member's ``reason_parts`` (() when absent): one copy of each distinct
    list across the members of a file (50,000 members share a few reasons)."""
    if not raw:
        return ()
    if not isinstance(raw, list):
        raise ValueError(f"reason_parts must be a list, not {raw!r}")
    if len(raw) == 1 and type(raw[0]) is dict and not raw[0].get("args"):
        key = raw[0].get("key")
        if type(key) is str:  # the usual case: one message without arguments (a PASS)
            return _bare_part(key)
    try:
        key = tuple((p["key"], _args_key(p.get("args"))) for p in raw)
        return _parts_of_key(key) if all(a is not None for _, a in key) else _parse_parts(raw)
    except (TypeError, KeyError, AttributeError):  # not the usual shape: parsed (and refused
        return _parse_parts(raw)  # with the field named) one by one


def _args_key(args: Any) -> tuple[tuple[Any, Any], ...] | None:
    """A part's ``args`` as a hashable key (() when absent); None when not an object."""
    if args is None:
        return ()
    return tuple(args.items()) if type(args) is dict else None


@functools.lru_cache(maxsize=256)
def _bare_part(key: str) -> tuple[ReasonPart, ...]:
    return (ReasonPart(key),)


@functools.lru_cache(maxsize=4096)
def _parts_of_key(key: tuple[tuple[Any, Any], ...]) -> tuple[ReasonPart, ...]:
    return tuple(ReasonPart(str(k), tuple((str(n), str(v)) for n, v in args)) for k, args in key)


def _parse_parts(raw: list[Any]) -> tuple[ReasonPart, ...]:
    return tuple(ReasonPart.from_dict(p) for p in raw)


def _shared(shared: dict[str, str], value: Any) -> str:
    """A report.json text field ("" for null or absent), one copy of each repeated text
    (type, status, folder, reason) across the members of a file."""
    text = value if type(value) is str else str(value or "")
    return shared.setdefault(text, text)


@dataclass(frozen=True)
class Caller:
    arn: str
    account_id: str
    identity_type: str  # RAMUser | AssumedRoleUser | Account


@dataclass(frozen=True)
class ListingEvidence:
    """How the inventory knows it has every member (``scanner.inventory.listing``).

    ``complete``: two consecutive ListAccounts passes were consistent (one TotalCount, no
    duplicate, no empty or short page before the last, as many ids as TotalCount) and saw the
    same ids. Otherwise ``problems`` names each fault with its numbers and the scan is incomplete.
    """

    complete: bool
    passes: int  # ListAccounts passes read
    agreeing_passes: int  # 2 when the last two passes agreed, else 0
    pages: int  # ListAccounts pages read, all passes
    total_count: int | None  # TotalCount of the last page read (None: absent)
    total_counts: tuple[int, ...]  # every distinct TotalCount seen, sorted
    listed: int  # distinct members kept (the union of every pass)
    unconfirmed: int  # members only an earlier, disagreeing pass listed
    problems: tuple[str, ...] = ()

    @property
    def expected(self) -> int:
        """Members the directory has as far as rdscan can tell: TotalCount when it says more
        than were listed, else the members listed."""
        return max(self.listed, self.total_count or 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "complete": self.complete,
            "passes": self.passes,
            "agreeing_passes": self.agreeing_passes,
            "pages": self.pages,
            "total_count": self.total_count,
            "total_counts": list(self.total_counts),
            "listed": self.listed,
            "unconfirmed": self.unconfirmed,
            "problems": list(self.problems),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ListingEvidence:
        total = data.get("total_count")
        return cls(
            complete=bool(_flag(data, "complete", nullable=False)),
            passes=int(data["passes"]),
            agreeing_passes=int(data["agreeing_passes"]),
            pages=int(data["pages"]),
            total_count=None if total is None else int(total),
            total_counts=tuple(int(t) for t in data.get("total_counts") or ()),
            listed=int(data["listed"]),
            unconfirmed=int(data.get("unconfirmed") or 0),
            problems=tuple(str(p) for p in data.get("problems") or ()),
        )


@dataclass(frozen=True)
class Coverage:
    members: int  # members the directory has: listed, or TotalCount when it says more
    evaluated: int  # members with a PASS/FAIL/EXEMPT/SKIPPED result
    errors: int  # members with an ERROR result
    unlisted: int = 0  # members TotalCount counts that no listing showed (no result at all)


# The texts of a framework item a mapping may give in another report language.
FRAMEWORK_TEXTS = ("framework", "version", "title", "rationale")


@dataclass(frozen=True)
class FrameworkItem:
    """One framework item the control relates to, e.g. ISO/IEC 27001:2022 A.8.5."""

    framework_key: str  # short name for --framework, e.g. "iso27001"
    framework: str  # full name, e.g. "ISO/IEC 27001:2022 Annex A"
    version: str
    id: str
    title: str
    relation: str  # "supporting"
    rationale: str  # one line: why the check is evidence for the item
    # the texts in other report languages: ((lang, ((field, text), ...)), ...), e.g.
    # (("zh-CN", (("title", "身份鉴别..."), ("rationale", "..."))),); fields of FRAMEWORK_TEXTS
    translations: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()

    def text(self, name: str, lang: str) -> str | None:
        """``name`` (one of FRAMEWORK_TEXTS) in ``lang``; None when the mapping gives none."""
        return translated(self.translations, lang, name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "framework_key": self.framework_key,
            "framework": self.framework,
            "version": self.version,
            "id": self.id,
            "title": self.title,
            "relation": self.relation,
            "rationale": self.rationale,
            "translations": translations_dict(self.translations),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FrameworkItem:
        return cls(
            **{k: str(data[k]) for k in cls.__dataclass_fields__ if k != "translations"},
            translations=translations_of(data.get("translations"), "framework item"),
        )


@dataclass(frozen=True)
class FrameworkMapping:
    control: str  # the policy id this mapping is for
    items: tuple[FrameworkItem, ...]
    digest: str  # "sha256:<hex>" of the file's bytes
    source: str  # the file's name (no folder)
    selected: tuple[str, ...] = ()  # framework keys chosen with --framework (empty: all)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(i.framework_key for i in self.items))

    def to_dict(self) -> dict[str, Any]:
        return {
            "control": self.control,
            "source": self.source,
            "digest": self.digest,
            "selected": list(self.selected),
            "items": [i.to_dict() for i in self.items],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FrameworkMapping:
        return cls(
            control=str(data["control"]),
            items=tuple(FrameworkItem.from_dict(i) for i in data.get("items") or ()),
            digest=str(data["digest"]),
            source=str(data.get("source") or ""),
            selected=tuple(str(k) for k in data.get("selected") or ()),
        )


@dataclass(frozen=True)
class ControlRef:
    """A control of a compliance framework that the policy's check relates to.

    ``relation``: ``supporting`` (the check gives evidence towards the control; the default)
    or ``equivalent`` (the framework names this exact control).
    """

    framework: str  # e.g. "CIS Alibaba Cloud Foundations Benchmark 2.0.0"
    id: str  # the control's id in the framework, e.g. "1.3"
    title: str  # "" when the policy gives none
    relation: str
    # the title in other report languages, as the policy gives it: (("zh-CN", (("title", ..),)),)
    translations: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "framework": self.framework,
            "id": self.id,
            "title": self.title,
            "relation": self.relation,
            "translations": translations_dict(self.translations),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ControlRef:
        return cls(
            framework=str(data["framework"]),
            id=str(data["id"]),
            title=str(data.get("title") or ""),
            relation=str(data.get("relation") or "supporting"),
            translations=translations_of(data.get("translations"), "related control"),
        )


Translations = tuple[tuple[str, tuple[tuple[str, str], ...]], ...]


def translations_dict(translations: Translations) -> dict[str, dict[str, str]]:
    """report.json's form of texts in other languages: ``{"zh-CN": {"title": "..."}}``."""
    return {lang: dict(fields) for lang, fields in translations}


def translations_of(data: Any, what: str) -> Translations:
    """``translations_dict``'s form read back (absent or null: none); anything else than an
    object of objects of texts is a ValueError naming ``what``."""
    if not data:
        return ()
    if not isinstance(data, Mapping) or not all(isinstance(v, Mapping) for v in data.values()):
        raise ValueError(f"{what} translations must be an object of objects: {data!r}")
    return tuple(
        (str(lang), tuple((str(k), str(v)) for k, v in fields.items()))
        for lang, fields in data.items()
    )


def translated(translations: Translations, lang: str, name: str) -> str | None:
    """The text ``name`` in ``lang``; None when none is given."""
    for tr_lang, fields in translations:
        if tr_lang == lang:
            return dict(fields).get(name)
    return None


@dataclass(frozen=True)
class Evidence:
    """Who ran the scan, when, against what, with which policy."""

    scan_id: str
    started_at: str  # RFC 3339 UTC
    finished_at: str
    tool_version: str
    site: str
    caller: Caller
    resource_directory_id: str
    master_account_id: str
    policy_id: str
    policy_digest: str  # sha256:<hex> of the policy (and exemptions) files
    api_calls: Mapping[str, int] = field(default_factory=dict)
    exemptions_digest: str | None = None
    warnings: tuple[str, ...] = ()  # what the reader of the report should know (partial data)
    # each warning as reason parts (scanner.reasons), in the order of ``warnings``; () for a
    # warning known only as text (shown as it is in every language), or in an older file
    warning_parts: tuple[tuple[ReasonPart, ...], ...] = ()
    frameworks: FrameworkMapping | None = None  # the framework mapping the scan recorded
    exemptions_ignored: bool = False  # --no-exemptions: the auditor's full view
    policy_title: str = ""  # the control's metadata, from the policy file
    policy_rationale: str = ""
    policy_remediation: str = ""
    policy_severity: str = ""  # critical | high | medium | low | info ("" in older files)
    related_controls: tuple[ControlRef, ...] = ()  # () in older files
    # the policy's title, rationale and remediation in other report languages (its zh-CN block)
    policy_translations: Translations = ()
    as_of: str = ""  # ISO date exemption expiry was judged against ("" in older files)
    exemptions_name: str = ""  # the exemptions file's name (no folder); "" when none
    exemptions_count: int = 0  # entries in that file
    listing: ListingEvidence | None = None  # None: a report.json written before it was kept


def summarize(results: Iterable[Result]) -> dict[str, int]:
    counts = {s.value: 0 for s in Status}
    for r in results:
        counts[r.result._value_] += 1
    return counts


def coverage_of(results: Iterable[Result], listing: ListingEvidence | None = None) -> Coverage:
    """Counts members by the listing's TotalCount when it says more than were listed."""
    items = list(results)
    errors = sum(1 for r in items if r.result is Status.ERROR)
    members = max(len(items), listing.expected) if listing is not None else len(items)
    return Coverage(
        members=members,
        evaluated=len(items) - errors,
        errors=errors,
        unlisted=members - len(items),
    )


@dataclass(frozen=True)
class TrendPoint:
    """One recorded scan of a directory, for the compliance trend."""

    scan_id: str
    started_at: str  # RFC 3339 UTC
    counts: Mapping[str, int]  # PASS/FAIL/EXEMPT/SKIPPED/ERROR -> members

    def to_dict(self) -> dict[str, Any]:
        counts = {s.value: int(self.counts.get(s.value, 0)) for s in Status}
        return {"scan_id": self.scan_id, "started_at": self.started_at, **counts}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrendPoint:
        return cls(
            scan_id=str(data["scan_id"]),
            started_at=str(data["started_at"]),
            counts={s.value: int(data.get(s.value) or 0) for s in Status},
        )


@dataclass(frozen=True)
class SincePrevious:
    """The previous scan of the same directory in the same history, and the account ids of
    each change class (``scanner.changes.CHANGE_CLASSES``) since it."""

    scan_id: str
    started_at: str  # RFC 3339 UTC
    classes: Mapping[str, tuple[str, ...]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.scan_id,
            "started_at": self.started_at,
            "classes": {k: list(v) for k, v in self.classes.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SincePrevious:
        classes = dict(data.get("classes") or {})
        return cls(
            scan_id=str(data["id"]),
            started_at=str(data["started_at"]),
            classes={str(k): tuple(str(i) for i in v) for k, v in classes.items()},
        )


@dataclass(frozen=True)
class HistoryContext:
    """What the scan history says about a scan (None on a ScanResult run without history)."""

    since_previous: SincePrevious | None  # None: the first scan of this directory recorded
    first_failed_at: Mapping[str, str]  # FAIL account id -> start of its run of FAIL scans
    trend: tuple[TrendPoint, ...]  # recorded scans of this directory, oldest first, this last


def days_between(earlier: str, later: str) -> int | None:
    """Whole days from one RFC 3339 time to another (0 within a day); None when either is not
    a time (a report.json edited by hand): unknown, never a guess."""
    try:
        a = dt.datetime.fromisoformat(earlier.replace("Z", "+00:00"))
        b = dt.datetime.fromisoformat(later.replace("Z", "+00:00"))
        return max(0, (b - a).days)
    except (ValueError, TypeError):
        return None


@dataclass(frozen=True, slots=True)
class ParsedMember:
    """One member of report.json's "accounts" as read: its Result, and the history's
    ``first_failed_at`` (RFC 3339, "" when absent) that the ScanResult keeps apart from it.

    ``ScanResult.from_dict`` takes these in place of the member dicts, so a reader can convert
    each member as it is parsed (``report.results_file``) instead of holding every dict."""

    result: Result
    first_failed_at: str = ""

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], shared: dict[str, str] | None = None
    ) -> ParsedMember:
        """Raises KeyError/TypeError/ValueError/AttributeError for a bad or missing field."""
        first = data.get("first_failed_at")
        return cls(Result.from_dict(data, shared), str(first) if first else "")


@dataclass(frozen=True)
class ScanResult:
    evidence: Evidence
    results: tuple[Result, ...]
    history: HistoryContext | None = None  # set when the scan is recorded in a history
    # one entry per notification channel (scanner.notify.Delivery.to_dict), when --notify ran
    notifications: tuple[Mapping[str, Any], ...] = ()
    # set by scanner.phones.mask_scan only: the results tuple it masked, so masking the same
    # results again is skipped (``masked_results is results``; results replaced: masked again)
    masked_results: tuple[Result, ...] | None = field(default=None, compare=False, repr=False)

    @property
    def summary(self) -> dict[str, int]:
        return summarize(self.results)

    @property
    def coverage(self) -> Coverage:
        return coverage_of(self.results, self.evidence.listing)

    @property
    def listing_complete(self) -> bool:
        """False when the listing could not show that every member was read (exit 3); True for
        a report.json written before listings were judged."""
        listing = self.evidence.listing
        return listing is None or listing.complete

    def failing(self) -> list[Result]:
        return [r for r in self.results if r.result is Status.FAIL]

    def to_dict(self, *, accounts: bool = True) -> dict[str, Any]:
        """report.json's content. ``accounts=False``: the "accounts" list left empty (in its
        place), for a writer that adds each member's ``account_dict`` one at a time."""
        ev = self.evidence
        cov = self.coverage
        return {
            "schema_version": SCHEMA_VERSION,
            "scan": {
                "id": ev.scan_id,
                "started_at": ev.started_at,
                "finished_at": ev.finished_at,
                "tool_version": ev.tool_version,
                "site": ev.site,
                "caller": {
                    "arn": ev.caller.arn,
                    "account_id": ev.caller.account_id,
                    "identity_type": ev.caller.identity_type,
                },
                "resource_directory": {
                    "id": ev.resource_directory_id,
                    "master_account_id": ev.master_account_id,
                },
                "policy": {
                    "id": ev.policy_id,
                    "digest": ev.policy_digest,
                    "exemptions_digest": ev.exemptions_digest,
                    "title": ev.policy_title,
                    "rationale": ev.policy_rationale,
                    "remediation": ev.policy_remediation,
                    "severity": ev.policy_severity,
                    "related_controls": [c.to_dict() for c in ev.related_controls],
                    "translations": translations_dict(ev.policy_translations),
                },
                "as_of": ev.as_of,
                "exemptions": (
                    {
                        "name": ev.exemptions_name,
                        "digest": ev.exemptions_digest,
                        "count": ev.exemptions_count,
                    }
                    if ev.exemptions_digest
                    else None
                ),
                "api_calls": dict(sorted(ev.api_calls.items())),
                "coverage": {
                    "members": cov.members,
                    "evaluated": cov.evaluated,
                    "errors": cov.errors,
                    "unlisted": cov.unlisted,
                },
                "listing": ev.listing.to_dict() if ev.listing is not None else None,
                "warnings": list(ev.warnings),
                "warning_parts": [[p.to_dict() for p in w] for w in ev.warning_parts],
                "frameworks": ev.frameworks.to_dict() if ev.frameworks else None,
                "exemptions_ignored": ev.exemptions_ignored,
            },
            "accounts": [self.account_dict(r) for r in self.results] if accounts else [],
            "summary": self.summary,
            **self._history_dict(),
        }

    def account_dict(self, r: Result) -> dict[str, Any]:
        """One member of report.json's "accounts"."""
        row = r.to_dict()
        if self.history is not None and r.result is Status.FAIL:
            first = self.history.first_failed_at.get(r.account_id, self.evidence.started_at)
            row["first_failed_at"] = first
            row["days_failing"] = days_between(first, self.evidence.started_at)
        return row

    def _history_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.notifications:
            out["notifications"] = [dict(n) for n in self.notifications]
        if self.history is None:
            return out
        prev = self.history.since_previous
        out["since_previous"] = prev.to_dict() if prev else None
        out["trend"] = [p.to_dict() for p in self.history.trend]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScanResult:
        scan = data["scan"]
        caller = scan["caller"]
        rd = scan["resource_directory"]
        policy = scan["policy"]
        evidence = Evidence(
            scan_id=str(scan["id"]),
            started_at=str(scan["started_at"]),
            finished_at=str(scan["finished_at"]),
            tool_version=str(scan["tool_version"]),
            site=str(scan["site"]),
            caller=Caller(
                arn=str(caller["arn"]),
                account_id=str(caller["account_id"]),
                identity_type=str(caller["identity_type"]),
            ),
            resource_directory_id=str(rd["id"]),
            master_account_id=str(rd["master_account_id"]),
            policy_id=str(policy["id"]),
            policy_digest=str(policy["digest"]),
            api_calls={str(k): int(v) for k, v in dict(scan.get("api_calls") or {}).items()},
            exemptions_digest=policy.get("exemptions_digest"),
            warnings=tuple(str(w) for w in scan.get("warnings") or ()),
            warning_parts=tuple(
                tuple(ReasonPart.from_dict(p) for p in w or ())
                for w in scan.get("warning_parts") or ()
            ),
            frameworks=(
                FrameworkMapping.from_dict(scan["frameworks"]) if scan.get("frameworks") else None
            ),
            exemptions_ignored=_flag(scan, "exemptions_ignored", nullable=True) is True,
            policy_title=str(policy.get("title") or ""),
            policy_rationale=str(policy.get("rationale") or ""),
            policy_remediation=str(policy.get("remediation") or ""),
            policy_severity=str(policy.get("severity") or ""),
            policy_translations=translations_of(policy.get("translations"), "policy"),
            related_controls=tuple(
                ControlRef.from_dict(c) for c in policy.get("related_controls") or ()
            ),
            as_of=str(scan.get("as_of") or ""),
            exemptions_name=str((scan.get("exemptions") or {}).get("name") or ""),
            exemptions_count=int((scan.get("exemptions") or {}).get("count") or 0),
            listing=ListingEvidence.from_dict(scan["listing"]) if scan.get("listing") else None,
        )
        shared: dict[str, str] = {}
        members = [
            a if isinstance(a, ParsedMember) else ParsedMember.from_dict(a, shared)
            for a in data["accounts"]
        ]
        history = None
        if "trend" in data:
            prev = data.get("since_previous")
            history = HistoryContext(
                since_previous=SincePrevious.from_dict(prev) if prev else None,
                first_failed_at={
                    m.result.account_id: m.first_failed_at for m in members if m.first_failed_at
                },
                trend=tuple(TrendPoint.from_dict(p) for p in data.get("trend") or ()),
            )
        return cls(
            evidence=evidence,
            results=tuple(m.result for m in members),
            history=history,
            notifications=tuple(
                dict(n) for n in data.get("notifications") or () if isinstance(n, dict)
            ),
        )


SCHEMA_VERSION = 1


class Outcome(str, Enum):
    """What remediation did for one member: the state the journal leaves a member in, the
    outcome a run reports, and the outcome the reports show (the same words everywhere).
    ``str()`` and f-strings give the value (``verified``), as JSON does."""

    VERIFIED = "verified"  # bound, and GetAccount now says HasSecureMobilePhone=true
    ALREADY_BOUND = "already_bound"  # bound before this run (nothing sent)
    FAILED = "failed"
    DECLINED = "declined"  # the operator answered No
    SKIPPED = "skipped"  # no number given, or not failing any more
    MANUAL = "manual"  # a CloudAccount: its owner binds it, never sent
    INVALID_NUMBER = "invalid_number"  # the number broke a rule: nothing sent
    NOT_RUN = "not_run"  # sending stopped for every member before this one
    PENDING = "pending"  # a step was journaled but no final one (crash, kill, Ctrl-C)

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


@dataclass(frozen=True)
class RemediationOutcome:
    """What the remediation journal says happened to one member (for the reports)."""

    account_id: str
    phone_masked: str
    outcome: Outcome  # verified | already_bound | failed | declined | skipped
    at: str  # RFC 3339 UTC of the last step for this member
    operator_arn: str
    request_id: str = ""
    detail: str = ""


@dataclass(frozen=True)
class RemediationSource:
    """Which journal a report's "remediated since the scan" section was taken from.

    ``left_out`` says, one sentence per kind, which journal lines were not shown because they
    do not belong to the report (another scan id, a member the report does not list).
    """

    file_name: str
    head_sha256: str  # SHA-256 of the journal's last line: compare with verify-journal's head
    lines: int  # lines in the journal's chain
    used: int  # lines that belong to the report
    left_out: tuple[str, ...] = ()
