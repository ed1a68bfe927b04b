"""Interactive (online) session: open, send invoices, poll statuses, UPO, close.

A send is never repeated blindly: when its outcome is unknown (dropped
connection, timeout, 5xx after sending) the session's invoice list is read and
matched by ``invoiceHash`` first; only an invoice KSeF does not have is sent
again (and a resend KSeF already has ends as 440 with the original number).
"""

import datetime
import logging

import requests

from ..crypto import aes_encrypt, new_symmetric_key, rsa_oaep_encrypt
from ..errors import InputError
from ..hashing import b64, b64decode, sha256_b64
from ..ksef_number import is_valid_ksef_number
from . import status_codes
from .errors import KsefApiError, KsefIntegrityError, KsefUnavailable, KsefUnknownOutcome
from .keys import SYMMETRIC_KEY_ENCRYPTION
from .polling import poll
from .results import InvoiceResult, form_code
from .tokens import format_datetime, parse_datetime

_logger = logging.getLogger(__name__)

#: Do not start sending into a session that expires sooner than this.
SESSION_MARGIN = datetime.timedelta(minutes=10)


def encryption_block(client, key, iv, public_key):
    block = {
        "encryptedSymmetricKey": b64(rsa_oaep_encrypt(public_key.key, key)),
        "initializationVector": b64(iv),
    }
    if public_key.public_key_id:
        block["publicKeyId"] = public_key.public_key_id
    return block


def invoice_payload(key, iv, xml, offline_mode=False, hash_of_corrected=None):
    """Body of ``POST /sessions/online/{ref}/invoices``: hashes and sizes of the plain and encrypted file."""
    if not isinstance(xml, (bytes, bytearray)):
        raise InputError(
            "The invoice must be given as the bytes of the XML file.",
            "Fakturę należy przekazać jako bajty pliku XML.",
            code="invoice_not_bytes",
        )
    encrypted = aes_encrypt(key, iv, bytes(xml))
    body = {
        "invoiceHash": sha256_b64(xml),
        "invoiceSize": len(xml),
        "encryptedInvoiceHash": sha256_b64(encrypted),
        "encryptedInvoiceSize": len(encrypted),
        "encryptedInvoiceContent": b64(encrypted),
        "offlineMode": bool(offline_mode),
    }
    if hash_of_corrected:
        body["hashOfCorrectedInvoice"] = hash_of_corrected
    return body


def check_ksef_number(value):
    """Refuse a malformed KSeF number (or a wrong checksum) before any request."""
    if not is_valid_ksef_number(value):
        raise InputError(
            "%r is not a valid KSeF number (NIP-YYYYMMDD-12 hex-checksum): check it for a typo." % (value,),
            "%r nie jest poprawnym numerem KSeF (NIP-RRRRMMDD-12 znaków hex-suma kontrolna): "
            "sprawdź, czy nie ma literówki." % (value,),
            code="ksef_number_invalid",
        )
    return value


def checked_upo(response):
    """The UPO bytes of ``response``, refused when they do not match KSeF's ``x-ms-meta-hash``."""
    content = response.content
    expected = response.headers.get("x-ms-meta-hash")
    if expected and expected != sha256_b64(content):
        raise KsefIntegrityError(
            "The downloaded UPO does not match its hash: download it again.",
            "Pobrane UPO nie zgadza się ze skrótem: pobierz je ponownie.",
        )
    return content


class OnlineSession:
    """An open interactive session.  ``to_dict`` contains the AES key: store it as a secret."""

    def __init__(self, reference, valid_until, key, iv, form):
        self.reference = reference
        self.valid_until = parse_datetime(valid_until)
        self.key = key
        self.iv = iv
        self.form = form
        self.closed = False

    def usable(self, now):
        return not self.closed and (self.valid_until is None or self.valid_until - SESSION_MARGIN > now)

    def to_dict(self):
        return {
            "reference": self.reference,
            "valid_until": format_datetime(self.valid_until),
            "key": b64(self.key),
            "iv": b64(self.iv),
            "form": self.form,
            "closed": self.closed,
        }

    @classmethod
    def from_dict(cls, data):
        session = cls(
            data["reference"],
            data.get("valid_until"),
            b64decode(data["key"]),
            b64decode(data["iv"]),
            data["form"],
        )
        session.closed = bool(data.get("closed"))
        return session

    def __repr__(self):
        return "OnlineSession(%s)" % self.reference


class OnlineSessions:
    """Online-session operations of a :class:`~ksef_core.client.KsefClient`."""

    def __init__(self, client):
        self._c = client
        self.current = None

    def open(self, form="FA3"):
        code = form_code(form)
        key, iv = new_symmetric_key()

        def op(public_key):
            body = {"formCode": code, "encryption": encryption_block(self._c, key, iv, public_key)}
            return self._c.api("POST", "/sessions/online", json_body=body, idempotent=True)

        data = self._c.keys.with_key(SYMMETRIC_KEY_ENCRYPTION, op)
        session = OnlineSession(data["referenceNumber"], data.get("validUntil"), key, iv, code)
        _logger.info("KSeF online session %s opened", session.reference)
        return session

    def get(self, form="FA3"):
        """The current session if still usable for ``form``, else a new one (reuse within validity)."""
        code = form_code(form)
        if self.current is not None and self.current.form == code and self.current.usable(self._c.clock()):
            return self.current
        self.current = self.open(code)
        return self.current

    def close(self, session):
        if session.closed:
            return
        self.close_reference(session.reference)
        session.closed = True
        if self.current is session:
            self.current = None
        _logger.info("KSeF online session %s closed", session.reference)

    def close_reference(self, reference):
        """Close the online session ``reference`` (no key needed); one KSeF already closed is fine."""
        try:
            self._c.api("POST", "/sessions/online/%s/close" % reference, idempotent=True)
        except KsefApiError as exc:
            if 21180 not in exc.exception_codes:  # already closed (or expired: KSeF closed it)
                raise

    def status(self, reference):
        return self._c.api("GET", "/sessions/%s" % reference)

    def list_invoices(self, reference, failed=False, page_size=100):
        """All invoice statuses of a session (follows ``x-continuation-token``)."""
        path = "/sessions/%s/invoices%s" % (reference, "/failed" if failed else "")
        token = None
        while True:
            headers = {"x-continuation-token": token} if token else None
            data = self._c.api("GET", path, params={"pageSize": page_size}, headers=headers)
            yield from data.get("invoices") or ()
            token = data.get("continuationToken")
            if not token:
                return

    def send(self, session, xml, own_id=None, offline_mode=False, hash_of_corrected=None):
        """Send one invoice; returns an :class:`InvoiceResult` with its reference number."""
        body = invoice_payload(session.key, session.iv, xml, offline_mode, hash_of_corrected)
        invoice_hash = body["invoiceHash"]
        result = InvoiceResult(own_id, invoice_hash, session_reference=session.reference)
        path = "/sessions/online/%s/invoices" % session.reference
        for attempt in (1, 2):
            try:
                data = self._c.api("POST", path, json_body=body, idempotent=False)
                result.reference_number = data["referenceNumber"]
                return result
            except KsefUnknownOutcome as exc:
                _logger.warning("Outcome of an invoice send is unknown; checking the session's invoices")
                exc.details.update({"invoice_hash": invoice_hash, "session_reference": session.reference})
                try:
                    found = self.find(session.reference, invoice_hash)
                except KsefApiError:
                    # Cannot find out now: the caller must call find() later, never resend blindly.
                    raise exc from None
                if found is not None:
                    _logger.info("KSeF had received the invoice; it is not sent again")
                    found.own_id = own_id
                    return found
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def find(self, session_reference, invoice_hash, own_id=None):
        """The :class:`InvoiceResult` of an invoice KSeF has in the session (by hash), or ``None``.

        Use it after :class:`KsefUnknownOutcome` to learn whether a lost send reached KSeF.
        """
        for item in self.list_invoices(session_reference):
            if item.get("invoiceHash") == invoice_hash:
                return InvoiceResult(own_id, invoice_hash, session_reference=session_reference).update(item)
        return None

    def invoice_status(self, session_reference, invoice_reference):
        return self._c.api("GET", "/sessions/%s/invoices/%s" % (session_reference, invoice_reference))

    def wait(self, result, policy=None):
        """Poll until the invoice has a final status; returns the updated result."""
        if result.final:
            return result

        def fetch():
            return result.update(self.invoice_status(result.session_reference, result.reference_number))

        return poll(
            fetch,
            lambda r: r.final,
            policy or self._c.poll_policy,
            self._c.transport.sleep,
            "processing the invoice",
            "przetwarzanie faktury",
        )

    def wait_all(self, results, policy=None, list_threshold=3):
        """Poll until every result is final.

        With more than ``list_threshold`` pending invoices of one session, one paged
        ``GET /sessions/{ref}/invoices`` replaces a status call per invoice.
        """

        def fetch():
            pending = [r for r in results if not r.final]
            by_session = {}
            for result in pending:
                by_session.setdefault(result.session_reference, []).append(result)
            for reference, group in by_session.items():
                if len(group) > list_threshold:
                    by_ref = {r.reference_number: r for r in group}
                    for item in self.list_invoices(reference, page_size=1000):
                        found = by_ref.get(item.get("referenceNumber"))
                        if found is not None:
                            found.update(item)
                else:
                    for result in group:
                        result.update(self.invoice_status(reference, result.reference_number))
            return results

        return poll(
            fetch,
            lambda rs: all(r.final for r in rs),
            policy or self._c.poll_policy,
            self._c.transport.sleep,
            "processing the invoices",
            "przetwarzanie faktur",
        )

    def send_many(self, invoices, form="FA3", close=False, wait=True):
        """Send ``[(own_id, xml[, options])]`` in one session; return ``{own_id: InvoiceResult}``.

        ``options`` may hold ``offline_mode`` and ``hash_of_corrected``.  With ``wait`` the
        final status (KSeF number or error) of every invoice is awaited.
        """
        session = self.get(form)
        results = {}
        for item in invoices:
            own_id, xml = item[0], item[1]
            options = item[2] if len(item) > 2 else {}
            try:
                results[own_id] = self.send(session, xml, own_id=own_id, **options)
            except KsefApiError as exc:
                if not set(exc.exception_codes) & {21173, 21180}:
                    raise
                # The session expired or was closed meanwhile: continue in a new one.
                _logger.info("KSeF session %s is no longer open; opening a new one", session.reference)
                session.closed = True
                session = self.get(form)
                results[own_id] = self.send(session, xml, own_id=own_id, **options)
        if wait:
            self.wait_all(list(results.values()))
        if close:
            self.close(session)
        return results

    def upo(self, session_reference, invoice_reference=None, ksef_number=None):
        """UPO XML (bytes) of one invoice, by invoice reference or KSeF number."""
        if ksef_number:
            path = "/sessions/%s/invoices/ksef/%s/upo" % (session_reference, check_ksef_number(ksef_number))
        else:
            path = "/sessions/%s/invoices/%s/upo" % (session_reference, invoice_reference)
        response = self._c.api("GET", path, expect_json=False, headers={"Accept": "application/xml"})
        return checked_upo(response)

    def upo_from_url(self, url):
        """UPO XML (bytes) from a pre-signed ``upoDownloadUrl`` (no bearer token, no API rate limit)."""
        transport = self._c.transport
        try:
            response = transport.session.get(url, timeout=transport.timeout)
        except requests.RequestException as exc:
            raise KsefUnavailable(
                "The UPO could not be downloaded (%s): try again later." % type(exc).__name__,
                "Nie udało się pobrać UPO (%s): spróbuj ponownie później." % type(exc).__name__,
                code="upo_download_failed",
            ) from None
        if response.status_code >= 400:
            raise KsefApiError(
                "The UPO could not be downloaded (HTTP %d): try again later." % response.status_code,
                "Nie udało się pobrać UPO (HTTP %d): spróbuj ponownie później." % response.status_code,
                code="upo_download_failed",
                http_status=response.status_code,
            )
        return checked_upo(response)

    def session_upo(self, session_reference, upo_reference):
        """One page of a session's collective UPO (bytes)."""
        path = "/sessions/%s/upo/%s" % (session_reference, upo_reference)
        response = self._c.api("GET", path, expect_json=False, headers={"Accept": "application/xml"})
        return response.content

    def session_state(self, reference):
        """``StatusInfo`` of a session (``session`` kind)."""
        return status_codes.describe_status("session", self.status(reference).get("status"))
