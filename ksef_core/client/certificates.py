"""KSeF certificates (``/certificates/*``): limits, enrolment, status, download, list, revocation.

``client.certificates`` of a :class:`~ksef_core.client.KsefClient`, or ``CertificatesApi(client)``.
Certificates belong to the signed-in identity (a NIP, PESEL or certificate fingerprint), not to the context.
Enrolment data and enrolment need a session signed in with a XAdES signature (qualified signature or seal,
Profil Zaufany or a KSeF certificate); a KSeF-token session gets ``certificates_need_xades`` (25001/25002)::

    api = client.certificates
    api.limits()                      # {"can_request", "enrollment": {"limit", "remaining"}, "certificate": {...}}
    data = api.enrollment_data()      # DN attributes, as KSeF returns them (camelCase)
    key = certenroll.generate_key()
    ref = api.enroll(certenroll.build_csr(key, data), "Odoo KSeF", "Authentication")
    serial = api.wait_for_enrollment(ref)["serial"]
    cert = api.retrieve([serial])[0]  # {"der", "type", "name", "serial"}
    credential = certenroll.check_issued(cert["der"], key, data, "Authentication")

Errors are :class:`~.errors.KsefApiError` with ``code`` from :mod:`.status_codes` (25001–25011:
``certificates_need_xades``, ``certificate_subject_mismatch``, ``certificate_enrollment_limit``,
``certificate_limit``, ``certificate_unknown``, ``certificate_not_revocable``...).
"""

import re

from ..certenroll import CERTIFICATE_TYPES
from ..errors import InputError
from ..hashing import b64, b64decode
from . import status_codes
from .errors import KsefApiError, KsefProcessingError
from .polling import PollPolicy, poll
from .tokens import format_datetime, parse_datetime

STATUSES = ("Active", "Blocked", "Revoked", "Expired")
REVOCATION_REASONS = ("Unspecified", "Superseded", "KeyCompromise")
RETRIEVE_BATCH = 10
_SERIAL_RE = re.compile(r"^[0-9A-F]{16}$")
_NAME_RE = re.compile(r"^[a-zA-Z0-9_\- ąćęłńóśźżĄĆĘŁŃÓŚŹŻ]{5,100}$")
_REF_RE = re.compile(r"^\d{8}-[A-Z]{2}-[0-9A-F]{10}-[0-9A-F]{10}-[0-9A-F]{2}$")


def _input(en, pl, code):
    return InputError(en, pl, code=code)


def check_serial(serial):
    """A certificate serial number as KSeF writes it (16 upper-case hex digits); InputError otherwise."""
    text = str(serial or "").strip().upper()
    if not _SERIAL_RE.match(text):
        raise _input(
            "%r is not a KSeF certificate serial number (16 hexadecimal digits)." % (serial,),
            "%r nie jest numerem seryjnym certyfikatu KSeF (16 cyfr szesnastkowych)." % (serial,),
            "certificate_serial_invalid",
        )
    return text


def check_type(certificate_type):
    if certificate_type not in CERTIFICATE_TYPES:
        raise _input(
            "Unknown KSeF certificate type %r: use Authentication or Offline." % (certificate_type,),
            "Nieznany typ certyfikatu KSeF %r: użyj Authentication lub Offline." % (certificate_type,),
            "certificate_type_invalid",
        )
    return certificate_type


class _TransportApi:
    """Adapter giving a bare :class:`~.http.Transport` plus an access token the ``api()`` of a client."""

    def __init__(self, transport, access_token, poll_policy=None):
        self.transport = transport
        self._token = access_token
        self.poll_policy = poll_policy or PollPolicy()

    def api(self, method, path, **kwargs):
        return self.transport.request(method, path, bearer=self._token, **kwargs)


def _item(entry):
    """A ``CertificateListItem`` as a dict with snake_case keys and aware datetimes."""
    return {
        "serial": entry.get("certificateSerialNumber"),
        "name": entry.get("name"),
        "type": entry.get("type"),
        "common_name": entry.get("commonName"),
        "status": entry.get("status"),
        "subject_identifier": entry.get("subjectIdentifier"),
        "valid_from": parse_datetime(entry.get("validFrom")),
        "valid_to": parse_datetime(entry.get("validTo")),
        "last_use_date": parse_datetime(entry.get("lastUseDate")),
        "request_date": parse_datetime(entry.get("requestDate")),
    }


class CertificatesApi:
    """The ``/certificates`` endpoints for the signed-in identity.

    :param session_or_transport: a :class:`~ksef_core.client.KsefClient` (anything with ``api(method, path,
        **kw)``: tokens are refreshed by it), or a :class:`~.http.Transport` together with ``access_token``.
    """

    def __init__(self, session_or_transport, access_token=None, poll_policy=None):
        if hasattr(session_or_transport, "api"):
            self._c = session_or_transport
        else:
            if not access_token:
                raise _input(
                    "An access token is needed to call KSeF's certificate endpoints with a bare transport.",
                    "Do wywołań certyfikatów KSeF przez sam transport potrzebny jest token dostępowy.",
                    "access_token_missing",
                )
            self._c = _TransportApi(session_or_transport, access_token, poll_policy)
        self._poll_policy = poll_policy

    @property
    def _transport(self):
        return self._c.transport

    # -- limits and data ------------------------------------------------------------------------
    def limits(self):
        """``{"can_request": bool, "enrollment": {"limit", "remaining"}, "certificate": {"limit", "remaining"}}``."""
        data = self._c.api("GET", "/certificates/limits") or {}
        out = {"can_request": bool(data.get("canRequest"))}
        for key in ("enrollment", "certificate"):
            part = data.get(key) or {}
            out[key] = {"limit": part.get("limit"), "remaining": part.get("remaining")}
        return out

    def enrollment_data(self):
        """The DN attributes the request must carry, exactly as KSeF returns them (``commonName``,
        ``countryName``, ``givenName``, ``surname``, ``serialNumber``, ``uniqueIdentifier``,
        ``organizationName``, ``organizationIdentifier``; absent ones dropped). Pass it to
        :func:`ksef_core.certenroll.build_csr` unchanged."""
        data = self._c.api("GET", "/certificates/enrollments/data") or {}
        return {k: v for k, v in data.items() if v not in (None, "", [])}

    # -- enrolment ------------------------------------------------------------------------------
    def enroll(self, csr_der, name, certificate_type, valid_from=None):
        """Send a PKCS#10 request (DER bytes) → the enrolment's reference number.

        :param name: the certificate's own name (5–100 letters, digits, space, ``_``, ``-``; Polish letters allowed)
        :param certificate_type: ``"Authentication"`` (XAdES login) or ``"Offline"`` (KOD II of offline invoices)
        :param valid_from: aware datetime the certificate starts (default: when issued)
        """
        check_type(certificate_type)
        name = (name or "").strip()
        if not _NAME_RE.match(name):
            raise _input(
                "The certificate name must have 5–100 characters: letters, digits, spaces, '_' or '-'.",
                "Nazwa certyfikatu musi mieć 5–100 znaków: litery, cyfry, spacje, '_' lub '-'.",
                "certificate_name_invalid",
            )
        if not csr_der or not isinstance(csr_der, (bytes, bytearray)):
            raise _input(
                "The certificate request (CSR) is missing.",
                "Brak wniosku certyfikacyjnego (CSR).",
                "csr_missing",
            )
        body = {"certificateName": name, "certificateType": certificate_type, "csr": b64(bytes(csr_der))}
        if valid_from is not None:
            body["validFrom"] = format_datetime(valid_from)
        # a repeated request would count against the limit twice: never repeated blindly
        data = self._c.api("POST", "/certificates/enrollments", json_body=body, idempotent=False) or {}
        ref = data.get("referenceNumber")
        if not ref:
            raise KsefApiError(
                "KSeF accepted the certificate request without a reference number: check the list of certificates.",
                "KSeF przyjął wniosek bez numeru referencyjnego: sprawdź listę certyfikatów.",
                code="certificate_answer_invalid",
            )
        return ref

    def enrollment_status(self, reference_number):
        """``{"code", "description", "details", "serial", "request_date", "state", "final", "ok",
        "message_en", "message_pl"}`` of an enrolment (``serial`` once issued, status 200)."""
        reference_number = (reference_number or "").strip()
        if not _REF_RE.match(reference_number):
            raise _input(
                "%r is not a KSeF reference number." % (reference_number,),
                "%r nie jest numerem referencyjnym KSeF." % (reference_number,),
                "reference_invalid",
            )
        data = self._c.api("GET", "/certificates/enrollments/%s" % reference_number) or {}
        status = data.get("status") or {}
        info = status_codes.describe_status("certificate_enrollment", status)
        return {
            "code": info.code,
            "description": status.get("description"),
            "details": list(status.get("details") or ()),
            "serial": data.get("certificateSerialNumber"),
            "request_date": parse_datetime(data.get("requestDate")),
            "state": info.state,
            "final": info.final,
            "ok": info.ok,
            "message_en": info.message_en,
            "message_pl": info.message_pl,
        }

    def wait_for_enrollment(self, reference_number, timeout=None):
        """Poll until KSeF decides; the status dict with ``serial`` when issued.

        :raises KsefProcessingError: rejected (400, KSeF's reason in the message), 500, 550
        :raises KsefTimeout: not decided within ``timeout`` seconds (the enrolment goes on; ask again later)
        """
        base = self._poll_policy or getattr(self._c, "poll_policy", None) or PollPolicy()
        policy = PollPolicy(base.initial, base.factor, base.max_delay, timeout if timeout is not None else base.timeout)

        def fetch():
            return self.enrollment_status(reference_number)

        result = poll(
            fetch,
            lambda r: r["final"],
            policy,
            self._transport.sleep,
            "the certificate request",
            "wniosek certyfikacyjny",
        )
        if not result["ok"]:
            raise KsefProcessingError(
                result["message_en"],
                result["message_pl"],
                status_code=result["code"],
                state=result["state"],
                code="certificate_enrollment_" + result["state"],
                descriptions=[result["description"] or "", *result["details"]],
            )
        return result

    # -- certificates ---------------------------------------------------------------------------
    def retrieve(self, serials):
        """``[{"der": bytes, "type", "name", "serial"}]`` of the given certificates (10 a request)."""
        serials = list(dict.fromkeys(check_serial(s) for s in serials))
        out = []
        for start in range(0, len(serials), RETRIEVE_BATCH):
            body = {"certificateSerialNumbers": serials[start : start + RETRIEVE_BATCH]}
            data = self._c.api("POST", "/certificates/retrieve", json_body=body, idempotent=True) or {}
            for item in data.get("certificates") or ():
                out.append(
                    {
                        "der": b64decode(item.get("certificate") or ""),
                        "type": item.get("certificateType"),
                        "name": item.get("certificateName"),
                        "serial": item.get("certificateSerialNumber"),
                    }
                )
        return out

    def query_page(self, status=None, type=None, name=None, serial=None, expires_after=None, page_size=10, offset=0):
        """One page: ``(items, has_more)``; ``offset`` is the page number (KSeF's ``pageOffset``), sorted by
        request date, newest first. Items: see :meth:`query`."""
        body = {}
        if status is not None:
            if status not in STATUSES:
                raise _input(
                    "Unknown certificate status %r: use %s." % (status, ", ".join(STATUSES)),
                    "Nieznany status certyfikatu %r: użyj %s." % (status, ", ".join(STATUSES)),
                    "certificate_status_invalid",
                )
            body["status"] = status
        if type is not None:
            body["type"] = check_type(type)
        if name:
            body["name"] = name
        if serial:
            body["certificateSerialNumber"] = check_serial(serial)
        if expires_after is not None:
            body["expiresAfter"] = format_datetime(expires_after)
        page_size = max(10, min(50, int(page_size)))
        params = {"pageSize": page_size, "pageOffset": max(0, int(offset))}
        data = self._c.api("POST", "/certificates/query", json_body=body, params=params, idempotent=True) or {}
        return [_item(e) for e in data.get("certificates") or ()], bool(data.get("hasMore"))

    def query(self, status=None, type=None, page_size=10, offset=0, name=None, serial=None, expires_after=None):
        """One page of the identity's certificates → list of dicts ``{"serial", "name", "type", "common_name",
        "status", "subject_identifier", "valid_from", "valid_to", "last_use_date", "request_date"}``
        (``offset`` = page number). :meth:`query_all` reads every page."""
        return self.query_page(status, type, name, serial, expires_after, page_size, offset)[0]

    def query_all(self, status=None, type=None, name=None, serial=None, expires_after=None, max_pages=100):
        out = []
        for page in range(max_pages):
            items, more = self.query_page(status, type, name, serial, expires_after, 50, page)
            out.extend(items)
            if not more:
                break
        return out

    def revoke(self, serial, reason="Unspecified"):
        """Revoke a certificate (``reason``: Unspecified, Superseded or KeyCompromise). It can never be used again."""
        serial = check_serial(serial)
        if reason not in REVOCATION_REASONS:
            raise _input(
                "Unknown revocation reason %r: use %s." % (reason, ", ".join(REVOCATION_REASONS)),
                "Nieznany powód unieważnienia %r: użyj %s." % (reason, ", ".join(REVOCATION_REASONS)),
                "revocation_reason_invalid",
            )
        self._c.api(
            "POST",
            "/certificates/%s/revoke" % serial,
            json_body={"revocationReason": reason},
            idempotent=True,
            expect_json=False,
        )
