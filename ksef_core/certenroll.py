"""KSeF certificate enrolment, the local half: key pair, PKCS#10 request, check of the issued certificate.

KSeF issues its own certificates (types ``Authentication`` and ``Offline``) to an identity that signed in with
a XAdES signature. ``GET /certificates/enrollments/data`` returns the X.500 attributes of that identity; the
request (CSR) must carry exactly these attributes, or KSeF refuses it (25003)::

    key = generate_key()                                   # EC P-256 (KSeF recommends EC); "rsa" = RSA-2048
    csr_der = build_csr(key, client.certificates.enrollment_data())
    ref = client.certificates.enroll(csr_der, "Odoo KSeF", "Authentication")
    serial = client.certificates.wait_for_enrollment(ref)["serial"]
    cert = client.certificates.retrieve([serial])[0]
    credential = check_issued(cert["der"], key, enrollment_data)   # Credential(certificate, key)

Works with ``cryptography`` 3.4.8 (Odoo 19's pin) and newer. Attribute types follow the KSeF sample request:
countryName and serialNumber as PrintableString (when printable), everything else as UTF8String.
"""

import re

from cryptography import x509
from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.name import _ASN1Type

from .credentials import USAGE_AUTHENTICATION, USAGE_OFFLINE, Credential, certificate_info
from .errors import CredentialError, InputError
from .x509util import load_der_certificate, name_to_rfc4514

#: enrolment-data field → OID (ksef-docs certyfikaty-KSeF.md §2), in the order they are written to the CSR
ENROLLMENT_FIELDS = (
    ("commonName", "2.5.4.3"),
    ("givenName", "2.5.4.42"),
    ("surname", "2.5.4.4"),
    ("serialNumber", "2.5.4.5"),
    ("uniqueIdentifier", "2.5.4.45"),
    ("organizationName", "2.5.4.10"),
    ("organizationIdentifier", "2.5.4.97"),
    ("countryName", "2.5.4.6"),
)
FIELD_BY_OID = {oid: field for field, oid in ENROLLMENT_FIELDS}
CERTIFICATE_TYPES = (USAGE_AUTHENTICATION, USAGE_OFFLINE)
_PRINTABLE_OIDS = ("2.5.4.6", "2.5.4.5")
_PRINTABLE_RE = re.compile(r"^[A-Za-z0-9 '()+,\-./:=?]*$")
_HASHES = {"sha1": hashes.SHA1, "sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}


def generate_key(kind="ec"):
    """A new private key for a KSeF certificate: ``"ec"`` = EC P-256 (recommended), ``"rsa"`` = RSA-2048.

    These are the only two KSeF accepts (25010 otherwise)."""
    kind = (kind or "ec").lower()
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1(), default_backend())
    if kind == "rsa":
        return rsa.generate_private_key(65537, 2048, default_backend())
    raise InputError(
        "Unknown key type %r for a KSeF certificate: use 'ec' (P-256) or 'rsa' (2048 bits)." % (kind,),
        "Nieznany typ klucza %r dla certyfikatu KSeF: użyj 'ec' (P-256) lub 'rsa' (2048 bitów)." % (kind,),
        code="key_type_unknown",
    )


def _values(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if v not in (None, "")]
    return [str(value)] if str(value) != "" else []


def enrollment_attributes(enrollment_data):
    """``[(oid, value)]`` of the enrolment data, in CSR order.

    ``givenName`` may hold several names (a list, or ``givenNames`` as some releases call it): one attribute each.
    Unknown fields are ignored (clients must tolerate new fields)."""
    data = dict(enrollment_data or {})
    if "givenNames" in data and not data.get("givenName"):
        data["givenName"] = data["givenNames"]
    out = []
    for field, oid in ENROLLMENT_FIELDS:
        out.extend((oid, value) for value in _values(data.get(field)))
    if not any(oid == "2.5.4.3" for oid, _v in out):
        raise InputError(
            "The enrolment data from KSeF has no commonName: download it again (GET /certificates/enrollments/data).",
            "Dane do wniosku z KSeF nie mają commonName: pobierz je ponownie (GET /certificates/enrollments/data).",
            code="enrollment_data_invalid",
        )
    return out


def name_attributes(name):
    """``[(oid, value)]`` of every attribute of an ``x509.Name`` (bytes values as hex)."""
    out = []
    for attr in name:
        value = attr.value if isinstance(attr.value, str) else attr.value.hex()
        out.append((attr.oid.dotted_string, value))
    return out


def subject_differences(name, enrollment_data):
    """Human-readable differences between ``name`` and the enrolment data (empty list: they match).

    Order does not matter; every attribute must be present exactly as given, and nothing else."""
    wanted = sorted(enrollment_attributes(enrollment_data))
    have = sorted(name_attributes(name))
    diffs = []
    rest = list(have)
    for oid, value in wanted:
        if (oid, value) in rest:
            rest.remove((oid, value))
        else:
            diffs.append("%s=%r missing" % (FIELD_BY_OID.get(oid, oid), value))
    diffs.extend("%s=%r not expected" % (FIELD_BY_OID.get(oid, oid), value) for oid, value in rest)
    return diffs


def build_name(enrollment_data):
    attrs = []
    for oid, value in enrollment_attributes(enrollment_data):
        if oid in _PRINTABLE_OIDS and _PRINTABLE_RE.match(value):
            kind = _ASN1Type.PrintableString
        else:
            kind = _ASN1Type.UTF8String
        attrs.append(x509.NameAttribute(x509.ObjectIdentifier(oid), value, kind))
    return x509.Name(attrs)


def build_csr(private_key, enrollment_data, hash_name="sha256"):
    """PKCS#10 request (DER bytes) with the subject copied verbatim from ``enrollment_data``.

    Signed with RSA PKCS#1 v1.5 or ECDSA and ``hash_name`` (sha1/sha256/sha384/sha512, as KSeF accepts)."""
    _check_key(private_key)
    algorithm = _HASHES.get((hash_name or "sha256").lower())
    if algorithm is None:
        raise InputError(
            "Unsupported hash %r for the certificate request: use sha256." % (hash_name,),
            "Nieobsługiwana funkcja skrótu %r dla wniosku certyfikacyjnego: użyj sha256." % (hash_name,),
            code="csr_hash_unsupported",
        )
    builder = x509.CertificateSigningRequestBuilder().subject_name(build_name(enrollment_data))
    csr = builder.sign(private_key, algorithm(), default_backend())
    return csr.public_bytes(serialization.Encoding.DER)


def _check_key(private_key):
    if isinstance(private_key, ec.EllipticCurvePrivateKey) and private_key.curve.name == "secp256r1":
        return
    if isinstance(private_key, rsa.RSAPrivateKey) and private_key.key_size == 2048:
        return
    raise InputError(
        "KSeF certifies only EC P-256 or RSA-2048 keys: generate a new key (generate_key()).",
        "KSeF certyfikuje tylko klucze EC P-256 lub RSA-2048: wygeneruj nowy klucz (generate_key()).",
        code="key_unsupported",
    )


def _spki(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def check_issued(cert_der, private_key, enrollment_data=None, certificate_type=None):
    """Check a certificate KSeF issued for our request; return a :class:`~ksef_core.credentials.Credential`.

    :raises CredentialError: ``enrolled_certificate_unreadable``, ``enrolled_key_mismatch`` (the certificate
        certifies another key: it is not the answer to our request), ``enrolled_subject_mismatch`` (its subject
        differs from the enrolment data), ``enrolled_type_mismatch`` (Authentication vs Offline).
    """
    try:
        cert = load_der_certificate(bytes(cert_der))
    except (ValueError, TypeError):
        raise CredentialError(
            "The certificate downloaded from KSeF cannot be read: download it again.",
            "Nie można odczytać certyfikatu pobranego z KSeF: pobierz go ponownie.",
            code="enrolled_certificate_unreadable",
        ) from None
    if _spki(cert.public_key()) != _spki(private_key.public_key()):
        raise CredentialError(
            "The certificate from KSeF does not certify this private key: it answers another request. "
            "Download the certificate of this request (its serial number) or enrol again.",
            "Certyfikat z KSeF nie poświadcza tego klucza prywatnego: odpowiada na inny wniosek. "
            "Pobierz certyfikat tego wniosku (jego numer seryjny) lub złóż wniosek ponownie.",
            code="enrolled_key_mismatch",
        )
    if enrollment_data is not None:
        diffs = subject_differences(cert.subject, enrollment_data)
        if diffs:
            raise CredentialError(
                "The subject of the certificate from KSeF (%s) differs from the enrolment data: %s."
                % (name_to_rfc4514(cert.subject), "; ".join(diffs)),
                "Podmiot certyfikatu z KSeF (%s) różni się od danych do wniosku: %s."
                % (name_to_rfc4514(cert.subject), "; ".join(diffs)),
                code="enrolled_subject_mismatch",
                details={"differences": diffs},
            )
    info = certificate_info(cert)
    if certificate_type and info.usage != certificate_type:
        raise CredentialError(
            "KSeF issued a certificate of type %s, but %s was requested." % (info.usage, certificate_type),
            "KSeF wydał certyfikat typu %s, a wnioskowano o %s." % (info.usage, certificate_type),
            code="enrolled_type_mismatch",
        )
    return Credential(cert, private_key, [])
