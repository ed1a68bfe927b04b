"""State of the invoice side: sessions, per-session invoice entries, accepted invoices.

Everything lives in :class:`~ksef_core.simulator.state.SimState` buckets (plain,
picklable dicts) and blobs, so it is persisted with the rest of the simulator:

* ``inv_sessions``   – session reference -> session dict,
* ``inv_entries``    – invoice reference -> per-session invoice entry (status),
* ``inv_invoices``   – KSeF number -> accepted invoice record (InvoiceMetadata + internals),
* ``inv_duplicates`` – "NIP|RodzajFaktury|P_2" -> KSeF number,
* ``inv_hashes``     – invoice hash -> {"accepted": bool, "correctedBy": KSeF number},
* ``inv_numbers``    – every KSeF number issued,
* ``inv_settings``   – tunables (see :data:`DEFAULT_SETTINGS`),
* blob kind ``invoice`` – the XML of accepted invoices, by KSeF number.

The store is attached to the simulator as ``sim.invoice_store`` by the ``init`` hook.
"""

import base64
import datetime as dt
import json

from .errors import ApiError, bad_request
from .invoice_checks import FA3_FORM_CODE, STATUS_DESCRIPTIONS, InvoiceCheck
from .numbering import (
    KIND_BATCH_SESSION,
    KIND_INVOICE,
    KIND_ONLINE_SESSION,
    KIND_SESSION_UPO,
    KsefNumberAllocator,
    reference_number,
)
from .routing import hook

try:  # Europe/Warsaw decides calendar days (P_1, KSeF number date, offline marking)
    from zoneinfo import ZoneInfo

    WARSAW = ZoneInfo("Europe/Warsaw")
except Exception:  # no tz database on this machine: fall back to UTC
    WARSAW = dt.timezone.utc

DEFAULT_SETTINGS = {
    #: seconds between acquisition (KSeF number) and permanent storage
    "permanent_storage_delay": 0.2,
    #: max invoices per session (21155 online, status 420 batch)
    "session_invoice_limit": 10000,
    #: query/metadata cap per filter set (isTruncated beyond it)
    "query_cap": 10000,
    #: max invoices in one export package
    "export_max_invoices": 10000,
    #: max plain bytes of one export part (50 MB)
    "export_part_size": 50 * 1000 * 1000,
    #: lifetime of pre-signed download/upload URLs, seconds
    "url_ttl": 3 * 24 * 3600,
    #: seconds after an export was requested until its package expires (status 210, parts gone);
    #: its status is kept 7 days either way (then 410)
    "export_package_ttl": 7 * 24 * 3600,
    #: status polls of a new export answering 100 (being prepared) before the result
    "export_pending_polls": 0,
    #: lifetime of an online session, seconds (12 h)
    "online_session_ttl": 12 * 3600,
    #: process batch packages inside the close request instead of a worker thread
    "batch_synchronous": False,
    #: polls of GET /sessions/{ref}/invoices/{invoiceRef} answering 150 (processing) before the result
    "invoice_pending_polls": 0,
}

SESSION_STATUS = {
    100: "Sesja otwarta",
    150: "Trwa przetwarzanie",
    170: "Sesja interaktywna zamknięta",
    200: "Sesja przetworzona pomyślnie",
    405: "Błąd weryfikacji poprawności dostarczonych elementów paczki",
    415: "Błąd odszyfrowania dostarczonego klucza",
    420: "Przekroczony limit faktur w sesji",
    430: "Błąd dekompresji pierwotnego archiwum",
    435: "Błąd odszyfrowania zaszyfrowanych części archiwum",
    440: "Sesja anulowana",
    445: "Błąd weryfikacji, brak poprawnych faktur",
    500: "Nieznany błąd",
}


def iso(value):
    """ISO-8601 UTC text with microseconds (``2026-02-15T12:00:00.123456+00:00``), as the API shows."""
    return value.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")


def warsaw_date(moment):
    """Calendar day of an aware datetime in Poland."""
    return moment.astimezone(WARSAW).date()


def session_status(code, details=None, description=None):
    body = {"code": code, "description": description or SESSION_STATUS.get(code, SESSION_STATUS[500])}
    if details:
        body["details"] = list(details)
    return body


def encode_token(offset):
    """Continuation token for list endpoints (opaque to clients)."""
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode("ascii")).decode("ascii")


def decode_token(token):
    """Offset from a continuation token; 400/21418 when it is not one of ours."""
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode("ascii")).decode("ascii"))["o"]
        if not isinstance(offset, int) or offset < 0:
            raise ValueError
        return offset
    except Exception:
        raise bad_request(21418, "Przekazany token kontynuacji ma nieprawidłowy format.")


class InvoiceStore:
    """Sessions and invoices of one simulator (see the module docstring for the layout)."""

    def __init__(self, sim):
        self.sim = sim
        self.state = sim.state
        self.clock = sim.clock
        self.sessions = self.state.bucket("inv_sessions")
        self.entries = self.state.bucket("inv_entries")
        self.invoices = self.state.bucket("inv_invoices")
        self.duplicates = self.state.bucket("inv_duplicates")
        self.hashes = self.state.bucket("inv_hashes")
        self.exports = self.state.bucket("inv_exports")
        self.settings = self.state.bucket("inv_settings")
        for key, value in DEFAULT_SETTINGS.items():
            self.settings.setdefault(key, value)
        self.allocator = KsefNumberAllocator(self.state.bucket("inv_numbers"))

    # -- settings ------------------------------------------------------------------------------
    def configure(self, **settings):
        """Change tunables (``permanent_storage_delay``, ``query_cap``, ...); unknown names refused."""
        for key, value in settings.items():
            if key not in DEFAULT_SETTINGS:
                raise ValueError("unknown invoice setting %r" % key)
            with self.state.lock:
                self.settings[key] = value

    # -- sessions ------------------------------------------------------------------------------
    def new_session(self, kind, principal, form_code, key, iv, **extra):
        """Create and store a session dict; ``kind`` is "Online" or "Batch"."""
        now = self.clock.now()
        ref = reference_number(self.clock, KIND_ONLINE_SESSION if kind == "Online" else KIND_BATCH_SESSION)
        auth = {}
        if principal is not None and getattr(principal, "token_ref", None):
            auth["tokenReference"] = principal.token_ref
        session = {
            "referenceNumber": ref,
            "type": kind,
            "context": {
                "type": getattr(principal, "context_type", "Nip") or "Nip",
                "value": getattr(principal, "context_value", None),
            },
            "auth": auth,
            "authRef": getattr(principal, "auth_ref", None),
            "formCode": dict(form_code or FA3_FORM_CODE),
            "key": key,
            "iv": iv,
            "status": session_status(
                100,
                description="Sesja interaktywna otwarta" if kind == "Online" else "Sesja wsadowa rozpoczęta",
            ),
            "dateCreated": now,
            "dateUpdated": now,
            "validUntil": now + dt.timedelta(seconds=self.settings["online_session_ttl"]) if kind == "Online" else None,
            "invoiceRefs": [],
            "upoPages": [],
        }
        session.update(extra)
        self.sessions[ref] = session
        return session

    def get_session(self, ref, principal=None):
        """The session ``ref`` visible in the caller's context, or 400/21173."""
        session = self.sessions.get(ref)
        if session is not None and principal is not None:
            ctx = session["context"]
            if ctx.get("value") != getattr(principal, "context_value", None):
                session = None
        if session is None:
            raise bad_request(
                21173,
                "Brak sesji o wskazanym numerze referencyjnym.",
                ["Sesja o numerze referencyjnym %s nie została odnaleziona." % ref],
            )
        self.expire_if_due(session)
        return session

    def expire_if_due(self, session, force=False):
        """Close an online session whose 12 h validity has passed (or now, with ``force``).

        A batch session still waiting for parts after its upload deadline is cancelled (440).
        """
        if session["status"]["code"] != 100:
            return False
        if session["type"] == "Batch":
            deadline = (session.get("batch") or {}).get("uploadDeadline")
            if force or (deadline and self.clock.timestamp() > deadline):
                session["status"] = session_status(440, ["Przekroczono czas wysyłki"])
                session["key"] = None
                self.touch(session)
                return True
            return False
        if force or (session["validUntil"] and self.clock.now() >= session["validUntil"]):
            self.finish_session(session)
            return True
        return False

    def touch(self, session):
        session["dateUpdated"] = self.clock.now()

    # -- per-invoice entries -------------------------------------------------------------------
    def add_entry(
        self,
        session,
        invoice_hash,
        invoice_size,
        invoicing_date,
        offline_mode=False,
        hash_of_corrected=None,
        file_name=None,
    ):
        """Register a received invoice in ``session`` with status 150 (processing)."""
        ref = reference_number(self.clock, KIND_INVOICE)
        entry = {
            "ordinalNumber": len(session["invoiceRefs"]) + 1,
            "referenceNumber": ref,
            "sessionReferenceNumber": session["referenceNumber"],
            "invoiceHash": invoice_hash,
            "invoiceSize": invoice_size,
            "invoiceFileName": file_name,
            "invoicingDate": invoicing_date,
            "offlineMode": bool(offline_mode),
            "hashOfCorrectedInvoice": hash_of_corrected,
            "status": InvoiceCheck(150).status(),
            "ksefNumber": None,
            "invoiceNumber": None,
            "pendingPolls": int(self.settings.get("invoice_pending_polls") or 0),
        }
        session["invoiceRefs"].append(ref)
        self.entries[ref] = entry
        self.touch(session)
        return entry

    def fail_entry(self, entry, code, details=None, extensions=None):
        status = {"code": code, "description": STATUS_DESCRIPTIONS.get(code, STATUS_DESCRIPTIONS[500])}
        if details:
            status["details"] = list(details)
        if extensions:
            status["extensions"] = dict(extensions)
        entry["status"] = status
        self.hashes.setdefault(entry["invoiceHash"], {"accepted": False, "correctedBy": None})

    def check_correction(self, hash_of_corrected):
        """Raise 21166/21167 when a technical correction of ``hash_of_corrected`` is not allowed."""
        known = self.hashes.get(hash_of_corrected)
        if not known:
            return
        if known.get("accepted"):
            raise bad_request(
                21167,
                "Status faktury nie pozwala na korektę techniczną.",
                ["Nie można wysłać korekty technicznej do prawidłowo przetworzonej faktury."],
            )
        if known.get("correctedBy"):
            raise bad_request(
                21166,
                "Korekta techniczna niedostępna.",
                ["Faktura posiada już przetworzoną prawidłowo korektę techniczną."],
            )

    def commit(self, session, entry, check, xml, acquisition=None):
        """Apply an :class:`InvoiceCheck` to ``entry``: duplicate test, KSeF number, storage.

        Must run under ``state.lock`` (handlers do; background workers take it).
        """
        if not check.ok:
            self.fail_entry(entry, check.code, check.details)
            return entry
        facts = check.facts
        entry["invoiceNumber"] = facts.invoice_number
        original = self.duplicates.get(facts.duplicate_key)
        if original is not None:
            record = self.invoices.get(original, {})
            original_session = record.get("_sessionReferenceNumber")
            self.fail_entry(
                entry,
                440,
                [
                    "Duplikat faktury. Faktura o numerze KSeF: %s została już prawidłowo "
                    "przesłana do systemu w sesji: %s" % (original, original_session)
                ],
                {"originalSessionReferenceNumber": original_session, "originalKsefNumber": original},
            )
            return entry
        if entry.get("hashOfCorrectedInvoice"):
            known = self.hashes.get(entry["hashOfCorrectedInvoice"]) or {}
            if known.get("correctedBy"):
                self.fail_entry(entry, 440, ["Faktura posiada już przetworzoną prawidłowo korektę techniczną."])
                return entry
        self._accept(session, entry, facts, xml, acquisition)
        return entry

    def _accept(self, session, entry, facts, xml, acquisition=None):
        invoicing = entry["invoicingDate"]
        acquisition = acquisition or max(self.clock.now(), invoicing)
        number = self.allocator.allocate(facts.seller_nip, warsaw_date(invoicing))
        offline = entry.get("offlineMode") or (
            facts.issue_date is not None and facts.issue_date < warsaw_date(invoicing)
        )
        storage = acquisition + dt.timedelta(seconds=float(self.settings["permanent_storage_delay"]))
        # a back-dated acquisition (seeding) must not land below a HWM already reported: store it "now"
        storage = max(storage, self.clock.now())
        # the repository stores sequentially: strictly increasing dates keep HWM windows exact
        # (not with a frozen clock: the invoice would stay invisible until the clock moves)
        last = self.settings.get("_last_storage")
        if last is not None and storage <= last and not getattr(self.clock, "frozen", False):
            storage = last + dt.timedelta(microseconds=1)
        self.settings["_last_storage"] = storage
        mode = "Offline" if offline else "Online"
        entry.update(
            {
                "ksefNumber": number,
                "acquisitionDate": acquisition,
                "permanentStorageDate": storage,
                "invoicingMode": mode,
                "issueDate": facts.issue_date.isoformat() if facts.issue_date else None,
                "sellerNip": facts.seller_nip,
                "status": InvoiceCheck(200).status(),
            }
        )
        record = {
            "ksefNumber": number,
            "invoiceNumber": facts.invoice_number,
            "issueDate": entry["issueDate"],
            "invoicingDate": invoicing,
            "acquisitionDate": acquisition,
            "permanentStorageDate": storage,
            "seller": {"nip": facts.seller_nip, "name": facts.seller_name},
            "buyer": facts.buyer,
            "netAmount": facts.net,
            "grossAmount": facts.gross,
            "vatAmount": facts.vat,
            "currency": facts.currency,
            "invoicingMode": mode,
            "invoiceType": facts.invoice_type,
            "formCode": dict(session.get("formCode") or FA3_FORM_CODE),
            "isSelfInvoicing": facts.is_self_invoicing,
            "hasAttachment": facts.has_attachment,
            "invoiceHash": facts.invoice_hash,
            "hashOfCorrectedInvoice": entry.get("hashOfCorrectedInvoice"),
            "thirdSubjects": facts.third_subjects,
            "authorizedSubject": facts.authorized_subject,
            "_parties": facts.party_nips(),
            "_sessionReferenceNumber": session["referenceNumber"],
            "_invoiceReferenceNumber": entry["referenceNumber"],
            "_size": facts.size,
        }
        self.state.put_blob("invoice", number, xml)
        self.invoices[number] = record
        self.duplicates[facts.duplicate_key] = number
        self.hashes[facts.invoice_hash] = {"accepted": True, "correctedBy": None}
        corrected = entry.get("hashOfCorrectedInvoice")
        if corrected:
            known = self.hashes.setdefault(corrected, {"accepted": False, "correctedBy": None})
            known["correctedBy"] = number
        return number

    def session_entries(self, session):
        return [self.entries[ref] for ref in session["invoiceRefs"] if ref in self.entries]

    def finish_session(self, session):
        """Final status after close: 200 with UPO pages, 440 (no invoices) or 445 (none valid)."""
        from .upo import page_count

        entries = self.session_entries(session)
        accepted = [e for e in entries if e["status"]["code"] == 200]
        now = self.clock.now()
        session["dateClosed"] = now
        session["dateUpdated"] = now
        session["key"] = None
        if not entries:
            session["status"] = session_status(440, ["Nie przesłano faktur"])
        elif not accepted:
            session["status"] = session_status(445)
        else:
            desc = (
                "Sesja interaktywna przetworzona pomyślnie"
                if session["type"] == "Online"
                else ("Sesja wsadowa przetworzona pomyślnie")
            )
            session["status"] = session_status(200, description=desc)
            session["upoPages"] = [
                reference_number(self.clock, KIND_SESSION_UPO) for _ in range(page_count(len(accepted)))
            ]
        return session

    def counts(self, session):
        entries = self.session_entries(session)
        ok = sum(1 for e in entries if e["status"]["code"] == 200)
        failed = sum(1 for e in entries if e["status"]["code"] >= 400)
        return len(entries), ok, failed

    # -- accepted invoices ---------------------------------------------------------------------
    def is_stored(self, record, now=None):
        """True once the invoice reached permanent storage (clock >= permanentStorageDate)."""
        return (now or self.clock.now()) >= record["permanentStorageDate"]

    def invoice_xml(self, ksef_number):
        return self.state.get_blob("invoice", ksef_number)

    def party_of(self, record, context_value):
        """True when ``context_value`` (the caller's context) is any party of the invoice."""
        parties = record["_parties"]
        return any(context_value in nips for nips in parties.values())


def metadata_json(record):
    """The public ``InvoiceMetadata`` object of a stored invoice record."""
    out = {}
    for key, value in record.items():
        if key.startswith("_"):
            continue
        if isinstance(value, dt.datetime):
            value = iso(value)
        out[key] = value
    if not out.get("authorizedSubject"):
        out.pop("authorizedSubject", None)
    if not out.get("hashOfCorrectedInvoice"):
        out.pop("hashOfCorrectedInvoice", None)
    return out


def store_of(sim):
    """The :class:`InvoiceStore` of ``sim`` (created on first use)."""
    store = getattr(sim, "invoice_store", None)
    if store is None:
        store = sim.invoice_store = InvoiceStore(sim)
    return store


@hook("init")
def _attach(sim):
    store_of(sim)


@hook("expire_session")
def _expire(sim, reference_number_):
    store = store_of(sim)
    with sim.state.lock:
        session = store.sessions.get(reference_number_)
        if session is None:
            return False
        return store.expire_if_due(session, force=True)


__all__ = ["ApiError", "InvoiceStore", "metadata_json", "store_of"]
