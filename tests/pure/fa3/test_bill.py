"""The buyer's view of received FA(3) invoices (ksef_core.fa3.bill): lines, directions, totals."""

from decimal import Decimal as D
from pathlib import Path

import pytest
from fa3_cases import CASES
from lxml import etree

from ksef_core.fa3 import parse_fa3
from ksef_core.fa3.bill import (
    account_key,
    bill_from_invoice,
    exchange_rates,
    lines_carry_amounts,
    party_nips,
    party_tax_ids,
    rate_kind,
    rate_percent,
    split_address,
)
from ksef_core.fa3.buckets import money
from ksef_core.fa3.model import Address

GOLDEN = Path(__file__).resolve().parent / "golden"
#: golden corrections that lower the amount: booked as credit notes (positive amounts)
REFUNDS = {"kind_kor_before_after", "kind_kor_difference", "kind_kor_roz", "kind_kor_zal"}


def _invoice(name):
    return parse_fa3((GOLDEN / ("%s.xml" % name)).read_bytes())


def _draft(name, digits=2):
    return bill_from_invoice(_invoice(name), price_digits=digits)


def _summary(name):
    """``{"P_15": Decimal, "P_13_1": Decimal, ...}`` read straight from the golden file (not via the parser)."""
    root = etree.fromstring((GOLDEN / ("%s.xml" % name)).read_bytes())
    fa = root.find("{*}Fa")
    return {
        etree.QName(child).localname: D(child.text)
        for child in fa
        if isinstance(child.tag, str) and etree.QName(child).localname.startswith(("P_13_", "P_14_", "P_15"))
    }


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_line_reproduces_its_net_and_each_vat_rate_gives_the_booked_net(name):
    draft = _draft(name)
    summary = _summary(name)
    assert draft.refund == (name in REFUNDS)
    direction = -1 if name in REFUNDS else 1
    for line in draft.lines:
        assert money(line.quantity * line.price_unit) == line.net, (name, line)
        assert line.quantity > 0
    assert draft.total == direction * summary["P_15"]
    nets = {field[len("P_13_") :]: amount for field, amount in summary.items() if field.startswith("P_13_")}
    assert {line.bucket for line in draft.lines} <= set(nets), "every line belongs to a booked VAT rate"
    for key, net in nets.items():
        assert sum((line.net for line in draft.bucket_lines(key)), D(0)) == direction * net, (name, key)
        vat = summary.get("P_14_%s" % key)
        if vat is not None:
            assert draft.booked[key].vat == direction * vat, (name, key)
    # the bill (nets + the supplier's VAT per rate) adds up to the amount due
    vats = sum((amount for field, amount in summary.items() if field.startswith("P_14_") and field[-1] != "W"), D(0))
    assert draft.net_total + direction * vats == draft.total


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


def test_gross_price_lines_become_net_prices_giving_the_booked_nets_exactly():
    draft = _draft("gross_prices_global")
    assert all(line.price_unit > 0 for line in draft.lines)
    # P_13_3 = 20.90 in the golden file: VAT extracted once from 21.95 gross (line by line: 20.91)
    assert [line.net for line in draft.bucket_lines("3")] == [D("14.26"), D("6.64")]
    assert [line.net for line in draft.bucket_lines("1")] == [D("14.63")]
    assert draft.net_total == D("35.53")


def test_gross_price_rounding_cent_moves_to_the_last_line_of_its_rate():
    invoice = _invoice("gross_prices_global")
    booked = invoice.totals["1"]
    booked.net += D("0.01")  # the issuer extracted one cent less VAT at 23 %
    booked.vat -= D("0.01")
    draft = bill_from_invoice(invoice)
    assert [line.net for line in draft.bucket_lines("1")] == [D("14.64")]
    for line in draft.lines:
        assert money(line.quantity * line.price_unit) == line.net
    booked.net += D("1.00")  # far more than rounding: the lines stay as the invoice gives them
    assert [line.net for line in bill_from_invoice(invoice).bucket_lines("1")] == [D("14.63")]


def test_simplified_invoice_is_booked_per_vat_rate_with_the_goods_listed():
    invoice = _invoice("kind_upr")
    assert not lines_carry_amounts(invoice)
    draft = bill_from_invoice(invoice)
    assert draft.from_totals and not draft.refund
    (line,) = draft.lines
    assert (line.description, line.rate, line.bucket) == (None, "23", "1")
    assert (line.quantity, line.price_unit, line.net) == (D("1"), D("365.85"), D("365.85"))
    assert draft.booked["1"].vat == D("84.15")
    assert draft.total == D("450.00")
    assert draft.items == ["Wiertarka Wiertex mk5"]


def test_simplified_invoice_with_full_lines_keeps_its_lines():
    invoice = _invoice("bucket_23")
    invoice.kind = "UPR"
    assert lines_carry_amounts(invoice)
    assert not bill_from_invoice(invoice).from_totals
    invoice.lines[0].rate = None  # a simplified invoice line without rate: VAT only per bucket
    assert not lines_carry_amounts(invoice)
    assert bill_from_invoice(invoice).from_totals


def test_foreign_currency_invoice_states_its_exchange_rate_and_vat_in_pln():
    draft = _draft("foreign_currency")
    assert draft.exchange_rate == D("4.2135") and draft.exchange_rates == [D("4.2135")]
    assert (draft.booked["1"].vat, draft.booked["1"].vat_pln) == (D("230.00"), D("969.11"))
    assert (draft.booked["2"].vat, draft.booked["2"].vat_pln) == (D("3.64"), D("15.34"))
    assert _draft("bucket_23").exchange_rate is None


def test_exchange_rates_most_weighty_first_then_advance_rates():
    invoice = _invoice("foreign_currency")
    invoice.lines[1].exchange_rate = D("4.30")  # the small line at another rate
    assert exchange_rates(invoice) == [D("4.2135"), D("4.30")]
    for line in invoice.lines:
        line.exchange_rate = None
    assert exchange_rates(invoice) == []
    invoice.advance_rate = D("4.25")
    assert exchange_rates(invoice) == [D("4.25")]
    invoice.currency = "PLN"
    assert exchange_rates(invoice) == []


def test_account_key_compares_polish_ibans_and_nrb():
    assert account_key("PL61 1090 1014 0000 0712 1981 2874") == "61109010140000071219812874"
    assert account_key("61-1090-1014-0000-0712-1981-2874") == "61109010140000071219812874"
    assert account_key("de89 3704 0044 0532 0130 00") == "DE89370400440532013000"
    assert account_key(None) == ""


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
    # Podmiot2 1111111111 and a Podmiot3 with NIP 7740001454; the other Podmiot3 have no NIP
    assert party_nips(_invoice("annotations_flags")) == {"1111111111", "7740001454"}
    assert party_nips(_invoice("bucket_23")) == {"1111111111"}


def test_party_tax_ids_name_a_foreign_buyer_by_its_eu_vat_number():
    sample = Path(__file__).resolve().parents[2] / "spec" / "samples" / "fa3" / "official-mf" / "FA_3_Przyklad_22.xml"
    invoice = parse_fa3(sample.read_bytes())
    assert party_nips(invoice) == set(), "no Polish NIP on the buyer's side"
    assert "DE999999999" in party_tax_ids(invoice)
    assert party_tax_ids(_invoice("bucket_23")) == {"1111111111"}


def test_bill_lines_keep_the_gtin_and_the_suppliers_code():
    invoice = _invoice("bucket_23")
    codes = [(line.gtin, line.index) for line in bill_from_invoice(invoice).lines]
    assert codes == [(item.gtin, item.index) for item in invoice.lines]
    assert any(gtin for gtin, _index in codes) and any(index for _gtin, index in codes)
