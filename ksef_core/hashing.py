"""SHA-256 and Base64 helpers used for invoice hashes, QR links and KSeF fields."""

import base64
import hashlib


def sha256(data):
    return hashlib.sha256(data).digest()


def b64(data):
    """Standard Base64 (with padding) as ``str``."""
    return base64.b64encode(data).decode("ascii")


def b64decode(text):
    return base64.b64decode(text, validate=True)


def b64url(data):
    """Base64URL without ``=`` padding, as used in KSeF QR links."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    pad = "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(text + pad)


def sha256_b64(data):
    """Invoice hash as sent to the API: standard Base64 of SHA-256 (44 chars)."""
    return b64(sha256(data))


def sha256_b64url(data):
    """Invoice hash as used in KOD I: Base64URL of SHA-256 without padding (43 chars)."""
    return b64url(sha256(data))
