"""Test certificates shaped like the ones KSeF TEST accepts (self-signed or issued by a test CA).

Used by the tests, the simulator and the demo; never needed in production.  Subjects:

* personal: ``serialNumber=TINPL-<nip>`` or ``PNOPL-<pesel>``, givenName, surname, CN, C=PL;
* company seal (``seal=True``): ``organizationIdentifier=VATPL-<nip>``, O, CN, C=PL, no
  givenName/surname.

keyUsage is digitalSignature for ``usage="Authentication"`` and nonRepudiation for
``usage="Offline"`` (the two KSeF certificate types); serial numbers have 16 hex digits.
Generated keys are cached per process (``_cached_key``) because RSA generation is slow.
"""

import datetime
import os
import threading

from cryptography import x509
from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from .credentials import USAGE_AUTHENTICATION, USAGE_OFFLINE, Credential
from .errors import InputError

UTC = datetime.timezone.utc
_OID_ORGANIZATION_IDENTIFIER = x509.ObjectIdentifier("2.5.4.97")

_KEY_CACHE = {}
_KEY_LOCK = threading.Lock()


def new_private_key(key_type="ec", rsa_bits=2048, curve=None):
    """A fresh private key: EC (P-256 by default) or RSA."""
    key_type = (key_type or "ec").lower()
    if key_type == "rsa":
        return rsa.generate_private_key(65537, rsa_bits, default_backend())
    if key_type == "ec":
        return ec.generate_private_key(curve or ec.SECP256R1(), default_backend())
    raise InputError(
        "Unknown key type %r; use 'ec' or 'rsa'." % (key_type,),
        "Nieznany typ klucza %r; użyj 'ec' lub 'rsa'." % (key_type,),
        code="key_type_unknown",
    )


def _cached_key(key_type="ec", slot=0):
    """A private key reused across calls with the same ``(key_type, slot)`` (per process).

    ``key_type`` is ``"ec"`` (P-256), ``"rsa"`` (2048), or e.g. ``"rsa1024"`` / ``"ec-p384"``.
    """
    key_type = (key_type or "ec").lower()
    cache_key = (key_type, slot)
    with _KEY_LOCK:
        key = _KEY_CACHE.get(cache_key)
        if key is None:
            if key_type.startswith("rsa"):
                bits = int(key_type[3:] or 2048)
                key = new_private_key("rsa", rsa_bits=bits)
            elif key_type in ("ec", "ec-p256"):
                key = new_private_key("ec")
            elif key_type == "ec-p384":
                key = new_private_key("ec", curve=ec.SECP384R1())
            elif key_type == "ec-p521":
                key = new_private_key("ec", curve=ec.SECP521R1())
            elif key_type == "ec-k256":  # secp256k1: not accepted by KSeF (for negative tests)
                key = new_private_key("ec", curve=ec.SECP256K1())
            else:
                key = new_private_key(key_type)
            _KEY_CACHE[cache_key] = key
        return key


def new_serial_number():
    """A random positive 64-bit serial whose hex form has 16 digits (first byte 0x01–0x7F)."""
    value = int.from_bytes(os.urandom(8), "big") & 0x7FFFFFFFFFFFFFFF
    return value | 0x0100000000000000


def _subject(nip, pesel, common_name, organization, seal, given_name, surname):
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "PL")]
    if seal:
        if not nip:
            raise InputError(
                "A company seal certificate needs a NIP.",
                "Certyfikat pieczęci firmowej wymaga numeru NIP.",
                code="certgen_nip_missing",
            )
        attrs.append(x509.NameAttribute(_OID_ORGANIZATION_IDENTIFIER, "VATPL-%s" % nip))
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization or "Firma %s" % nip))
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name or organization or nip))
        return x509.Name(attrs)
    if organization:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    if nip:
        serial = "TINPL-%s" % nip
    elif pesel:
        serial = "PNOPL-%s" % pesel
    else:
        serial = None
    given_name = given_name or "Jan"
    surname = surname or "Testowy"
    attrs.append(x509.NameAttribute(NameOID.GIVEN_NAME, given_name))
    attrs.append(x509.NameAttribute(NameOID.SURNAME, surname))
    if serial:
        attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name or "%s %s" % (given_name, surname)))
    return x509.Name(attrs)


def make_test_certificate(
    *,
    nip=None,
    pesel=None,
    common_name=None,
    organization=None,
    key_type="ec",
    usage=USAGE_AUTHENTICATION,
    not_before=None,
    not_after=None,
    seal=False,
    issuer=None,
    given_name=None,
    surname=None,
    key=None,
    key_slot=0,
    serial_number=None,
    is_ca=False,
):
    """Return a :class:`~ksef_core.credentials.Credential` with a fresh test certificate.

    ``issuer`` (a Credential with a private key) signs the certificate instead of
    self-signing; its certificate then forms the chain.  ``key`` overrides the cached
    key of ``(key_type, key_slot)``.  ``usage`` is ``"Authentication"`` or ``"Offline"``
    (``None`` = no keyUsage extension).  Default validity: now − 1 h to now + 2 years.
    """
    if usage not in (USAGE_AUTHENTICATION, USAGE_OFFLINE, None):
        raise InputError(
            "Unknown certificate usage %r; use 'Authentication' or 'Offline'." % (usage,),
            "Nieznany typ certyfikatu %r; użyj 'Authentication' lub 'Offline'." % (usage,),
            code="certgen_usage_unknown",
        )
    now = datetime.datetime.now(UTC).replace(microsecond=0)
    not_before = not_before or now - datetime.timedelta(hours=1)
    not_after = not_after or now + datetime.timedelta(days=730)
    if key is None:
        key = _cached_key(key_type, key_slot)
    subject = _subject(nip, pesel, common_name, organization, seal, given_name, surname)
    if issuer is not None:
        issuer._require_key()
        issuer_name, signing_key = issuer.certificate.subject, issuer.private_key
    else:
        issuer_name, signing_key = subject, key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(serial_number or new_serial_number())
        .not_valid_before(_naive_utc(not_before))
        .not_valid_after(_naive_utc(not_after))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
    )
    if is_ca:
        ku = _key_usage(digital_signature=True, key_cert_sign=True, crl_sign=True)
        builder = builder.add_extension(ku, critical=True)
    elif usage is not None:
        ku = _key_usage(
            digital_signature=usage == USAGE_AUTHENTICATION,
            content_commitment=usage == USAGE_OFFLINE,
        )
        builder = builder.add_extension(ku, critical=True)
    builder = builder.add_extension(
        x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
    )
    cert = builder.sign(signing_key, hashes.SHA256(), default_backend())
    chain = []
    if issuer is not None:
        chain = [issuer.certificate, *issuer.chain]
    return Credential(cert, key, chain)


def make_test_ca(common_name="Test CCA KSeF", key_type="ec", key_slot=90):
    """A self-signed test CA credential usable as ``issuer=`` of :func:`make_test_certificate`."""
    return make_test_certificate(
        common_name=common_name,
        organization="Test CA",
        seal=False,
        key_type=key_type,
        key_slot=key_slot,
        is_ca=True,
        given_name="CA",
        surname="Test",
    )


def _key_usage(digital_signature=False, content_commitment=False, key_cert_sign=False, crl_sign=False):
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=content_commitment,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _naive_utc(dt):
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return dt
