"""The buyer's view of received FA(3) invoices (ksef_core.fa3.bill): lines, directions, totals."""

from decimal import Decimal as D
from pathlib import Path

import pytest
from fa3_cases import CASES

from ksef_core.fa3 import parse_fa3
from ksef_core.fa3.bill import bill_from_invoice, party_nips, rate_kind, rate_percent, split_address
from ksef_core.fa3.buckets import money
from ksef_core.fa3.model import Address

GOLDEN = Path(__file__).resolve().parent / "golden"


def _draft(name, digits=2):
    return bill_from_invoice(parse_fa3((GOLDEN / ("%s.xml" % name)).read_bytes()), price_digits=digits)


def _booked_net(invoice):
    return sum((D(t.net) for t in invoice.totals.values() if t.net is not None), D(0))


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_line_reproduces_its_net_and_the_lines_give_the_booked_net(name):
    invoice = parse_fa3((GOLDEN / ("%s.xml" % name)).read_bytes())
    draft = bill_from_invoice(invoice)
    direction = -1 if draft.refund else 1
    for line in draft.lines:
        assert money(line.quantity * line.price_unit) == line.net, (name, line)
        assert line.quantity > 0
    assert draft.total == direction * invoice.total
    if invoice.kind not in ("UPR",):
        assert draft.net_total == direction * _booked_net(invoice), name


def test_rate_codes():
    assert rate_percent("23") == D("23") and rate_kind("23") == "percent"
    assert rate_percent("zw") == D("0") and rate_kind("zw") == "exempt"
    assert rate_kind("oo") == "reverse_charge"
    assert rate_kind("np II") == "not_subject"
    assert rate_kind("0 WDT") == "zero"
    assert rate_kind(None) is None and rate_percent("17") is None


def test_plain_invoice_keeps_quantities_and_unit_prices():
    draft = _draft("bucket_8")
    assert not draft.refund and not draft.from_totals
    assert [(line.quantity, line.price_unit, line.rate) for line in draft.lines] == [
        (D("10"), D("120.50"), "8"),
        (D("3"), D("7.30"), "7"),
    ]
    assert draft.due_date.isoformat() == "2026-03-01"


def test_unit_price_with_more_decimals_than_odoo_keeps_the_net_amount():
    draft = _draft("bucket_23", digits=2)
    cable = draft.lines[2]  # 12.5 m x 3.99 = 49.875 -> 49.88
    assert money(cable.quantity * cable.price_unit) == cable.net == D("49.88")


def test_correction_lowering_the_amount_is_a_refund_with_before_and_after_lines():
    draft = _draft("kind_kor_before_after")
    assert draft.refund and draft.correction
    before, after = draft.lines
    assert before.before and before.net == D("1626.01")  # credited back
    assert not after.before and after.net == D("-1463.41")  # charged again
    assert draft.total == D("200.00")


def test_correction_by_difference_is_a_refund_with_positive_quantities():
    draft = _draft("kind_kor_difference")
    assert draft.refund
    (line,) = draft.lines
    assert (line.quantity, line.price_unit, line.net) == (D("2"), D("80.00"), D("160.00"))


def test_advance_invoice_takes_the_booked_totals():
    draft = _draft("kind_zal")
    assert draft.from_totals and not draft.refund
    (line,) = draft.lines
    assert line.description is None and line.bucket == "1" and line.rate == "23"
    assert line.net == D("16260.16") and draft.total == D("20000")


def test_gross_price_lines_become_net_prices():
    invoice = parse_fa3((GOLDEN / "gross_prices_global.xml").read_bytes())
    draft = bill_from_invoice(invoice)
    assert all(line.price_unit > 0 for line in draft.lines)
    assert abs(draft.net_total - _booked_net(invoice)) <= D("0.01") * len(draft.lines)


def test_split_address():
    assert split_address(Address("ul. Kwiatowa 1 m. 2", "00-001 Warszawa")) == {
        "street": "ul. Kwiatowa 1 m. 2",
        "street2": None,
        "zip": "00-001",
        "city": "Warszawa",
        "country": "PL",
    }
    one_line = split_address(Address("ul. Polna 1, 31-000 Kraków"))
    assert (one_line["street"], one_line["zip"], one_line["city"]) == ("ul. Polna 1", "31-000", "Kraków")
    foreign = split_address(Address("Hauptstr. 5", "10115 Berlin", country="DE"))
    assert (foreign["street2"], foreign["zip"], foreign["country"]) == ("10115 Berlin", None, "DE")
    assert split_address(None)["street"] is None


def test_party_nips_include_third_parties():
    invoice = parse_fa3((GOLDEN / "bucket_23.xml").read_bytes())
    assert party_nips(invoice) == {invoice.buyer.nip}
