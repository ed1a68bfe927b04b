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
            "%s nie jest zawartością pliku." % what_pl.capitalize(),
            code="xml_not_bytes",
        )
    if len(data) > max_bytes:
        raise XmlInputError(
            "The %s is too large: %d bytes, the limit is %d bytes." % (what_en, len(data), max_bytes),
            "%s jest za duży: %d bajtów, limit to %d bajtów." % (what_pl.capitalize(), len(data), max_bytes),
            code="xml_too_large",
            details={"size": len(data), "limit": max_bytes},
        )
    if not data.strip():
        raise XmlInputError(
            "The %s is empty." % what_en,
            "%s jest pusty." % what_pl.capitalize(),
            code="xml_empty",
        )
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise XmlInputError(
            "The %s contains a DTD or entity declarations, which are refused for safety." % what_en,
            "%s zawiera deklarację DTD lub encji, których ze względów bezpieczeństwa nie przyjmujemy."
            % what_pl.capitalize(),
            code="xml_dtd_forbidden",
        )
    try:
        root = etree.fromstring(bytes(data), parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise XmlInputError(
            "The %s is not well-formed XML (line %s): %s" % (what_en, exc.lineno, exc.msg),
            "%s nie jest poprawnym XML (wiersz %s): %s" % (what_pl.capitalize(), exc.lineno, exc.msg),
            code="xml_malformed",
        ) from None
    return root
