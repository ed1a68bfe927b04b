"""X.509 helpers for :mod:`ksef_core.credentials`: DER walking, names, serials, dates and a
tolerant certificate loader.

Why tolerant: certificates issued by the KSeF TEST CA ("TI CCK KSeF", e.g. the official
KOD II test certificate 01F20A5D352AE590) encode ``ecdsa-with-SHA512`` with explicit NULL
parameters.  OpenSSL (cryptography 3.4.8, Odoo 19's pin) accepts that; the strict Rust
parser of newer ``cryptography`` releases refuses it.  :func:`load_der_certificate`
then parses a copy with the NULLs removed, and remembers the ORIGINAL bytes so that
:func:`certificate_der` (fingerprints, XAdES KeyInfo/CertDigest, PEM export) keeps
returning exactly what the CA issued.  The CA signature of the patched copy is not valid,
which does not matter here: this package never validates chains itself.
"""

import base64
import binascii
import datetime
import re

from cryptography import x509
from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives import serialization

UTC = datetime.timezone.utc

# Short names for RFC 4514 output (cryptography 3.4.8 does not know organizationIdentifier).
_DN_NAMES = {
    "2.5.4.3": "CN",
    "2.5.4.4": "SN",
    "2.5.4.5": "serialNumber",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.9": "STREET",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.12": "title",
    "2.5.4.42": "GN",
    "2.5.4.43": "initials",
    "2.5.4.45": "x500UniqueIdentifier",
    "2.5.4.97": "organizationIdentifier",
    "1.2.840.113549.1.9.1": "emailAddress",
    "0.9.2342.19200300.100.1.1": "UID",
    "0.9.2342.19200300.100.1.25": "DC",
}

PEM_CERT_RE = re.compile(
    rb"-----BEGIN (?:X509 |TRUSTED )?CERTIFICATE-----(.+?)-----END (?:X509 |TRUSTED )?CERTIFICATE-----",
    re.S,
)
_ECDSA_SIG_OID = bytes.fromhex("06082a8648ce3d0403")  # ecdsa-with-SHA2 arc, + 1 byte (01..04)
_ORIGINAL_DER = {}  # DER of a patched parse -> DER as issued
_ORIGINAL_DER_MAX = 512


# --------------------------------------------------------------------------- names, serials, dates


def _escape_dn_value(value):
    out = []
    for i, ch in enumerate(value):
        if ch in ',+"\\<>;' or (i == 0 and ch in "# ") or (i == len(value) - 1 and ch == " "):
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def name_to_rfc4514(name):
    """RFC 4514 string of an ``x509.Name`` (most significant RDN last, like OpenSSL/KSeF)."""
    rdns = []
    for rdn in reversed(list(name.rdns)):
        parts = []
        for attr in rdn:
            key = _DN_NAMES.get(attr.oid.dotted_string, attr.oid.dotted_string)
            value = attr.value if isinstance(attr.value, str) else binascii.hexlify(attr.value).decode()
            parts.append("%s=%s" % (key, _escape_dn_value(value)))
        rdns.append("+".join(parts))
    return ",".join(rdns)


def name_values(name, dotted):
    """String values of the attributes with OID ``dotted`` in an ``x509.Name``."""
    return [a.value for a in name if a.oid.dotted_string == dotted and isinstance(a.value, str)]


def serial_hex(serial_number):
    """KSeF-style serial: uppercase hex, even length, at least 16 digits (``01F20A5D352AE590``)."""
    text = "%X" % serial_number
    if len(text) % 2:
        text = "0" + text
    return text.rjust(16, "0")


def aware(dt):
    """``dt`` as an aware UTC datetime (naive values are taken as UTC)."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def cert_dates(cert):
    """(not_before, not_after) as aware UTC datetimes, on old and new cryptography."""
    nb = getattr(cert, "not_valid_before_utc", None)
    na = getattr(cert, "not_valid_after_utc", None)
    if nb is None:
        nb = cert.not_valid_before.replace(tzinfo=UTC)
    if na is None:
        na = cert.not_valid_after.replace(tzinfo=UTC)
    return nb, na


# --------------------------------------------------------------------------- DER


def der_read(data, pos):
    """(tag, content_start, content_end) of the DER TLV at ``pos``; raises ValueError."""
    if pos + 2 > len(data):
        raise ValueError("short")
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        if n == 0 or n > 4 or pos + n > len(data):
            raise ValueError("bad length")
        length = int.from_bytes(data[pos : pos + n], "big")
        pos += n
    if pos + length > len(data):
        raise ValueError("truncated")
    return tag, pos, pos + length


def _der_children(data, start, end):
    out = []
    pos = start
    while pos < end:
        tag, cs, ce = der_read(data, pos)
        out.append((tag, data[pos:ce], data[cs:ce]))
        pos = ce
    if pos != end:
        raise ValueError("overrun")
    return out


def _tlv(tag, content):
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content


def _fix_alg(tag, tlv, content):
    if tag == 0x30 and content[:9] == _ECDSA_SIG_OID and len(content) == 12 and content[10:] == b"\x05\x00":
        return _tlv(0x30, content[:10])
    return tlv


def strip_ecdsa_null_params(der):
    """``der`` with NULL parameters removed from ecdsa-with-SHA* AlgorithmIdentifiers, or None."""
    try:
        tag, cs, ce = der_read(der, 0)
        parts = _der_children(der, cs, ce)
        if tag != 0x30 or len(parts) != 3:
            return None
        (tbs_tag, _tbs_tlv, tbs_content), (alg_tag, alg_tlv, alg_content), (_t, sig_tlv, _c) = parts
        tbs = _der_children(tbs_content, 0, len(tbs_content))
        idx = 1 if tbs and tbs[0][0] == 0xA0 else 0
        if len(tbs) <= idx + 1:
            return None
        fixed = list(tbs)
        t, tlv, content = fixed[idx + 1]
        fixed[idx + 1] = (t, _fix_alg(t, tlv, content), content)
        new_tbs = _tlv(tbs_tag, b"".join(item[1] for item in fixed))
        new = _tlv(0x30, new_tbs + _fix_alg(alg_tag, alg_tlv, alg_content) + sig_tlv)
    except (ValueError, IndexError):
        return None
    return new if new != der else None


# --------------------------------------------------------------------------- loading


def load_der_certificate(der):
    """Parse DER; on a strict-parser refusal retry without ecdsa NULL params (module doc)."""
    der = bytes(der)
    try:
        return x509.load_der_x509_certificate(der, default_backend())
    except ValueError:
        patched = strip_ecdsa_null_params(der)
        if patched is None:
            raise
        cert = x509.load_der_x509_certificate(patched, default_backend())
        if len(_ORIGINAL_DER) >= _ORIGINAL_DER_MAX:
            _ORIGINAL_DER.clear()
        _ORIGINAL_DER[cert.public_bytes(serialization.Encoding.DER)] = der
        return cert


def certificate_der(cert):
    """The DER of ``cert`` exactly as issued (see :func:`load_der_certificate`)."""
    der = cert.public_bytes(serialization.Encoding.DER)
    return _ORIGINAL_DER.get(der, der)


def certificate_pem(cert):
    b64 = base64.encodebytes(certificate_der(cert)).replace(b"\n", b"")
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return b"-----BEGIN CERTIFICATE-----\n" + b"\n".join(lines) + b"\n-----END CERTIFICATE-----\n"


def maybe_base64(data):
    """Decode bare Base64/Base64URL text (e.g. a certificate as the KSeF API returns it), or None."""
    text = data.strip()
    if not text or not re.fullmatch(rb"[A-Za-z0-9+/=_\-\s]+", text):
        return None
    compact = re.sub(rb"\s+", b"", text)
    try:
        if b"-" in compact or b"_" in compact:
            return base64.urlsafe_b64decode(compact + b"=" * (-len(compact) % 4))
        return base64.b64decode(compact + b"=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def certificate_ders(data):
    """DER blobs of all certificates in ``data`` (PEM bundle, DER, or bare Base64 DER)."""
    blocks = PEM_CERT_RE.findall(data)
    if blocks:
        out = []
        for body in blocks:
            body = re.sub(rb"(?m)^[A-Za-z-]+:.*$", b"", body)  # RFC 1421 headers, if any
            der = maybe_base64(body)
            if not der:
                raise ValueError("bad PEM")
            out.append(der)
        return out
    der = data if data[:1] == b"\x30" else maybe_base64(data)
    return [der] if der else []
