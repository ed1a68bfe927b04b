"""Readable FA(3) visualization (``ksef_core.fa3.visual``): what a reader must see, safety, KOD I.

Expectations are read from each XML file here, independently of the renderer
(own namespace-agnostic reading, own amount formatting, own bucket names).
"""

import base64
import hashlib
import re
from decimal import Decimal
from pathlib import Path

import pytest
from fa3_cases import CASES
from lxml import etree, html

from ksef_core.errors import InputError
from ksef_core.fa3 import FA2_NAMESPACE, Fa3FormatError, build_fa3
from ksef_core.fa3.model import CorrectedInvoice, Correction, Line
from ksef_core.fa3.visual import render_invoice_html
from ksef_core.fa3.visual_html import pl_amount, pl_number
from ksef_core.qr import kod1_url, qr_matrix

ADDON = Path(__file__).resolve().parents[3]
SAMPLES = sorted((ADDON / "tests" / "spec" / "samples" / "fa3").rglob("*.xml"))
GOLDEN = sorted((ADDON / "tests" / "golden_fa3").glob("*.xml"))
PURE_GOLDEN = sorted((Path(__file__).resolve().parent / "golden").glob("*.xml"))
ALL_FILES = SAMPLES + GOLDEN + PURE_GOLDEN
KSEF_NUMBER = "5265877635-20260210-0100A1B2C3D4-5E"
OFFICIAL = ADDON / "tests" / "spec" / "samples" / "fa3" / "official-mf"

#: bucket key -> words its row must show (own table, not the renderer's)
BUCKET_WORDS = {
    "1": "23%",
    "2": "8%",
    "3": "5%",
    "4": "taksówkowy",
    "5": "OSS",
    "6_1": "0% krajowa",
    "6_2": "0% WDT",
    "6_3": "0% eksport",
    "7": "zwolnione",
    "8": "np I",
    "9": "np II",
    "10": "odwrotne obciążenie",
    "11": "marży",
}
PAYMENT_WORDS = {"1": "Gotówka", "2": "Karta", "3": "Bon", "4": "Czek", "5": "Kredyt", "6": "Przelew", "7": "Mobilna"}


# --------------------------------------------------------------------------- helpers


def _id(path):
    return str(path.relative_to(ADDON))


def x(el, path):
    """Text at ``path`` (local names) under ``el``, namespace-agnostic."""
    found = el.find("/".join("{*}" + p for p in path.split("/"))) if el is not None else None
    return found.text.strip() if found is not None and found.text and found.text.strip() else None


def xs(el, path):
    return list(el.iterfind("/".join("{*}" + p for p in path.split("/")))) if el is not None else []


def polish(amount):
    """Independent formatting: '1234.5' -> '1 234,50'."""
    return f"{Decimal(amount):,.2f}".replace(",", " ").replace(".", ",")


def dom(out):
    return html.fragment_fromstring(out)


def section(doc, name):
    found = doc.xpath('.//*[@data-section="%s"]' % name)
    assert len(found) == 1, "section %s: %d found" % (name, len(found))
    return found[0]


def text_of(el):
    return " ".join(el.text_content().split())


def has_section(doc, name):
    return bool(doc.xpath('.//*[@data-section="%s"]' % name))


# --------------------------------------------------------------------------- every file


def test_the_file_lists_are_complete():
    assert len(SAMPLES) >= 7 and len(GOLDEN) >= 15 and len(PURE_GOLDEN) >= 26


@pytest.mark.parametrize("path", ALL_FILES, ids=_id)
def test_every_invoice_shows_what_a_reader_must_see(path):
    data = path.read_bytes()
    src = etree.fromstring(data)
    out = render_invoice_html(data)
    assert out.startswith('<div class="o_ksef_visual') and out.endswith("</div>")
    doc = dom(out)
    assert doc.tag == "div" and "o_ksef_visual" in doc.get("class")
    assert doc[0].tag == "style" and ".o_ksef_visual" in doc[0].text
    fa = src.find("{*}Fa")
    header = section(doc, "naglowek")
    assert header.xpath('.//*[@data-field="P_2"]')[0].text == x(fa, "P_2")
    assert header.xpath('.//*[@data-field="P_1"]')[0].text == x(fa, "P_1")
    # parties: names and identifiers
    parties = text_of(section(doc, "podmioty"))
    for tag in ("Podmiot1", "Podmiot2"):
        party = src.find("{*}" + tag)
        for field in ("Nazwa", "NIP", "NrVatUE", "NrID"):
            value = x(party, "DaneIdentyfikacyjne/" + field)
            if value:
                assert value in parties, (tag, field)
        if x(party, "DaneIdentyfikacyjne/BrakID") == "1":
            assert "Brak identyfikatora" in parties
    for third in xs(src, "Podmiot3"):
        assert x(third, "DaneIdentyfikacyjne/Nazwa") in parties
    # total
    currency = x(fa, "KodWaluty")
    total = doc.xpath('.//*[@data-field="P_15"]')[0].text
    assert total == "%s %s" % (polish(x(fa, "P_15")), currency)
    # lines: every name, in the line table(s)
    names = [x(w, "P_7") for w in xs(fa, "FaWiersz")]
    if names:
        lines_text = text_of(section(doc, "pozycje"))
        for name in names:
            assert name in lines_text
    # rate buckets present in the XML -> one row each, with the amounts
    summary = section(doc, "podsumowanie")
    keys = set()
    for child in fa:
        match = re.fullmatch(r"P_1[34]_(\d+(?:_\d)?)W?", etree.QName(child).localname)
        if not match:
            continue
        key = match.group(1)
        keys.add(key)
        rows = summary.xpath('.//tr[@data-bucket="%s"]' % key)
        assert len(rows) == 1, key
        row = text_of(rows[0])
        assert BUCKET_WORDS[key] in row
        assert polish(child.text) in row
    assert {row.get("data-bucket") for row in summary.xpath(".//tr[@data-bucket]")} == keys
    assert len(summary.xpath(".//tr[@data-bucket]")) == len(keys)
    # footer, payment, corrected invoices
    if src.find("{*}Stopka") is not None:
        footer = text_of(section(doc, "stopka"))
        for reg in xs(src, "Stopka/Rejestry"):
            for field in ("KRS", "REGON", "BDO", "PelnaNazwa"):
                if x(reg, field):
                    assert x(reg, field) in footer
        for info in xs(src, "Stopka/Informacje"):
            assert " ".join(x(info, "StopkaFaktury").split()) in footer
    pay = fa.find("{*}Platnosc")
    if pay is not None:
        payment = text_of(section(doc, "platnosc"))
        for acc in xs(pay, "RachunekBankowy"):
            assert x(acc, "NrRB") in payment
        for term in xs(pay, "TerminPlatnosci"):
            if x(term, "Termin"):
                assert x(term, "Termin") in payment
        if x(pay, "FormaPlatnosci"):
            assert PAYMENT_WORDS[x(pay, "FormaPlatnosci")] in payment
        if x(pay, "Zaplacono") == "1":
            assert "Zapłacono" in payment and x(pay, "DataZaplaty") in payment
    for cor in xs(fa, "DaneFaKorygowanej"):
        corr = text_of(section(doc, "korekta"))
        assert x(cor, "NrFaKorygowanej") in corr and x(cor, "DataWystFaKorygowanej") in corr
        if x(cor, "NrKSeFFaKorygowanej"):
            assert x(cor, "NrKSeFFaKorygowanej") in corr


@pytest.mark.parametrize("path", ALL_FILES, ids=_id)
def test_sections_follow_the_ministry_order(path):
    order = [
        "naglowek",
        "korekta",
        "podmioty",
        "szczegoly",
        "pozycje",
        "zamowienie",
        "podsumowanie",
        "adnotacje",
        "dodatkowe",
        "rozliczenie",
        "platnosc",
        "warunki",
        "stopka",
        "zalacznik",
        "kod1",
    ]
    doc = dom(render_invoice_html(path.read_bytes()))
    shown = [el.get("data-section") for el in doc.xpath("./*[@data-section]")]
    assert shown == [name for name in order if name in shown]
    assert shown[:2] == ["naglowek", "korekta"] or shown[:2] == ["naglowek", "podmioty"]


# --------------------------------------------------------------------------- kinds, corrections, details


@pytest.mark.parametrize(
    "name, title",
    [
        ("bucket_23", "Faktura podstawowa"),
        ("kind_kor_before_after", "Faktura korygująca"),
        ("kind_zal", "Faktura zaliczkowa"),
        ("kind_roz", "Faktura rozliczeniowa"),
        ("kind_upr", "Faktura uproszczona"),
        ("kind_kor_zal", "Faktura korygująca fakturę zaliczkową"),
        ("kind_kor_roz", "Faktura korygująca fakturę rozliczeniową"),
    ],
)
def test_invoice_kind_is_named_in_the_header(name, title):
    doc = dom(render_invoice_html(build_fa3(CASES[name]())))
    assert doc.xpath('.//*[@data-field="RodzajFaktury"]')[0].text == title


def test_official_correction_shows_lines_before_and_after_and_the_corrected_invoice():
    doc = dom(render_invoice_html((OFFICIAL / "FA_3_Przyklad_2.xml").read_bytes()))
    lines = section(doc, "pozycje")
    headings = [h.text for h in lines.iter("h3")]
    assert headings == ["Przed korektą", "Po korekcie"]
    before = lines.xpath('.//table[@data-lines="before"]')
    after = lines.xpath('.//table[@data-lines="after"]')
    assert len(before) == 1 and len(after) == 1 and not lines.xpath('.//table[@data-lines="all"]')
    assert "1 626,01" in text_of(before[0]) and "1 463,41" not in text_of(before[0])
    assert "1 463,41" in text_of(after[0]) and "1 626,01" not in text_of(after[0])
    assert "lodówka Zimnotech mk1" in text_of(before[0]) and "lodówka Zimnotech mk1" in text_of(after[0])
    corr = text_of(section(doc, "korekta"))
    for expected in (
        "FV2026/02/150",
        "2026-02-15",
        "9999999999-20230908-8BEF280C8D35-4D",
        "obniżka ceny o 200 zł z uwagi na uszkodzenia estetyczne",
        "Korekta skutkująca w dacie innej",
    ):
        assert expected in corr
    assert "Korekta kwoty należności ogółem: -200,00 PLN" in text_of(section(doc, "podsumowanie"))


def test_correction_without_state_before_has_one_line_table_and_outside_ksef_original():
    inv = CASES["kind_kor_difference"]()
    inv.correction = Correction(
        invoices=[CorrectedInvoice(inv.issue_date, "FV/PAPIER/1", None)], reason="rabat", type=2
    )
    doc = dom(render_invoice_html(build_fa3(inv)))
    lines = section(doc, "pozycje")
    assert len(lines.xpath('.//table[@data-lines="all"]')) == 1 and not lines.xpath(".//h3")
    corr = text_of(section(doc, "korekta"))
    assert "FV/PAPIER/1" in corr and "faktura wystawiona poza KSeF" in corr
    assert "Korekta skutkująca w dacie wystawienia faktury korygującej" in corr


def test_annotations_exemption_margin_split_payment_and_vehicles():
    flags = text_of(section(dom(render_invoice_html(build_fa3(CASES["annotations_flags"]()))), "adnotacje"))
    for label in ("Metoda kasowa", "Samofakturowanie", "Mechanizm podzielonej płatności"):
        assert label in flags
    assert "Odwrotne obciążenie" not in flags and "trójstronna" not in flags
    zw_xml = build_fa3(CASES["bucket_zw"]())
    basis = x(etree.fromstring(zw_xml).find("{*}Fa"), "Adnotacje/Zwolnienie/P_19A")
    zw = text_of(section(dom(render_invoice_html(zw_xml)), "adnotacje"))
    assert basis and basis in zw and "zwolnionych od podatku" in zw
    margin = text_of(section(dom(render_invoice_html(build_fa3(CASES["bucket_margin"]()))), "adnotacje"))
    assert "Procedura marży" in margin and "towary używane" in margin
    vehicle = text_of(section(dom(render_invoice_html(build_fa3(CASES["new_vehicle"]()))), "adnotacje"))
    assert "nowych środków transportu" in vehicle and "Data dopuszczenia do użytku" in vehicle
    plain = dom(render_invoice_html(build_fa3(CASES["bucket_8"]())))
    assert not has_section(plain, "adnotacje")


def test_details_payment_settlement_and_terms():
    doc = dom(render_invoice_html((ADDON / "tests" / "golden_fa3" / "partly_paid.xml").read_bytes()))
    payment = text_of(section(doc, "platnosc"))
    assert "Zapłacono w części" in payment and "500,00 PLN" in payment and "2026-11-21" in payment
    doc = dom(render_invoice_html(build_fa3(CASES["annotations_flags"]())))
    payment = text_of(section(doc, "platnosc"))
    assert "Gotówka" in payment and "Płatność inna: kompensata" in payment
    assert "zapłata w 7 dni" in payment and "Skonto" in payment
    eur = dom(render_invoice_html(build_fa3(CASES["foreign_currency"]())))
    details = text_of(section(eur, "szczegoly"))
    assert "EUR" in details and "Kurs waluty" in details
    assert "Kwota podatku PLN" in text_of(section(eur, "podsumowanie"))
    gv = build_fa3(CASES["gv_buyer_vat_group"]())
    settlement = text_of(section(dom(render_invoice_html(gv)), "rozliczenie"))
    for reason in xs(etree.fromstring(gv), "Fa/Rozliczenie/Obciazenia"):
        assert x(reason, "Powod") in settlement and polish(x(reason, "Kwota")) in settlement
    assert "Do zapłaty" in settlement or "Do rozliczenia" in settlement
    terms = text_of(section(dom(render_invoice_html(build_fa3(CASES["bucket_23"]()))), "warunki"))
    assert "ZAM-4354343" in terms and "2026-02-01" in terms
    zal = dom(render_invoice_html(build_fa3(CASES["kind_zal"]())))
    order = text_of(section(zal, "zamowienie"))
    assert "Wartość zamówienia" in order
    for item in CASES["kind_zal"]().order.lines:
        assert item.name in order


def test_amounts_are_formatted_polish_style():
    assert pl_amount("1234.56") == "1 234,56"
    assert pl_amount("-200") == "-200,00"
    assert pl_amount("1234567.5") == "1 234 567,50"
    assert pl_amount("0.12345678") == "0,12345678"
    assert pl_number("2.500000") == "2,5"
    assert pl_number("4.2345") == "4,2345"
    assert pl_amount("not a number") == "not a number"
    doc = dom(render_invoice_html(build_fa3(CASES["bucket_23"]())))
    lines = text_of(section(doc, "pozycje"))
    assert "1 626,01" in lines and "12,5" in lines and "GTU_07" in lines


# --------------------------------------------------------------------------- hostile content

HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "</style><script>alert(2)</script>",
    "A &amp; B <b>bold</b> 'q'",
]


def _hostile_invoice():
    inv = CASES["bucket_23"]()
    inv.number = HOSTILE[0]
    inv.place_of_issue = HOSTILE[1]
    inv.seller.name = HOSTILE[0]
    inv.seller.address.line1 = HOSTILE[1]
    inv.seller.address.line2 = HOSTILE[2]
    inv.buyer.name = HOSTILE[1]
    inv.buyer.address.line1 = HOSTILE[3]
    inv.lines[0].name = HOSTILE[0]
    inv.lines[1].name = HOSTILE[1]
    inv.lines[2].name = HOSTILE[3]
    inv.lines[0].index = HOSTILE[2]
    inv.footer = [HOSTILE[0], HOSTILE[3]]
    inv.additional_info = [(None, HOSTILE[1], HOSTILE[2])]
    inv.payment.accounts[0].description = HOSTILE[0]
    inv.system_info = HOSTILE[1]
    return build_fa3(inv)


def _assert_inert(out, expected_texts):
    doc = dom(out)
    tags = {el.tag for el in doc.iter() if isinstance(el.tag, str)}
    assert not tags & {"script", "img", "iframe", "object", "embed", "b"}, tags
    for el in doc.iter():
        if isinstance(el.tag, str):
            assert not [a for a in el.attrib if a.lower().startswith("on")]
            assert "javascript:" not in (el.get("href") or "")
    lowered = out.lower()
    assert "<script" not in lowered and "<img" not in lowered
    assert lowered.count("</style>") == 1
    content = doc.text_content()
    for text in expected_texts:
        assert text in content


def test_markup_in_every_text_comes_out_as_escaped_text():
    out = render_invoice_html(_hostile_invoice(), ksef_number=KSEF_NUMBER, environment="TEST")
    _assert_inert(out, HOSTILE)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "&amp;amp;" in out  # the literal "&amp;" of the invoice, escaped once more
    doc = dom(out)
    assert doc.xpath('.//*[@data-field="P_2"]')[0].text == HOSTILE[0]
    footer = [p.text for p in section(doc, "stopka").xpath('.//*[@data-field="StopkaFaktury"]')]
    assert footer == [HOSTILE[0], HOSTILE[3]]


def test_foreign_elements_and_cdata_in_the_invoice_stay_text():
    data = build_fa3(CASES["bucket_23"]())
    data = data.replace(b"<P_7>Wniesienie", b"<P_7><![CDATA[<script>alert(5)</script>]]>Wniesienie")
    data = data.replace(
        b"<WarunkiTransakcji>",
        b"<WarunkiTransakcji><Transport><script>alert(3)</script>"
        b"<OpisLadunku>&lt;img src=x onerror=alert(4)&gt;</OpisLadunku></Transport>",
    )
    assert data.count(b"alert(") == 3
    out = render_invoice_html(data)
    _assert_inert(out, ["<script>alert(5)</script>Wniesienie", "<img src=x onerror=alert(4)>", "alert(3)"])


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "data, code",
    [
        (b"", "xml_empty"),
        (b"not xml at all", "xml_malformed"),
        (b"<Faktura><Fa>", "xml_malformed"),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>', "xml_dtd_forbidden"),
        (b'<Faktura xmlns="%s"/>' % FA2_NAMESPACE.encode(), "fa3_is_fa2"),
        (b'<Potwierdzenie xmlns="http://upo.schematy.mf.gov.pl/KSeF/v4-3"/>', "fa3_wrong_namespace"),
        (b"<x>" + b"a" * (3 * 1000 * 1000) + b"</x>", "xml_too_large"),
        ("<Faktura/>", "fa3_not_bytes"),
        (None, "fa3_not_bytes"),
    ],
)
def test_bad_input_raises_the_bilingual_input_error(data, code):
    with pytest.raises(Fa3FormatError) as exc:
        render_invoice_html(data)
    assert isinstance(exc.value, InputError)
    assert exc.value.code == code
    assert exc.value.message_en and exc.value.message_pl and exc.value.message_en != exc.value.message_pl


# --------------------------------------------------------------------------- KOD I


def _decode_svg(svg):
    """Dark modules drawn by the SVG path (``M x y h w v1 h-w z`` runs)."""
    path = svg.xpath(".//path")[0]
    dark = set()
    for col, row, width in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", path.get("d")):
        for dx in range(int(width)):
            dark.add((int(col) + dx, int(row)))
    return dark


def _expected_url(data, host):
    src = etree.fromstring(data)
    nip = x(src, "Podmiot1/DaneIdentyfikacyjne/NIP")
    year, month, day = x(src, "Fa/P_1").split("-")
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "https://%s/invoice/%s/%s-%s-%s/%s" % (host, nip, day, month, year, digest)


@pytest.mark.parametrize("path", [p for p in ALL_FILES if "template" not in p.name], ids=_id)
def test_kod1_encodes_the_url_of_the_exact_file_and_prints_the_ksef_number(path):
    data = path.read_bytes()
    expected = _expected_url(data, "qr-test.ksef.mf.gov.pl")
    assert expected == kod1_url(
        "TEST", x(etree.fromstring(data), "Podmiot1/DaneIdentyfikacyjne/NIP"), x(etree.fromstring(data), "Fa/P_1"), data
    )
    doc = dom(render_invoice_html(data, ksef_number=KSEF_NUMBER, environment="TEST"))
    qr = section(doc, "kod1").xpath('.//*[@class="o_ksef_qr"]')[0]
    assert qr.get("data-kod1-url") == expected
    svg = qr.find("svg")
    wanted = {(c, r) for r, row in enumerate(qr_matrix(expected)) for c, dark in enumerate(row) if dark}
    assert _decode_svg(svg) == wanted
    assert [t.text for t in svg.iter("text")] == [KSEF_NUMBER]
    assert section(doc, "kod1").xpath(".//a")[0].get("href") == expected
    assert doc.xpath('.//*[@data-field="ksef_number"]')[0].text == KSEF_NUMBER


def test_kod1_follows_the_bytes_environment_and_offline_label():
    data = (OFFICIAL / "FA_3_Przyklad_1.xml").read_bytes()
    changed = data + b"\n"
    qr_of = lambda doc: section(doc, "kod1").xpath('.//*[@class="o_ksef_qr"]')[0]  # noqa: E731
    first = qr_of(dom(render_invoice_html(data, environment="TEST"))).get("data-kod1-url")
    second = qr_of(dom(render_invoice_html(changed, environment="TEST"))).get("data-kod1-url")
    assert first != second and second == _expected_url(changed, "qr-test.ksef.mf.gov.pl")
    prod = dom(render_invoice_html(data, environment="PROD"))
    assert qr_of(prod).get("data-kod1-url") == _expected_url(data, "qr.ksef.mf.gov.pl")
    offline = dom(render_invoice_html(data, environment="TEST"))
    assert [t.text for t in qr_of(offline).iter("text")] == ["OFFLINE"]
    assert not offline.xpath('.//*[@data-field="ksef_number"]')
    no_env = dom(render_invoice_html(data, ksef_number=KSEF_NUMBER))
    assert not has_section(no_env, "kod1") and not no_env.xpath(".//svg")
    assert no_env.xpath('.//*[@data-field="ksef_number"]')[0].text == KSEF_NUMBER


def test_kod1_needs_a_real_seller_nip():
    template = next(p for p in SAMPLES if "template" in p.name).read_bytes()
    assert render_invoice_html(template)
    with pytest.raises(InputError) as exc:
        render_invoice_html(template, environment="TEST")
    assert exc.value.code == "qr_nip_invalid" and exc.value.message_pl


def test_title_is_printed_and_escaped():
    doc = dom(render_invoice_html(build_fa3(CASES["bucket_8"]()), title="Duplikat <i>x</i>\x00"))
    assert [h.text for h in section(doc, "naglowek").iter("h1")] == ["Duplikat <i>x</i>"]
    assert not doc.xpath(".//i")


def test_gross_price_lines_show_gross_columns():
    inv = CASES["gross_prices_global"]()
    assert all(isinstance(line, Line) for line in inv.lines)
    lines = section(dom(render_invoice_html(build_fa3(inv))), "pozycje")
    headers = [th.text for th in lines.iter("th")]
    assert "Cena jedn. brutto" in headers and "Cena jedn. netto" not in headers
