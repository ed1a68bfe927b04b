"""Getting a KSeF certificate without leaving the ERP: the signed first login and what KSeF refuses.

KSeF issues certificates only to a session authenticated by a XAdES signature (a qualified
signature or seal, Profil Zaufany, or a KSeF certificate); a session opened with a KSeF token is
refused. The first certificate therefore starts with an ``AuthTokenRequest`` the user signs outside
(the ERP cannot hold a qualified signature):

1. :func:`new_signing_request` asks KSeF for a challenge and prepares the unsigned request, valid
   :data:`CHALLENGE_TTL` from KSeF's time of the challenge;
2. the user signs it (XAdES, enveloped or enveloping) and uploads it; :func:`check_signed_request` finds locally
   what KSeF would refuse (no XAdES signature, another document, another context, too late);
3. :func:`login_with_signed_request` submits it and completes the login (access + refresh token);
4. the enrollment itself (``certenroll`` + ``client.certificates``) runs in that session.

:func:`explain_refusal` turns what KSeF answers along the way into a message saying what to do.
"""

import datetime
from dataclasses import dataclass

from .calendar_pl import warsaw_now
from .client.errors import KsefApiError
from .errors import InputError, KsefError, XmlInputError
from .xades import XadesError, verify_enveloped
from .xmldsig import C14N_METHODS, DS, ENVELOPED, XADES, XPATH_TRANSFORM
from .xmlsafe import parse_xml

UTC = datetime.timezone.utc

#: how long KSeF accepts a challenge (API-NOTES §2.1: 10 minutes)
CHALLENGE_TTL = datetime.timedelta(minutes=10)
#: the file name of the request to sign
REQUEST_FILENAME = "AuthTokenRequest-%s.xml"


class SignedRequestError(InputError):
    """The uploaded signed request cannot be used (``code`` says why: ``signed_*``)."""

    default_code = "signed_request_invalid"


@dataclass
class SigningRequest:
    """A challenge of KSeF and the unsigned ``AuthTokenRequest`` made of it."""

    challenge: str
    issued_at: datetime.datetime
    xml: bytes

    @property
    def expires_at(self):
        return self.issued_at + CHALLENGE_TTL

    def expired(self, now):
        return now >= self.expires_at

    @property
    def filename(self):
        return REQUEST_FILENAME % self.challenge


def _aware(value):
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def new_signing_request(client, context_type="Nip", context_value=None):
    """A fresh challenge of KSeF for the context (default: the client's NIP) and the request to sign."""
    prepared = client.prepare_signed_login(context_type, context_value or client.nip)
    issued = _aware(prepared["issued_at"]).astimezone(UTC).replace(microsecond=0)
    return SigningRequest(challenge=prepared["challenge"], issued_at=issued, xml=prepared["xml"])


def _refused(code, en, pl, **details):
    return SignedRequestError(en, pl, code=code, details=details)


def not_xades_error(reason=None):
    return _refused(
        "signed_not_xades",
        "The uploaded file is not the request signed with a XAdES signature inside it. Sign the downloaded "
        "AuthTokenRequest file itself with the XAdES format (enveloped or enveloping, not detached; on gov.pl: "
        "'Podpisz dokument elektronicznie' with Profil Zaufany, or your qualified signature's program with the "
        "XAdES option), then upload the signed .xml file. PAdES (PDF) and CAdES (.p7s/.sig) signatures are not "
        "accepted.",
        "Przesłany plik nie jest żądaniem podpisanym podpisem XAdES. Podpisz pobrany plik AuthTokenRequest w "
        "formacie XAdES (podpis otaczany lub otaczający, nie zewnętrzny; na gov.pl: 'Podpisz dokument "
        "elektronicznie' Profilem Zaufanym albo programem podpisu kwalifikowanego z opcją XAdES) i wczytaj "
        "podpisany plik .xml. Podpisy PAdES (PDF) i CAdES (.p7s/.sig) nie są akceptowane.",
        reason=reason,
    )


def other_document_error():
    return _refused(
        "signed_other_document",
        "The signed file is not the request Odoo prepared last (it was signed over another document or an older "
        "request). Download the current request from this window, sign that file and upload it.",
        "Podpisany plik nie jest ostatnim żądaniem przygotowanym przez Odoo (podpisano inny dokument albo starsze "
        "żądanie). Pobierz aktualne żądanie z tego okna, podpisz ten plik i wczytaj go.",
    )


def expired_error(expires_at):
    # the time of the user's clock (Polish time), as the wizard's own deadline field shows it
    stamp = warsaw_now(expires_at).strftime("%d.%m.%Y %H:%M:%S")
    return _refused(
        "signed_challenge_expired",
        "The request to sign was valid until %s Polish time (KSeF accepts a challenge for 10 minutes) and has "
        "expired. Odoo prepared a new one: download it, sign it and upload it within 10 minutes." % stamp,
        "Żądanie do podpisu było ważne do %s czasu polskiego (KSeF przyjmuje wyzwanie przez 10 minut) i wygasło. "
        "Odoo przygotowało nowe: pobierz je, podpisz i wczytaj w ciągu 10 minut." % stamp,
        expires_at=expires_at.isoformat(),
    )


def check_signed_request(signed, request, context_value, now):
    """Refuse locally what KSeF would refuse in the uploaded ``signed`` file (bytes).

    :param request: the :class:`SigningRequest` the user was given
    :raises SignedRequestError: ``signed_challenge_expired``, ``signed_not_xades``,
        ``signed_other_document`` or ``signed_other_context``
    """
    if request.expired(now):
        raise expired_error(request.expires_at)
    try:
        document = parse_xml(signed, 2_000_000, "signed request", "podpisane żądanie")
    except XmlInputError:
        raise not_xades_error("not_xml") from None
    try:
        verified = verify_enveloped(signed)
    except XadesError as exc:
        reason = (exc.details or {}).get("reason")
        if exc.ksef_code == 9105 and reason in ("digest_mismatch", "reference_digest"):
            raise other_document_error() from None
        if reason not in KSEF_DECIDES:
            raise not_xades_error(reason or exc.code) from None
        # a form KSeF accepts that is not checked here (an XPath Filter 2.0 step the local verifier does not
        # evaluate): what was signed is still checked, the signature itself is left to KSeF
        verified, root = None, _signed_request_element(document)
        if root is None:
            raise not_xades_error(reason) from None
    else:
        root = verified.signed_root
    if root.tag.rsplit("}", 1)[-1] != "AuthTokenRequest":
        raise other_document_error()
    challenge = "".join(el.text or "" for el in root if el.tag.rsplit("}", 1)[-1] == "Challenge").strip()
    if challenge != request.challenge:
        raise other_document_error()
    values = [
        (child.text or "").strip() for el in root if el.tag.rsplit("}", 1)[-1] == "ContextIdentifier" for child in el
    ]
    if context_value and context_value not in values:
        raise _refused(
            "signed_other_context",
            "The signed request is for another company (context %s, not %s). Download the request from this "
            "company's settings and sign it." % (", ".join(values) or "?", context_value),
            "Podpisane żądanie dotyczy innej firmy (kontekst %s, a nie %s). Pobierz żądanie z ustawień tej firmy "
            "i podpisz je." % (", ".join(values) or "?", context_value),
        )
    return verified


#: why a signature is not verified here although KSeF accepts it (API-NOTES §2.3): a transform step the local
#: verifier does not evaluate (an XPath Filter 2.0 other than subtracting the signature)
KSEF_DECIDES = {"transform_unsupported"}
#: the transforms KSeF accepts in a signed request (API-NOTES §2.3)
KSEF_TRANSFORMS = {
    ENVELOPED,
    XPATH_TRANSFORM,
    "http://www.w3.org/2002/06/xmldsig-filter2",
    "http://www.w3.org/2000/09/xmldsig#base64",
    *C14N_METHODS,
}


def _signed_request_element(document):
    """The ``AuthTokenRequest`` of a document with one XML signature holding XAdES signed properties, or None."""
    signatures = [el for el in document.iter() if isinstance(el.tag, str) and el.tag == "{%s}Signature" % DS]
    if len(signatures) != 1 or not any(True for _el in signatures[0].iter("{%s}SignedProperties" % XADES)):
        return None
    transforms = {el.get("Algorithm") for el in signatures[0].iter("{%s}Transform" % DS)}
    if not transforms <= KSEF_TRANSFORMS:
        return None
    for element in document.iter():
        if isinstance(element.tag, str) and element.tag.rsplit("}", 1)[-1] == "AuthTokenRequest":
            return element
    return None


def login_with_signed_request(client, signed, request, context_type="Nip", context_value=None):
    """Submit the signed request (checked against ``request``, the :class:`SigningRequest` given), complete
    the login and keep the session in ``client`` (its ``on_token_change`` stores it); the :class:`TokenState`."""
    prepared = {
        "challenge": request.challenge,
        "context_type": context_type,
        "context_value": context_value or client.nip,
        "valid_until": request.expires_at,
    }
    return client.login_with_signed_request(signed, prepared)


# --------------------------------------------------------------------------- refusals

#: KSeF's exception codes of a refused signed document (API-NOTES §2.2)
_NOT_XADES_CODES = {9101, 9102, 9103, 9105, 21001, 21217, 21401}
#: a certificate enrollment refused to a session opened with a KSeF token
TOKEN_SESSION_CODES = {25001, 25002}


def token_session_error():
    return KsefError(
        "KSeF issues certificates only in a session opened with a signature (a qualified signature or seal, "
        "Profil Zaufany, or a KSeF certificate), not with a KSeF token. Use 'Get a KSeF certificate' in "
        "Settings > KSeF: download the request, sign it and upload it.",
        "KSeF wydaje certyfikaty tylko w sesji otwartej podpisem (kwalifikowanym podpisem lub pieczęcią, "
        "Profilem Zaufanym albo certyfikatem KSeF), nie tokenem KSeF. Użyj 'Uzyskaj certyfikat KSeF' w "
        "Ustawienia > KSeF: pobierz żądanie, podpisz je i wczytaj.",
        code="cert_token_session",
    )


def limit_error(kind=None, limit=None):
    return KsefError(
        "KSeF's limit of certificates for this signer is reached%s. Revoke certificates you no longer use "
        "(Settings > KSeF > KSeF certificates) or sign with another person's or the company's seal, then try "
        "again." % (" (%s: %s)" % (kind, limit) if kind else ""),
        "Osiągnięto limit certyfikatów KSeF dla tego podpisującego%s. Unieważnij nieużywane certyfikaty "
        "(Ustawienia > KSeF > Certyfikaty KSeF) albo podpisz żądanie innej osoby lub pieczęcią firmy i spróbuj "
        "ponownie." % (" (%s: %s)" % (kind, limit) if kind else ""),
        code="cert_limit",
    )


def no_permissions_error():
    return KsefError(
        "KSeF accepted the signature but its signer has no permissions in this company's context (NIP). Sign "
        "with the company's qualified seal, or as a person KSeF knows for this NIP (an owner, or someone granted "
        "permissions in KSeF, e.g. by filing ZAW-FA), then try again.",
        "KSeF przyjął podpis, ale podpisujący nie ma uprawnień w kontekście tej firmy (NIP). Podpisz "
        "kwalifikowaną pieczęcią firmy albo jako osoba uprawniona w KSeF dla tego NIP (właściciel lub osoba z "
        "nadanymi uprawnieniami, np. przez ZAW-FA) i spróbuj ponownie.",
        code="cert_signer_no_permissions",
    )


def signer_certificate_error():
    return KsefError(
        "KSeF refused the certificate of the signature (invalid, untrusted, revoked or expired). Sign with a "
        "valid qualified signature or seal, or with Profil Zaufany.",
        "KSeF odrzucił certyfikat podpisu (nieważny, niezaufany, unieważniony lub wygasły). Podpisz ważnym "
        "kwalifikowanym podpisem lub pieczęcią albo Profilem Zaufanym.",
        code="cert_signer_certificate",
    )


def explain_refusal(exc):
    """A :class:`KsefError` saying what to do about ``exc`` (a ``KsefApiError`` of the login or the
    enrollment), or ``exc`` itself when it is none of the refusals known here."""
    if not isinstance(exc, KsefApiError):
        return exc
    codes = set(exc.exception_codes or ())
    status = (exc.details or {}).get("status")
    if codes & TOKEN_SESSION_CODES or exc.code == "certificates_need_xades":
        return token_session_error()
    if codes & {25006, 25007} or exc.code in ("certificate_enrollment_limit", "certificate_limit"):
        return limit_error()
    if 21111 in codes or exc.code == "signed_request_challenge_expired":
        return _refused(
            "signed_challenge_expired",
            "KSeF no longer accepts the challenge of the signed request (it was valid for 10 minutes, or was "
            "already used). Odoo prepared a new request: download it, sign it and upload it.",
            "KSeF nie przyjmuje już wyzwania podpisanego żądania (było ważne 10 minut albo zostało już użyte). "
            "Odoo przygotowało nowe żądanie: pobierz je, podpisz i wczytaj.",
        )
    if exc.code in ("signed_request_other_document", "signed_request_wrong_document"):
        return other_document_error()
    if codes & _NOT_XADES_CODES or exc.code in ("signed_request_not_signed", "signed_request_not_xades"):
        return not_xades_error("ksef_%s" % min(codes & _NOT_XADES_CODES))
    if 21115 in codes or status == 460 or exc.code == "auth_bad_certificate":
        return signer_certificate_error()
    if status == 415 or exc.code == "auth_no_permissions":
        return no_permissions_error()
    return exc
