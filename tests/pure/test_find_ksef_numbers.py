"""KSeF numbers and collective identifiers found in bank transfer titles as banks deliver them."""

import datetime

from ksef_core.ksef_number import find_ksef_numbers, make_collective_identifier, make_ksef_number

NUMBER = make_ksef_number("5265877635", datetime.date(2026, 1, 5), "0100001af629")
OTHER = make_ksef_number("5265877635", datetime.date(2026, 1, 6), "0100001af62a")
COLLECTIVE = make_collective_identifier("5265877635", datetime.date(2027, 2, 1), "00000000abcd")


def test_number_as_issued():
    assert find_ksef_numbers("Zaplata za %s" % NUMBER) == ([NUMBER], [])


def test_number_lower_case_split_by_spaces_with_text_around():
    spaced = " ".join(NUMBER.lower().replace("-", ""))  # every character apart
    assert find_ksef_numbers("FV/12/2026 przelew %s dziekuje" % spaced) == ([NUMBER], [])
    glued = "faktura%sfv123" % NUMBER.lower().replace("-", "")
    assert find_ksef_numbers(glued) == ([NUMBER], [])


def test_several_numbers_in_order_once_each():
    assert find_ksef_numbers("%s, %s; %s" % (OTHER, NUMBER, OTHER.lower())) == ([OTHER, NUMBER], [])


def test_wrong_checksum_or_no_number():
    assert find_ksef_numbers(NUMBER[:-2] + "00") == ([], [])
    assert find_ksef_numbers("") == ([], [])
    assert find_ksef_numbers(None) == ([], [])
    assert find_ksef_numbers("FV/2026/01/0005 NIP 5265877635 z dnia 20260105") == ([], [])


def test_collective_identifier():
    title = "zbiorczo %s" % COLLECTIVE.lower().replace("-", " ")
    assert find_ksef_numbers(title) == ([], [COLLECTIVE])
    assert find_ksef_numbers(COLLECTIVE[:-2] + "00") == ([], [])


def test_ksef_1_0_numbers_offered_only_with_legacy():
    """An invoice issued in KSeF 1.0 (before February 2026) has a 36-character number, its technical part split
    by a dash and no published checksum rule: the matching also looks for that form, and only an invoice stored
    with it confirms it."""
    legacy = "5265877635-20250826-0100A1-AF629B-8E"
    title = "Zaplata FV/5/2025 %s" % legacy.lower().replace("-", " ")
    assert find_ksef_numbers(title) == ([], [])
    assert find_ksef_numbers(title, legacy=True) == ([legacy], [])
    # the same digits may be a KSeF 2.0 number and a KSeF 1.0 one (1 in 256 pass both): both forms are looked for
    both = "5265877635-20250826-0100A1-AF0000-32"
    assert find_ksef_numbers(both, legacy=True) == (["5265877635-20250826-0100A1AF0000-32", both], [])
    assert find_ksef_numbers(NUMBER, legacy=True)[0][0] == NUMBER
    # not a number's shape (no date): nothing
    assert find_ksef_numbers("5265877635-20251399-0100A1-AF629B-8E", legacy=True) == ([], [])
