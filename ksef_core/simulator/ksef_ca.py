"""The simulator's own certification authority for KSeF certificates (like MF's "TI CCK KSeF" on TEST).

* :class:`SimulatorCA` keeps an EC P-256 CA key and a self-signed CA certificate (``CN=TI CCK KSeF Symulator``:
  it contains "CCK KSeF", so :attr:`ksef_core.credentials.CertificateInfo.is_ksef_issued` holds for what it
  issues), persisted in the bucket ``ksef_ca``.
* :func:`check_csr` applies the checks of ``POST /certificates/enrollments`` to a PKCS#10 request
  (25004 unreadable / bad signature, 25010 key type or length, 25011 signature algorithm).
* :meth:`SimulatorCA.issue` signs a certificate: the request's subject (already checked against the enrolment
  data), keyUsage digitalSignature (Authentication) or nonRepudiation (Offline), 2 years from ``valid_from``.

Works with cryptography 3.4.8 and newer (naive UTC datetimes for the builder, dates read via ``cert_dates``).
"""

import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from ..certgen import new_serial_number
from ..x509util import serial_hex
from .errors import bad_request

UTC = datetime.timezone.utc
CA_COMMON_NAME = "TI CCK KSeF Symulator"
VALIDITY_YEARS = 2
#: signature algorithms KSeF accepts on a CSR: RSA PKCS#1 v1.5 / RSA-PSS / ECDSA with SHA-1/256/384/512
ALLOWED_CSR_SIGNATURES = {
    "1.2.840.113549.1.1.5",  # sha1WithRSAEncryption
    "1.2.840.113549.1.1.11",
    "1.2.840.113549.1.1.12",
    "1.2.840.113549.1.1.13",
    "1.2.840.113549.1.1.10",  # RSASSA-PSS
    "1.2.840.10045.4.1",  # ecdsa-with-SHA1
    "1.2.840.10045.4.3.2",
    "1.2.840.10045.4.3.3",
    "1.2.840.10045.4.3.4",
}


def _naive(dt):
    return dt.astimezone(UTC).replace(tzinfo=None)


def add_years(dt, years):
    try:
        return dt.replace(year=dt.year + years)
    except ValueError:  # 29 February
        return dt.replace(year=dt.year + years, day=28)


def spki_der(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def check_csr(der):
    """The parsed ``CertificateSigningRequest``; ApiError 400 25004 / 25010 / 25011 as KSeF answers."""
    try:
        csr = x509.load_der_x509_csr(bytes(der), default_backend())
        _ = csr.subject
    except (ValueError, TypeError):
        raise bad_request(
            25004, "Niepoprawny format CSR lub niepoprawny podpis CSR.", ["Nie można odczytać CSR (PKCS#10, DER)."]
        ) from None
    if csr.signature_algorithm_oid.dotted_string not in ALLOWED_CSR_SIGNATURES:
        raise bad_request(
            25011,
            "Nieprawidłowy algorytm podpisu CSR.",
            ["Algorytm %s nie jest dozwolony." % csr.signature_algorithm_oid.dotted_string],
        )
    try:
        key = csr.public_key()
    except (ValueError, UnsupportedAlgorithm):
        raise bad_request(25010, "Nieprawidłowy typ lub długość klucza.") from None
    ok_key = (isinstance(key, rsa.RSAPublicKey) and key.key_size == 2048) or (
        isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1"
    )
    if not ok_key:
        raise bad_request(
            25010, "Nieprawidłowy typ lub długość klucza.", ["Dozwolone: RSA 2048 bitów lub EC P-256 (secp256r1)."]
        )
    try:
        valid = csr.is_signature_valid
    except (InvalidSignature, UnsupportedAlgorithm, ValueError):
        valid = False
    if not valid:
        raise bad_request(
            25004, "Niepoprawny format CSR lub niepoprawny podpis CSR.", ["Podpis CSR jest nieprawidłowy."]
        )
    return csr


class SimulatorCA:
    """``sim.certificates.ca``: the CA key and certificate (made once per data directory)."""

    def __init__(self, sim):
        self.sim = sim
        self.bucket = sim.state.bucket("ksef_ca")
        if "key_pem" not in self.bucket:
            self._create()
        self.key = serialization.load_pem_private_key(self.bucket["key_pem"], None, default_backend())
        self.certificate = x509.load_der_x509_certificate(self.bucket["cert_der"], default_backend())

    def _create(self):
        key = ec.generate_private_key(ec.SECP256R1(), default_backend())
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "PL"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Symulator KSeF"),
                x509.NameAttribute(NameOID.COMMON_NAME, CA_COMMON_NAME),
            ]
        )
        now = self.sim.clock.now()
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(new_serial_number())
            .not_valid_before(_naive(now - datetime.timedelta(days=365)))
            .not_valid_after(_naive(add_years(now, 20)))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(cert_sign=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256(), default_backend())
        )
        with self.sim.state.lock:
            self.bucket["key_pem"] = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            self.bucket["cert_der"] = cert.public_bytes(serialization.Encoding.DER)
            self.sim.state.mark_dirty()

    @property
    def certificate_der(self):
        return self.bucket["cert_der"]

    def issued_by_me(self, cert):
        return cert.issuer == self.certificate.subject

    def issue(self, csr, certificate_type, valid_from):
        """``(serial_hex, der, not_before, not_after)`` of a new certificate for ``csr``."""
        not_before = valid_from.astimezone(UTC).replace(microsecond=0)
        not_after = add_years(not_before, VALIDITY_YEARS)
        serial = new_serial_number()
        public_key = csr.public_key()
        cert = (
            x509.CertificateBuilder()
            .subject_name(csr.subject)
            .issuer_name(self.certificate.subject)
            .public_key(public_key)
            .serial_number(serial)
            .not_valid_before(_naive(not_before))
            .not_valid_after(_naive(not_after))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                _key_usage(
                    digital_signature=certificate_type == "Authentication",
                    content_commitment=certificate_type == "Offline",
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256(), default_backend())
        )
        return serial_hex(serial), cert.public_bytes(serialization.Encoding.DER), not_before, not_after


def _key_usage(digital_signature=False, content_commitment=False, cert_sign=False):
    return x509.KeyUsage(
        digital_signature=digital_signature or cert_sign,
        content_commitment=content_commitment,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )
