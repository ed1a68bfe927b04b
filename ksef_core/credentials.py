"""Certificates and private keys used for KSeF: loading, inspection and checks.

A :class:`Credential` is a certificate with (optionally) its private key and chain.
Loaders accept PKCS#12 (``.p12``/``.pfx``), PEM and DER (certificate, PEM bundle with
chain, bare Base64 DER as returned by the KSeF API, PKCS#8 / PKCS#1 / SEC1 keys,
encrypted or not) and raise :class:`~ksef_core.errors.CredentialError` with a
bilingual message and one of the codes:

``password_wrong``, ``file_unreadable``, ``key_mismatch``, ``key_missing``,
``cert_expired``, ``cert_not_yet_valid``, ``usage_mismatch``, ``key_too_weak``,
``key_unsupported``.

Messages never contain passwords or key material.  Works with ``cryptography`` 3.4.8
(``backend=default_backend()`` is passed everywhere) and newer.
"""

import datetime
import hashlib
import re
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from .errors import CredentialError
from .x509util import (
    PEM_CERT_RE,
    aware,
    cert_dates,
    certificate_der,
    certificate_ders,
    certificate_pem,
    der_read,
    load_der_certificate,
    name_to_rfc4514,
    name_values,
    serial_hex,
)

UTC = datetime.timezone.utc

USAGE_AUTHENTICATION = "Authentication"
USAGE_OFFLINE = "Offline"
USAGE_UNKNOWN = "Unknown"

ALLOWED_EC_CURVES = ("secp256r1", "secp384r1", "secp521r1")
MIN_RSA_BITS = 2048

_OID_QC_STATEMENTS = "1.3.6.1.5.5.7.1.3"
_RE_NIP_SERIAL = re.compile(r"(TINPL|NIP).*?(\d{10})")
_RE_PESEL_SERIAL = re.compile(r"(PNOPL|PESEL).*?(\d{11})")
_RE_NIP_ORGID = re.compile(r"(VATPL).*?(\d{10})")

_ACCEPTED_EN = (
    "Accepted formats: PKCS#12 (.p12/.pfx) with its password, or a certificate in PEM/DER "
    "(.pem/.crt/.cer) together with its private key in PEM/DER (.pem/.key)."
)
_ACCEPTED_PL = (
    "Akceptowane formaty: PKCS#12 (.p12/.pfx) z hasłem albo certyfikat w PEM/DER "
    "(.pem/.crt/.cer) razem z kluczem prywatnym w PEM/DER (.pem/.key)."
)


# --------------------------------------------------------------------------- helpers


def _fmt_dt(dt):
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _spki(public_key):
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _to_password_bytes(password):
    if password is None or password in ("", b""):
        return None
    if isinstance(password, str):
        return password.encode("utf-8")
    return bytes(password)


# --------------------------------------------------------------------------- info


@dataclass(frozen=True)
class CertificateInfo:
    """What a user (and KSeF) sees of a certificate."""

    subject: str
    issuer: str
    serial_hex: str
    not_before: datetime.datetime
    not_after: datetime.datetime
    fingerprint_sha256: str
    key_type: str
    key_size: int
    nip: str = None
    pesel: str = None
    usage: str = USAGE_UNKNOWN
    common_name: str = None
    organization: str = None
    is_self_signed: bool = False
    is_ca: bool = False
    has_qc_statements: bool = False
    curve: str = None
    key_usage: tuple = field(default_factory=tuple)

    def is_valid_at(self, dt=None):
        dt = aware(dt) or datetime.datetime.now(UTC)
        return self.not_before <= dt <= self.not_after

    @property
    def is_ksef_issued(self):
        """True for certificates issued by the KSeF CA ("CCK KSeF" / "TI CCK KSeF")."""
        return "CCK KSeF" in self.issuer

    @property
    def is_seal(self):
        """A company seal: carries organizationIdentifier (VATPL-…)."""
        return "organizationIdentifier=" in self.subject


def _key_usage(cert):
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return (), USAGE_UNKNOWN
    flags = []
    for attr in (
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
    ):
        if getattr(ku, attr):
            flags.append(attr)
    if ku.content_commitment:
        usage = USAGE_OFFLINE
    elif ku.digital_signature:
        usage = USAGE_AUTHENTICATION
    else:
        usage = USAGE_UNKNOWN
    return tuple(flags), usage


def certificate_info(cert):
    """Build a :class:`CertificateInfo` for an ``x509.Certificate``."""
    pub = cert.public_key()
    curve = None
    if isinstance(pub, rsa.RSAPublicKey):
        key_type, key_size = "RSA", pub.key_size
    elif isinstance(pub, ec.EllipticCurvePublicKey):
        key_type, key_size, curve = "EC", pub.curve.key_size, pub.curve.name
    else:
        key_type, key_size = type(pub).__name__.replace("PublicKey", "").lstrip("_"), 0
    nip = pesel = None
    for value in name_values(cert.subject, "2.5.4.5"):
        m = _RE_NIP_SERIAL.search(value)
        if m and not nip:
            nip = m.group(2)
        m = _RE_PESEL_SERIAL.search(value)
        if m and not pesel:
            pesel = m.group(2)
    if not nip:
        for value in name_values(cert.subject, "2.5.4.97"):
            m = _RE_NIP_ORGID.search(value)
            if m:
                nip = m.group(2)
                break
    flags, usage = _key_usage(cert)
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    has_qc = any(e.oid.dotted_string == _OID_QC_STATEMENTS for e in cert.extensions)
    nb, na = cert_dates(cert)
    cns = name_values(cert.subject, "2.5.4.3")
    orgs = name_values(cert.subject, "2.5.4.10")
    return CertificateInfo(
        subject=name_to_rfc4514(cert.subject),
        issuer=name_to_rfc4514(cert.issuer),
        serial_hex=serial_hex(cert.serial_number),
        not_before=nb,
        not_after=na,
        fingerprint_sha256=hashlib.sha256(certificate_der(cert)).hexdigest().upper(),
        key_type=key_type,
        key_size=key_size,
        nip=nip,
        pesel=pesel,
        usage=usage,
        common_name=cns[0] if cns else None,
        organization=orgs[0] if orgs else None,
        is_self_signed=cert.subject == cert.issuer,
        is_ca=is_ca,
        has_qc_statements=has_qc,
        curve=curve,
        key_usage=flags,
    )


# --------------------------------------------------------------------------- credential


class Credential:
    """A certificate, its private key (or ``None``) and the rest of its chain."""

    def __init__(self, certificate, private_key=None, chain=None):
        self.certificate = certificate
        self.private_key = private_key
        self.chain = list(chain or [])

    def __repr__(self):
        info = self.info()
        return "<Credential %s serial=%s key=%s>" % (
            info.subject,
            info.serial_hex,
            "yes" if self.private_key is not None else "no",
        )

    def info(self):
        return certificate_info(self.certificate)

    @property
    def has_private_key(self):
        return self.private_key is not None

    def certificate_der(self):
        """DER exactly as issued (also for certificates the strict parser needed patched)."""
        return certificate_der(self.certificate)

    def certificate_pem(self):
        return certificate_pem(self.certificate)

    def chain_pem(self):
        """Certificate followed by its chain, PEM."""
        return b"".join([self.certificate_pem()] + [certificate_pem(c) for c in self.chain])

    def private_key_pem(self, password=None):
        """PKCS#8 PEM of the private key, encrypted when ``password`` is given."""
        self._require_key()
        pw = _to_password_bytes(password)
        enc = serialization.BestAvailableEncryption(pw) if pw else serialization.NoEncryption()
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc
        )

    def to_pkcs12(self, password=None, friendly_name=None):
        """PKCS#12 bytes (certificate, key, chain); encrypted when ``password`` is given."""
        pw = _to_password_bytes(password)
        enc = serialization.BestAvailableEncryption(pw) if pw else serialization.NoEncryption()
        name = (friendly_name or self.info().common_name or "ksef").encode("utf-8")
        return pkcs12.serialize_key_and_certificates(
            name, self.private_key, self.certificate, self.chain or None, enc
        )

    def _require_key(self):
        if self.private_key is None:
            raise CredentialError(
                "The certificate has no private key loaded; add the private key file "
                "(or use the .p12/.pfx file that contains it).",
                "Do certyfikatu nie wczytano klucza prywatnego; dodaj plik klucza prywatnego "
                "(albo użyj pliku .p12/.pfx, który go zawiera).",
                code="key_missing",
            )


# --------------------------------------------------------------------------- loading


def _err_unreadable(what_en, what_pl):
    return CredentialError(
        "The %s could not be read: it is not a certificate/key file or it is damaged. %s"
        % (what_en, _ACCEPTED_EN),
        "Nie można odczytać pliku (%s): to nie jest plik certyfikatu/klucza albo jest uszkodzony. %s"
        % (what_pl, _ACCEPTED_PL),
        code="file_unreadable",
    )


def _err_password(what_en, what_pl, given):
    if given:
        en = "The password for the %s is wrong. Enter the password set when the file was exported." % what_en
        pl = "Hasło do pliku (%s) jest nieprawidłowe. Podaj hasło ustawione przy eksporcie pliku." % what_pl
    else:
        en = "The %s is password-protected; enter its password." % what_en
        pl = "Plik (%s) jest chroniony hasłem; podaj hasło." % what_pl
    return CredentialError(en, pl, code="password_wrong")


def _err_mismatch():
    return CredentialError(
        "The private key does not belong to this certificate. Choose the key file generated "
        "together with this certificate (or the matching .p12/.pfx file).",
        "Klucz prywatny nie pasuje do tego certyfikatu. Wybierz plik klucza wygenerowany razem "
        "z tym certyfikatem (albo pasujący plik .p12/.pfx).",
        code="key_mismatch",
    )


def _looks_like_pkcs12(data):
    # PFX ::= SEQUENCE { version INTEGER (3), authSafe ContentInfo, macData OPTIONAL }
    try:
        tag, start, _end = der_read(data, 0)
        if tag != 0x30:
            return False
        tag, vs, ve = der_read(data, start)
        return tag == 0x02 and data[vs:ve] == b"\x03"
    except (ValueError, IndexError):
        return False


def _looks_like_encrypted_pkcs8_der(data):
    # EncryptedPrivateKeyInfo ::= SEQUENCE { SEQUENCE {alg}, OCTET STRING }
    try:
        tag, start, _end = der_read(data, 0)
        if tag != 0x30:
            return False
        tag, _s, e = der_read(data, start)
        if tag != 0x30:
            return False
        tag, _s, _e = der_read(data, e)
        return tag == 0x04
    except (ValueError, IndexError):
        return False


def _check_pair(cert, key):
    if key is not None and _spki(cert.public_key()) != _spki(key.public_key()):
        raise _err_mismatch()


def load_pkcs12(data, password=None):
    """Load a PKCS#12 (.p12/.pfx) file into a :class:`Credential`."""
    data = bytes(data or b"")
    pw = _to_password_bytes(password)
    if not _looks_like_pkcs12(data):
        raise _err_unreadable("PKCS#12 file", "PKCS#12")
    attempts = [pw] if pw is not None else [None, b""]
    for attempt in attempts:
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(data, attempt, default_backend())
            break
        except (ValueError, TypeError):
            continue
    else:
        raise _err_password("PKCS#12 file", "PKCS#12", pw is not None)
    if cert is None:
        raise CredentialError(
            "The PKCS#12 file contains no certificate. Export the certificate together with its key.",
            "Plik PKCS#12 nie zawiera certyfikatu. Wyeksportuj certyfikat razem z kluczem.",
            code="file_unreadable",
        )
    _check_pair(cert, key)
    return Credential(cert, key, list(extra or []))


def load_certificates(data):
    """All certificates in ``data`` (PEM bundle, DER, or bare Base64 DER), in file order."""
    data = bytes(data or b"")
    try:
        certs = [load_der_certificate(der) for der in certificate_ders(data)]
    except ValueError:
        certs = []
    if not certs:
        raise _err_unreadable("certificate file", "certyfikat")
    return certs


def load_certificate(data):
    """Load one certificate (PEM, DER or bare Base64 DER); the first one of a bundle."""
    if isinstance(data, x509.Certificate):
        return data
    return load_certificates(data)[0]


def load_private_key(data, password=None):
    """Load a private key (PEM or DER; PKCS#8, PKCS#1 or SEC1; encrypted or not)."""
    data = bytes(data or b"")
    pw = _to_password_bytes(password)
    is_pem = b"-----BEGIN" in data
    if is_pem:
        encrypted = b"ENCRYPTED" in data
        loader = serialization.load_pem_private_key
        if b"PRIVATE KEY-----" not in data:
            raise _err_unreadable("private key file", "klucz prywatny")
    else:
        encrypted = _looks_like_encrypted_pkcs8_der(data)
        loader = serialization.load_der_private_key
    if encrypted and pw is None:
        raise _err_password("private key file", "klucz prywatny", False)
    try:
        return loader(data, pw if encrypted else None, default_backend())
    except (ValueError, TypeError):
        if encrypted:
            raise _err_password("private key file", "klucz prywatny", True) from None
        raise _err_unreadable("private key file", "klucz prywatny") from None
    except Exception:  # unsupported algorithms surface as various exception types
        raise _err_unreadable("private key file", "klucz prywatny") from None


def load_certificate_and_key(cert_data, key_data=None, password=None):
    """Load a certificate (PEM/DER, PEM bundle with chain) and optionally its private key.

    ``key_data`` may also be a PKCS#12 file, or a PEM containing both key and
    certificate(s) may be passed as ``cert_data`` with ``key_data=None``.
    """
    cert_data = bytes(cert_data or b"")
    if key_data is None and b"PRIVATE KEY-----" in cert_data:
        key_data = cert_data
    if not PEM_CERT_RE.search(cert_data) and _looks_like_pkcs12(cert_data):
        return load_pkcs12(cert_data, password)
    certs = load_certificates(cert_data)
    key = load_private_key(key_data, password) if key_data else None
    leaf = certs[0]
    if key is not None:
        spki = _spki(key.public_key())
        matching = [c for c in certs if _spki(c.public_key()) == spki]
        if not matching:
            raise _err_mismatch()
        leaf = matching[0]
    chain = [c for c in certs if c is not leaf]
    return Credential(leaf, key, chain)


def load_credential(data, password=None, key_data=None):
    """Convenience loader: PKCS#12 when the bytes look like one, else PEM/DER certificate (+ key)."""
    data = bytes(data or b"")
    if not PEM_CERT_RE.search(data) and _looks_like_pkcs12(data):
        return load_pkcs12(data, password)
    return load_certificate_and_key(data, key_data, password)


# --------------------------------------------------------------------------- checks


def check_validity(info, now=None):
    now = aware(now) or datetime.datetime.now(UTC)
    if now > info.not_after:
        raise CredentialError(
            "The certificate expired on %s. Obtain a new certificate (for KSeF certificates: "
            "enrol a new one in KSeF)." % _fmt_dt(info.not_after),
            "Certyfikat wygasł %s. Uzyskaj nowy certyfikat (certyfikat KSeF: złóż nowy wniosek w KSeF)."
            % _fmt_dt(info.not_after),
            code="cert_expired",
            details={"not_after": info.not_after.isoformat(), "serial": info.serial_hex},
        )
    if now < info.not_before:
        raise CredentialError(
            "The certificate is not valid yet: it becomes valid on %s. Wait until then or check "
            "the computer's clock." % _fmt_dt(info.not_before),
            "Certyfikat nie jest jeszcze ważny: będzie ważny od %s. Poczekaj do tego czasu lub "
            "sprawdź zegar komputera." % _fmt_dt(info.not_before),
            code="cert_not_yet_valid",
            details={"not_before": info.not_before.isoformat(), "serial": info.serial_hex},
        )


def check_key_strength(info):
    if info.key_type == "RSA":
        if info.key_size < MIN_RSA_BITS:
            raise CredentialError(
                "The certificate's RSA key has %d bits; KSeF requires at least %d. Generate a new "
                "key (RSA 2048+ or EC P-256) and obtain a new certificate." % (info.key_size, MIN_RSA_BITS),
                "Klucz RSA certyfikatu ma %d bitów; KSeF wymaga co najmniej %d. Wygeneruj nowy klucz "
                "(RSA 2048+ lub EC P-256) i uzyskaj nowy certyfikat." % (info.key_size, MIN_RSA_BITS),
                code="key_too_weak",
            )
    elif info.key_type == "EC":
        if info.curve not in ALLOWED_EC_CURVES:
            raise CredentialError(
                "The certificate's EC key uses curve %s; KSeF accepts P-256, P-384 or P-521. "
                "Generate a new key on one of these curves." % info.curve,
                "Klucz EC certyfikatu używa krzywej %s; KSeF akceptuje P-256, P-384 lub P-521. "
                "Wygeneruj nowy klucz na jednej z tych krzywych." % info.curve,
                code="key_too_weak",
            )
    else:
        raise CredentialError(
            "The certificate's key type (%s) is not supported by KSeF; use RSA (2048+) or EC "
            "(P-256/P-384/P-521)." % info.key_type,
            "Typ klucza certyfikatu (%s) nie jest obsługiwany przez KSeF; użyj RSA (2048+) lub EC "
            "(P-256/P-384/P-521)." % info.key_type,
            code="key_unsupported",
        )


def _credential_info(credential, need_key):
    if isinstance(credential, x509.Certificate):
        credential = Credential(credential)
    if need_key:
        credential._require_key()
        _check_pair(credential.certificate, credential.private_key)
    return credential.info()


def check_for_authentication(credential, now=None, need_key=True):
    """Check a credential for XAdES login to KSeF; returns its :class:`CertificateInfo`.

    Refuses a KSeF *Offline* certificate (keyUsage nonRepudiation without being a
    qualified certificate from another CA: those legitimately carry nonRepudiation).
    """
    info = _credential_info(credential, need_key)
    check_key_strength(info)
    check_validity(info, now)
    if info.usage == USAGE_OFFLINE and (info.is_ksef_issued or not info.has_qc_statements):
        raise CredentialError(
            "This is an Offline-type KSeF certificate (for KOD II QR codes only); it cannot be "
            "used to log in to KSeF. Choose an Authentication-type certificate.",
            "To jest certyfikat KSeF typu Offline (tylko do kodów QR KOD II); nie można nim "
            "uwierzytelnić się w KSeF. Wybierz certyfikat typu Uwierzytelnianie (Authentication).",
            code="usage_mismatch",
            details={"usage": info.usage, "expected": USAGE_AUTHENTICATION},
        )
    return info


def check_for_offline_signing(credential, now=None, need_key=True):
    """Check a credential for signing KOD II links; returns its :class:`CertificateInfo`."""
    info = _credential_info(credential, need_key)
    check_key_strength(info)
    check_validity(info, now)
    foreign_qualified = info.has_qc_statements and not info.is_ksef_issued
    if info.usage != USAGE_OFFLINE or foreign_qualified:
        if info.usage == USAGE_AUTHENTICATION:
            en_kind, pl_kind = "an Authentication-type certificate", "certyfikat typu Uwierzytelnianie"
        else:
            en_kind, pl_kind = "not a KSeF Offline certificate", "to nie jest certyfikat KSeF typu Offline"
        raise CredentialError(
            "KOD II (the certificate QR code of offline invoices) must be signed with a KSeF "
            "certificate of type Offline; this is %s. Enrol an Offline certificate in KSeF and "
            "use it here." % en_kind,
            "KOD II (kod QR certyfikatu na fakturach offline) musi być podpisany certyfikatem KSeF "
            "typu Offline; %s. Złóż w KSeF wniosek o certyfikat Offline i użyj go tutaj." % pl_kind,
            code="usage_mismatch",
            details={"usage": info.usage, "expected": USAGE_OFFLINE},
        )
    return info
