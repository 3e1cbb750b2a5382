"""Phone numbers: the site rule cannot be dodged by the digits' form, and a number that fails to
parse is masked in the error (its message reaches the terminal)."""

from __future__ import annotations

import pytest

from scanner.errors import RemediationError
from scanner.phones import mask_phone, validate_phone


@pytest.mark.parametrize(
    "typed",
    [
        "+8613900001234",  # no separator after the country code: where does it end?
        "86139-0000-1234",
        "13900001234-1",
        "8613900001234-",
    ],
)
def test_unparsable_number_is_masked_in_the_error(typed: str) -> None:
    with pytest.raises(RemediationError) as info:
        validate_phone(typed, "cn")
    digits = "".join(ch for ch in info.value.message if ch.isdigit())
    assert "13900001234"[:8] not in digits  # at most 3 leading and 4 trailing digits shown
    assert "0000" not in info.value.message


@pytest.mark.parametrize(
    "value",
    ["86139-0000-1234", "139-0000-1234", "13900001234-5", "86-139-0000-1234"],
)
def test_mask_hides_the_middle_digits(value: str) -> None:
    masked = mask_phone(value) or ""
    assert "0000" not in masked and "****" in masked, masked


def test_mask_keeps_country_code_and_masked_forms() -> None:
    assert mask_phone("86-13900001234") == "86-139****1234"
    assert mask_phone("+86-13900001234") == "+86-139****1234"
    assert mask_phone("86-139****1234") == "86-139****1234"
    assert mask_phone("13900001234") == "139****1234"


@pytest.mark.parametrize(
    "typed",
    [
        "\uff18\uff16-13900001234",  # full-width 86: still a Chinese mainland number
        "\u0668\u0666-13900001234",  # Arabic-Indic 86
        "086-13900001234",  # a leading 0: no country code starts with 0
        "0086-13900001234",  # the international dialling prefix written as a country code
    ],
)
def test_intl_site_rule_not_dodged(typed: str) -> None:
    with pytest.raises(RemediationError):
        validate_phone(typed, "intl")


def test_non_ascii_digits_refused_in_the_number() -> None:
    with pytest.raises(RemediationError, match="not in the form"):
        validate_phone(
            "86-\uff11\uff13\uff19\uff10\uff10\uff10\uff10\uff11\uff12\uff13\uff14", "cn"
        )
    assert validate_phone("+86-139 0000 1234", "cn").wire == "86-13900001234"
    assert validate_phone("44-7700900123", "intl").wire == "44-7700900123"
