"""Golden FA(3) documents: one per invoice kind and per VAT bucket.

The golden files were reviewed against the xsd:documentation of the FA(3)
schema (bucket fields, Adnotacje, correction data, payment); the model must
keep building exactly these bytes, they must stay schema-valid and reading
them back must give the same bytes again.
"""

from pathlib import Path

import pytest
from fa3_cases import CASES
from lxml import etree

from ksef_core.fa3 import build_fa3, fa3_schema, parse_fa3

GOLDEN = Path(__file__).resolve().parent / "golden"
NS = "{http://crd.gov.pl/wzor/2025/06/25/13775/}"


def test_every_case_has_a_golden_file_and_no_orphans():
    assert sorted(p.stem for p in GOLDEN.glob("*.xml")) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_case_builds_exactly_the_golden_bytes(name):
    assert build_fa3(CASES[name]()) == (GOLDEN / ("%s.xml" % name)).read_bytes()


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_is_valid_against_the_official_xsd(name):
    doc = etree.parse(str(GOLDEN / ("%s.xml" % name)))
    schema = fa3_schema()
    assert schema.validate(doc), schema.error_log


@pytest.mark.parametrize("name", sorted(CASES))
def test_round_trip_build_parse_build_gives_identical_bytes(name):
    first = (GOLDEN / ("%s.xml" % name)).read_bytes()
    assert build_fa3(parse_fa3(first)) == first


def test_output_is_utf8_with_declaration_and_no_bom():
    data = build_fa3(CASES["bucket_oss"]())
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<Faktura ')
    assert not data.startswith(b"\xef\xbb\xbf")
    assert "Hans Müller".encode() in data


def test_same_model_twice_gives_same_bytes_and_creation_time_comes_from_model():
    a = build_fa3(CASES["bucket_23"]())
    b = build_fa3(CASES["bucket_23"]())
    assert a == b
    assert b"<DataWytworzeniaFa>2026-02-15T09:30:00Z</DataWytworzeniaFa>" in a


def _fa(name):
    return etree.fromstring((GOLDEN / ("%s.xml" % name)).read_bytes()).find(NS + "Fa")


@pytest.mark.parametrize(
    ("name", "field", "net"),
    [
        ("bucket_23", "P_13_1", "1716.54"),
        ("bucket_8", "P_13_2", "1226.90"),
        ("bucket_5", "P_13_3", "96.95"),
        ("bucket_4_taxi", "P_13_4", "96.15"),
        ("bucket_oss", "P_13_5", "20.00"),
        ("bucket_0_kr", "P_13_6_1", "300.00"),
        ("bucket_0_wdt", "P_13_6_2", "4000.00"),
        ("bucket_0_ex", "P_13_6_3", "2250.00"),
        ("bucket_zw", "P_13_7", "300.00"),
        ("bucket_np_i", "P_13_8", "10000.00"),
        ("bucket_np_ii", "P_13_9", "6000.00"),
        ("bucket_oo", "P_13_10", "1500.00"),
        ("bucket_margin", "P_13_11", "35000.00"),
    ],
)
def test_each_rate_lands_in_its_own_summary_field(name, field, net):
    assert _fa(name).findtext(NS + field) == net


def test_vat_amounts_per_bucket_are_rounded_half_up():
    fa = _fa("bucket_23")
    # 1626.01 + 40.65 at 23 % (373.98 + 9.35) and 12.5 m x 3.99 = 49.88 at 22 % (10.97)
    assert fa.findtext(NS + "P_14_1") == "394.30"
    assert fa.findtext(NS + "P_15") == "2110.84"


def test_reverse_charge_and_exemption_annotations_follow_the_lines():
    oo = _fa("bucket_oo").find(NS + "Adnotacje")
    assert oo.findtext(NS + "P_18") == "1"
    zw = _fa("bucket_zw").find(NS + "Adnotacje/" + NS + "Zwolnienie")
    assert zw.findtext(NS + "P_19") == "1"
    assert zw.findtext(NS + "P_19A") == "art. 43 ust. 1 pkt 37 ustawy VAT"
    plain = _fa("bucket_8").find(NS + "Adnotacje")
    assert [plain.findtext(NS + t) for t in ("P_16", "P_17", "P_18", "P_18A", "P_23")] == ["2"] * 5


def test_margin_scheme_is_marked_with_its_kind():
    pm = _fa("bucket_margin").find(NS + "Adnotacje/" + NS + "PMarzy")
    assert pm.findtext(NS + "P_PMarzy") == "1"
    assert pm.findtext(NS + "P_PMarzy_3_1") == "1"


def test_correction_with_before_and_after_lines_books_the_difference():
    fa = _fa("kind_kor_before_after")
    assert fa.findtext(NS + "RodzajFaktury") == "KOR"
    assert fa.findtext(NS + "P_13_1") == "-162.60"
    assert fa.findtext(NS + "P_14_1") == "-37.40"
    assert fa.findtext(NS + "P_15") == "-200.00"
    data = fa.find(NS + "DaneFaKorygowanej")
    assert data.findtext(NS + "NrKSeF") == "1"
    assert data.findtext(NS + "NrKSeFFaKorygowanej") == "5265877635-20260210-0100A1B2C3D4-5E"
    rows = fa.findall(NS + "FaWiersz")
    assert [r.findtext(NS + "StanPrzed") for r in rows] == ["1", None]


def test_correction_of_an_invoice_outside_ksef_uses_nrksefn_and_difference_lines():
    fa = _fa("kind_kor_difference")
    data = fa.find(NS + "DaneFaKorygowanej")
    assert data.findtext(NS + "NrKSeFN") == "1"
    assert data.find(NS + "NrKSeFFaKorygowanej") is None
    assert fa.findtext(NS + "P_13_1") == "-160.00"
    assert fa.findtext(NS + "TypKorekty") == "2"


def test_foreign_currency_invoice_gives_vat_in_pln():
    fa = _fa("foreign_currency")
    assert fa.findtext(NS + "KodWaluty") == "EUR"
    # 230.00 EUR x 4.2135 = 969.105 -> 969.11 PLN
    assert fa.findtext(NS + "P_14_1W") == "969.11"
    assert fa.findtext(NS + "FaWiersz/" + NS + "KursWaluty") == "4.2135"


def test_split_payment_is_derived_from_annex_15_goods_over_15000():
    fa = _fa("split_payment_annex15")
    assert fa.findtext(NS + "Adnotacje/" + NS + "P_18A") == "1"
    assert fa.findtext(NS + "Platnosc/" + NS + "IPKSeF") == "123ABCDEFGHIJ"
