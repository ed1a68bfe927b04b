"""Sign-in with an ``AuthTokenRequest`` signed outside the program (qualified signature or seal, Profil Zaufany).

:meth:`Authenticator.prepare_signed_login` fetches a challenge and builds the unsigned document; the user signs
it (XAdES, enveloped or enveloping) in their signing application or on the Profil Zaufany page and hands the
signed file back;
:meth:`Authenticator.login_with_signed_request` checks that it is that document, still valid, signed with XAdES,
then submits it (``POST /auth/xades-signature``), polls and redeems the tokens.

A session opened this way may request KSeF certificates (``client.certificates``), which a token session may not.
"""

import datetime

from ..errors import XmlInputError
from ..hashing import b64decode
from ..xades import build_auth_token_request
from ..xmldsig import AUTH_NS, DS, MAX_XADES_BYTES, XADES
from ..xmlsafe import parse_xml
from .errors import KsefApiError, KsefAuthError
from .tokens import TokenState, parse_datetime

CHALLENGE_TTL = 600  # seconds (API-NOTES §2.1)
_FIX_EN = "Download a new request from Odoo, sign it (XAdES, enveloped or enveloping) and upload the signed file."
_FIX_PL = "Pobierz z Odoo nowe żądanie, podpisz je (XAdES, podpis otaczany lub otaczający) i wczytaj podpisany plik."


def _now(auth):
    return auth.clock() if auth.clock else datetime.datetime.now(datetime.timezone.utc)


def _error(en, pl, code, **details):
    return KsefAuthError("%s %s" % (en, _FIX_EN), "%s %s" % (pl, _FIX_PL), code=code, details=details)


def prepare(auth, context_type, context_value, subject_identifier_type="certificateSubject"):
    challenge = auth._challenge()
    xml = build_auth_token_request(challenge["challenge"], context_type, context_value, subject_identifier_type)
    issued = parse_datetime(challenge.get("timestamp"))
    if issued is None and challenge.get("timestampMs") is not None:
        issued = datetime.datetime.fromtimestamp(int(challenge["timestampMs"]) / 1000.0, datetime.timezone.utc)
    issued = issued or _now(auth)
    return {
        "xml": xml,
        "challenge": challenge["challenge"],
        "context_type": context_type,
        "context_value": context_value,
        "issued_at": issued,
        "valid_until": issued + datetime.timedelta(seconds=CHALLENGE_TTL),
    }


def read_signed_request(signed_xml):
    """``(challenge, context_type, context_value)`` of a signed ``AuthTokenRequest``; KsefAuthError if the file
    is no signed (XAdES) KSeF authentication request."""
    if isinstance(signed_xml, str):
        signed_xml = signed_xml.encode("utf-8")
    try:
        root = parse_xml(signed_xml or b"", MAX_XADES_BYTES, "signed request", "podpisane żądanie")
    except XmlInputError as exc:
        raise _error(
            "The signed file cannot be read (%s)." % exc.message_en,
            "Nie można odczytać podpisanego pliku (%s)." % exc.message_pl,
            "signed_request_unreadable",
        ) from None
    signature_root = root
    if root.tag == "{%s}Signature" % DS:  # an enveloping signature: the request is inside its ds:Object
        root = _enveloped_request(root)
    namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    if namespace not in AUTH_NS.values() or root.tag.split("}", 1)[-1] != "AuthTokenRequest":
        raise _error(
            "The signed file is not a KSeF authentication request (AuthTokenRequest): it was made over another "
            "document.",
            "Podpisany plik nie jest żądaniem uwierzytelnienia KSeF (AuthTokenRequest): podpisano inny dokument.",
            "signed_request_wrong_document",
        )
    signatures = list(signature_root.iter("{%s}Signature" % DS))
    if not signatures:
        raise _error(
            "The file is not signed (no XML signature inside): sign it with a XAdES signature, not PAdES or a "
            "detached signature.",
            "Plik nie jest podpisany (brak podpisu XML w środku): podpisz go podpisem XAdES, nie PAdES ani podpisem "
            "zewnętrznym.",
            "signed_request_not_signed",
        )
    if not any(True for _el in signatures[0].iter("{%s}SignedProperties" % XADES)):
        raise _error(
            "The signature is a plain XML signature, not XAdES (no signed properties): choose the XAdES format "
            "in the signing application.",
            "Podpis jest zwykłym podpisem XML, nie XAdES (brak właściwości podpisu): wybierz format XAdES w "
            "aplikacji do podpisu.",
            "signed_request_not_xades",
        )
    challenge = (root.findtext("{%s}Challenge" % namespace) or "").strip()
    ctx = root.find("{%s}ContextIdentifier" % namespace)
    ctx_type = ctx_value = None
    for el in ctx if ctx is not None else ():
        if isinstance(el.tag, str):
            ctx_type, ctx_value = el.tag.split("}", 1)[-1], (el.text or "").strip()
    return challenge, ctx_type, ctx_value


def _enveloped_request(signature):
    """The ``AuthTokenRequest`` an enveloping signature carries in the ``ds:Object`` its content reference names
    (``URI="#id"``: the object or the element with that Id), as an element or base64-encoded; the signature
    itself when there is none."""
    for reference in signature.iterfind("{%s}SignedInfo/{%s}Reference" % (DS, DS)):
        uri = reference.get("URI") or ""
        if not uri.startswith("#") or len(uri) < 2:
            continue
        for target in signature.iter():
            if isinstance(target.tag, str) and uri[1:] in (target.get("Id"), target.get("ID"), target.get("id")):
                found = _request_in(target)
                if found is not None:
                    return found
    return signature


def _request_in(target):
    if target.tag.split("}", 1)[-1] == "AuthTokenRequest":
        return target
    for element in target:
        if isinstance(element.tag, str) and element.tag.split("}", 1)[-1] == "AuthTokenRequest":
            return element
    text = "".join("".join(target.itertext()).split())
    if not text or any(isinstance(element.tag, str) for element in target):
        return None
    try:
        inner = parse_xml(b64decode(text), MAX_XADES_BYTES, "signed request", "podpisane żądanie")
    except (ValueError, XmlInputError):
        return None
    return inner if inner.tag.split("}", 1)[-1] == "AuthTokenRequest" else None


def login(auth, signed_xml, prepared=None, verify_chain=None):
    if isinstance(signed_xml, str):
        signed_xml = signed_xml.encode("utf-8")
    challenge, ctx_type, ctx_value = read_signed_request(signed_xml)
    if prepared:
        if challenge != prepared["challenge"] or (ctx_type, ctx_value) != (
            prepared["context_type"],
            prepared["context_value"],
        ):
            raise _error(
                "The signed file is another authentication request than the one prepared (other challenge or company).",
                "Podpisany plik jest innym żądaniem uwierzytelnienia niż przygotowane (inne wyzwanie lub firma).",
                "signed_request_other_document",
            )
        if _now(auth) > prepared["valid_until"]:
            raise _error(
                "The authentication request expired (KSeF accepts it for 10 minutes after it was prepared).",
                "Żądanie uwierzytelnienia wygasło (KSeF przyjmuje je przez 10 minut od przygotowania).",
                "signed_request_challenge_expired",
            )
    params = None
    if verify_chain is not None:
        params = {"verifyCertificateChain": "true" if verify_chain else "false"}
    try:
        init = auth._transport.request(
            "POST",
            "/auth/xades-signature",
            data=signed_xml,
            headers={"Content-Type": "application/xml"},
            params=params,
            idempotent=True,
        )
    except KsefApiError as exc:
        if exc.code == "challenge_invalid":
            raise _error(
                "KSeF refused the request's challenge (expired, already used or unknown).",
                "KSeF odrzucił wyzwanie żądania (wygasło, zostało już użyte lub jest nieznane).",
                "signed_request_challenge_expired",
                ksef=exc.descriptions,
            ) from None
        if exc.code in ("signature_invalid", "signature_missing", "document_invalid", "xsd_invalid"):
            raise _error(
                "KSeF refused the signed file: %s" % exc.message_en,
                "KSeF odrzucił podpisany plik: %s" % exc.message_pl,
                "signed_request_refused",
                ksef=exc.descriptions,
            ) from None
        raise
    auth_token = (init.get("authenticationToken") or {}).get("token")
    auth._wait(init.get("referenceNumber"), auth_token)
    tokens = auth._transport.request("POST", "/auth/token/redeem", bearer=auth_token, idempotent=False)
    return TokenState(
        access_token=tokens["accessToken"]["token"],
        access_valid_until=tokens["accessToken"].get("validUntil"),
        refresh_token=tokens["refreshToken"]["token"],
        refresh_valid_until=tokens["refreshToken"].get("validUntil"),
        context="%s:%s" % (ctx_type, ctx_value),
        method="certificate",
    )
