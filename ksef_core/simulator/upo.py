"""UPO (Urzędowe Poświadczenie Odbioru) documents shaped like the UPO v4-3 schema.

The real UPO is XAdES-signed by the Ministry; the simulator's UPO carries no
signature (the schema does not require one).  ``NazwaPodmiotuPrzyjmujacego`` is
the value fixed by the XSD, so every simulator UPO validates against
``upo-v4-3.xsd``.

Inputs are plain dicts (as stored by :mod:`.storage_invoices`):

* ``session``: ``referenceNumber``, ``context`` (``{"type", "value"}``),
  ``auth`` (``{"tokenReference"}`` or ``{"documentHash"}``), ``formCode``;
* each invoice entry: ``sellerNip``, ``ksefNumber``, ``invoiceNumber``,
  ``issueDate`` (ISO date), ``invoicingDate`` and ``acquisitionDate`` (ISO
  date-time), ``invoiceHash``, ``invoicingMode``.
"""

from lxml import etree

from ..hashing import sha256_b64

UPO_NAMESPACE = "http://upo.schematy.mf.gov.pl/KSeF/v4-3"
RECEIVER_NAME = "Ministerstwo Finansów"
#: Most documents in one UPO page (the XSD's ``Dokument maxOccurs``).
MAX_DOCUMENTS_PER_PAGE = 10000

_CONTEXT_ELEMENTS = {
    "Nip": "Nip",
    "InternalId": "IdWewnetrzny",
    "NipVatUe": "IdZlozonyVatUE",
    "PeppolId": "IdDostawcyUslugPeppol",
}
_SCHEMA_NAMES = {
    "FA (3)": "Schemat_FA(3)_v1-0E.xsd",
    "FA (2)": "Schemat_FA(2)_v1-0E.xsd",
    "PEF (3)": "Schemat_PEF(3)_v2-1.xsd",
    "PEF_KOR (3)": "Schemat_PEF_KOR(3)_v2-1.xsd",
    "FA_RR (1)": "Schemat_FA_RR(1)_v1-1E.xsd",
}


def _sub(parent, name, text=None):
    el = etree.SubElement(parent, "{%s}%s" % (UPO_NAMESPACE, name))
    if text is not None:
        el.text = str(text)
    return el


def _header(session):
    root = etree.Element("{%s}Potwierdzenie" % UPO_NAMESPACE, nsmap={None: UPO_NAMESPACE})
    root.set("wersjaSchemy", "4-3")
    _sub(root, "NazwaPodmiotuPrzyjmujacego", RECEIVER_NAME)
    _sub(root, "NumerReferencyjnySesji", session["referenceNumber"])
    auth = _sub(root, "Uwierzytelnienie")
    context = session.get("context") or {}
    ident = _sub(auth, "IdKontekstu")
    _sub(ident, _CONTEXT_ELEMENTS.get(context.get("type"), "Nip"), context.get("value"))
    info = session.get("auth") or {}
    if info.get("tokenReference"):
        _sub(auth, "NumerReferencyjnyTokenaKSeF", info["tokenReference"])
    else:
        digest = info.get("documentHash") or sha256_b64(session["referenceNumber"].encode("ascii"))
        _sub(auth, "SkrotDokumentuUwierzytelniajacego", digest)
    return root


def _form(root, session):
    system_code = (session.get("formCode") or {}).get("systemCode") or "FA (3)"
    _sub(root, "NazwaStrukturyLogicznej", _SCHEMA_NAMES.get(system_code, "Schemat_FA(3)_v1-0E.xsd"))
    _sub(root, "KodFormularza", system_code)


def _document(root, entry):
    doc = _sub(root, "Dokument")
    _sub(doc, "NipSprzedawcy", entry["sellerNip"])
    _sub(doc, "NumerKSeFDokumentu", entry["ksefNumber"])
    _sub(doc, "NumerFaktury", entry["invoiceNumber"])
    _sub(doc, "DataWystawieniaFaktury", entry["issueDate"])
    _sub(doc, "DataPrzeslaniaDokumentu", entry["invoicingDate"])
    _sub(doc, "DataNadaniaNumeruKSeF", entry["acquisitionDate"])
    _sub(doc, "SkrotDokumentu", entry["invoiceHash"])
    _sub(doc, "TrybWysylki", entry.get("invoicingMode") or "Online")


def _serialize(root):
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


def invoice_upo(session, entry):
    """UPO XML (bytes) for one accepted invoice of ``session``."""
    root = _header(session)
    _form(root, session)
    _document(root, entry)
    return _serialize(root)


def session_upo(session, entries, page=1, page_size=MAX_DOCUMENTS_PER_PAGE):
    """UPO XML (bytes) of page ``page`` (1-based) listing the session's accepted ``entries``."""
    entries = list(entries)
    pages = max(1, -(-len(entries) // page_size))
    start = (page - 1) * page_size
    chunk = entries[start : start + page_size]
    root = _header(session)
    if entries:
        desc = _sub(root, "OpisPotwierdzenia")
        _sub(desc, "Strona", page)
        _sub(desc, "LiczbaStron", pages)
        _sub(desc, "ZakresDokumentowOd", start + 1)
        _sub(desc, "ZakresDokumentowDo", start + len(chunk))
        _sub(desc, "CalkowitaLiczbaDokumentow", len(entries))
    _form(root, session)
    for entry in chunk:
        _document(root, entry)
    return _serialize(root)


def page_count(count, page_size=MAX_DOCUMENTS_PER_PAGE):
    """Number of session UPO pages for ``count`` accepted invoices (at least 1)."""
    return max(1, -(-count // page_size))
