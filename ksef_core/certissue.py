"""One KSeF certificate from enrollment to installation, in a session that KSeF lets enroll.

The ERP keeps between calls only what this module returns (the enrollment's reference, the key, the
enrollment data): :func:`start_enrollment` sends it, :func:`follow_enrollment` asks about it for a bounded
time and, once KSeF has issued the certificate, retrieves it and checks it fits the key, the data and the
type (:func:`ksef_core.certenroll.check_issued`). Waiting longer than that is the caller's choice: it keeps
the reference and asks again later.
"""

import datetime
import re

from . import certenroll
from .certflow import explain_refusal, limit_error
from .client.errors import (
    KsefApiError,
    KsefIntegrityError,
    KsefRateLimited,
    KsefTimeout,
    KsefUnavailable,
    KsefUnknownOutcome,
)
from .errors import KsefError

#: the ERP's purposes and KSeF's certificate types
TYPES = {"authentication": "Authentication", "offline": "Offline"}
_NAME_CHARS = re.compile(r"[^a-zA-Z0-9_\- ąćęłńóśźżĄĆĘŁŃÓŚŹŻ]")


class EnrollmentRefused(KsefError):
    """KSeF refused the enrollment (status 400/500/550), or what it issued does not fit the request."""

    default_code = "enrollment_refused"


def generate_key(kind="ec"):
    """A new private key: EC P-256 (``"ec"``, KSeF's recommendation) or RSA-2048 (``"rsa"``)."""
    return certenroll.generate_key(kind)


def certificate_name(company_name, purpose, today):
    """The certificate's name shown in KSeF (5 to 100 letters, digits, spaces, ``_`` or ``-``)."""
    company = " ".join(_NAME_CHARS.sub(" ", company_name or "").split())[:60]
    return ("Odoo %s %s %s" % (TYPES[purpose], company, today.isoformat())).replace("  ", " ")[:100]


def start_enrollment(client, key, purpose, name, valid_from=None):
    """Check the limits, read the enrollment data, build the CSR and send it; ``(reference, enrollment_data)``.

    :raises KsefError: saying what to do (limit reached, token session, ...)
    """
    api = client.certificates
    try:
        limits = api.limits()
        if not limits.get("can_request", True):
            # KSeF also says no to a token session: then the next call says why
            for kind in ("enrollment", "certificate"):
                part = limits.get(kind) or {}
                if part.get("remaining") is not None and part["remaining"] <= 0:
                    raise limit_error("requests" if kind == "enrollment" else "active certificates", part.get("limit"))
        data = api.enrollment_data()
        reference = api.enroll(certenroll.build_csr(key, data), name, TYPES[purpose], valid_from=valid_from)
    except KsefApiError as exc:
        raise explain_refusal(exc) from None
    return reference, data


def follow_enrollment(client, reference, key, purpose, enrollment_data=None, timeout=0.0):
    """The issued certificate as a :class:`~ksef_core.credentials.Credential` with ``key``, or None while KSeF
    has not issued it (asked until ``timeout`` seconds pass; 0: once).

    :raises EnrollmentRefused: KSeF refused it, or what it issued does not fit the request
    """
    api = client.certificates
    try:
        status = api.enrollment_status(reference)
        if not status["final"] and timeout > 0:
            try:
                status = api.wait_for_enrollment(reference, timeout=timeout)
            except KsefTimeout:
                return None
        if not status["final"]:
            return None
        if not status["ok"]:
            reason = "; ".join(filter(None, [status.get("description"), *status.get("details", ())]))
            raise EnrollmentRefused(
                "%s (%s) Start again in Settings > KSeF > Get a KSeF certificate." % (status["message_en"], reason),
                "%s (%s) Zacznij od nowa: Ustawienia > KSeF > Uzyskaj certyfikat KSeF."
                % (status["message_pl"], reason),
                details={"status": status["code"]},
            )
        issued = api.retrieve([status["serial"]])
    except KsefApiError as exc:
        raise explain_refusal(exc) from None
    if not issued:
        raise EnrollmentRefused(
            "KSeF did not return the issued certificate %s: use Check again later." % status["serial"],
            "KSeF nie zwrócił wydanego certyfikatu %s: użyj Sprawdź ponownie później." % status["serial"],
            code="enrollment_not_retrieved",
        )
    try:
        return certenroll.check_issued(issued[0]["der"], key, enrollment_data, TYPES[purpose])
    except KsefError as exc:
        raise EnrollmentRefused(exc.message_en, exc.message_pl, code=exc.code) from None


def find_issued(client, name, key, purpose):
    """The certificate KSeF issued under ``name`` for ``key`` (an enrollment sent without its answer being
    kept) as a :class:`~ksef_core.credentials.Credential`, or None when KSeF has none.

    :raises KsefError: KSeF could not be asked
    """
    api = client.certificates
    try:
        items = api.query_all(name=name, type=TYPES[purpose])
        serials = [item["serial"] for item in items if item.get("name") == name]
        issued = api.retrieve(serials) if serials else []
    except KsefApiError as exc:
        raise explain_refusal(exc) from None
    for item in issued:
        try:
            return certenroll.check_issued(item["der"], key, None, TYPES[purpose])
        except KsefError:
            continue  # another key's certificate of the same name
    return None


#: a moment's trouble: the enrollment goes on in KSeF, it is asked about again later
_TRANSIENT = (KsefUnavailable, KsefRateLimited, KsefUnknownOutcome, KsefTimeout, KsefIntegrityError)


def is_final(exc):
    """Whether ``exc`` (raised by :func:`follow_enrollment`) ends the enrollment: KSeF refused it (status
    400/500/550), no longer knows it (25005, 410) or issued what does not fit the request. A temporary error
    (KSeF unavailable, rate limit, timeout, unknown outcome, a certificate not returned yet) does not."""
    if isinstance(exc, _TRANSIENT):
        return False
    return getattr(exc, "code", None) != "enrollment_not_retrieved"


def renewal_due(not_after, now, days=30):
    """Whether a certificate valid until ``not_after`` is to be renewed at ``now``."""
    return not_after - datetime.timedelta(days=days) <= now < not_after
