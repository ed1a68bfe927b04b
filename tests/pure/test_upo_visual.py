"""Readable UPO print (``ksef_core.upo_visual``): official samples, simulator UPOs, safety."""

from pathlib import Path

import pytest
from lxml import etree, html

from ksef_core.errors import InputError, XmlInputError
from ksef_core.simulator.upo import invoice_upo, session_upo
from ksef_core.upo_visual import render_upo_html

ADDON = Path(__file__).resolve().parents[2]
UPO_SAMPLES = sorted((ADDON / "tests" / "spec" / "samples" / "upo").glob("*/*.xml"))
DOC_FIELDS = (
    "NumerKSeFDokumentu",
    "NumerFaktury",
    "NipSprzedawcy",
    "DataWystawieniaFaktury",
    "DataPrzeslaniaDokumentu",
    "DataNadaniaNumeruKSeF",
    "SkrotDokumentu",
    "TrybWysylki",
)


def x(el, path):
    found = el.find("/".join("{*}" + p for p in path.split("/")))
    return found.text.strip() if found is not None and found.text else None


def text_of(el):
    return " ".join(el.text_content().split())


def _section(doc, name):
    found = doc.xpath('.//*[@data-section="%s"]' % name)
    assert len(found) == 1
    return found[0]


def test_the_samples_are_there():
    assert len(UPO_SAMPLES) == 6
    assert {p.name.split("-")[1] for p in UPO_SAMPLES} == {"faktura", "sesja"}


@pytest.mark.parametrize("path", UPO_SAMPLES, ids=lambda p: p.name)
def test_every_sample_shows_session_context_and_each_document(path):
    data = path.read_bytes()
    src = etree.fromstring(data)
    out = render_upo_html(data)
    assert out.startswith('<div class="o_ksef_visual') and out.endswith("</div>")
    doc = html.fragment_fromstring(out)
    assert doc[0].tag == "style"
    header = text_of(_section(doc, "naglowek"))
    assert "Urzędowe Poświadczenie Odbioru" in header
    assert x(src, "NazwaPodmiotuPrzyjmujacego") in header
    session = _section(doc, "sesja")
    assert doc.xpath('.//*[@data-field="session"]')[0].text == x(src, "NumerReferencyjnySesji")
    context = src.find("{*}Uwierzytelnienie/{*}IdKontekstu")[0]
    assert doc.xpath('.//*[@data-field="context"]')[0].text == context.text.strip()
    session_text = text_of(session)
    for field in ("Uwierzytelnienie/SkrotDokumentuUwierzytelniajacego", "Uwierzytelnienie/NumerReferencyjnyTokenaKSeF"):
        if x(src, field):
            assert x(src, field) in session_text
    if src.find("{*}OpisPotwierdzenia") is not None:
        assert x(src, "OpisPotwierdzenia/CalkowitaLiczbaDokumentow") in session_text
        assert "1 z 1" in session_text
    documents = src.findall("{*}Dokument")
    blocks = doc.xpath('.//*[@data-section="dokumenty"]//*[@data-ksef-number]')
    assert [b.get("data-ksef-number") for b in blocks] == [x(d, "NumerKSeFDokumentu") for d in documents]
    for block, source in zip(blocks, documents, strict=True):
        shown = text_of(block)
        for field in DOC_FIELDS:
            assert x(source, field) in shown, field


def _session():
    return {
        "referenceNumber": "20260215-SO-2F3E4D5C6B-7A8B9C0D1E-42",
        "context": {"type": "InternalId", "value": "5265877635-00001"},
        "auth": {"tokenReference": "20260215-EC-1ECDD12000-5EE71AE5E3-B7"},
    }


def _entry(number, ksef):
    return {
        "sellerNip": "5265877635",
        "ksefNumber": ksef,
        "invoiceNumber": number,
        "issueDate": "2026-02-15",
        "invoicingDate": "2026-02-15T10:00:00.123+01:00",
        "acquisitionDate": "2026-02-15T10:00:01.456+01:00",
        "invoiceHash": "GZMGNVzs3krF6URKgvaw77OOeG3nJ+WGziT5xguliQ8=",
        "invoicingMode": "Offline",
    }


def test_simulator_upos_render_and_markup_stays_text():
    evil = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
    entries = [
        _entry(evil, "5265877635-20260215-0100A1B2C3D4-5E"),
        _entry("FV/2026/2", "5265877635-20260215-0200A1B2C3D4-AB"),
    ]
    one = render_upo_html(invoice_upo(_session(), entries[0]))
    many = render_upo_html(session_upo(_session(), entries))
    for out in (one, many):
        doc = html.fragment_fromstring(out)
        assert not {el.tag for el in doc.iter() if isinstance(el.tag, str)} & {"script", "img"}
        assert "<script" not in out and "<img" not in out
        assert evil in doc.text_content()
        assert "Identyfikator wewnętrzny" in text_of(_section(doc, "sesja"))
        assert "20260215-EC-1ECDD12000-5EE71AE5E3-B7" in text_of(_section(doc, "sesja"))
    blocks = html.fragment_fromstring(many).xpath(".//*[@data-ksef-number]")
    assert [b.get("data-ksef-number") for b in blocks] == [e["ksefNumber"] for e in entries]
    assert "Offline" in text_of(blocks[1]) and "FV/2026/2" in text_of(blocks[1])


def test_signed_upo_says_the_signature_is_not_checked_here():
    data = (
        UPO_SAMPLES[0]
        .read_bytes()
        .replace(
            b"</Potwierdzenie>",
            b'<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignatureValue>AAAA'
            b"</ds:SignatureValue></ds:Signature></Potwierdzenie>",
        )
    )
    assert "podpis elektroniczny (XAdES)" in render_upo_html(data)
    assert "XAdES" not in render_upo_html(UPO_SAMPLES[0].read_bytes())


@pytest.mark.parametrize(
    "data, code",
    [
        (b"", "xml_empty"),
        (b"<Potwierdzenie", "xml_malformed"),
        (b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>', "xml_dtd_forbidden"),
        (b'<Faktura xmlns="http://crd.gov.pl/wzor/2025/06/25/13775/"/>', "upo_wrong_root"),
        (b"<Potwierdzenie/>", "upo_wrong_root"),
        ("<Potwierdzenie/>", "upo_not_bytes"),
    ],
)
def test_bad_input_raises_the_bilingual_xml_error(data, code):
    with pytest.raises(XmlInputError) as exc:
        render_upo_html(data)
    assert isinstance(exc.value, InputError) and exc.value.code == code
    assert exc.value.message_en and exc.value.message_pl and exc.value.message_en != exc.value.message_pl
