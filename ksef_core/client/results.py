"""Per-invoice outcome shared by the online and batch flows."""

from . import status_codes

FORM_FA3 = {"systemCode": "FA (3)", "schemaVersion": "1-0E", "value": "FA"}
FORM_CODES = {
    "FA3": FORM_FA3,
    "FA2": {"systemCode": "FA (2)", "schemaVersion": "1-0E", "value": "FA"},
    "PEF3": {"systemCode": "PEF (3)", "schemaVersion": "2-1", "value": "PEF"},
    "PEF_KOR3": {"systemCode": "PEF_KOR (3)", "schemaVersion": "2-1", "value": "PEF"},
    "FA_RR1": {"systemCode": "FA_RR (1)", "schemaVersion": "1-1E", "value": "FA_RR"},
}


def form_code(form):
    if isinstance(form, dict):
        return form
    return FORM_CODES[form or "FA3"]


class InvoiceResult:
    """What KSeF decided about one invoice, keyed by the caller's ``own_id``.

    ``ksef_number`` is set on success and on a 440 duplicate (then it is the
    original invoice's number and ``duplicate`` is True).
    """

    def __init__(self, own_id, invoice_hash, reference_number=None, session_reference=None):
        self.own_id = own_id
        self.invoice_hash = invoice_hash
        self.reference_number = reference_number
        self.session_reference = session_reference
        self.ksef_number = None
        self.status = None
        self.duplicate = False
        self.acquisition_date = None
        self.upo_download_url = None
        self.invoicing_mode = None
        #: on a 440 duplicate: the session in which KSeF holds the original
        self.original_session = None

    @property
    def final(self):
        return bool(self.status and self.status.final)

    @property
    def ok(self):
        return bool(self.status and self.status.ok and self.ksef_number)

    @property
    def state(self):
        return self.status.state if self.status else "pending"

    def message(self, lang="en"):
        return self.status.message(lang) if self.status else ""

    def update(self, data):
        """Apply a ``SessionInvoiceStatusResponse``."""
        self.reference_number = data.get("referenceNumber") or self.reference_number
        self.status = status_codes.describe_status("invoice", data.get("status"))
        self.ksef_number = data.get("ksefNumber") or self.ksef_number
        self.acquisition_date = data.get("acquisitionDate") or self.acquisition_date
        self.upo_download_url = data.get("upoDownloadUrl") or self.upo_download_url
        self.invoicing_mode = data.get("invoicingMode") or self.invoicing_mode
        if self.status.code == 440:
            ext = (data.get("status") or {}).get("extensions") or {}
            self.duplicate = True
            self.ksef_number = ext.get("originalKsefNumber") or self.ksef_number
            self.original_session = ext.get("originalSessionReferenceNumber") or self.original_session
        return self

    def to_dict(self):
        return {
            "own_id": self.own_id,
            "invoice_hash": self.invoice_hash,
            "reference_number": self.reference_number,
            "session_reference": self.session_reference,
            "ksef_number": self.ksef_number,
            "state": self.state,
            "status_code": self.status.code if self.status else None,
            "ok": self.ok,
            "duplicate": self.duplicate,
            "message_en": self.message("en"),
            "message_pl": self.message("pl"),
            "acquisition_date": self.acquisition_date,
        }

    def __repr__(self):
        return "InvoiceResult(%r, %s, %s)" % (self.own_id, self.state, self.ksef_number)
