"""Official FA(3) samples (Ministry of Finance + ksef-client template) are read correctly."""

from decimal import Decimal

import pytest

from ksef_core.fa3 import BUCKETS, build_fa3, compute_sums, parse_fa3, validate_fa3

SAMPLE_NAMES = [
    "FA_3_Przyklad_1.xml",
    "FA_3_Przyklad_2.xml",
    "FA_3_Przyklad_9.xml",
    "FA_3_Przyklad_10.xml",
    "FA_3_Przyklad_15.xml",
    "FA_3_Przyklad_22.xml",
]


def _official(spec_dir):
    return sorted((spec_dir / "samples" / "fa3" / "official-mf").glob("*.xml"))


def test_all_bundled_official_samples_are_covered(spec_dir):
    assert sorted(p.name for p in _official(spec_dir)) == sorted(SAMPLE_NAMES)


@pytest.fixture(params=SAMPLE_NAMES)
def sample(request, spec_dir):
    return (spec_dir / "samples" / "fa3" / "official-mf" / request.param).read_bytes()


def test_official_sample_is_valid(sample):
    assert validate_fa3(sample) == []


@pytest.mark.parametrize(
    "name", ["FA_3_Przyklad_1.xml", "FA_3_Przyklad_2.xml", "FA_3_Przyklad_9.xml", "FA_3_Przyklad_22.xml"]
)
def test_line_sums_per_bucket_equal_the_official_summary_fields(spec_dir, name):
    inv = parse_fa3((spec_dir / "samples" / "fa3" / "official-mf" / name).read_bytes())
    per_line = compute_sums(inv.lines, "per_line", inv.prices_gross)
    per_rate = compute_sums(inv.lines, "global", inv.prices_gross)
    assert set(per_line) == set(inv.totals)
    for key, booked in inv.totals.items():
        assert per_line[key].net == booked.net
        if BUCKETS[key].vat_field:
            assert booked.vat in (per_line[key].vat, per_rate[key].vat)


def test_summary_fields_add_up_to_the_total_due(sample):
    inv = parse_fa3(sample)
    gross = sum(t.net + (t.vat or 0) for t in inv.totals.values())
    # P_15 may differ by one grosz per bucket when the issuer rounded the gross total (sample 1: 2051)
    assert abs(gross - inv.total) <= Decimal("0.01") * len(inv.totals)


def test_sample_1_reads_all_business_fields(spec_dir):
    inv = parse_fa3((spec_dir / "samples/fa3/official-mf/FA_3_Przyklad_1.xml").read_bytes())
    assert inv.number == "FV2026/02/150"
    assert inv.kind == "VAT"
    assert inv.seller.nip == "9999999999"
    assert inv.buyer.nip == "1111111111" and not inv.buyer.jst and not inv.buyer.gv
    assert inv.totals["1"].net == Decimal("1666.66") and inv.totals["1"].vat == Decimal("383.33")
    assert inv.total == Decimal("2051")
    assert [line.rate for line in inv.lines] == ["23", "23", "5"]
    assert inv.payment.paid and inv.payment.form == 6
    assert inv.orders == [(inv.orders[0][0], "4354343")]
    assert inv.fp is True


def test_sample_2_correction_reads_original_and_before_lines(spec_dir):
    inv = parse_fa3((spec_dir / "samples/fa3/official-mf/FA_3_Przyklad_2.xml").read_bytes())
    assert inv.kind == "KOR"
    assert inv.correction.type == 3
    assert inv.correction.invoices[0].ksef_number == "9999999999-20230908-8BEF280C8D35-4D"
    assert [line.before for line in inv.lines] == [True, False]
    assert inv.registries[0].bdo == "000099999"


def test_sample_9_exemption_basis_and_period(spec_dir):
    inv = parse_fa3((spec_dir / "samples/fa3/official-mf/FA_3_Przyklad_9.xml").read_bytes())
    assert inv.annotations.exemption_kind == "law"
    assert inv.annotations.exemption_text == "art. 43 ust. 1 pkt 37 ustawy VAT"
    assert inv.period_from.isoformat() == "2026-01-01"
    assert inv.payment.accounts[0].number == "73111111111111111111111111"


def test_sample_10_advance_invoice_order(spec_dir):
    inv = parse_fa3((spec_dir / "samples/fa3/official-mf/FA_3_Przyklad_10.xml").read_bytes())
    assert inv.kind == "ZAL"
    assert inv.order.value == Decimal("375150")
    assert sum(row.net + row.vat for row in inv.order.lines) == Decimal("375150")


def test_rebuilt_sample_is_valid_and_reads_back_to_the_same_model(sample):
    inv = parse_fa3(sample)
    rebuilt = build_fa3(inv)
    assert validate_fa3(rebuilt) == []
    assert parse_fa3(rebuilt) == inv


def test_ksef_client_template_reads_once_placeholders_are_filled(spec_dir):
    path = spec_dir / "samples" / "fa3" / "ksef-client-templates" / "csharp_invoice-template-fa-3.xml"
    raw = path.read_bytes()
    issues = validate_fa3(raw)
    assert issues and issues[0].element == "NIP"  # '#nip#' is a placeholder, not a NIP
    filled = raw.replace(b"#nip#", b"5265877635").replace(b"#invoice_number#", b"0001")
    inv = parse_fa3(filled)
    assert inv.seller.nip == "5265877635"
    assert inv.number.startswith("FA/GRQMB-0001/")
    assert validate_fa3(build_fa3(inv, check_totals=False)) == []
