"""The one table of VAT rate codes and the codes it proposes for a tax."""

from decimal import Decimal as D

import pytest
from lxml import etree

from ksef_core.fa3 import rates
from ksef_core.fa3.bill import rate_kind as bill_rate_kind
from ksef_core.fa3.buckets import BUCKETS, RATE_TO_BUCKET
from ksef_core.fa3.schema import XSD_DIR


def test_p12_codes_are_exactly_the_schema_enumeration():
    ns = {"xsd": "http://www.w3.org/2001/XMLSchema"}
    values = []
    for path in XSD_DIR.glob("*.xsd"):
        tree = etree.parse(str(path))
        values += tree.xpath("//xsd:simpleType[@name='TStawkaPodatku']//xsd:enumeration/@value", namespaces=ns)
    assert values, "TStawkaPodatku not found in the shipped schema"
    assert sorted(rates.P12_CODES) == sorted(values)


def test_buckets_and_the_import_read_the_same_table():
    assert BUCKETS["1"].rates == ("23", "22")
    assert BUCKETS["6_2"].rates == ("0 WDT",)
    assert RATE_TO_BUCKET["np II"] == "9"
    assert bill_rate_kind("oo") == "reverse_charge" and rates.rate_kind("oo") == "reverse_charge"
    assert rates.get("margin_used_goods").bucket == "11" and rates.get("margin_used_goods").p_12 is None
    assert rates.get("oss").p_12 is None and rates.rate_percent("oss") is None


@pytest.mark.parametrize(
    "tags, expected",
    [
        (("K_19",), "23"),
        (("+K_17",), "8"),
        (("K_21", "Triangular Sale"), "0 WDT"),
        (("K_22",), "0 EX"),
        (("K_11", "K_12"), "np II"),
        (("K_11",), "np I"),
        (("K_10",), "zw"),
        (("K_31",), "oo"),
        (("K_13",), "0 KR"),
    ],
)
def test_polish_chart_sale_tags(tags, expected):
    assert rates.propose_code("sale", "percent", 0, tags=tags) == expected


def test_purchase_taxes():
    assert rates.propose_code("purchase", "percent", 23, tags=("K_42",)) == "23"
    assert rates.propose_code("purchase", "percent", 23, tags=("K_42", "K_31rc")) == "oo"
    assert rates.propose_code("purchase", "percent", 23, tags=("K_42", "K_23")) is None, "intra-EU acquisition"
    assert rates.propose_code("purchase", "percent", 23, self_assessed=True) is None


def test_without_tags_from_rate_and_name():
    assert rates.propose_code("sale", "percent", D("23.0")) == "23"
    assert rates.propose_code("sale", "percent", 0, name="0% Exempt") == "zw"
    assert rates.propose_code("sale", "percent", 0, name="Odwrotne obciążenie") == "oo"
    assert rates.propose_code("sale", "percent", 0) == "0 KR"
    assert rates.propose_code("sale", "percent", 15) is None
    assert rates.propose_code("sale", "fixed", 23) is None
    assert rates.propose_code("none", "percent", 23) is None


def test_selection_labels_keep_the_codes():
    labels = dict(rates.selection())
    assert labels["23"] == "23%"
    assert labels["zw"].startswith("zw")
    assert set(labels) == set(rates.RATES)
