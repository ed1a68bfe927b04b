"""NIP and KSeF-number checks against the official vectors."""

import datetime

import pytest

from ksef_core import ksef_number, nip
from ksef_core.errors import InputError


def test_crc8_standard_check_value():
    assert ksef_number.crc8(b"123456789") == 0xF4


def test_official_ksef_numbers(vectors):
    cases = vectors["ksef_numbers"]
    assert cases, "vectors.json has no KSeF numbers section"
    for case in cases:
        number = case["value"]
        expected = case["valid"]
        assert ksef_number.is_valid_ksef_number(number) is bool(expected), number


def test_make_ksef_number_roundtrip():
    number = ksef_number.make_ksef_number("5265877635", datetime.date(2025, 8, 26), "0100001af629")
    assert number == "5265877635-20250826-0100001AF629-AF"
    assert ksef_number.is_valid_ksef_number(number)
    assert not ksef_number.is_valid_ksef_number(number[:-2] + "AE")


@pytest.mark.parametrize("value", ["5265877635", "PL5265877635", "526-587-76-35", " 526 587 76 35 "])
def test_valid_nip_forms(value):
    assert nip.validate_nip(value) == "5265877635"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "nip_missing"),
        ("12345", "nip_format"),
        ("5265877636", "nip_checksum"),
        ("0000000000", "nip_checksum"),
    ],
)
def test_invalid_nip_messages(value, code):
    with pytest.raises(InputError) as info:
        nip.validate_nip(value)
    assert info.value.code == code
    assert info.value.message_pl != info.value.message_en
