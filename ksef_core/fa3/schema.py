"""The official FA(3) XML schema, compiled once, and schema validation.

The schemas ship with the addon in ``data/xsd/fa3`` (a local copy whose
imports resolve offline).  :func:`fa3_schema` compiles them once per process;
:func:`schema_errors` returns :class:`ValidationIssue` objects that name the
failing field in words a clerk understands (see :mod:`.messages`).
"""

import threading
from functools import lru_cache
from pathlib import Path

from lxml import etree

from ..errors import XmlInputError
from ..xmlsafe import parse_xml

#: Namespace of the FA(3) structured invoice (schema version 1-0E).
FA3_NAMESPACE = "http://crd.gov.pl/wzor/2025/06/25/13775/"
#: Namespace of the older FA(2) schema, refused since 1 Feb 2026.
FA2_NAMESPACE = "http://crd.gov.pl/wzor/2023/06/29/12648/"
#: Namespace of the shared "elementary types" (etd:) used inside FA(3).
ETD_NAMESPACE = "http://crd.gov.pl/xml/schematy/dziedzinowe/mf/2022/01/05/eD/DefinicjeTypy/"

#: Directory holding the schema files shipped with the addon.
XSD_DIR = Path(__file__).resolve().parents[2] / "data" / "xsd" / "fa3"
SCHEMA_FILE = "schemat_FA(3)_v1-0E.xsd"
#: Largest FA(3) document accepted for validation / parsing (KSeF: 1 MB, 3 MB with attachments).
MAX_INVOICE_BYTES = 3 * 1000 * 1000

_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _compiled_schema():
    path = XSD_DIR / SCHEMA_FILE
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    doc = etree.parse(str(path), parser=parser)
    return etree.XMLSchema(doc)


def fa3_schema():
    """Return the compiled FA(3) :class:`lxml.etree.XMLSchema` (compiled once, then reused)."""
    with _LOCK:
        return _compiled_schema()


def _as_root(root_or_bytes):
    if isinstance(root_or_bytes, (bytes, bytearray, str)):
        return parse_xml(
            root_or_bytes,
            max_bytes=MAX_INVOICE_BYTES,
            what_en="FA(3) invoice",
            what_pl="plik faktury FA(3)",
        )
    if isinstance(root_or_bytes, etree._ElementTree):
        return root_or_bytes.getroot()
    if isinstance(root_or_bytes, etree._Element):
        return root_or_bytes
    raise XmlInputError(
        "The FA(3) invoice to validate is neither XML bytes nor an XML element.",
        "Faktura FA(3) do sprawdzenia nie jest ani plikiem XML, ani elementem XML.",
        code="fa3_not_xml",
    )


def schema_errors(root_or_bytes):
    """Validate against the FA(3) XSD; return a list of :class:`ValidationIssue` (empty = valid).

    Accepts XML bytes (parsed safely) or an lxml element / tree.  Raises
    :class:`~ksef_core.errors.XmlInputError` only for input that is not XML at all.
    """
    from .messages import issues_from_error_log

    root = _as_root(root_or_bytes)
    schema = fa3_schema()
    # XMLSchema objects are not safe to share between threads while validating.
    with _LOCK:
        ok = schema.validate(root)
        log = None if ok else schema.error_log
        issues = [] if ok else issues_from_error_log(log, root)
    return issues
