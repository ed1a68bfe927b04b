"""UPO documents: per invoice and per session, valid against the official UPO v4-3 schema."""

import base64
import hashlib

import pytest
import requests
from lxml import etree
from siminv_helpers import SELLER_NIP, SPEC, issue_day, sample_bytes, set_clock, sha, with_number

NS = {"u": "http://upo.schematy.mf.gov.pl/KSeF/v4-3"}


@pytest.fixture(scope="module")
def upo_schema():
    path = SPEC / "xsd" / "upo" / "upo-v4-3.xsd"
    return etree.XMLSchema(etree.parse(str(path)))


def _check_hash_header(resp):
    assert resp.headers["x-ms-meta-hash"] == base64.b64encode(hashlib.sha256(resp.content).digest()).decode()


def test_invoice_upo_validates_and_names_the_invoice(simulator, seller, upo_schema):
    xml = sample_bytes("FA_3_Przyklad_1.xml")
    set_clock(simulator.sim, issue_day(xml))
    session = seller.open_online()
    status = session.send(xml)
    # 1) the pre-signed URL, without a bearer token
    resp = requests.get(status["upoDownloadUrl"])
    assert resp.status_code == 200, resp.text
    _check_hash_header(resp)
    root = etree.fromstring(resp.content)
    upo_schema.assertValid(root)
    assert root.findtext("u:NumerReferencyjnySesji", namespaces=NS) == session.ref
    assert root.findtext("u:Uwierzytelnienie/u:IdKontekstu/u:Nip", namespaces=NS) == SELLER_NIP
    doc = root.find("u:Dokument", NS)
    assert doc.findtext("u:NumerKSeFDokumentu", namespaces=NS) == status["ksefNumber"]
    assert doc.findtext("u:NumerFaktury", namespaces=NS) == status["invoiceNumber"]
    assert doc.findtext("u:DataWystawieniaFaktury", namespaces=NS) == issue_day(xml).isoformat()
    assert doc.findtext("u:SkrotDokumentu", namespaces=NS) == sha(xml)
    assert doc.findtext("u:TrybWysylki", namespaces=NS) == "Online"
    # 2) the API endpoints (bearer) give the same document
    by_ref = seller.get("/sessions/%s/invoices/%s/upo" % (session.ref, status["referenceNumber"]))
    by_ksef = seller.get("/sessions/%s/invoices/ksef/%s/upo" % (session.ref, status["ksefNumber"]))
    assert by_ref.status_code == by_ksef.status_code == 200
    assert by_ref.content == by_ksef.content == resp.content
    # 3) a tampered signature is refused
    assert requests.get(status["upoDownloadUrl"].replace("sig=", "sig=x")).status_code == 403


def test_session_upo_lists_every_accepted_invoice(simulator, seller, upo_schema):
    xml = sample_bytes("FA_3_Przyklad_1.xml")
    set_clock(simulator.sim, issue_day(xml))
    session = seller.open_online()
    numbers = [session.send(with_number(xml, "S/%d" % n))["ksefNumber"] for n in range(3)]
    session.send(b"\xef\xbb\xbf" + xml)  # refused: not in the UPO
    final = session.close()
    assert (final["successfulInvoiceCount"], final["failedInvoiceCount"]) == (3, 1)
    page = final["upo"]["pages"][0]
    resp = requests.get(page["downloadUrl"])
    assert resp.status_code == 200
    _check_hash_header(resp)
    root = etree.fromstring(resp.content)
    upo_schema.assertValid(root)
    listed = root.xpath("u:Dokument/u:NumerKSeFDokumentu/text()", namespaces=NS)
    assert listed == numbers
    assert root.findtext("u:OpisPotwierdzenia/u:CalkowitaLiczbaDokumentow", namespaces=NS) == "3"
    api = seller.get("/sessions/%s/upo/%s" % (session.ref, page["referenceNumber"]))
    assert api.status_code == 200 and api.content == resp.content


def test_no_upo_for_a_refused_invoice(simulator, seller):
    xml = sample_bytes("FA_3_Przyklad_1.xml")
    set_clock(simulator.sim, issue_day(xml))
    session = seller.open_online()
    status = session.send(b"\xef\xbb\xbf" + xml)
    assert "upoDownloadUrl" not in status
    resp = seller.get("/sessions/%s/invoices/%s/upo" % (session.ref, status["referenceNumber"]))
    assert resp.status_code == 400
    assert resp.json()["exception"]["exceptionDetailList"][0]["exceptionCode"] == 21178
