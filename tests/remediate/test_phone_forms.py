"""One phone-number parser for every source: the CSV, a member tag and the prompt all accept
the forms people write (``+86 139 0000 1234``), and refuse the same things."""

from __future__ import annotations

import dataclasses

import pytest

from scanner.errors import RemediationError
from scanner.phones import parse_phone
from scanner.remediate import build_plan
from scanner.remediate.phone_sources import PhoneSources, parse_phones_csv

from .conftest import UNBOUND, scan_of

A = UNBOUND[0]


@pytest.mark.parametrize(
    "text",
    [
        "86-13900001234",
        "+86-13900001234",
        "+86 139 0000 1234",
        "+86 139-0000-1234",
        "+86-139-0000-1234",
        "(+86) 139 0000 1234",
        " 86-139 0000 1234 ",
        "86-139.0000.1234",
    ],
)
def test_every_written_form_is_the_same_number(text):
    assert parse_phone(text).wire == "86-13900001234"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "13900001234",
        "+8613900001234",
        "86-",
        "0086-13900001234",
        "８６-13900001234",
        "86-1390000123４",
        "abc-123",
        "+86 abc",
    ],
)
def test_what_is_refused(text):
    with pytest.raises(RemediationError):
        parse_phone(text)


def test_csv_tag_and_prompt_accept_the_same_forms(sample_fixture, scripted):
    text = "+86 139 0000 1234"
    csv_numbers = parse_phones_csv(f"account_id,phone\n{A},{text}\n")
    plan = build_plan(scan_of(sample_fixture, [A]), site="cn", phones=PhoneSources(csv_numbers))
    assert plan.items[0].kind == "bind" and plan.items[0].phone_masked == "86-139****1234"
    scan = scan_of(sample_fixture, [A])
    tagged = dataclasses.replace(scan.results[0], tags=(("phone", text),))
    scan = dataclasses.replace(scan, results=(tagged,))
    plan = build_plan(scan, site="cn", phones=PhoneSources(tag="phone"))
    assert plan.items[0].kind == "bind" and plan.items[0].phone_masked == "86-139****1234"
