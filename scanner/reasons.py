"""The reasons of results, as message ids with arguments, so each report language shows them.

A ``Result`` keeps its reason twice: ``reason``, the English sentence report.json has always
held (the record), and ``reason_parts``, the same as ``ReasonPart`` values: a message id of
``MESSAGES`` and its arguments. The arguments are data and are never translated: ids, names,
folder paths, dates, the policy's own words, and the text of an error the API returned. A
report in another language looks each id up in its gettext catalog (``localize``); a
report.json written before ``reason_parts`` existed, or one naming an id this rdscan does not
know, shows its English ``reason`` as it is (data).

Parts are joined with a space, except after a full-width mark (``。：；）``) or before
``（``, as Chinese is written. Pure: no IO.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence

from .errors import ApiError
from .findings import ReasonPart
from .i18n import N_

DATA = "data"  # a part shown as it is: args {"text": ...}


def N_plural(singular: str, plural: str) -> tuple[str, str]:
    """Mark a singular/plural pair for extraction (looked up later with ngettext)."""
    return singular, plural


# Each message's English text; its %(name)s are the part's arguments. A pair is a
# singular/plural message chosen by the argument named in PLURAL_BY.
MESSAGES: dict[str, str | tuple[str, str]] = {
    # PASS
    "pass.bound": N_("A secure mobile phone is bound."),
    # FAIL
    "fail.resource_account": N_(
        "No secure mobile phone is bound. It can be bound through the API "
        "(BindSecureMobilePhone, see: rdscan remediate)."
    ),
    "fail.cloud_account": N_(
        "No secure mobile phone is bound. This is a CloudAccount: the API cannot bind one; "
        "its owner must bind it in their own Alibaba Cloud console."
    ),
    "fail.other_type": N_(
        "No secure mobile phone is bound. Member type %(type)s is not one rdscan binds through "
        "the API; its owner must bind one in their console."
    ),
    "fail.exemption_expired": N_(
        "Its exemption %(scope)s (ticket %(ticket)s, owner %(owner)s) expired on %(expires)s, "
        "so it no longer applies."
    ),
    # EXEMPT
    "exempt.until": N_(
        "No secure mobile phone is bound, but it is exempted until %(expires)s by exemption "
        "%(scope)s (ticket %(ticket)s, owner %(owner)s): %(reason)s"
    ),
    "exempt.last_day": N_(
        "No secure mobile phone is bound, but it is exempted until %(expires)s, its last day "
        "(it expires today), by exemption %(scope)s (ticket %(ticket)s, owner %(owner)s): "
        "%(reason)s"
    ),
    "exempt.expires_in": N_plural(
        "No secure mobile phone is bound, but it is exempted until %(expires)s (expires in "
        "%(days)s day) by exemption %(scope)s (ticket %(ticket)s, owner %(owner)s): %(reason)s",
        "No secure mobile phone is bound, but it is exempted until %(expires)s (expires in "
        "%(days)s days) by exemption %(scope)s (ticket %(ticket)s, owner %(owner)s): %(reason)s",
    ),
    # SKIPPED
    "skipped.cloud_account_policy": N_(
        "No secure mobile phone is bound, but this is a CloudAccount and the policy skips "
        "CloudAccounts without one (cloud_account_without_phone: SKIPPED)."
    ),
    "scope.type": N_(
        "Out of scope: member type %(type)s is not one the policy covers (%(types)s)."
    ),
    "scope.status": N_(
        "Out of scope: member status %(status)s is not one the policy covers (%(statuses)s)."
    ),
    "scope.folder_excluded": N_(
        "Out of scope: folder %(folder)s is excluded by the policy's folder rule %(rule)s."
    ),
    "scope.folder_not_included": N_(
        "Out of scope: folder %(folder)s is not under any folder the policy covers (%(folders)s)."
    ),
    "scope.tag_excluded": N_(
        "Out of scope: tag %(tag)s is excluded by the policy's tag rule %(rule)s."
    ),
    "scope.tags_not_included": N_(
        "Out of scope: the member has none of the tags the policy covers (%(tags)s)."
    ),
    # any result: a status no documentation names
    "note.unknown_status": N_(
        "Member status %(status)s is not one rdscan knows from the documentation: it was "
        "evaluated like an active member."
    ),
    # ERROR: what GetAccount said, or why it could not be read
    "error.flag_missing": N_("GetAccount response has no HasSecureMobilePhone field"),
    "error.flag_unread": N_("GetAccount response lacks HasSecureMobilePhone"),
    "error.flag_null": N_("GetAccount's HasSecureMobilePhone is null, not true or false"),
    "error.flag_not_boolean": N_(
        "GetAccount's HasSecureMobilePhone is a %(kind)s, %(value)s, not true or false"
    ),
    "error.call": N_("%(action)s:"),
    "error.http": N_("(HTTP %(status)s)"),
    "error.http_request": N_("(HTTP %(status)s, RequestId %(request_id)s)"),
    "error.gone": N_("listed during the scan but gone since (removed mid-scan?):"),
    "error.delegated_refused": N_(
        "GetAccount (2022-04-19) is not allowed for this delegated administrator, so no "
        "member's phone could be read:"
    ),
    "error.breaker": N_(
        "not read: the endpoint stopped answering (%(count)s reads in a row could not "
        "connect); the last error:"
    ),
    "error.deadline": N_(
        "no complete answer within %(seconds)s s (the deadline of one attempt, connect to last "
        "byte)"
    ),
    "error.too_large": N_(
        "answer refused: larger than the %(cap)s-byte cap (%(size)s bytes announced or read)"
    ),
    "error.unreadable": N_("unreadable response: %(detail)s"),
    "error.body_not_object": N_("unreadable response: the body is JSON %(kind)s, not an object"),
    "error.tls": N_("TLS handshake with the endpoint failed: %(detail)s"),
    "error.unreachable": N_("cannot reach %(where)s: %(detail)s"),
    "error.refused": N_(
        "cannot reach %(where)s: connection refused (is the service or emulator running?)"
    ),
    "error.no_dns": N_("cannot reach %(where)s: the host name does not resolve"),
    "error.connect_timeout": N_("cannot reach %(where)s: the connection timed out"),
    "error.no_route": N_("cannot reach %(where)s: the network is unreachable"),
    "error.reset": N_("cannot reach %(where)s: the connection was reset"),
    "error.gave_up": N_("(gave up after %(attempts)s attempts)"),
    "error.gave_up_budget": N_(
        "(gave up after %(attempts)s attempts and %(seconds)ss (retry budget %(budget)ss))"
    ),
    # the warnings a scan records (report.json scan.warnings), same form
    "warn.delegated": N_(
        "scanned by account %(account)s, a member of the directory (a delegated "
        "administrator), not its management account %(master)s: what it may not read is named "
        "below and in the members' reasons"
    ),
    "warn.folders_denied": N_(
        "folder names could not be read (%(apis)s is not allowed for this caller), paths show ids:"
    ),
    "warn.folders_unread": N_("folder names could not be read, paths show ids:"),
    "warn.root_identity": N_(
        "the caller is the root identity of account %(account)s (an AccessKey of the account "
        "itself): use a RAM user or role with only the read-only policy (`rdscan print-policy "
        "audit`), and disable the root AccessKey"
    ),
    "warn.scope_folder_unmatched": N_(
        "policy scope folder %(rule)s matches no folder of this directory: mistyped?"
    ),
    "warn.exemption_unmatched": N_(
        "exemption %(scope)s (line %(line)s of %(file)s) matches no member or folder of this "
        "directory: stale or mistyped?"
    ),
    "warn.unknown_statuses": N_plural(
        "%(n)s member had a status rdscan does not know (%(statuses)s); evaluated like active "
        "members. Tell the rdscan maintainers, and check the members in the console.",
        "%(n)s members had a status rdscan does not know (%(statuses)s); evaluated like active "
        "members. Tell the rdscan maintainers, and check the members in the console.",
    ),
    "warn.checkpoint_unwritten": N_(
        "the scan checkpoint %(path)s could not be written (%(problem)s); the scan went on "
        "without it, so an interrupted run of it could not have been resumed"
    ),
    "warn.resumed": N_(
        "resumed scan: this scan continues the interrupted scan %(scan)s (started %(started)s); "
        "%(before)s of the %(total)s members' GetAccount answers are from that run, the listing "
        "and the rest from this one"
    ),
    "warn.nothing_listed": N_("ListAccounts listed no member: nothing was checked"),
    "warn.all_skipped": N_(
        "every member is out of the policy's scope (SKIPPED): nothing was checked"
    ),
    "warn.policy_status": N_(
        "%(where)s: %(what)s: %(value)s is not a documented member status; members with it are "
        "in scope. Documented: %(documented)s"
    ),
    "warn.policy_status_guess": N_(
        "%(where)s: %(what)s: %(value)s is not a documented member status (did you mean "
        "%(guess)s?); members with it are in scope. Documented: %(documented)s"
    ),
    "warn.notify_failed": N_plural(
        "notification to the %(channel)s of %(file)s failed after %(n)s attempt: %(detail)s",
        "notification to the %(channel)s of %(file)s failed after %(n)s attempts: %(detail)s",
    ),
    # ListAccounts problems (report.json scan.listing.problems, and warnings)
    "listing.no_total": N_(
        "ListAccounts answered without a TotalCount: the number of members is unknown"
    ),
    "listing.total_mismatch": N_("ListAccounts reported %(total)s members; %(listed)s were listed"),
    "listing.total_changed": N_(
        "ListAccounts' TotalCount changed between pages of one pass: %(totals)s"
    ),
    "listing.page_empty": N_("ListAccounts page %(page)s came back empty before the last page"),
    "listing.page_short": N_(
        "ListAccounts page %(page)s held %(count)s of %(size)s members before the last page"
    ),
    "listing.more_gaps": N_("... and %(n)s more empty or short pages"),
    "listing.duplicates": N_("ListAccounts listed %(n)s members twice across pages"),
    "listing.without_id": N_("ListAccounts listed %(n)s entries without an AccountId"),
    "listing.no_agreement": N_(
        "no two consecutive ListAccounts passes agreed (%(passes)s passes, %(sizes)s members "
        "each): the scan is incomplete"
    ),
}
PLURAL_BY = {"exempt.expires_in": "days", "warn.unknown_statuses": "n", "warn.notify_failed": "n"}
# What an argument's empty value is shown as (in the report's language).
EMPTY_ARGS = {
    "type": N_("(none)"),
    "status": N_("(none)"),
    "where": N_("the endpoint"),
    "apis": N_("the folder APIs"),
    "file": N_("the exemptions"),
}

_FULL_WIDTH_END = tuple("。：；）")
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


class Text(str):
    """An English text (a warning) that also carries its reason parts: it travels as the
    ``str`` report.json has always held, and ``parts_of`` finds the parts again where the
    scan's evidence is made. A text made another way has none (shown as it is)."""

    parts: tuple[ReasonPart, ...] = ()


def text(*parts: ReasonPart) -> Text:
    """The English text of ``parts``, carrying them."""
    out = Text(english(parts))
    out.parts = tuple(parts)
    return out


def parts_of(value: str) -> tuple[ReasonPart, ...]:
    """The parts a ``Text`` carries; () for any other string."""
    return value.parts if isinstance(value, Text) else ()


def part(key: str, **args: object) -> ReasonPart:
    """A part of ``key`` with its arguments (each turned into text)."""
    if key != DATA and key not in MESSAGES:
        raise KeyError(f"no reason message {key!r}")
    return ReasonPart(key, tuple((k, str(v)) for k, v in args.items()))


def data(text: str) -> ReasonPart:
    """Text shown as it is in every language (an error text the API returned)."""
    return ReasonPart(DATA, (("text", text),))


def join(texts: Iterable[str]) -> str:
    out = ""
    for text in texts:
        if not text:
            continue
        if out and not out.endswith(_FULL_WIDTH_END) and not text.startswith("（"):
            out += " "
        out += text
    return out


def _text(
    p: ReasonPart,
    gettext: Callable[[str], str],
    ngettext: Callable[[str, str, int], str],
) -> str | None:
    args = dict(p.args)
    if p.key == DATA:
        return args.get("text")
    message = MESSAGES.get(p.key)
    if message is None:
        return None
    for name, empty in EMPTY_ARGS.items():
        if name in args and not args[name]:
            args[name] = gettext(empty)
    if isinstance(message, tuple):
        count = args.get(PLURAL_BY[p.key], "")
        n = int(count) if count.lstrip("-").isdigit() else 2
        template = ngettext(message[0], message[1], n)
    else:
        template = gettext(message)
    if set(_PLACEHOLDER.findall(template)) - set(args):
        return None  # an argument is missing: the record's English reason is shown instead
    return template % args


def _english_gettext(message: str) -> str:
    return message


def _english_ngettext(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


def english(parts: Iterable[ReasonPart]) -> str:
    """The English reason of ``parts`` (what report.json's ``reason`` holds)."""
    texts = [_text(p, _english_gettext, _english_ngettext) for p in parts]
    if any(t is None for t in texts):
        raise KeyError("a reason part has an unknown message or lacks an argument")
    return join(t for t in texts if t is not None)


def localize(
    reason: str,
    parts: Iterable[ReasonPart],
    gettext: Callable[[str], str],
    ngettext: Callable[[str, str, int], str],
) -> str:
    """The reason in the catalog's language; ``reason`` (the English record) when there are no
    parts or one of them is not known here."""
    parts = tuple(parts)
    if not parts:
        return reason
    texts = [_text(p, gettext, ngettext) for p in parts]
    if any(t is None for t in texts):
        return reason
    return join(t for t in texts if t is not None)


def localizer(
    gettext: Callable[[str], str], ngettext: Callable[[str, str, int], str]
) -> Callable[[str, Iterable[ReasonPart]], str]:
    """``localize`` bound to one catalog."""
    return lambda reason, parts: localize(reason, parts, gettext, ngettext)


def api_error_parts(err: ApiError) -> tuple[ReasonPart, ...]:
    """The parts of ``str(err)``: the action, the error code, the message (rdscan's own words
    as message ids where the error carries them, else the API's text as data), the HTTP status
    and request id."""
    parts: list[ReasonPart] = []
    if err.action:
        parts.append(part("error.call", action=err.action))
    if err.code:
        parts.append(data(err.code))
    parts += err.message_parts()
    if err.status is not None:
        if err.request_id:
            parts.append(part("error.http_request", status=err.status, request_id=err.request_id))
        else:
            parts.append(part("error.http", status=err.status))
    return tuple(parts)


def localize_warnings(
    warnings: Sequence[str],
    warning_parts: Sequence[tuple[ReasonPart, ...]],
    gettext: Callable[[str], str],
    ngettext: Callable[[str, str, int], str],
) -> list[str]:
    """Each warning in the catalog's language (report.json ``scan.warnings`` and
    ``scan.warning_parts``); the English text when it has no parts, or when the two lists do
    not line up (a file edited by hand)."""
    if len(warning_parts) != len(warnings):
        return list(warnings)
    return [localize(w, p, gettext, ngettext) for w, p in zip(warnings, warning_parts, strict=True)]


def args_of(parts: Iterable[ReasonPart]) -> list[str]:
    """Every argument value of ``parts`` (the data a reason shows)."""
    return [v for p in parts for _, v in p.args]


def message_ids() -> Mapping[str, str | tuple[str, str]]:
    return MESSAGES
