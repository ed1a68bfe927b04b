"""One KSeF certificate from enrollment to installation, in a session that KSeF lets enroll.

The ERP keeps between calls only what this module returns (the enrollment's reference, the key):
:func:`start_enrollment` sends it, :func:`follow_enrollment` checks it once or until a deadline and,
when KSeF has issued the certificate, retrieves it and checks it fits the key and the data KSeF
gave (:func:`ksef_core.certenroll.check_issued`). Waiting for longer than a click is the caller's
choice: it keeps the reference and asks again later.
"""

import datetime
import time

from . import certenroll
from .certflow import explain_refusal, limit_error
from .client.certificates import CertificatesApi
from .client.errors import KsefApiError
from .credentials import Credential, certificate_info
from .errors import KsefError
from .x509util import load_der_certificate

#: KSeF's certificate types and the ERP's purposes
TYPES = {"authentication": "Authentication", "offline": "Offline"}


class EnrollmentRefused(KsefError):
    """KSeF refused the enrollment (status 400/500/550) or the issued certificate does not fit."""

    default_code = "enrollment_refused"


def generate_key(kind="ec"):
    """A new private key: EC P-256 (``"ec"``, KSeF's recommendation) or RSA-2048 (``"rsa"``)."""
    return certenroll.generate_key(kind=kind)


def certificate_name(company_name, purpose, today):
    """The certificate's name shown in KSeF (5 to 100 characters)."""
    name = "Odoo %s %s %s" % (TYPES[purpose], (company_name or "").strip()[:60], today.isoformat())
    return name[:100]


def _api(client):
    return CertificatesApi(client)


def start_enrollment(client, key, purpose, name, valid_from=None):
    """Check the limits, read the enrollment data, build the CSR and send it; returns
    ``(reference, enrollment_data)``.

    :raises KsefError: with what to do (limit reached, token session...)
    """
    api = _api(client)
    try:
        limits = api.limits()
        if not _can_enroll(limits):
            raise limit_error()
        data = api.enrollment_data()
        csr = certenroll.build_csr(key, data)
        reference = api.enroll(csr, name, TYPES[purpose], valid_from=valid_from)
    except KsefApiError as exc:
        raise explain_refusal(exc) from None
    return reference, data


def _can_enroll(limits):
    """False when KSeF's limits leave no room (either shape: an object with ``can_request`` or a dict)."""
    if limits is None:
        return True
    allowed = getattr(limits, "can_request", None)
    if allowed is not None:
        return bool(allowed() if callable(allowed) else allowed)
    if isinstance(limits, dict):
        if "canRequest" in limits:
            return bool(limits["canRequest"])
        for key in ("enrollment", "certificate"):
            part = limits.get(key) or {}
            if isinstance(part, dict) and part.get("remaining", 1) <= 0:
                return False
    return True


def follow_enrollment(client, reference, key, enrollment_data=None, timeout=0.0):
    """The issued certificate as a :class:`~ksef_core.credentials.Credential` with ``key``, or None while
    KSeF has not issued it yet (asked until ``timeout`` seconds pass; 0: once).

    :raises EnrollmentRefused: KSeF refused it, or what it issued does not fit the key and data
    """
    api = _api(client)
    deadline = time.monotonic() + max(0.0, timeout)
    try:
        while True:
            status = api.enrollment_status(reference)
            code, serial, text = _status(status)
            if code == 200 and serial:
                break
            if code not in (None, 100):
                raise EnrollmentRefused(
                    "KSeF refused the certificate request (status %s: %s). Start again from Settings > KSeF > "
                    "Get a KSeF certificate." % (code, text or "-"),
                    "KSeF odrzucił wniosek o certyfikat (status %s: %s). Zacznij od nowa: Ustawienia > KSeF > "
                    "Uzyskaj certyfikat KSeF." % (code, text or "-"),
                    details={"status": code},
                )
            if time.monotonic() + 1.0 > deadline:
                return None
            client.transport.sleep(1.0)
        retrieved = api.retrieve([serial])
    except KsefApiError as exc:
        raise explain_refusal(exc) from None
    der = _der_of(retrieved, serial)
    certificate = load_der_certificate(der)
    try:
        if enrollment_data is not None:
            certenroll.check_issued(der, key, enrollment_data)
        else:
            certenroll.check_issued(der, key, None)
    except KsefError as exc:
        raise EnrollmentRefused(exc.message_en, exc.message_pl, code="enrollment_mismatch") from None
    return Credential(certificate, key, [])


def _status(status):
    if isinstance(status, dict):
        inner = status.get("status") or {}
        code = inner.get("code") if isinstance(inner, dict) else inner
        text = inner.get("description") if isinstance(inner, dict) else None
        return code, status.get("certificateSerialNumber"), text
    code = getattr(status, "code", None)
    return code, getattr(status, "serial_number", None), getattr(status, "description", None)


def _der_of(retrieved, serial):
    items = retrieved if isinstance(retrieved, (list, tuple)) else (retrieved or {}).get("certificates") or []
    for item in items:
        if isinstance(item, (bytes, bytearray)):
            return bytes(item)
        if isinstance(item, dict):
            if item.get("certificateSerialNumber") in (None, serial):
                from .hashing import b64decode

                return b64decode(item["certificate"])
        else:
            der = getattr(item, "der", None) or getattr(item, "certificate_der", None)
            if der and getattr(item, "serial_number", serial) == serial:
                return der
    raise EnrollmentRefused(
        "KSeF did not return the issued certificate %s; use Check again later." % serial,
        "KSeF nie zwrócił wydanego certyfikatu %s; użyj Sprawdź ponownie później." % serial,
        code="enrollment_not_retrieved",
    )


def renewal_due(not_after, now, days=30):
    """Whether a certificate valid until ``not_after`` is to be renewed at ``now``."""
    return not_after - datetime.timedelta(days=days) <= now < not_after


def issued_by_ksef(info):
    """A certificate KSeF issued (its issuer is KSeF's CA), so renewable through the API."""
    return bool(info and getattr(info, "is_ksef_issued", False))


__all__ = [
    "TYPES",
    "EnrollmentRefused",
    "certificate_info",
    "certificate_name",
    "follow_enrollment",
    "generate_key",
    "issued_by_ksef",
    "renewal_due",
    "start_enrollment",
]
