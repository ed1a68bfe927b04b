"""Readable print of a KSeF UPO (Urzędowe Poświadczenie Odbioru) as a safe HTML fragment.

Works for the UPO of one invoice and for the collective UPO of a session
(schema ``upo.schematy.mf.gov.pl/KSeF/v4-x``): receiving entity, session
reference number, authentication context, page range and, per document, the
KSeF number, invoice number, seller NIP, issue date, dates of sending and of
the KSeF number, the document hash and the sending mode.

The UPO is parsed with :func:`ksef_core.xmlsafe.parse_xml` (no entities, no
DTD, no network, size limit) and the HTML is built with lxml elements, so every
text is escaped.  Same scoped style as the invoice visualization
(:mod:`ksef_core.fa3.visual`), printable by wkhtmltopdf 0.12.
"""

from lxml import etree

from .errors import XmlInputError
from .fa3.visual_html import KeyValues, columns, element, new_root, section, serialize
from .xmlsafe import parse_xml

#: Namespaces of KSeF 2.0 UPO documents start with this (``.../v4-2``, ``.../v4-3``).
UPO_NAMESPACE_PREFIX = "http://upo.schematy.mf.gov.pl/KSeF/"
#: A session UPO lists up to 10 000 documents per page (plus the Ministry's signature).
MAX_UPO_BYTES = 20 * 1000 * 1000

TITLE = "Urzędowe Poświadczenie Odbioru"
SUBTITLE = "dokumentu elektronicznego KSeF"
REGISTERED = "Dokument został zarejestrowany w systemie teleinformatycznym Ministerstwa Finansów"

#: ``IdKontekstu`` child -> Polish name of the context type.
CONTEXT_TYPES = {
    "Nip": "NIP",
    "IdWewnetrzny": "Identyfikator wewnętrzny",
    "IdZlozonyVatUE": "Identyfikator złożony (NIP i numer VAT UE)",
    "IdDostawcyUslugPeppol": "Identyfikator dostawcy usług Peppol",
}
#: ``Dokument`` fields: (element, label), in the columns of the document table.
DOCUMENT_COLUMNS = (
    (("NumerKSeFDokumentu", "Numer KSeF"), ("NumerFaktury", "Numer faktury")),
    (("NipSprzedawcy", "NIP sprzedawcy"), ("DataWystawieniaFaktury", "Data wystawienia faktury")),
    (("DataPrzeslaniaDokumentu", "Data przesłania do KSeF"), ("DataNadaniaNumeruKSeF", "Data nadania numeru KSeF")),
    (("SkrotDokumentu", "Skrót dokumentu (SHA-256)"), ("TrybWysylki", "Tryb wysyłki")),
)
_KNOWN = {tag for pair in DOCUMENT_COLUMNS for tag, _label in pair}
_DS = "http://www.w3.org/2000/09/xmldsig#"


def _child(el, path):
    for part in path.split("/"):
        if el is None:
            return None
        el = el.find("{*}" + part)
    return el


def _txt(el, path=None):
    target = el if path is None else _child(el, path)
    if target is None or target.text is None:
        return None
    return target.text.strip() or None


def _local(el):
    return etree.QName(el).localname


def load_upo_root(upo_bytes):
    """Safely parse a UPO and check its root; raise :class:`XmlInputError` (PL/EN) otherwise."""
    if not isinstance(upo_bytes, (bytes, bytearray)):
        raise XmlInputError(
            "Give the UPO file content (bytes), not %s." % type(upo_bytes).__name__,
            "Podaj zawartość pliku UPO (bajty), a nie %s." % type(upo_bytes).__name__,
            code="upo_not_bytes",
        )
    root = parse_xml(bytes(upo_bytes), max_bytes=MAX_UPO_BYTES, what_en="UPO file", what_pl="plik UPO")
    qn = etree.QName(root)
    if qn.localname != "Potwierdzenie" or not (qn.namespace or "").startswith(UPO_NAMESPACE_PREFIX):
        raise XmlInputError(
            "The file is not a KSeF UPO: its root element is '%s' in namespace '%s', expected "
            "'Potwierdzenie' in '%s…'." % (qn.localname, qn.namespace or "-", UPO_NAMESPACE_PREFIX),
            "Plik nie jest UPO KSeF: element główny to '%s' w przestrzeni nazw '%s', oczekiwano "
            "'Potwierdzenie' w '%s…'." % (qn.localname, qn.namespace or "-", UPO_NAMESPACE_PREFIX),
            code="upo_wrong_root",
        )
    return root


def render_upo_html(upo_bytes):
    """HTML fragment (``str``) printing the UPO ``upo_bytes`` (per-invoice or session UPO).

    :raises XmlInputError: unsafe, too large, malformed, or not a KSeF UPO.
    """
    root = load_upo_root(upo_bytes)
    out = new_root("o_ksef_upo")
    _header(out, root)
    _session(out, root)
    _documents(out, root)
    return serialize(out)


def _header(out, root):
    box = element(out, "div", cls="o_ksef_header", data_section="naglowek")
    left, right = columns(box)
    brand = element(left, "div", "Krajowy System ", cls="o_ksef_brand")
    element(brand, "span", "e", cls="o_ksef_brand_e").tail = "-Faktur"
    element(left, "h1", TITLE)
    element(left, "div", SUBTITLE)
    right.set("class", "o_ksef_right")
    kv = KeyValues(right)
    kv.add("Podmiot przyjmujący dokument", _txt(root, "NazwaPodmiotuPrzyjmujacego"), data_field="issuer")
    kv.add("Informacja o dokumencie", REGISTERED)


def _session(out, root):
    box = section(out, "sesja", "Dane sesji i uwierzytelnienia")
    kv = KeyValues(box)
    kv.add("Numer referencyjny sesji", _txt(root, "NumerReferencyjnySesji"), data_field="session")
    desc = _child(root, "OpisPotwierdzenia")
    if desc is not None:
        page, pages = _txt(desc, "Strona"), _txt(desc, "LiczbaStron")
        kv.add("Strona dokumentu UPO", "%s z %s" % (page, pages) if page and pages else page or pages)
        start, end = _txt(desc, "ZakresDokumentowOd"), _txt(desc, "ZakresDokumentowDo")
        kv.add("Zakres dokumentów", " ".join("%s %s" % p for p in (("od", start), ("do", end)) if p[1]))
        kv.add("Całkowita liczba dokumentów", _txt(desc, "CalkowitaLiczbaDokumentow"))
    context = _child(root, "Uwierzytelnienie/IdKontekstu")
    for ident in context if context is not None else ():
        if isinstance(ident.tag, str):
            kv.add("Typ kontekstu", CONTEXT_TYPES.get(_local(ident), _local(ident)))
            kv.add("Identyfikator kontekstu uwierzytelnienia", _txt(ident), data_field="context")
    auth = _child(root, "Uwierzytelnienie")
    kv.add("Numer referencyjny tokena KSeF", _txt(auth, "NumerReferencyjnyTokenaKSeF"))
    kv.add("Skrót dokumentu uwierzytelniającego", _txt(auth, "SkrotDokumentuUwierzytelniajacego"), cls="o_ksef_wrap")
    kv.add("Nazwa pliku XSD struktury logicznej", _txt(root, "NazwaStrukturyLogicznej"))
    kv.add("Kod formularza", _txt(root, "KodFormularza"))
    kv.add("Wersja schematu UPO", root.get("wersjaSchemy"))
    if root.find("{%s}Signature" % _DS) is not None:
        kv.add("Podpis", "UPO zawiera podpis elektroniczny (XAdES); ten wydruk go nie weryfikuje.")


def _documents(out, root):
    docs = root.findall("{*}Dokument")
    if not docs:
        return
    box = section(out, "dokumenty", "Dokumenty (%d)" % len(docs))
    for number, doc in enumerate(docs, 1):
        block = element(box, "div", cls="o_ksef_upo_doc", data_ksef_number=_txt(doc, "NumerKSeFDokumentu"))
        element(block, "h3", "Dokument %d" % number)
        cells = columns(block)
        for cell, pairs in zip(cells, (DOCUMENT_COLUMNS[:2], DOCUMENT_COLUMNS[2:]), strict=True):
            kv = KeyValues(cell)
            for tag, label in (item for pair in pairs for item in pair):
                kv.add(label, _txt(doc, tag), cls="o_ksef_wrap" if tag == "SkrotDokumentu" else None)
        extra = KeyValues(block)
        for child in doc:
            if isinstance(child.tag, str) and _local(child) not in _KNOWN:
                extra.add(_local(child), _txt(child))
