"""Reverse charge (P_18), the seller's PL prefix and split payment (P_18A): the rate table and the derived values."""

from decimal import Decimal as D

import pytest
from fa3_cases import CASES, base, line
from lxml import etree

from ksef_core.fa3 import BucketTotal, Party, build_fa3, rates
from ksef_core.fa3.totals import derived_annotations

NS = "{http://crd.gov.pl/wzor/2025/06/25/13775/}"


def _annotation(inv, tag):
    return etree.fromstring(build_fa3(inv)).find(NS + "Fa/" + NS + "Adnotacje/" + NS + tag).text


@pytest.mark.parametrize(
    "code, per_tax, expected",
    [
        ("oo", False, True),
        ("np II", False, True),
        ("np I", False, False),
        ("np I", True, True),
        ("23", True, False),
        ("0 WDT", True, False),
        ("0 EX", False, False),
        ("zw", False, False),
        ("", True, False),
    ],
)
def test_the_table_says_when_the_buyer_accounts_for_the_vat(code, per_tax, expected):
    """art. 106e ust. 1 pkt 18: "odwrotne obciążenie" whenever the buyer accounts for the VAT or a similar tax:
    always for domestic reverse charge (oo) and art. 28b services to an EU taxpayer (np II); for a supply
    outside Poland (np I) only when the tax says so; never for a rate the seller charges."""
    assert rates.buyer_accounts(code, per_tax) is expected


def test_only_np_i_leaves_the_choice_to_the_tax():
    """art. 106e ust. 1 pkt 18: only a supply outside Poland depends on the buyer's law."""
    assert [code for code in rates.RATES if not rates.buyer_accounts_is_fixed(code)] == ["np I"]
    assert rates.buyer_accounts_in_bucket("9") and rates.buyer_accounts_in_bucket("10")
    assert not rates.buyer_accounts_in_bucket("8") and not rates.buyer_accounts_in_bucket("1")


def test_the_seller_prefix_follows_art_97_ust_10():
    """art. 97 ust. 10 pkt 2 and 3: intra-EU supply of goods (0 WDT) and art. 28b services to an EU taxpayer
    (np II) carry the seller's PL VAT-UE prefix; domestic sales, exports and supplies outside the EU do not."""
    assert rates.seller_eu_prefix(["23", "np II"])
    assert rates.seller_eu_prefix(["0 WDT"])
    for code in ("23", "0 EX", "np I", "oo", "zw", "oss"):
        assert not rates.seller_eu_prefix([code]), code


@pytest.mark.parametrize(
    "code, tags, scope, name, expected",
    [
        ("np I", ("K_11",), "service", "0% EX S", True),  # l10n_pl vs_ekspu: services outside the EU
        ("np I", ("K_11",), "consu", "0% poza krajem", False),  # goods outside Poland: the seller's business
        ("np I", (), None, "Usługi poza krajem – odwrotne obciążenie", True),
        ("np I", (), None, "np I", False),
        ("np II", ("K_11", "K_12"), "service", "0% EU S", True),
        ("oo", ("K_31",), "consu", "0% Steel", True),
        ("23", ("K_19",), "service", "23%", False),
    ],
)
def test_proposed_buyer_accounts_of_a_tax(code, tags, scope, name, expected):
    """art. 106e ust. 1 pkt 18: the default the tax form proposes (the accountant can change it for np I)."""
    assert rates.propose_buyer_accounts(code, tags, scope, name) is expected


def test_reverse_charge_is_derived_for_eu_services_and_not_for_np_i():
    """art. 106e ust. 1 pkt 18: np II lines (art. 28b services to an EU taxpayer) give P_18=1; an np I line
    alone does not (the caller states it when the buyer accounts for the foreign tax)."""
    assert _annotation(CASES["bucket_np_ii"](), "P_18") == "1"
    np_i = CASES["bucket_np_i"]()
    assert _annotation(np_i, "P_18") == "2"
    np_i.annotations.reverse_charge = True
    assert _annotation(np_i, "P_18") == "1"


def test_reverse_charge_is_derived_from_booked_buckets_without_lines():
    """art. 106e ust. 1 pkt 18: an advance invoice has no lines; its booked P_13_9 amount says it."""
    inv = base(lines=[])
    inv.totals = {"9": BucketTotal(net=D("1000.00"))}
    assert derived_annotations(inv, D("1000.00"))["reverse_charge"] is True
    inv.totals = {"8": BucketTotal(net=D("1000.00"))}
    assert derived_annotations(inv, D("1000.00"))["reverse_charge"] is False


def test_split_payment_is_derived_only_for_a_taxpayer_buyer():
    """art. 108a ust. 1a and art. 106e ust. 1 pkt 18a: "mechanizm podzielonej płatności" only for a supply
    "na rzecz podatnika": a consumer (no NIP, BrakID) never gets P_18A=1, whatever the goods and the amount."""
    inv = CASES["split_payment_annex15"]()  # 24 600 PLN gross of Annex 15 phones to a buyer with a NIP
    assert _annotation(inv, "P_18A") == "1"
    inv.buyer = Party(name="Jan Kowalski", no_id=True)
    assert _annotation(inv, "P_18A") == "2"


def test_split_payment_threshold_is_on_the_pln_amount():
    """art. 108a ust. 1a: 15 000 PLN or its equivalent in a foreign currency (converted as the tax base)."""
    inv = base(lines=[line("Telefon komórkowy", "1", "3000", "23", annex15=True)], currency="EUR")
    inv.exchange_rate = D("4.30")  # 3 690 EUR gross = 15 867 PLN
    assert derived_annotations(inv, D("3690.00"))["split_payment"] is True
    inv.exchange_rate = D("4.00")  # 14 760 PLN
    assert derived_annotations(inv, D("3690.00"))["split_payment"] is False
