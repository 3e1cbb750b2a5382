"""Phone numbers: parse, validate against the site rule, and mask.

A full number is never logged, printed or stored: everything outside this module handles the
masked form only (``86-139****1234``).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass

from .errors import RemediationError
from .findings import ReasonPart, RemediationOutcome, Result, ScanResult

# ASCII digits only (``\d`` would take full-width or Arabic-Indic digits, and a full-width 86
# would pass the international site rule); no country code starts with 0 (0086 is a dial prefix).
_PHONE_RE = re.compile(r"^([1-9][0-9]{0,3})-([0-9]{4,20})$")
_CC_RE = re.compile(r"^\+?[0-9]{1,4}$")
SITES = ("cn", "intl")


@dataclass(frozen=True)
class PhoneNumber:
    country_code: str
    number: str

    @property
    def wire(self) -> str:
        """The form the API takes: ``<country code>-<number>``."""
        return f"{self.country_code}-{self.number}"

    @property
    def masked(self) -> str:
        return mask_phone(self.wire) or ""

    def __repr__(self) -> str:  # never leak the full number through a repr
        return f"PhoneNumber({self.masked})"

    __str__ = __repr__


# mask_phone's own output (at most 7 digits around the stars): kept as it is, at C speed
_MASKED_FORM_RE = re.compile(r"(?:[1-9][0-9]{0,3}-)?[0-9]{1,3}\*{4}[0-9]{2,4}")


def mask_phone(value: str | None) -> str | None:
    """Mask a phone number for display: keep the country code, 3 leading and 4 trailing digits.

    Values that are already masked (contain ``*``) are kept as they are, unless they still show
    more than 7 digits, in which case they are masked again. Short numbers keep fewer digits.
    """
    if value is None:
        return None
    if isinstance(value, str) and _MASKED_FORM_RE.fullmatch(value):
        return value  # already in the masked form (the usual case when reports are made)
    text = str(value).strip()
    if not text:
        return text
    cc, sep, rest = text.partition("-")
    if not sep or not _CC_RE.match(cc):  # not <country code>-...: mask every digit of it
        cc, rest = "", text
    digits = sum(ch.isdigit() for ch in rest)
    if "*" in rest and digits <= 7:
        return text
    plain = "".join(ch for ch in rest if ch.isdigit())
    if len(plain) >= 9:
        body = plain[:3] + "****" + plain[-4:]
    elif len(plain) >= 5:
        body = plain[:1] + "****" + plain[-2:]
    else:
        body = "****"
    return f"{cc}-{body}" if cc else body


# A run that may be a phone number inside free text: an optional ``+``, an optional ``(cc)``, then
# digits joined by at most one space or dash each. Letters around it do not matter (a tag value
# ``手机13912345678`` or ``tel13912345678`` is still a number).
_PHONE_LIKE_RE = re.compile(r"(?<![\d+])\+?(?:\(\d{1,4}\)[ -]?)?\d(?:[ -]?\d)*(?!\d)")
# seven digits with at most two separator characters between them: nothing less is masked
_SEVEN_DIGITS = re.compile(r"\d(?:[^\d]{0,2}\d){6}")
_ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SPLIT_RE = re.compile(r"[ -]")
# E.164 allows 15 digits; the site rule takes up to 4 + 20. Account ids are 16 digits without a
# separator and are not numbers anyone dials: a bare run of 16 or more digits is kept.
PHONE_MIN_DIGITS = 7
PHONE_MAX_DIGITS = 15
# what a masked number shows around its stars: an optional country code and 1 or 3 leading digits
_MASKED_HEAD_RE = re.compile(r"(?:\+?\d{1,4}-)?\d{1,3}")


def _looks_like_phone(run: str) -> bool:
    digits = sum(ch.isdigit() for ch in run)
    if digits < PHONE_MIN_DIGITS or _ISO_DATE_RE.match(run):
        return False
    if digits <= PHONE_MAX_DIGITS:
        return True
    # a long run: a phone number when it has the <country code>-<number> shape of the site rule
    return bool(_PHONE_RE.match(run.lstrip("+")))


def _masked_part(match: re.Match[str]) -> bool:
    """The run is the visible part of an already masked number (``86-139`` of ``86-139****5678``):
    it touches a ``*`` and shows no more digits than a masked number does."""
    text, start, end = match.string, match.start(), match.end()
    run = match.group(0)
    if end < len(text) and text[end] == "*" and _MASKED_HEAD_RE.fullmatch(run):
        return True  # the head: "86-139", "139", "1" (see mask_phone's bodies)
    digits = sum(ch.isdigit() for ch in run)
    return start > 0 and text[start - 1] == "*" and run.isdigit() and digits <= 4  # the tail


def _mask_run(match: re.Match[str]) -> str:
    run = match.group(0)
    if _masked_part(match):
        return run
    if _looks_like_phone(run):
        return mask_phone(run) or ""
    if sum(ch.isdigit() for ch in run) > PHONE_MAX_DIGITS and _SPLIT_RE.search(run):
        # e.g. "1000000000348436-13912345678": an account id glued to a number
        parts = _SPLIT_RE.split(run)
        seps = _SPLIT_RE.findall(run)
        out = [mask_phone(p) or "" if _looks_like_phone(p) else p for p in parts]
        return "".join(a + b for a, b in zip(out, [*seps, ""], strict=True))
    return run


@functools.lru_cache(maxsize=65536)  # reasons and tags repeat across members: mask each once
def mask_phones_in(text: str) -> str:
    """Mask every phone-shaped value inside free text (tag values, API error messages, CSV cells
    quoted in a warning). This is the one masking rule for text rdscan did not write itself.

    Phone-shaped: 7 to 15 digits, optionally led by ``+`` or ``(cc)`` and split by single
    spaces or dashes (``86-13912345678``, ``+86 139 1234 5678``, ``13912345678``), or the
    ``<country code>-<number>`` shape of the site rule. Kept as they are: ISO dates
    (``2026-11-30``) and account ids (16 bare digits).
    Already masked values (``86-139****5678``) stay unchanged, so masking twice changes nothing.
    """
    if not text or not _SEVEN_DIGITS.search(text):  # the usual case, at C speed
        return text
    return _PHONE_LIKE_RE.sub(_mask_run, text)


_SEPARATORS = re.compile(r"[\s.()\u00a0]+")


def parse_phone(value: str) -> PhoneNumber:
    """The one parser for every source (CSV, member tag, prompt). Accepts
    ``<country code>-<number>`` (the API's form, ``86-13900001234``) and the international
    forms people write, ``+86 139 0000 1234``, ``+86-139-0000-1234``, ``(+86) 13900001234``:
    a ``+`` form's country code ends at the first space or dash, and spaces, dots, brackets and
    the dashes after the country code are dropped from the number. Raises RemediationError
    naming the rule that failed."""
    text = (value or "").strip()
    text = text.replace("(+", "+").replace(")", " ").replace("(", " ").strip()
    if text.startswith("+"):
        head = re.match(r"^\+([0-9]{1,4})[\s\-\u00a0]+(.*)$", text)
        text = f"{head.group(1)}-{head.group(2)}" if head else text[1:]
    cc, sep, rest = text.partition("-")
    if sep:
        text = cc.strip() + "-" + _SEPARATORS.sub("", rest).replace("-", "")
    else:
        text = _SEPARATORS.sub("", text)
    if not text.isascii():
        text = "?"
    m = _PHONE_RE.match(text)
    if not m:
        raise RemediationError(
            f"phone number {mask_phone(text) or '(empty)'!s} is not in the form "
            "<country code>-<number>",
            hint="write it as e.g. 86-13900001234 (a 1-4 digit country code not starting with 0, "
            "a dash, 4-20 digits)",
        )
    return PhoneNumber(country_code=m.group(1), number=m.group(2))


def check_site_rule(phone: PhoneNumber, site: str) -> None:
    """The China site binds only 86- numbers; the international site refuses them."""
    if site == "cn" and phone.country_code != "86":
        raise RemediationError(
            f"phone number {phone.masked} breaks the China-site rule: only Chinese mainland "
            "numbers (86-...) can be bound on the China site",
            hint="give an 86- number, or run with --site intl if the directory is on the "
            "international site",
        )
    if site == "intl" and phone.country_code == "86":
        raise RemediationError(
            f"phone number {phone.masked} breaks the international-site rule: Chinese mainland "
            "numbers (86-...) cannot be bound on the international site",
            hint="give a non-86 number, or run with --site cn if the directory is on the "
            "China site",
        )


def validate_phone(value: str, site: str) -> PhoneNumber:
    phone = parse_phone(value)
    check_site_rule(phone, site)
    return phone


# ---- masking: whatever a scan or a journal holds -------------------------------------------


def scrub_text(text: str) -> str:
    """Mask anything that looks like a full phone number inside free text (reasons, details,
    warnings): the one rule, :func:`mask_phones_in`."""
    return mask_phones_in(text)


@functools.lru_cache(maxsize=4096)  # members share a few reasons
def _scrub_part(p: ReasonPart) -> ReasonPart:
    args = tuple((k, scrub_text(v)) for k, v in p.args)
    return p if args == p.args else ReasonPart(p.key, args)


@functools.lru_cache(maxsize=4096)  # members share a few reasons
def _scrub_parts(parts: tuple[ReasonPart, ...]) -> tuple[ReasonPart, ...]:
    scrubbed = tuple(_scrub_part(p) for p in parts)
    return parts if scrubbed == parts else scrubbed


@functools.lru_cache(maxsize=16384)  # members share a few sets of tags
def _scrub_tags(tags: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    scrubbed = tuple((mask_phones_in(k), mask_phones_in(v)) for k, v in tags)
    return tags if scrubbed == tags else scrubbed


def _mask_result(r: Result) -> Result:
    """``r`` with its phone masked and its free text scrubbed; ``r`` itself when nothing
    changes (the usual case: a scan is masked where it is built), so masking 50,000 members
    again for the reports copies none of them."""
    phone = mask_phone(r.secure_mobile_phone_masked)
    reason = scrub_text(r.reason)
    parts = _scrub_parts(r.reason_parts) if r.reason_parts else r.reason_parts
    display_name = mask_phones_in(r.display_name)
    tags = _scrub_tags(r.tags) if r.tags else r.tags
    ex = r.exemption
    ex_reason = scrub_text(ex.reason) if ex else ""
    if (
        phone == r.secure_mobile_phone_masked
        and reason == r.reason
        and parts == r.reason_parts
        and display_name == r.display_name
        and tags == r.tags
        and (ex is None or ex_reason == ex.reason)
    ):
        return r
    return dataclasses.replace(
        r,
        display_name=display_name,
        tags=tags,
        secure_mobile_phone_masked=phone,
        reason=reason,
        reason_parts=parts,
        exemption=dataclasses.replace(ex, reason=ex_reason) if ex else None,
    )


def mask_scan(scan: ScanResult) -> ScanResult:
    """The scan with every phone number masked (again) and free text scrubbed: done once where
    a scan is built (``scan.run_scan``) and once where reports are made (``ReportInput.of``)."""
    evidence = dataclasses.replace(
        scan.evidence,
        warnings=tuple(mask_phones_in(w) for w in scan.evidence.warnings),
        warning_parts=tuple(tuple(_scrub_part(p) for p in w) for w in scan.evidence.warning_parts),
    )
    if scan.masked_results is not None and scan.masked_results is scan.results:
        results = scan.results  # masked already (a report.json read, then its reports made)
    else:
        results = tuple(_mask_result(r) for r in scan.results)
    return dataclasses.replace(scan, evidence=evidence, results=results, masked_results=results)


def mask_outcome(o: RemediationOutcome) -> RemediationOutcome:
    return dataclasses.replace(
        o, phone_masked=mask_phone(o.phone_masked) or "", detail=scrub_text(o.detail)
    )
