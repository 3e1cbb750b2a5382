"""Pure evaluation: a policy, exemptions and an inventory give one ``Result`` per member.

No IO and no clock: ``today`` is passed in, so a scan can be judged "as of" any date.

The rules, applied in this order to each member:

1. Out of the policy's scope (type, status, folder, tag; checked in that order) -> SKIPPED,
   saying which rule excluded it. Only a documented status the policy leaves out puts a member
   out of scope; a status rdscan does not know is evaluated like an active one, and its
   result's reason says so. Scope is decided from the listing (ListAccounts) alone, so a
   member nobody asked about never makes a scan "incomplete", even if its GetAccount failed.
2. ``read_error`` set -> ERROR, the reason being that error.
3. ``has_secure_mobile_phone`` is None without a read error -> ERROR "GetAccount response lacks
   HasSecureMobilePhone" (never a PASS, never a guess).
4. A phone is bound -> PASS (remediation none).
5. No phone: a ResourceAccount -> FAIL, remediation ``api`` (BindSecureMobilePhone can fix it);
   a CloudAccount -> the policy's ``cloud_account_without_phone`` (default FAIL, remediation
   ``manual``; or SKIPPED); a member of any other type -> FAIL, remediation ``manual``.
6. A FAIL covered by an exemption that has not expired -> EXEMPT, with the exemption attached.
   A FAIL whose exemption has expired stays FAIL, with the expired exemption attached.
   An account exemption beats a folder exemption; a nearer folder beats a farther one; the
   most specific exemption decides even when it has expired (its expiry was a deliberate
   deadline for that account, which a broader exemption does not silently extend).

Severity: FAIL, EXEMPT and ERROR carry the policy's severity (a CloudAccount FAIL/EXEMPT may
carry the ``cloud_account_without_phone.severity`` override); PASS and SKIPPED carry ``info``,
since nothing is at risk for them. An exemption is valid through its ``expires`` day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from .exit_codes import ExitCode
from .findings import ExemptionInfo, ReasonPart, Remediation, Result, Severity, Status
from .inventory.model import Inventory, Member
from .policy import (
    SOON_DAYS,
    Exemption,
    Exemptions,
    Policy,
    Scope,
    expires_soon,
    is_known_status,
)
from .reasons import english, part

MISSING_FLAG = (part("error.flag_unread"),)
MISSING_FLAG_REASON = english(MISSING_FLAG)
_BOUND = (part("pass.bound"),)  # one copy for every PASS
_RESOURCE = part("fail.resource_account")
_CLOUD = part("fail.cloud_account")
_SKIP_CLOUD = (part("skipped.cloud_account_policy"),)
DEFAULT_SOON_DAYS = SOON_DAYS


def evaluate(
    policy: Policy,
    exemptions: Exemptions,
    inventory: Inventory,
    today: dt.date,
    *,
    soon_days: int = DEFAULT_SOON_DAYS,
) -> tuple[Result, ...]:
    """One result per member of ``inventory``, in inventory order."""
    if soon_days < 0:
        raise ValueError("soon_days must be >= 0")
    index = _ExemptionIndex(exemptions)
    chains: dict[str, tuple[str, ...]] = {}

    def chain_of(folder_id: str) -> tuple[str, ...]:
        if folder_id not in chains:
            chains[folder_id] = folder_chain(inventory, folder_id)
        return chains[folder_id]

    return tuple(
        _evaluate_member(policy, index, inventory, chain_of(m.folder_id), m, today, soon_days)
        for m in inventory.members
    )


def exit_code(
    results: Iterable[Result],
    fail_on: Severity | None = Severity.INFO,
    *,
    listing_complete: bool = True,
) -> ExitCode:
    """OK compliant; FAIL a FAIL at or above ``fail_on`` (None: never); INCOMPLETE any ERROR
    (wins over FAIL), a listing that could not show every member was listed, and when no
    member was evaluated at all (nothing listed, or every member SKIPPED): nothing checked is
    never "compliant"."""
    items = list(results)
    if not listing_complete or not items or all(r.result is Status.SKIPPED for r in items):
        return ExitCode.INCOMPLETE
    code = ExitCode.OK
    for r in items:
        if r.result is Status.ERROR:
            return ExitCode.INCOMPLETE
        if r.result is Status.FAIL and fail_on is not None and r.severity.at_least(fail_on):
            code = ExitCode.FAIL
    return code


def soon_to_expire(results: Iterable[Result], soon_days: int = DEFAULT_SOON_DAYS) -> list[Result]:
    """EXEMPT results whose exemption ends within ``soon_days`` days (0 = ends today)."""
    return [
        r
        for r in results
        if r.result is Status.EXEMPT
        and r.exemption is not None
        and expires_soon(r.exemption.days_left, soon_days)
    ]


def unused_exemptions(exemptions: Exemptions, inventory: Inventory) -> list[Exemption]:
    """Exemptions that cover no member of the inventory (stale entries worth cleaning up)."""
    used: set[Exemption] = set()
    index = _ExemptionIndex(exemptions)
    for m in inventory.members:
        chain = folder_chain(inventory, m.folder_id)
        path = member_folder_path(inventory, m)
        used.update(e for e in index.matching(m.account_id, chain, path))
    return [e for e in exemptions.entries if e not in used]


# ----------------------------------------------------------------------------- folders


def folder_chain(inventory: Inventory, folder_id: str) -> tuple[str, ...]:
    """The member's folder id, then its parent's, up to the root (cycle-safe)."""
    chain: list[str] = []
    current: str | None = folder_id
    while current and current not in chain:
        chain.append(current)
        folder = inventory.folders.get(current)
        current = folder.parent_id if folder else None
    return tuple(chain)


def unmatched_exemptions(exemptions: Exemptions, inventory: Inventory) -> list[Exemption]:
    """Exemptions naming an account that is not a member, or a folder (id or path) that is not
    in the directory: stale or mistyped entries a reviewer should hear about."""
    members = {m.account_id for m in inventory.members}
    unmatched = []
    for e in exemptions.entries:
        if e.account_id:
            if e.account_id not in members:
                unmatched.append(e)
        elif e.folder and not _names_a_folder(e.folder, inventory):
            unmatched.append(e)
    return unmatched


def unmatched_scope_folders(policy: Policy, inventory: Inventory) -> list[str]:
    """Folders in the policy's scope (include or exclude) that are not in the directory: a
    mistyped include puts every member out of scope, and the scan would pass."""
    scope = policy.scope
    return [
        f"{rule} ({kind})"
        for kind, rules in (("include", scope.include_folders), ("exclude", scope.exclude_folders))
        for rule in rules
        if not _names_a_folder(rule, inventory)
    ]


def _names_a_folder(rule: str, inventory: Inventory) -> bool:
    return any(
        folder_distance(rule, folder_chain(inventory, fid), f.path) is not None
        for fid, f in inventory.folders.items()
    )


def member_folder_path(inventory: Inventory, member: Member) -> str:
    return member.folder_path or inventory.folder_path(member.folder_id)


def folder_distance(rule: str, chain: tuple[str, ...], path: str) -> int | None:
    """How many levels above the member's folder ``rule`` (an id or a path) sits; None: not."""
    if rule in chain:
        return chain.index(rule)
    segments = [s for s in path.split("/") if s]
    wanted = [s for s in rule.split("/") if s]
    if wanted and segments[: len(wanted)] == wanted:
        return len(segments) - len(wanted)
    return None


# ---------------------------------------------------------------------------- per member


def _evaluate_member(
    policy: Policy,
    index: _ExemptionIndex,
    inventory: Inventory,
    chain: tuple[str, ...],
    member: Member,
    today: dt.date,
    soon_days: int,
) -> Result:
    path = member_folder_path(inventory, member)
    # a status rdscan does not know: evaluated like an active one, and every reason says so
    note = () if is_known_status(member.status) else (unknown_status_part(member.status),)

    def result(
        status: Status,
        severity: Severity,
        parts: tuple[ReasonPart, ...],
        remediation: Remediation = Remediation.NONE,
        exemption: ExemptionInfo | None = None,
    ) -> Result:
        parts = parts + note
        return Result(
            account_id=member.account_id,
            display_name=member.display_name,
            type=member.type,
            member_status=member.status,
            folder_path=path,
            has_secure_mobile_phone=member.has_secure_mobile_phone,
            secure_mobile_phone_masked=member.secure_mobile_phone_masked,
            result=status,
            severity=severity,
            reason=_english(parts),
            remediation=remediation,
            exemption=exemption,
            folder_id=member.folder_id,
            tags=tuple(sorted(member.tags)),
            reason_parts=parts,
        )

    excluded = out_of_scope_parts(policy.scope, member, chain, path)
    if excluded:
        return result(Status.SKIPPED, Severity.INFO, excluded)

    if member.read_error:
        parts = member.read_error_parts or (data_part(member.read_error),)
        return result(Status.ERROR, policy.severity, parts)
    if member.has_secure_mobile_phone is None:
        return result(Status.ERROR, policy.severity, MISSING_FLAG)
    if member.has_secure_mobile_phone:
        return result(Status.PASS, Severity.INFO, _BOUND)

    severity = policy.severity
    if member.type == "CloudAccount":
        rule = policy.cloud_account_without_phone
        severity = rule.severity or policy.severity
        if rule.result is Status.SKIPPED:
            return result(Status.SKIPPED, Severity.INFO, _SKIP_CLOUD)
        remediation = Remediation.MANUAL
        reason = _CLOUD
    elif member.type == "ResourceAccount":
        remediation = Remediation.API
        reason = _RESOURCE
    else:  # a type this tool does not know: never guess that the API can fix it
        remediation = Remediation.MANUAL
        reason = part("fail.other_type", type=repr(member.type) if member.type else "")

    exemption = index.best(member.account_id, chain, path)
    if exemption is None:
        return result(Status.FAIL, severity, (reason,), remediation)
    info = exemption_info(exemption, today)
    which = {"scope": exemption.scope, "ticket": exemption.ticket, "owner": exemption.owner}
    expires = exemption.expires.isoformat()
    if info.expired:
        expired = part("fail.exemption_expired", expires=expires, **which)
        return result(Status.FAIL, severity, (reason, expired), remediation, info)
    key = "exempt.until"
    extra: dict[str, object] = {}
    if expires_soon(info.days_left, soon_days):
        key = "exempt.last_day" if info.days_left == 0 else "exempt.expires_in"
        extra = {} if info.days_left == 0 else {"days": info.days_left}
    exempt = part(key, expires=expires, reason=exemption.reason, **which, **extra)
    return result(Status.EXEMPT, severity, (exempt,), remediation, info)


_ENGLISH: dict[tuple[ReasonPart, ...], str] = {}


def _english(parts: tuple[ReasonPart, ...]) -> str:
    """``english(parts)``, one copy per distinct reason (50,000 members share a few)."""
    text = _ENGLISH.get(parts)
    if text is None:
        text = english(parts)
        if len(_ENGLISH) < 4096:
            _ENGLISH[parts] = text
    return text


def data_part(text: str) -> ReasonPart:
    return ReasonPart("data", (("text", text),))


def unknown_status_part(status: str) -> ReasonPart:
    return part("note.unknown_status", status=repr(status) if status else "")


def unknown_status_note(status: str) -> str:
    return english((unknown_status_part(status),))


def unknown_statuses(inventory: Inventory) -> dict[str, int]:
    """Statuses no documentation names, with how many members have each."""
    counts: dict[str, int] = {}
    for m in inventory.members:
        if not is_known_status(m.status):
            counts[m.status] = counts.get(m.status, 0) + 1
    return counts


def out_of_scope(scope: Scope, member: Member, chain: tuple[str, ...], path: str) -> str | None:
    """Why the member is outside ``scope`` (None when it is in scope). A status rdscan does
    not know never puts a member out of scope: it is evaluated like an active member."""
    parts = out_of_scope_parts(scope, member, chain, path)
    return english(parts) if parts else None


def out_of_scope_parts(
    scope: Scope, member: Member, chain: tuple[str, ...], path: str
) -> tuple[ReasonPart, ...]:
    """``out_of_scope`` as reason parts (``()``: in scope)."""
    where = path or member.folder_id
    if scope.types and member.type not in scope.types:
        return (part("scope.type", type=member.type, types=", ".join(scope.types)),)
    if scope.statuses and member.status not in scope.statuses and is_known_status(member.status):
        statuses = ", ".join(scope.statuses)
        return (part("scope.status", status=member.status, statuses=statuses),)
    for rule in scope.exclude_folders:
        if folder_distance(rule, chain, path) is not None:
            return (part("scope.folder_excluded", folder=where, rule=rule),)
    if scope.include_folders and not any(
        folder_distance(rule, chain, path) is not None for rule in scope.include_folders
    ):
        folders = ", ".join(scope.include_folders)
        return (part("scope.folder_not_included", folder=where, folders=folders),)
    tags = dict(member.tags)
    for tag in scope.exclude_tags:
        if tag.matches(tags):
            return (part("scope.tag_excluded", tag=f"{tag.key}={tags[tag.key]}", rule=tag),)
    if scope.include_tags and not any(tag.matches(tags) for tag in scope.include_tags):
        tag_list = ", ".join(str(t) for t in scope.include_tags)
        return (part("scope.tags_not_included", tags=tag_list),)
    return ()


# ---------------------------------------------------------------------------- exemptions


def exemption_info(exemption: Exemption, today: dt.date) -> ExemptionInfo:
    days_left = (exemption.expires - today).days
    return ExemptionInfo(
        scope=exemption.scope,
        reason=exemption.reason,
        owner=exemption.owner,
        ticket=exemption.ticket,
        expires=exemption.expires.isoformat(),
        expired=days_left < 0,
        days_left=days_left,
        approved_by=exemption.approved_by or "",
        created=exemption.created.isoformat() if exemption.created else "",
    )


class _ExemptionIndex:
    """Exemptions looked up by account id, and the folder exemptions in file order."""

    def __init__(self, exemptions: Exemptions) -> None:
        self.by_account = {e.account_id: e for e in exemptions.entries if e.account_id}
        self.folders = [e for e in exemptions.entries if e.folder]
        self._nearest: dict[tuple[tuple[str, ...], str], Exemption | None] = {}

    def matching(self, account_id: str, chain: tuple[str, ...], path: str) -> list[Exemption]:
        own = self.by_account.get(account_id)
        found = [e for e in self.folders if folder_distance(str(e.folder), chain, path) is not None]
        return ([own] if own else []) + found

    def best(self, account_id: str, chain: tuple[str, ...], path: str) -> Exemption | None:
        """The account's own exemption, else the one on the nearest enclosing folder."""
        own = self.by_account.get(account_id)
        if own is not None:
            return own
        key = (chain, path)
        if key not in self._nearest:  # members of one folder share the answer
            best: tuple[int, Exemption] | None = None
            for e in self.folders:
                distance = folder_distance(str(e.folder), chain, path)
                if distance is not None and (best is None or distance < best[0]):
                    best = (distance, e)
            self._nearest[key] = best[1] if best else None
        return self._nearest[key]
