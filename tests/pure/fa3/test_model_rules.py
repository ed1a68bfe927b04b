"""The builder refuses inconsistent models with clerk-readable messages and computes sums correctly."""

from datetime import date
from decimal import Decimal as D

import pytest
from fa3_cases import CASES, base, line
from lxml import etree

from ksef_core.errors import InputError
from ksef_core.fa3 import (
    BucketTotal,
    Fa3ValidationError,
    Line,
    Party,
    build_fa3,
    compute_sums,
    parse_fa3,
    validate_fa3,
)

NS = "{http://crd.gov.pl/wzor/2025/06/25/13775/}"


def _error(inv):
    with pytest.raises(Fa3ValidationError) as exc:
        build_fa3(inv)
    return exc.value


def _fa(data):
    return etree.fromstring(data).find(NS + "Fa")


def test_missing_invoice_number_names_the_field_in_both_languages():
    err = _error(base(number="  ", lines=[line("A", "1", "10", "23")]))
    assert "P_2 (invoice number)" in err.message_en
    assert "P_2 (numer faktury)" in err.message_pl
    assert err.issues[0].path == "Faktura/Fa/P_2"


def test_buyer_nip_with_a_typo_is_refused_naming_the_buyer():
    inv = base(lines=[line("A", "1", "10", "23")])
    inv.buyer.nip = "1111111112"
    err = _error(inv)
    assert "buyer's NIP" in err.message_en and "NIP nabywcy" in err.message_pl
    assert err.issues[0].path == "Faktura/Podmiot2/DaneIdentyfikacyjne/NIP"


def test_seller_without_nip_and_buyer_without_identifier_are_both_reported():
    inv = base(lines=[line("A", "1", "10", "23")])
    inv.seller.nip = None
    inv.buyer = Party(name="Ktoś")
    err = _error(inv)
    paths = [i.path for i in err.issues]
    assert "Faktura/Podmiot1/DaneIdentyfikacyjne/NIP" in paths
    assert "Faktura/Podmiot2/DaneIdentyfikacyjne" in paths
    assert "no identifier" in err.message_en and "nie ma identyfikatora" in err.message_pl


def test_schema_rule_broken_through_the_model_is_explained():
    inv = base(lines=[line("A", "1", "10", "23")], currency="ZZZ")
    err = _error(inv)
    assert err.issues[0].element == "KodWaluty"
    assert "3-letter ISO 4217 currency code" in err.message_en
    assert "trzyliterowy kod waluty" in err.message_pl


def test_too_many_decimals_and_floats_are_refused():
    err = _error(base(lines=[line("A", "1", "10.123456789", "23")]))
    assert "P_9A (net unit price)" in err.message_en and "8 decimal places" in err.message_en
    err = _error(base(lines=[Line(name="A", quantity=D("1"), unit_price=D("10"), net=0.1, rate="23")]))
    assert "never float" in err.message_en and "nigdy float" in err.message_pl


def test_unknown_rate_code_is_refused_with_the_allowed_codes():
    with pytest.raises(InputError) as exc:
        build_fa3(base(lines=[line("A", "1", "10", "0")]))
    assert "0 KR" in exc.value.message_en and "np II" in exc.value.message_pl


def test_rounding_per_line_and_per_rate_give_what_was_booked():
    lines = [line("A", "1", "0.05", "23"), line("B", "1", "0.05", "23"), line("C", "1", "0.05", "23")]
    assert compute_sums(lines, "per_line")["1"].vat == D("0.03")  # 3 x round(0.0115) = 3 x 0.01
    assert compute_sums(lines, "global")["1"].vat == D("0.03")  # round(0.0345) = 0.03
    lines = [line("A", "1", "0.07", "23")] * 3
    assert compute_sums(lines, "per_line")["1"].vat == D("0.06")  # 3 x round(0.0161) = 0.06
    assert compute_sums(lines, "global")["1"].vat == D("0.05")  # round(0.0483) = 0.05
    per_line = _fa(build_fa3(base(lines=list(lines))))
    per_rate = _fa(build_fa3(base(lines=list(lines), rounding="global")))
    assert per_line.findtext(NS + "P_14_1") == "0.06" and per_line.findtext(NS + "P_15") == "0.27"
    assert per_rate.findtext(NS + "P_14_1") == "0.05" and per_rate.findtext(NS + "P_15") == "0.26"


def test_booked_totals_are_accepted_with_either_rounding_and_written_as_booked():
    lines = [line("A", "1", "0.07", "23")] * 3
    for vat in ("0.05", "0.06"):
        inv = base(lines=list(lines), totals={"1": BucketTotal(net=D("0.21"), vat=D(vat))})
        assert _fa(build_fa3(inv)).findtext(NS + "P_14_1") == vat


def test_booked_totals_that_do_not_match_the_lines_are_refused():
    lines = [line("A", "1", "0.07", "23")] * 3
    err = _error(base(lines=list(lines), totals={"1": BucketTotal(net=D("0.21"), vat=D("0.07"))}))
    assert "P_14_1" in err.message_en and "per-rate rounding" in err.message_en
    assert "0.05 or 0.06" in err.issues[0].message_en and "0.05 lub 0.06" in err.issues[0].message_pl
    assert "0.05" not in err.message_en  # amounts stay out of the exception text
    err = _error(base(lines=list(lines), totals={"1": BucketTotal(net=D("0.20"), vat=D("0.05"))}))
    assert "net amount differs" in err.message_en and "0.21" in err.issues[0].message_en
    err = _error(
        base(
            lines=[*list(lines), line("B", "1", "1", "8")],
            totals={"1": BucketTotal(net=D("0.21"), vat=D("0.05"))},
        )
    )
    assert "P_13_2" in err.message_en and "no booked total" in err.message_en


def test_exempt_sales_without_a_legal_basis_are_refused():
    err = _error(base(lines=[line("Ubezpieczenie", "1", "300", "zw")]))
    assert err.issues[0].element == "P_19A"
    assert "exemption basis" in err.message_en and "podstawy zwolnienia" in err.message_pl


def test_margin_lines_need_a_margin_scheme():
    inv = CASES["bucket_margin"]()
    inv.annotations.margin_scheme = None
    err = _error(inv)
    assert "margin" in err.message_en and "marży" in err.message_pl


def test_correction_without_the_corrected_invoice_is_refused():
    inv = CASES["kind_kor_difference"]()
    inv.correction.invoices = []
    err = _error(inv)
    assert "DaneFaKorygowanej" in err.message_en
    assert "faktura korygująca musi wskazać" in err.message_pl


def test_advance_invoice_without_booked_amounts_is_refused():
    inv = CASES["kind_zal"]()
    inv.totals = {}
    err = _error(inv)
    assert "advance or settlement invoice" in err.message_en


def test_reverse_charge_flag_can_be_overridden_by_the_caller():
    inv = CASES["bucket_oo"]()
    inv.annotations.reverse_charge = False
    assert _fa(build_fa3(inv)).findtext(NS + "Adnotacje/" + NS + "P_18") == "2"


def test_split_payment_not_derived_below_15000_pln():
    inv = CASES["split_payment_annex15"]()
    inv.lines[0].quantity = D("5")  # 10 000 net, 12 300 gross
    assert _fa(build_fa3(inv)).findtext(NS + "Adnotacje/" + NS + "P_18A") == "2"


def test_quantities_and_prices_keep_their_precision():
    inv = base(
        lines=[Line(name="Śruba", quantity=D("1.123456"), unit="kg", unit_price=D("0.12345678"), rate="23")]
    )
    fa = _fa(build_fa3(inv))
    row = fa.find(NS + "FaWiersz")
    assert row.findtext(NS + "P_8B") == "1.123456"
    assert row.findtext(NS + "P_9A") == "0.12345678"
    assert row.findtext(NS + "P_11") == "0.14"  # 0.138698... -> 0.14


def test_validate_fa3_reports_every_problem_with_a_human_name():
    data = build_fa3(CASES["bucket_23"]())
    data = data.replace(b"<P_1>2026-02-15</P_1>", b"<P_1>15.02.2026</P_1>").replace(
        b"<KodKraju>PL</KodKraju>", b"<KodKraju>Polska</KodKraju>", 1
    )
    issues = validate_fa3(data)
    by_element = {i.element: i for i in issues}
    assert "issue date" in by_element["P_1"].message_en
    assert "YYYY-MM-DD" in by_element["P_1"].message_en
    assert "data wystawienia" in by_element["P_1"].message_pl
    assert "KodKraju" in by_element


def test_missing_required_element_is_named_not_the_next_one():
    data = build_fa3(CASES["bucket_8"]())
    start = data.index(b"<P_15>")
    end = data.index(b"</P_15>") + len(b"</P_15>")
    issues = validate_fa3(data[:start] + data[end:])
    assert issues[0].element == "P_15"
    assert "total amount due" in issues[0].message_en
    assert "kwota należności ogółem" in issues[0].message_pl


def test_parsed_dates_and_amounts_are_typed():
    inv = parse_fa3(build_fa3(CASES["bucket_23"]()))
    assert inv.issue_date == date(2026, 2, 15)
    assert inv.totals["1"].net == D("1716.54")
    assert isinstance(inv.lines[2].quantity, D)


def test_inline_restrictions_are_explained_by_their_own_limit():
    data = build_fa3(CASES["bucket_23"]()).replace(b"<BDO>000099999</BDO>", b"<BDO>0000999991234</BDO>")
    (issue,) = validate_fa3(data)
    assert issue.element == "BDO"
    assert "at most 9 characters" in issue.message_en
    assert "najwyżej 9 znaków" in issue.message_pl


def test_invoice_without_any_amount_is_refused():
    err = _error(base(lines=[Line(name="Opis bez ceny")]))
    assert err.issues[0].element == "P_15"
    assert "no amounts" in err.message_en and "nie zawiera kwot" in err.message_pl
