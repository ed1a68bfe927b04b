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


def test_exception_titles_are_ascii_and_fit_a_transfer():
    title = pt.exception_title("exempt", "Faktura nr 7/ŁÓDŹ/2026")
    assert title == "Faktura nr 7/LODZ/2026 bez nr KSeF - sprzedawca zwolniony z VAT"
    assert len(pt.exception_title("outage", "X" * 300)) <= pt.MAX_TITLE
    assert all(text.isascii() for text in pt.EXCEPTION_TEXTS.values())


def test_the_rule_starts_on_1_january_2027():
    assert not pt.title_rule_applies(datetime.date(2026, 12, 31))
    assert pt.title_rule_applies(datetime.date(2027, 1, 1))
    assert not pt.title_rule_applies(None)
