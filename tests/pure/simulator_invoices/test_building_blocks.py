"""Building blocks without HTTP: KSeF numbering, archive guard, UPO shapes, invoice checks."""

import datetime as dt
import zipfile
from io import BytesIO

import pytest
from lxml import etree
from siminv_helpers import BUYER_NIP, SPEC, issue_day, sample_bytes

from ksef_core.ksef_number import is_valid_ksef_number
from ksef_core.simulator.inv_archive import ArchiveError, build_archive, read_archive
from ksef_core.simulator.invoice_checks import check_invoice
from ksef_core.simulator.numbering import KsefNumberAllocator
from ksef_core.simulator.upo import invoice_upo, session_upo


def test_allocated_ksef_numbers_are_unique_and_valid():
    used = {}
    allocator = KsefNumberAllocator(used)
    numbers = [allocator.allocate("5265877635", dt.date(2026, 2, 1)) for _ in range(2000)]
    assert len(set(numbers)) == 2000 == len(used)
    assert all(is_valid_ksef_number(n) and n.startswith("5265877635-20260201-") for n in numbers)


def test_archive_reader_does_not_inflate_oversized_members():
    big = BytesIO()
    with zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomb.xml", b"\0" * 5_000_000)
        zf.writestr("ok.xml", b"<a/>")
    members = {m.name: m for m in read_archive(big.getvalue(), "Zip", max_member_bytes=3_000_000)}
    assert members["bomb.xml"].data is None and members["bomb.xml"].size == 5_000_000
    assert members["ok.xml"].data == b"<a/>"
    for kind in ("Zip", "TarGz"):
        files = read_archive(build_archive([("x.xml", b"1"), ("y.xml", b"2")], kind), kind)
        assert [(m.name, m.data) for m in files] == [("x.xml", b"1"), ("y.xml", b"2")]
        with pytest.raises(ArchiveError):
            read_archive(b"garbage", kind)


@pytest.mark.parametrize(
    ("context", "element"),
    [
        ({"type": "InternalId", "value": "5265877635-12345"}, "IdWewnetrzny"),
        ({"type": "Nip", "value": "5265877635"}, "Nip"),
    ],
)
def test_upo_builder_validates_for_context_types(context, element):
    schema = etree.XMLSchema(etree.parse(str(SPEC / "xsd" / "upo" / "upo-v4-3.xsd")))
    session = {
        "referenceNumber": "20260201-SO-0123456789-ABCDEF0123-45",
        "context": context,
        "auth": {"tokenReference": "20260201-EC-0123456789-ABCDEF0123-45"},
        "formCode": {"systemCode": "FA (3)"},
    }
    entry = {
        "sellerNip": "5265877635",
        "ksefNumber": "5265877635-20260201-010080615740-55",
        "invoiceNumber": "FV/1",
        "issueDate": "2026-02-01",
        "invoicingDate": "2026-02-01T10:00:00.000+00:00",
        "acquisitionDate": "2026-02-01T10:00:01.000+00:00",
        "invoiceHash": "mkht+3m5trnfxlTYhq3QFn74LkEO69MFNlsMAkCDSPA=",
        "invoicingMode": "Offline",
    }
    for doc in (
        invoice_upo(session, entry),
        session_upo(session, [entry, dict(entry, ksefNumber=entry["ksefNumber"].replace("55", "56"))]),
    ):
        root = etree.fromstring(doc)
        schema.assertValid(root)
        assert root.find(".//{*}IdKontekstu/{*}%s" % element) is not None
        assert root.findtext(".//{*}NumerReferencyjnyTokenaKSeF") == session["auth"]["tokenReference"]


def test_self_billing_invoice_is_accepted_from_the_buyer_context():
    xml = sample_bytes("FA_3_Przyklad_1.xml")
    self_billed = xml.replace(b"<P_17>2</P_17>", b"<P_17>1</P_17>", 1)
    day = issue_day(xml)
    assert check_invoice(xml, context_nip=BUYER_NIP, acceptance_date=day).code == 410
    assert check_invoice(self_billed, context_nip=BUYER_NIP, acceptance_date=day).code == 200
    assert check_invoice(self_billed, context_nip="5265877635", acceptance_date=day).code == 410


def test_oversized_invoice_is_a_file_error_430():
    xml = sample_bytes("FA_3_Przyklad_1.xml")
    padded = xml.replace(b"</Faktura>", b"<!--" + b"x" * 1_000_000 + b"--></Faktura>")
    result = check_invoice(padded, context_nip="9999999999", acceptance_date=issue_day(xml))
    assert result.code == 430 and "1000000" in result.details[0]
