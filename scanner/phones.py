"""Phone numbers: parse, validate against the site rule, and mask.

A full number is never logged, printed or stored: everything outside this module handles the
masked form only (``86-139****1234``).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from .errors import RemediationError
from .findings import RemediationOutcome, Result, ScanResult

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


def mask_phone(value: str | None) -> str | None:
    """Mask a phone number for display: keep the country code, 3 leading and 4 trailing digits.

    Values that are already masked (contain ``*``) are kept as they are, unless they still show
    more than 7 digits, in which case they are masked again. Short numbers keep fewer digits.
    """
    if value is None:
        return None
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


def parse_phone(value: str) -> PhoneNumber:
    """Parse ``<country code>-<number>``; raise RemediationError naming the rule that failed."""
    text = (value or "").strip().replace(" ", "")
    if text.startswith("+"):
        text = text[1:]
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

# "86-13900001234" / "+86-13900001234" (country code, dash, 7-20 digits) and bare CN mobile
# numbers ("13900001234") in free text; other long digit runs (account ids) are kept.
_PHONE_IN_TEXT = re.compile(r"(?<![\w*])(\+?\d{1,4}-)?(1[3-9]\d{9}|\d{7,20})(?![\w*])")


def scrub_text(text: str) -> str:
    """Mask anything that looks like a full phone number inside free text (reasons, details)."""
    return _PHONE_IN_TEXT.sub(_mask_match, text) if _SEVEN_DIGITS.search(text) else text


_SEVEN_DIGITS = re.compile(r"\d{7}")  # nothing shorter is masked: most texts skip the sub
_CN_MOBILE = re.compile(r"1[3-9]\d{9}")


def _mask_match(m: re.Match[str]) -> str:
    cc, digits = m.group(1), m.group(2)
    if not cc and not _CN_MOBILE.fullmatch(digits):
        return m.group(0)  # a bare long number (account id, request id): keep it
    return mask_phone((cc or "") + digits) or ""


def _mask_result(r: Result) -> Result:
    """``r`` with its phone masked and its free text scrubbed; ``r`` itself when nothing
    changes (the usual case: a scan is masked where it is built), so masking 50,000 members
    again for the reports copies none of them."""
    phone = mask_phone(r.secure_mobile_phone_masked)
    reason = scrub_text(r.reason)
    ex = r.exemption
    ex_reason = scrub_text(ex.reason) if ex else ""
    if (
        phone == r.secure_mobile_phone_masked
        and reason == r.reason
        and (ex is None or ex_reason == ex.reason)
    ):
        return r
    return dataclasses.replace(
        r,
        secure_mobile_phone_masked=phone,
        reason=reason,
        exemption=dataclasses.replace(ex, reason=ex_reason) if ex else None,
    )


def mask_scan(scan: ScanResult) -> ScanResult:
    """The scan with every phone number masked (again) and free text scrubbed: done once where
    a scan is built (``scan.run_scan``) and once where reports are made (``ReportInput.of``)."""
    return dataclasses.replace(scan, results=tuple(_mask_result(r) for r in scan.results))


def mask_outcome(o: RemediationOutcome) -> RemediationOutcome:
    return dataclasses.replace(
        o, phone_masked=mask_phone(o.phone_masked) or "", detail=scrub_text(o.detail)
    )
