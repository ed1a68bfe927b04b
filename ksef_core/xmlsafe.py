"""Safe parsing of inbound XML (invoices, UPO, auth requests).

Entities are never resolved, DTDs never loaded, the network is never touched and
documents above a size limit are refused before parsing.  Every refusal is an
:class:`~ksef_core.errors.XmlInputError` with a message in Polish and English.
"""

from lxml import etree

from .errors import XmlInputError

#: Default limit: KSeF accepts invoices up to 1 MB (3 MB with attachments).
DEFAULT_MAX_BYTES = 3 * 1000 * 1000


def _parser():
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
        remove_pis=False,
    )


def parse_xml(data, max_bytes=DEFAULT_MAX_BYTES, what_en="XML document", what_pl="dokument XML"):
    """Parse ``data`` (bytes) safely and return the root element.

    :raises XmlInputError: too large, contains a DTD/entities, or is not well-formed.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not isinstance(data, (bytes, bytearray)):
        raise XmlInputError(
            "The %s is not a file content." % what_en,
            "%s nie jest zawartością pliku." % _capital(what_pl),
            code="xml_not_bytes",
        )
    if len(data) > max_bytes:
        raise XmlInputError(
            "The %s is too large: %d bytes, the limit is %d bytes." % (what_en, len(data), max_bytes),
            "%s jest za duży: %d bajtów, limit to %d bajtów." % (_capital(what_pl), len(data), max_bytes),
            code="xml_too_large",
            details={"size": len(data), "limit": max_bytes},
        )
    if not data.strip():
        raise XmlInputError(
            "The %s is empty." % what_en,
            "%s jest pusty." % _capital(what_pl),
            code="xml_empty",
        )
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise _dtd_forbidden(what_en, what_pl)
    try:
        root = etree.fromstring(bytes(data), parser=_parser())
    except etree.XMLSyntaxError as exc:
        hint_en, hint_pl = _syntax_hint(exc.msg)
        raise XmlInputError(
            "The %s is not well-formed XML (line %s): %s%s" % (what_en, exc.lineno, hint_en, exc.msg),
            "%s nie jest poprawnym XML (wiersz %s): %s%s" % (_capital(what_pl), exc.lineno, hint_pl, exc.msg),
            code="xml_malformed",
        ) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        # a DTD the byte test above cannot see (UTF-16 or another encoding): refused all the same
        raise _dtd_forbidden(what_en, what_pl)
    return root


#: libxml2's words for the usual ways a file is broken, said in plain words (libxml2's text follows)
_SYNTAX_HINTS = (
    ("Premature end of data", "the file ends too early, it is cut off", "plik kończy się za wcześnie, jest ucięty"),
    ("Document is empty", "the file has no XML content", "plik nie ma treści XML"),
    ("Start tag expected", "the file does not start with an XML element", "plik nie zaczyna się od elementu XML"),
    (
        "not proper UTF-8",
        "the file is not encoded in UTF-8, as FA(3) files must be",
        "plik nie jest zapisany w kodowaniu UTF-8, wymaganym dla plików FA(3)",
    ),
    (
        "Unsupported encoding",
        "the file declares an encoding that cannot be read",
        "plik deklaruje kodowanie, którego nie da się odczytać",
    ),
    ("invalid xmlChar value", "the file contains a character XML forbids", "plik zawiera znak niedozwolony w XML"),
    ("Char 0x", "the file contains a character XML forbids", "plik zawiera znak niedozwolony w XML"),
    ("Excessive depth", "the elements are nested too deeply", "elementy są zagnieżdżone zbyt głęboko"),
    (
        "Extra content at the end",
        "there is content after the end of the document",
        "po końcu dokumentu jest dodatkowa treść",
    ),
    ("tag mismatch", "an element is not closed properly", "element nie jest poprawnie zamknięty"),
    (
        "invalid element name",
        "an element's name is broken (is the file cut off?)",
        "nazwa elementu jest uszkodzona (czy plik nie jest ucięty?)",
    ),
    (
        "Couldn't find end of Start Tag",
        "a tag is not finished (is the file cut off?)",
        "znacznik nie jest dokończony (czy plik nie jest ucięty?)",
    ),
    (
        "expected '>'",
        "a tag is not finished (is the file cut off?)",
        "znacznik nie jest dokończony (czy plik nie jest ucięty?)",
    ),
    (
        "XML declaration allowed only at the start",
        "something precedes the XML declaration",
        "coś poprzedza deklarację XML na początku pliku",
    ),
)


def _syntax_hint(message):
    """``(en, pl)``: what a libxml2 syntax error means, in words, each followed by "details: " (or empty)."""
    for needle, en, pl in _SYNTAX_HINTS:
        if needle in (message or ""):
            return "%s; details: " % en, "%s; szczegóły: " % pl
    return "", ""


def _capital(text):
    """``text`` with its first letter upper-case, the rest as it is ("plik faktury FA(3)")."""
    return text[:1].upper() + text[1:]


def _dtd_forbidden(what_en, what_pl):
    return XmlInputError(
        "The %s contains a DTD or entity declarations, which are refused for safety." % what_en,
        "%s zawiera deklarację DTD lub encji, których ze względów bezpieczeństwa nie przyjmujemy." % _capital(what_pl),
        code="xml_dtd_forbidden",
    )
