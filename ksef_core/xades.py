"""XAdES-BES signatures of KSeF ``AuthTokenRequest`` documents (lxml + cryptography only).

Signing follows the profile of the official C# client (API-NOTES §2.3): ``ds:Signature
Id="Signature"``, Reference ``URI=""`` (enveloped-signature + exc-c14n, SHA-256),
Reference ``#SignedProperties`` (exc-c14n), SigningTime + SigningCertificate
(CertDigest SHA-256 + IssuerSerial), KeyInfo/X509Data, ``rsa-sha256`` or
``ecdsa-sha256`` with a raw ``R||S`` value.

Verification (used by the simulator on ``POST /auth/xades-signature``) raises
:class:`XadesError` whose ``ksef_code`` is the KSeF exception code (9101, 9102, 9103,
9105, 21115).  It accepts RSA PKCS#1 v1.5, RSA-PSS (``sha*-rsa-MGF1``) and ECDSA
(raw ``R||S``; DER tolerated), digests SHA-1/2/3, enveloped-signature,
``not(ancestor-or-self::ds:Signature)`` XPath, XPath Filter 2.0 (subtracting the signature), base64 and
C14N 1.0/1.1/exclusive transforms, enveloped and enveloping signatures, as KSeF accepts them (API-NOTES §2.3);
detached (external) references are refused.
"""

import copy
import datetime
import re
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from lxml import etree

from .credentials import CredentialError, check_for_authentication, name_to_rfc4514
from .errors import InputError, XmlInputError
from .hashing import b64, b64decode
from .nip import is_valid_nip
from .x509util import load_der_certificate
from .xmldsig import (
    AUTH_NS,
    BASE64,
    C14N_METHODS,
    DIGESTS,
    DS,
    ECDSA_SHA256,
    ENVELOPED,
    EXC_C14N,
    MAX_REFERENCES,
    MAX_XADES_BYTES,
    NSMAP,
    RSA_PSS_SHA256,
    RSA_SHA256,
    SHA256_URI,
    SIGNATURE_METHODS,
    SIGNED_PROPS_TYPE,
    XADES,
    XadesError,
    c14n,
    digest,
    invalid_signature,
    reference_octets,
    remove_keep_tail,
    same_node_in,
    sign_bytes,
    verify_bytes,
)
from .xmlsafe import parse_xml

__all__ = [
    "XadesError",
    "XadesVerification",
    "build_auth_token_request",
    "sign_enveloped",
    "verify_enveloped",
]


@dataclass
class XadesVerification:
    """Result of :func:`verify_enveloped`.

    ``signed_root`` is a copy of the document's root element without the signature (the
    exact content covered by it); ``signing_time`` is aware (or ``None`` if absent);
    ``signature_method`` / ``digest_method`` are the XML-DSig algorithm URIs used.
    """

    certificate: x509.Certificate
    signing_time: datetime.datetime
    signed_root: etree._Element
    signature_method: str
    digest_method: str = None


# --------------------------------------------------------------------------- building

_CHALLENGE_RE = re.compile(r"^\d{8}-CR-[A-F0-9]{10}-[A-F0-9]{10}-[A-F0-9]{2}$")
_CONTEXT_RES = {
    "InternalId": re.compile(r"^[1-9]((\d[1-9])|([1-9]\d))\d{7}-\d{5}$"),
    "NipVatUe": re.compile(r"^[1-9]((\d[1-9])|([1-9]\d))\d{7}-[A-Z]{2}[A-Z0-9+*]{2,12}$"),
    "PeppolId": re.compile(r"^P[A-Z]{2}[0-9]{6}$"),
}
_IP_KINDS = {"ip4Addresses": "Ip4Address", "ip4Ranges": "Ip4Range", "ip4Masks": "Ip4Mask"}


def _bad_input(en, pl, code):
    return InputError(en, pl, code=code)


def build_auth_token_request(
    challenge,
    context_type,
    context_value,
    subject_identifier_type="certificateSubject",
    allowed_ips=None,
    namespace_version="2.0",
):
    """The unsigned ``AuthTokenRequest`` XML (UTF-8 bytes, like the official samples).

    ``allowed_ips``: ``{"ip4Addresses": [...], "ip4Ranges": [...], "ip4Masks": [...]}``
    (at most 10 each) → ``AuthorizationPolicy/AllowedIps``.
    """
    ns = AUTH_NS.get(str(namespace_version))
    if not ns:
        raise _bad_input(
            "Unknown AuthTokenRequest version %r; use 2.0 or 2.1." % (namespace_version,),
            "Nieznana wersja AuthTokenRequest %r; użyj 2.0 lub 2.1." % (namespace_version,),
            "auth_version_unknown",
        )
    challenge = (challenge or "").strip()
    if not _CHALLENGE_RE.match(challenge):
        raise _bad_input(
            "The authentication challenge has an unexpected format; request a new one "
            "(POST /auth/challenge).",
            "Wyzwanie uwierzytelniające ma nieoczekiwany format; pobierz nowe (POST /auth/challenge).",
            "auth_challenge_invalid",
        )
    value = (context_value or "").strip()
    if context_type == "Nip":
        ok = is_valid_nip(value) and value.isdigit()
    elif context_type in _CONTEXT_RES:
        ok = bool(_CONTEXT_RES[context_type].match(value))
        if ok and context_type != "PeppolId":
            ok = is_valid_nip(value[:10])
    else:
        raise _bad_input(
            "Unknown context type %r; use Nip, InternalId, NipVatUe or PeppolId." % (context_type,),
            "Nieznany typ kontekstu %r; użyj Nip, InternalId, NipVatUe lub PeppolId." % (context_type,),
            "auth_context_type_invalid",
        )
    if not ok:
        raise _bad_input(
            "The context identifier %r is not a valid %s value; check the company's NIP / identifier."
            % (value, context_type),
            "Identyfikator kontekstu %r nie jest poprawną wartością %s; sprawdź NIP / identyfikator firmy."
            % (value, context_type),
            "auth_context_value_invalid",
        )
    if subject_identifier_type not in ("certificateSubject", "certificateFingerprint"):
        raise _bad_input(
            "SubjectIdentifierType must be certificateSubject or certificateFingerprint.",
            "SubjectIdentifierType musi mieć wartość certificateSubject lub certificateFingerprint.",
            "auth_subject_type_invalid",
        )
    root = etree.Element("{%s}AuthTokenRequest" % ns, nsmap={None: ns})
    etree.SubElement(root, "{%s}Challenge" % ns).text = challenge
    ctx = etree.SubElement(root, "{%s}ContextIdentifier" % ns)
    etree.SubElement(ctx, "{%s}%s" % (ns, context_type)).text = value
    etree.SubElement(root, "{%s}SubjectIdentifierType" % ns).text = subject_identifier_type
    if allowed_ips:
        policy = etree.SubElement(root, "{%s}AuthorizationPolicy" % ns)
        ips = etree.SubElement(policy, "{%s}AllowedIps" % ns)
        for key, tag in _IP_KINDS.items():
            values = list(allowed_ips.get(key) or [])
            if len(values) > 10:
                raise _bad_input(
                    "At most 10 entries are allowed in %s." % key,
                    "Dozwolonych jest najwyżej 10 pozycji w %s." % key,
                    "auth_allowed_ips_too_many",
                )
            for item in values:
                etree.SubElement(ips, "{%s}%s" % (ns, tag)).text = str(item).strip()
    etree.indent(root, space="  ")
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


# --------------------------------------------------------------------------- signing


def _sub(parent, ns, tag, text=None, **attrs):
    el = etree.SubElement(parent, "{%s}%s" % (ns, tag))
    for key, value in attrs.items():
        el.set(key, value)
    if text is not None:
        el.text = text
    return el


def _reference(signed_info, uri, transforms, ref_type=None):
    ref = _sub(signed_info, DS, "Reference")
    if ref_type:
        ref.set("Type", ref_type)
    ref.set("URI", uri)
    tr = _sub(ref, DS, "Transforms")
    for alg in transforms:
        _sub(tr, DS, "Transform", Algorithm=alg)
    _sub(ref, DS, "DigestMethod", Algorithm=SHA256_URI)
    return _sub(ref, DS, "DigestValue")


def _format_time(dt):
    return dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def sign_enveloped(xml, credential, signing_time=None, check=True, rsa_pss=False):
    """Return ``xml`` (bytes) with an enveloped XAdES-BES signature by ``credential``.

    ``check`` (default) first runs :func:`~ksef_core.credentials.check_for_authentication`
    (validity, key strength, key match, Authentication usage).  ``rsa_pss`` signs RSA
    keys with RSASSA-PSS SHA-256 instead of PKCS#1 v1.5.  ``signing_time`` defaults to
    now − 1 minute (tolerates a server clock slightly behind ours).
    """
    if check:
        check_for_authentication(credential)
    else:
        credential._require_key()
    key = credential.private_key
    cert = credential.certificate
    if isinstance(key, rsa.RSAPrivateKey):
        method = RSA_PSS_SHA256 if rsa_pss else RSA_SHA256
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        method = ECDSA_SHA256
    else:
        raise CredentialError(
            "Only RSA and EC keys can sign KSeF documents.",
            "Dokumenty KSeF można podpisać tylko kluczem RSA lub EC.",
            code="key_unsupported",
        )
    try:
        root = parse_xml(xml, MAX_XADES_BYTES, "document to sign", "dokument do podpisu")
    except XmlInputError as exc:
        raise XadesError(exc.message_en, exc.message_pl, code=exc.code, ksef_code=9101) from None
    if root.find(".//ds:Signature", NSMAP) is not None:
        raise InputError(
            "The document is already signed; sign the unsigned AuthTokenRequest.",
            "Dokument jest już podpisany; podpisz niepodpisany AuthTokenRequest.",
            code="xades_already_signed",
        )
    if signing_time is None:
        signing_time = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=1)
    elif signing_time.tzinfo is None:
        signing_time = signing_time.replace(tzinfo=datetime.timezone.utc)

    sig = etree.SubElement(root, "{%s}Signature" % DS, nsmap={"ds": DS})
    sig.set("Id", "Signature")
    signed_info = _sub(sig, DS, "SignedInfo")
    _sub(signed_info, DS, "CanonicalizationMethod", Algorithm=EXC_C14N)
    _sub(signed_info, DS, "SignatureMethod", Algorithm=method)
    doc_digest = _reference(signed_info, "", [ENVELOPED, EXC_C14N])
    props_digest = _reference(signed_info, "#SignedProperties", [EXC_C14N], SIGNED_PROPS_TYPE)
    sig_value = _sub(sig, DS, "SignatureValue")
    x509data = _sub(_sub(sig, DS, "KeyInfo"), DS, "X509Data")
    der = credential.certificate_der()
    _sub(x509data, DS, "X509Certificate", b64(der))
    obj = _sub(sig, DS, "Object")
    qp = etree.SubElement(obj, "{%s}QualifyingProperties" % XADES, nsmap={"xades": XADES})
    qp.set("Target", "#Signature")
    sp = _sub(qp, XADES, "SignedProperties", Id="SignedProperties")
    ssp = _sub(sp, XADES, "SignedSignatureProperties")
    _sub(ssp, XADES, "SigningTime", _format_time(signing_time))
    cert_el = _sub(_sub(ssp, XADES, "SigningCertificate"), XADES, "Cert")
    cert_digest = _sub(cert_el, XADES, "CertDigest")
    _sub(cert_digest, DS, "DigestMethod", Algorithm=SHA256_URI)
    _sub(cert_digest, DS, "DigestValue", b64(digest("sha256", der)))
    issuer_serial = _sub(cert_el, XADES, "IssuerSerial")
    _sub(issuer_serial, DS, "X509IssuerName", name_to_rfc4514(cert.issuer))
    _sub(issuer_serial, DS, "X509SerialNumber", str(cert.serial_number))

    refs = signed_info.findall("ds:Reference", NSMAP)
    for ref, holder in zip(refs, (doc_digest, props_digest), strict=False):
        octets, _target = reference_octets(ref, root, sig)
        holder.text = b64(digest("sha256", octets))
    sig_value.text = b64(sign_bytes(key, c14n(signed_info, EXC_C14N), method))
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="utf-8")


# --------------------------------------------------------------------------- verification


def _parse_time(text):
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        # fractions longer than 6 digits (.NET writes 7) are trimmed
        m = re.match(r"^(.*T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?$", text)
        if not m:
            return None
        frac = (m.group(2) + "000000")[:7] if m.group(2) else ""
        zone = (m.group(3) or "+00:00").replace("Z", "+00:00")
        try:
            value = datetime.datetime.fromisoformat(m.group(1) + frac + zone)
        except ValueError:
            return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value


def _bad_cert(reason_en, reason_pl, reason_code, details=None):
    return XadesError(
        "The signing certificate cannot be used: %s." % reason_en,
        "Certyfikatu podpisu nie można użyć: %s." % reason_pl,
        code="xades_bad_certificate",
        details=dict(details or {}, reason=reason_code),
        ksef_code=21115,
    )


def _signature_certificate(signature):
    certs = []
    for el in signature.findall("ds:KeyInfo//ds:X509Certificate", NSMAP):
        try:
            der = b64decode(re.sub(r"\s+", "", el.text or ""))
            certs.append((load_der_certificate(der), der))
        except (ValueError, TypeError):
            raise _bad_cert(
                "the certificate in KeyInfo is not readable",
                "certyfikat w KeyInfo jest nieczytelny",
                "cert_unreadable",
            ) from None
    if not certs:
        raise _bad_cert(
            "the signature contains no certificate (KeyInfo/X509Data/X509Certificate)",
            "podpis nie zawiera certyfikatu (KeyInfo/X509Data/X509Certificate)",
            "cert_missing",
        )
    return certs


def _check_signing_certificate(signed_props, certs):
    """XAdES SigningCertificate(V2): one CertDigest must match a KeyInfo certificate."""
    cert_els = signed_props.findall(".//xades:SigningCertificate/xades:Cert", NSMAP)
    cert_els += signed_props.findall(".//xades:SigningCertificateV2/xades:Cert", NSMAP)
    if not cert_els:
        raise invalid_signature(
            "SignedProperties lack SigningCertificate",
            "SignedProperties nie zawierają SigningCertificate",
            "signing_certificate_missing",
        )
    for cert_el in cert_els:
        alg = cert_el.find("xades:CertDigest/ds:DigestMethod", NSMAP)
        val = cert_el.find("xades:CertDigest/ds:DigestValue", NSMAP)
        if alg is None or val is None or alg.get("Algorithm") not in DIGESTS:
            continue
        try:
            expected = b64decode(re.sub(r"\s+", "", val.text or ""))
        except ValueError:
            continue
        for cert, der in certs:
            if digest(DIGESTS[alg.get("Algorithm")], der) == expected:
                return cert
    raise invalid_signature(
        "SigningCertificate does not match the certificate in KeyInfo",
        "SigningCertificate nie odpowiada certyfikatowi w KeyInfo",
        "signing_certificate_mismatch",
    )


def _last_transform(reference):
    transforms = reference.findall("ds:Transforms/ds:Transform", NSMAP)
    return transforms[-1].get("Algorithm") if transforms else None


def _enveloped_content(target, signature):
    """The ``ds:Object`` of an enveloping signature that ``target`` (the object or its one element) is or is
    in, unless it is the object of the signed properties; else None."""
    obj = target if etree.QName(target).localname == "Object" else target.getparent()
    if obj is None or obj.tag != "{%s}Object" % DS or obj.getparent() is not signature:
        return None
    if obj.find(".//xades:QualifyingProperties", NSMAP) is not None:
        return None
    return obj


def _enveloping_document(target, signature, octets, reference):
    """The document an enveloping signature's content reference covers: the one element of its ``ds:Object``
    or, through a base64 transform, the document the object carries encoded (parsed from the digested octets)."""
    if _last_transform(reference) == BASE64:
        try:
            return parse_xml(octets, MAX_XADES_BYTES, "signed document", "podpisany dokument")
        except XmlInputError:
            raise invalid_signature(
                "the document it carries in base64 is not XML",
                "dokument, który zawiera w base64, nie jest XML",
                "base64_content",
            ) from None
    if target.tag != "{%s}Object" % DS:
        return target
    elements = [child for child in target if isinstance(child.tag, str)]
    if len(elements) != 1:
        raise invalid_signature(
            "its ds:Object must hold exactly one document",
            "jego ds:Object musi zawierać dokładnie jeden dokument",
            "structure",
        )
    return elements[0]


def verify_enveloped(xml, check_certificate=False, now=None):
    """Verify an enveloped or enveloping XAdES signature; return :class:`XadesVerification`.

    Enveloping: ``ds:Signature`` is the root and a reference covers the document in one of its ``ds:Object``
    elements (the object, or its one element, by ``Id``; or, with a base64 transform, the document encoded in
    it); ``signed_root`` is then that document.

    :param check_certificate: also run the authentication checks of
        :func:`~ksef_core.credentials.check_for_authentication` (validity at ``now``,
        key strength, usage); failures become ``ksef_code`` 21115.
    :raises XadesError: 9101 unreadable document, 9102 no signature, 9103 more than one
        signature, 9105 invalid signature (``details["reason"]``), 21115 bad certificate.
    """
    try:
        root = parse_xml(xml, MAX_XADES_BYTES, "signed document", "podpisany dokument")
    except XmlInputError as exc:
        raise XadesError(
            "The signed document is not valid: %s" % exc.message_en,
            "Podpisany dokument jest nieprawidłowy: %s" % exc.message_pl,
            code="xades_bad_document",
            details={"reason": exc.code},
            ksef_code=9101,
        ) from None
    signatures = list(root.iter("{%s}Signature" % DS))
    if not signatures:
        raise XadesError(
            "The document is not signed: it contains no ds:Signature. Sign it with XAdES (enveloped or enveloping).",
            "Dokument nie jest podpisany: brak elementu ds:Signature. Podpisz go podpisem XAdES (otaczanym lub "
            "otaczającym).",
            code="xades_no_signature",
            ksef_code=9102,
        )
    if len(signatures) > 1:
        raise XadesError(
            "The document contains %d signatures; exactly one is allowed." % len(signatures),
            "Dokument zawiera %d podpisy; dozwolony jest dokładnie jeden." % len(signatures),
            code="xades_too_many_signatures",
            ksef_code=9103,
        )
    signature = signatures[0]
    enveloping = signature is root
    signed_info = signature.find("ds:SignedInfo", NSMAP)
    sig_value_el = signature.find("ds:SignatureValue", NSMAP)
    if signed_info is None or sig_value_el is None:
        raise invalid_signature(
            "SignedInfo or SignatureValue is missing", "brak SignedInfo lub SignatureValue", "structure"
        )
    c14n_el = signed_info.find("ds:CanonicalizationMethod", NSMAP)
    method_el = signed_info.find("ds:SignatureMethod", NSMAP)
    c14n_alg = c14n_el.get("Algorithm") if c14n_el is not None else None
    method = method_el.get("Algorithm") if method_el is not None else None
    if c14n_alg not in C14N_METHODS:
        raise invalid_signature(
            "canonicalization method %s is not supported" % c14n_alg,
            "metoda kanonikalizacji %s nie jest obsługiwana" % c14n_alg,
            "c14n_unsupported",
        )
    if method not in SIGNATURE_METHODS:
        raise invalid_signature(
            "signature method %s is not supported" % method,
            "algorytm podpisu %s nie jest obsługiwany" % method,
            "method_unsupported",
        )
    certs = _signature_certificate(signature)

    covers_document = False
    document = None if enveloping else root
    signed_props = None
    digest_method = None
    references = signed_info.findall("ds:Reference", NSMAP)
    if not references:
        raise invalid_signature(
            "SignedInfo has no Reference", "SignedInfo nie zawiera elementu Reference", "structure"
        )
    if len(references) > MAX_REFERENCES:
        raise invalid_signature(
            "SignedInfo has more than %d references" % MAX_REFERENCES,
            "SignedInfo zawiera więcej niż %d odwołań" % MAX_REFERENCES,
            "structure",
        )
    for ref in references:
        dm = ref.find("ds:DigestMethod", NSMAP)
        dv = ref.find("ds:DigestValue", NSMAP)
        alg = dm.get("Algorithm") if dm is not None else None
        if alg not in DIGESTS or dv is None:
            raise invalid_signature(
                "digest method %s is not supported" % alg,
                "algorytm skrótu %s nie jest obsługiwany" % alg,
                "digest_unsupported",
            )
        octets, target = reference_octets(ref, root, signature)
        try:
            expected = b64decode(re.sub(r"\s+", "", dv.text or ""))
        except ValueError:
            expected = b""
        if digest(DIGESTS[alg], octets) != expected:
            uri = ref.get("URI")
            raise invalid_signature(
                "the digest of reference %r does not match (the signed content was changed)" % uri,
                "skrót odwołania %r się nie zgadza (podpisana treść została zmieniona)" % uri,
                "digest_mismatch",
            )
        decoded = _last_transform(ref) == BASE64
        if target is root and not enveloping and not decoded:
            covers_document = True
            digest_method = alg
        elif etree.QName(target).localname == "SignedProperties" and etree.QName(target).namespace == XADES:
            signed_props = target
        elif enveloping and _enveloped_content(target, signature) is not None:
            if document is not None:
                raise invalid_signature(
                    "it signs more than one document", "obejmuje więcej niż jeden dokument", "structure"
                )
            document = _enveloping_document(target, signature, octets, ref)
            covers_document = True
            digest_method = alg
    if not covers_document:
        raise invalid_signature(
            "it does not cover the whole document (detached signatures are not accepted)",
            "nie obejmuje całego dokumentu (podpis zewnętrzny/detached nie jest akceptowany)",
            "not_enveloped",
        )
    if signed_props is None:
        raise invalid_signature(
            "it is not a XAdES signature (no signed reference to xades:SignedProperties)",
            "to nie jest podpis XAdES (brak podpisanego odwołania do xades:SignedProperties)",
            "not_xades",
        )
    cert = _check_signing_certificate(signed_props, certs)
    try:
        sig_bytes = b64decode(re.sub(r"\s+", "", sig_value_el.text or ""))
    except ValueError:
        sig_bytes = b""
    if not verify_bytes(cert.public_key(), sig_bytes, c14n(signed_info, c14n_alg), method):
        raise invalid_signature(
            "the signature value does not match the signed data and certificate",
            "wartość podpisu nie odpowiada podpisanym danym i certyfikatowi",
            "signature_mismatch",
        )
    if check_certificate:
        try:
            check_for_authentication(cert, now=now, need_key=False)
        except CredentialError as exc:
            raise XadesError(
                exc.message_en,
                exc.message_pl,
                code="xades_bad_certificate",
                details=dict(exc.details, reason=exc.code),
                ksef_code=21115,
            ) from None
    signing_time = _parse_time(signed_props.findtext(".//xades:SigningTime", namespaces=NSMAP))
    if enveloping:
        signed_copy = copy.deepcopy(document)
    else:
        signed_copy = copy.deepcopy(root)
        remove_keep_tail(same_node_in(signed_copy, root, signature))
    return XadesVerification(
        certificate=cert,
        signing_time=signing_time,
        signed_root=signed_copy,
        signature_method=method,
        digest_method=digest_method,
    )
