"""``POST /auth/xades-signature``: login with a XAdES-signed ``AuthTokenRequest``.

The signature is verified by :func:`ksef_core.xades.verify_enveloped` (self-signed certificates
are accepted, as on TEST; ``?verifyCertificateChain=true`` refuses them with status 460).
Subject: ``certificateSubject`` → the NIP (owner of a NIP context: all permissions) or PESEL of
the certificate; ``certificateFingerprint`` → the SHA-256 fingerprint (upper-case hex). Others
need grants (``sim.grant``). An Offline-type certificate cannot authenticate (400/21115).
KSeF certificates issued by the simulator's CA (``certificates.py``) log in as the identity they were issued to;
revoked, expired or unknown ones end with status 460.
"""

import re

from ..credentials import certificate_info
from ..nip import normalize_nip
from ..xades import XadesError, verify_enveloped
from .auth import CONTEXT_TYPES
from .certificates import signer_record
from .errors import bad_request
from .routing import json_response, route

AUTH_NAMESPACES = ("http://ksef.mf.gov.pl/auth/token/2.0", "http://ksef.mf.gov.pl/auth/token/2.1")
_DESCRIPTIONS = {
    9101: "Nieprawidłowy dokument.",
    9102: "Brak podpisu.",
    9103: "Przekroczona liczba dozwolonych podpisów.",
    9105: "Nieprawidłowy podpis.",
    21115: "Nieprawidłowy certyfikat.",
}
_CONTEXT_RES = {
    "Nip": re.compile(r"^\d{10}$"),
    "InternalId": re.compile(r"^\d{10}-\d{5}$"),
    "NipVatUe": re.compile(r"^\d{10}-[A-Z]{2}[A-Z0-9+*]{2,12}$"),
    "PeppolId": re.compile(r"^P[A-Z]{2}\d{6}$"),
}


def _schema_error(detail):
    return bad_request(21401, "Dokument nie jest zgodny ze schemą (xsd).", [detail])


def _child(parent, ns, name):
    return parent.find("{%s}%s" % (ns, name))


def _text(el):
    return (el.text or "").strip() if el is not None else ""


def _parse_request(root):
    ns = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    if ns not in AUTH_NAMESPACES or root.tag.split("}", 1)[-1] != "AuthTokenRequest":
        raise _schema_error("Oczekiwano elementu AuthTokenRequest w przestrzeni nazw %s." % AUTH_NAMESPACES[-1])
    challenge = _text(_child(root, ns, "Challenge"))
    ctx_el = _child(root, ns, "ContextIdentifier")
    if not challenge or ctx_el is None:
        raise _schema_error("Brak elementu Challenge lub ContextIdentifier.")
    context = None
    for el in ctx_el:
        name = el.tag.split("}", 1)[-1] if isinstance(el.tag, str) else ""
        if name in CONTEXT_TYPES:
            value = _text(el)
            if name == "Nip":
                value = normalize_nip(value)
            if not _CONTEXT_RES[name].match(value):
                raise _schema_error("Nieprawidłowa wartość ContextIdentifier/%s." % name)
            context = {"type": name, "value": value}
    if context is None:
        raise _schema_error("ContextIdentifier musi zawierać Nip, InternalId, NipVatUe lub PeppolId.")
    subject_type = _text(_child(root, ns, "SubjectIdentifierType"))
    if subject_type not in ("certificateSubject", "certificateFingerprint"):
        raise _schema_error("SubjectIdentifierType: certificateSubject lub certificateFingerprint.")
    policy = None
    ips = root.find("{%s}AuthorizationPolicy/{%s}AllowedIps" % (ns, ns))
    if ips is not None:
        policy = {
            "ip4Addresses": [_text(e) for e in ips.findall("{%s}Ip4Address" % ns)],
            "ip4Ranges": [_text(e) for e in ips.findall("{%s}Ip4Range" % ns)],
            "ip4Masks": [_text(e) for e in ips.findall("{%s}Ip4Mask" % ns)],
        }
        if any(len(v) > 10 for v in policy.values()):
            raise _schema_error("AllowedIps: maksymalnie 10 pozycji każdego rodzaju.")
        if not any(policy.values()):
            policy = None
    return challenge, context, subject_type, policy


@route("POST", "/auth/xades-signature", auth="none", rate_group="auth")
def auth_xades_signature(sim, ctx):
    body = ctx.body
    if not body.strip():
        raise bad_request(21001, "Nieczytelna treść.", ["Pusta treść żądania."])
    try:
        result = verify_enveloped(body)
    except XadesError as exc:
        code = exc.ksef_code or 9105
        detail = (exc.details or {}).get("reason") or exc.message_pl
        raise bad_request(code, _DESCRIPTIONS.get(code, "Nieprawidłowy podpis."), [str(detail)])
    challenge_text, context, subject_type, policy = _parse_request(result.signed_root)
    _challenge, problem = sim.auth.consume_challenge(challenge_text)
    if problem:
        raise bad_request(21111, "Nieprawidłowe wyzwanie autoryzacyjne.", [problem])
    info = certificate_info(result.certificate)
    if info.usage == "Offline":
        raise bad_request(
            21115,
            "Nieprawidłowy certyfikat.",
            ["Certyfikat typu Offline nie może służyć do uwierzytelniania."],
        )
    ksef_cert, ksef_problem = sim.certificates.login_check(result.certificate)
    if ksef_cert and subject_type == "certificateSubject":
        subject = dict(ksef_cert["identity"])  # a KSeF certificate carries the identity it was issued to
    elif subject_type == "certificateFingerprint":
        subject = {"type": "Fingerprint", "value": info.fingerprint_sha256.upper()}
    elif info.nip:
        subject = {"type": "Nip", "value": info.nip}
    elif info.pesel:
        subject = {"type": "Pesel", "value": info.pesel}
    else:
        raise bad_request(
            21115,
            "Nieprawidłowy certyfikat.",
            ["Certyfikat nie zawiera identyfikatora NIP ani PESEL; użyj certificateFingerprint."],
        )
    now = sim.clock.now()
    verify_chain = (ctx.args.get("verifyCertificateChain") or "").lower() == "true"
    perms = sim.permissions.effective(context["type"], context["value"], [subject])
    code, details = 200, []
    if ksef_problem:
        code, details = 460, [ksef_problem]
    elif not info.is_valid_at(now):
        code, details = 460, ["Nieważny certyfikat."]
    elif verify_chain and info.is_self_signed:
        code, details = 460, ["Niezaufany łańcuch certyfikatów."]
    elif sim.permissions.is_blocked(context["value"], context["type"]):
        code, details = (
            480,
            ["Podejrzenie incydentu bezpieczeństwa. Skontaktuj się z Ministerstwem Finansów."],
        )
    elif not perms:
        code, details = 415, ["Brak przypisanych uprawnień."]
    if code == 200 and ksef_cert:
        ksef_cert["lastUseDate"] = now
    result_body = sim.auth.start_operation(
        "XadesSignature",
        context,
        subject,
        perms if code == 200 else (),
        code,
        details,
        policy,
        extra={"certificate": signer_record(result.certificate, subject)},
    )
    return json_response(result_body, status=202)
