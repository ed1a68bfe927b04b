"""Transfer titles of payments of structured invoices (art. 108g, art. 108a ust. 3 of the VAT Act)."""

import datetime

import pytest

from ksef_core import payment_title as pt

NUMBER = "7680002466-20261201-0100000000B1-5D"


def test_mpp_message_has_the_four_fields_in_order():
    """Art. 108a ust. 3: the VAT amount, the seller's NIP, the invoice (from 2027 its KSeF number), free text."""
    message = pt.mpp_message(230, "PL 768-000-24-66", NUMBER, "FV/7/2026")
    assert message == "/VAT/230,00/IDC/7680002466/INV/%s/TXT/FV-7-2026" % NUMBER
    assert pt.parse_mpp_message(message) == {"VAT": "230,00", "IDC": "7680002466", "INV": NUMBER, "TXT": "FV-7-2026"}
    assert len(message) <= pt.MAX_TITLE


def test_mpp_message_amount_and_limits():
    assert pt.mpp_amount("1234.555") == "1234,56"
    assert pt.mpp_message(0.5, "7680002466", "FV/1") == "/VAT/0,50/IDC/7680002466/INV/FV/1"
    long = pt.mpp_message(1, "7680002466", NUMBER, "Zażółć gęślą jaźń " * 5)
    assert len(pt.parse_mpp_message(long)["TXT"]) <= pt.MPP_MAX_TXT
    assert long.isascii()
    with pytest.raises(ValueError):
        pt.mpp_message(-1, "7680002466", NUMBER)
    with pytest.raises(ValueError):
        pt.mpp_message(1, "", NUMBER)


def test_mpp_message_fields_keep_the_banks_limits():
    """Art. 108a ust. 3 pkt 3: the INV field names the invoice; banks take /VAT/10n,2n/IDC/14x/INV/35x/TXT/33x.

    A KSeF 2.0 number (NIP-YYYYMMDD-XXXXXXXXXXXX-CC) has 35 characters: it fills INV whole. A KSeF 1.0 number
    has 36 (a "-" inside its technical part): it goes without that "-", never cut (a cut number names no
    invoice). A seller's own invoice number longer than the field is cut to 35 characters.
    """
    assert len(NUMBER) == pt.MPP_MAX_INV
    full = pt.mpp_message("9999999999.99", "7680002466", NUMBER, "x" * 50)
    assert pt.parse_mpp_message(full) == {"VAT": "9999999999,99", "IDC": "7680002466", "INV": NUMBER, "TXT": "x" * 33}
    assert len(full) <= pt.MAX_TITLE
    with pytest.raises(ValueError):
        pt.mpp_amount("10000000000.00")  # 11 digits before the comma
    old = "5265877635-20230105-0100A1-F629AB-7C"
    assert len(old) == 36
    assert pt.parse_mpp_message(pt.mpp_message(1, "5265877635", old))["INV"] == "5265877635-20230105-0100A1F629AB-7C"
    own = "FV/2026/12/000123/ODDZIAL-WARSZAWA-POLNOC"
    assert pt.parse_mpp_message(pt.mpp_message(1, "5265877635", own))["INV"] == own[:35]
    assert pt.parse_mpp_message("/VAT/1,00/IDC/5265877635/INV/%s" % ("X" * 36)) is None
    assert pt.parse_mpp_message("/VAT/1.00/IDC/5265877635/INV/FV1") is None  # a comma, not a point


def test_exception_titles_are_ascii_and_fit_a_transfer():
    title = pt.exception_title("exempt", "Faktura nr 7/ŁÓDŹ/2026")
    assert title == "Faktura nr 7/LODZ/2026 bez nr KSeF - sprzedawca zwolniony z VAT"
    assert len(pt.exception_title("outage", "X" * 300)) <= pt.MAX_TITLE
    assert all(text.isascii() for text in pt.EXCEPTION_TEXTS.values())


def test_the_rule_starts_on_1_january_2027():
    assert not pt.title_rule_applies(datetime.date(2026, 12, 31))
    assert pt.title_rule_applies(datetime.date(2027, 1, 1))
    assert not pt.title_rule_applies(None)
