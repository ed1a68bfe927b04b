"""The checks KSeF runs on every received invoice (API-NOTES section 3), without HTTP.

:func:`check_invoice` takes the decrypted XML bytes and returns an
:class:`InvoiceCheck`: either ``code == 200`` with the extracted
:class:`InvoiceFacts` (what the metadata, UPO and duplicate index need), or the
per-invoice status code of the first failing rule with details naming the
failing element:

* 430 – file verification (larger than 1 MB without attachments / 3 MB with),
* 450 – semantics: UTF-8 without BOM, prolog without a non-UTF-8 encoding, no
  processing instructions, well-formed, the session's form code, the FA(3) XSD,
  NIP checksums (Podmiot1/2/3, PodmiotUpowazniony), issue date ``P_1`` not after
  the acceptance date,
* 410 – the seller (Podmiot1 NIP) is not the session's context NIP (self-billing,
  ``P_17 = 1``, is accepted from the buyer's context),
* 415 – an attachment (``Zalacznik``) where none is allowed.

Duplicates (440) need the global index and are decided by the caller.
"""

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from lxml import etree

from ..errors import XmlInputError
from ..fa3.schema import FA3_NAMESPACE, schema_errors
from ..hashing import sha256_b64
from ..nip import nip_checksum_ok
from ..xmlsafe import parse_xml

#: Largest invoice without attachments (1 MB) and with attachments (3 MB), in bytes.
MAX_PLAIN_BYTES = 1000 * 1000
MAX_WITH_ATTACHMENT_BYTES = 3 * 1000 * 1000

FA3_FORM_CODE = {"systemCode": "FA (3)", "schemaVersion": "1-0E", "value": "FA"}
SCHEMA_FILE_NAME = "Schemat_FA(3)_v1-0E.xsd"

STATUS_DESCRIPTIONS = {
    100: "Faktura przyjęta do dalszego przetwarzania",
    150: "Trwa przetwarzanie",
    200: "Sukces",
    405: "Przetwarzanie anulowane z powodu błędu sesji",
    410: "Nieprawidłowy zakres uprawnień",
    415: "Brak możliwości wysyłania faktury z załącznikiem",
    430: "Błąd weryfikacji pliku faktury",
    435: "Błąd odszyfrowania pliku",
    440: "Duplikat faktury",
    450: "Błąd weryfikacji semantyki dokumentu faktury",
    500: "Nieznany błąd",
    550: "Operacja została anulowana przez system",
}

#: RodzajFaktury (XSD) -> InvoiceType (API)
INVOICE_TYPES = {
    "VAT": "Vat",
    "KOR": "Kor",
    "ZAL": "Zal",
    "ROZ": "Roz",
    "UPR": "Upr",
    "KOR_ZAL": "KorZal",
    "KOR_ROZ": "KorRoz",
}

_NS = {"f": FA3_NAMESPACE}
_BOM = b"\xef\xbb\xbf"
_PROLOG_ENCODING = re.compile(rb"^<\?xml[^>]*encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_NET_FIELDS = (
    "P_13_1",
    "P_13_2",
    "P_13_3",
    "P_13_4",
    "P_13_5",
    "P_13_6_1",
    "P_13_6_2",
    "P_13_6_3",
    "P_13_7",
    "P_13_8",
    "P_13_9",
    "P_13_10",
    "P_13_11",
)
_VAT_FIELDS = ("P_14_1", "P_14_2", "P_14_3", "P_14_4", "P_14_5")


class InvoiceCheck:
    """Outcome of :func:`check_invoice`: ``code`` (200 = passed), ``details`` and ``facts``.

    ``details`` may quote invoice values (they go back to the sender only);
    ``elements`` names the failing FA(3) elements without values (safe for logs/exceptions).
    """

    __slots__ = ("code", "details", "elements", "facts")

    def __init__(self, code, details=None, facts=None, elements=()):
        self.code = code
        self.details = list(details or [])
        self.facts = facts
        self.elements = list(elements)

    @property
    def ok(self):
        return self.code == 200

    @property
    def description(self):
        return STATUS_DESCRIPTIONS.get(self.code, STATUS_DESCRIPTIONS[500])

    def status(self):
        """The ``InvoiceStatusInfo`` JSON object."""
        body = {"code": self.code, "description": self.description}
        if self.details:
            body["details"] = list(self.details)
        return body


def _text(parent, path):
    if parent is None:
        return None
    node = parent.find(path, _NS)
    if node is None or node.text is None:
        return None
    return node.text.strip()


def _decimal(value):
    if value is None:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def _party_identifier(ident, allow_internal=False):
    """``{"type", "value"}`` of a Podmiot2/Podmiot3 ``DaneIdentyfikacyjne``."""
    nip = _text(ident, "f:NIP")
    if nip:
        return {"type": "Nip", "value": nip}
    if allow_internal:
        internal = _text(ident, "f:IDWew")
        if internal:
            return {"type": "InternalId", "value": internal}
    vat_ue = _text(ident, "f:NrVatUE")
    if vat_ue:
        return {"type": "VatUe", "value": (_text(ident, "f:KodUE") or "") + vat_ue}
    other = _text(ident, "f:NrID")
    if other:
        return {"type": "Other", "value": other}
    return {"type": "None", "value": None}


class InvoiceFacts:
    """What the simulator keeps about an accepted FA(3) invoice (no full XML)."""

    __slots__ = (
        "authorized_subject",
        "buyer",
        "currency",
        "gross",
        "has_attachment",
        "invoice_hash",
        "invoice_number",
        "invoice_type",
        "is_self_invoicing",
        "issue_date",
        "net",
        "nips_to_check",
        "rodzaj",
        "seller_name",
        "seller_nip",
        "size",
        "third_subjects",
        "vat",
    )

    def __init__(self, root, data):
        p1 = root.find("f:Podmiot1/f:DaneIdentyfikacyjne", _NS)
        p2 = root.find("f:Podmiot2/f:DaneIdentyfikacyjne", _NS)
        fa = root.find("f:Fa", _NS)
        self.size = len(data)
        self.invoice_hash = sha256_b64(data)
        self.seller_nip = _text(p1, "f:NIP")
        self.seller_name = _text(p1, "f:Nazwa")
        self.buyer = {"identifier": _party_identifier(p2), "name": _text(p2, "f:Nazwa")}
        self.invoice_number = _text(fa, "f:P_2")
        self.rodzaj = _text(fa, "f:RodzajFaktury")
        self.invoice_type = INVOICE_TYPES.get(self.rodzaj, "Vat")
        self.currency = _text(fa, "f:KodWaluty") or "PLN"
        issue = _text(fa, "f:P_1")
        self.issue_date = dt.date.fromisoformat(issue) if issue else None
        self.is_self_invoicing = _text(fa, "f:Adnotacje/f:P_17") == "1"
        self.has_attachment = root.find("f:Zalacznik", _NS) is not None
        net = sum((_decimal(_text(fa, "f:" + name)) or 0 for name in _NET_FIELDS), Decimal(0))
        vat = Decimal(0)
        for name in _VAT_FIELDS:
            value = _decimal(_text(fa, "f:%sW" % name))
            if value is None:
                value = _decimal(_text(fa, "f:" + name))
            vat += value or 0
        gross = _decimal(_text(fa, "f:P_15"))
        self.net = float(net)
        self.vat = float(vat)
        self.gross = float(gross if gross is not None else net + vat)
        self.third_subjects = []
        self.nips_to_check = [("Podmiot1", self.seller_nip)]
        if self.buyer["identifier"]["type"] == "Nip":
            self.nips_to_check.append(("Podmiot2", self.buyer["identifier"]["value"]))
        for index, p3 in enumerate(root.findall("f:Podmiot3", _NS), 1):
            ident = p3.find("f:DaneIdentyfikacyjne", _NS)
            identifier = _party_identifier(ident, allow_internal=True)
            role = _text(p3, "f:Rola")
            self.third_subjects.append(
                {"identifier": identifier, "name": _text(ident, "f:Nazwa"), "role": int(role) if role else 0}
            )
            if identifier["type"] == "Nip":
                self.nips_to_check.append(("Podmiot3[%d]" % index, identifier["value"]))
        self.authorized_subject = None
        pu = root.find("f:PodmiotUpowazniony", _NS)
        if pu is not None:
            ident = pu.find("f:DaneIdentyfikacyjne", _NS)
            nip = _text(ident, "f:NIP")
            role = _text(pu, "f:RolaPU")
            if nip:
                self.authorized_subject = {
                    "nip": nip,
                    "name": _text(ident, "f:Nazwa"),
                    "role": int(role) if role else 0,
                }
                self.nips_to_check.append(("PodmiotUpowazniony", nip))

    @property
    def duplicate_key(self):
        """Podmiot1 NIP + RodzajFaktury + P_2: the KSeF duplicate criterion."""
        return "%s|%s|%s" % (self.seller_nip, self.rodzaj, self.invoice_number)

    def party_nips(self):
        """``{"Subject1": [...], "Subject2": [...], "Subject3": [...], "SubjectAuthorized": [...]}``."""
        buyer = self.buyer["identifier"]
        return {
            "Subject1": [self.seller_nip],
            "Subject2": [buyer["value"]] if buyer["type"] == "Nip" else [],
            "Subject3": [s["identifier"]["value"] for s in self.third_subjects if s["identifier"]["type"] == "Nip"],
            "SubjectAuthorized": [self.authorized_subject["nip"]] if self.authorized_subject else [],
        }


def _issue_text(issue):
    """One detail line from a :class:`ksef_core.fa3.messages.ValidationIssue`: path + message."""
    path = getattr(issue, "path", None) or getattr(issue, "element", None) or ""
    text = getattr(issue, "message_pl", None) or str(issue)
    if path and path not in text:
        text = "%s: %s" % (path, text)
    return text


def _reject(code, *details, elements=()):
    return InvoiceCheck(code, details, elements=elements)


def _encoding_issue(data):
    if data.startswith(_BOM):
        return "Plik faktury zaczyna się znakiem BOM (0xEF 0xBB 0xBF); wymagane jest kodowanie UTF-8 bez BOM."
    match = _PROLOG_ENCODING.match(data)
    if match and match.group(1).decode("ascii").upper().replace("_", "-") not in ("UTF-8", "UTF8"):
        return "Deklaracja XML wskazuje kodowanie '%s'; wymagane jest UTF-8." % match.group(1).decode("ascii")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return "Plik faktury nie jest poprawnym tekstem UTF-8 (bajt %d)." % exc.start
    return None


def _processing_instruction(root):
    for node in root.itersiblings(preceding=True):
        if isinstance(node, etree._ProcessingInstruction):
            return node
    for node in root.itersiblings():
        if isinstance(node, etree._ProcessingInstruction):
            return node
    for node in root.iter(etree.ProcessingInstruction):
        return node
    return None


def check_invoice(data, *, context_nip, acceptance_date, form_code=None, allow_attachment=True):
    """Run the KSeF invoice checks on decrypted XML ``data`` and return an :class:`InvoiceCheck`.

    :param context_nip: NIP of the session context (the seller must match it)
    :param acceptance_date: ``date`` of acceptance; ``P_1`` may not be later
    :param form_code: the session's ``formCode`` dict (default FA (3) / 1-0E / FA)
    :param allow_attachment: False where ``Zalacznik`` is refused (415)
    """
    form_code = form_code or FA3_FORM_CODE
    size = len(data)
    if size > MAX_WITH_ATTACHMENT_BYTES:
        return _reject(430, "Rozmiar pliku faktury %d B przekracza dopuszczalny limit %d B." % (size, MAX_PLAIN_BYTES))
    problem = _encoding_issue(data)
    if problem:
        return _reject(450, problem)
    try:
        root = parse_xml(data, max_bytes=MAX_WITH_ATTACHMENT_BYTES, what_en="invoice", what_pl="plik faktury")
    except XmlInputError as exc:
        return _reject(450, exc.message_pl)
    pi = _processing_instruction(root)
    if pi is not None:
        return _reject(450, "Plik faktury zawiera niedozwoloną instrukcję przetwarzania <?%s?>." % pi.target)
    if root.tag != "{%s}Faktura" % FA3_NAMESPACE:
        return _reject(
            450,
            "Element główny %s nie odpowiada schematowi %s zadeklarowanemu przy otwarciu sesji."
            % (root.tag, form_code.get("systemCode")),
        )
    kod = root.find("f:Naglowek/f:KodFormularza", _NS)
    if kod is not None and (
        kod.get("kodSystemowy") != form_code.get("systemCode")
        or kod.get("wersjaSchemy") != form_code.get("schemaVersion")
    ):
        return _reject(
            450,
            "KodFormularza (kodSystemowy='%s', wersjaSchemy='%s') nie zgadza się "
            "z formCode sesji ('%s', '%s')."
            % (
                kod.get("kodSystemowy"),
                kod.get("wersjaSchemy"),
                form_code.get("systemCode"),
                form_code.get("schemaVersion"),
            ),
        )
    issues = schema_errors(root)
    if issues:
        return _reject(
            450,
            *[_issue_text(issue) for issue in issues[:20]],
            elements=[getattr(issue, "path", "") or "" for issue in issues[:20]],
        )
    facts = InvoiceFacts(root, data)
    if size > MAX_PLAIN_BYTES and not facts.has_attachment:
        return _reject(430, "Rozmiar pliku faktury %d B przekracza dopuszczalny limit %d B." % (size, MAX_PLAIN_BYTES))
    for where, nip in facts.nips_to_check:
        if not nip_checksum_ok(nip):
            return _reject(
                450,
                "%s/DaneIdentyfikacyjne/NIP: numer NIP %s ma błędną sumę kontrolną." % (where, nip),
                elements=["%s/DaneIdentyfikacyjne/NIP" % where],
            )
    if facts.issue_date and facts.issue_date > acceptance_date:
        return _reject(
            450,
            "Fa/P_1: data wystawienia %s jest późniejsza niż data przyjęcia faktury %s."
            % (facts.issue_date.isoformat(), acceptance_date.isoformat()),
            elements=["Fa/P_1"],
        )
    buyer = facts.buyer["identifier"]
    self_billing = facts.is_self_invoicing and buyer["type"] == "Nip" and buyer["value"] == context_nip
    if context_nip and facts.seller_nip != context_nip and not self_billing:
        return _reject(
            410,
            "Podmiot1/DaneIdentyfikacyjne/NIP: sprzedawca %s nie jest podmiotem kontekstu sesji %s."
            % (facts.seller_nip, context_nip),
            elements=["Podmiot1/DaneIdentyfikacyjne/NIP"],
        )
    if facts.has_attachment and not allow_attachment:
        return _reject(
            415, "Faktura zawiera element Zalacznik, który nie jest dozwolony w tej sesji.", elements=["Zalacznik"]
        )
    return InvoiceCheck(200, facts=facts)
