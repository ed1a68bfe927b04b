"""Helpers shared by the invoice-side routes: request validation, session keys, signed URLs.

Pre-signed URLs (UPO downloads, batch part uploads, export part downloads) are
served by the simulator itself under ``/_storage`` without a bearer token.  They
are stateless: ``?se=<unix expiry>&sig=<HMAC-SHA256>`` over the path, keyed with a
random per-simulator secret, so asking for a status many times does not pile up
state.
"""

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import os

from ..crypto import AES_IV_BYTES, AES_KEY_BYTES, rsa_oaep_decrypt
from .errors import ApiError, validation_error
from .invoice_checks import FA3_FORM_CODE

STORAGE_PREFIX = "/_storage"
SYMMETRIC_USAGE = "SymmetricKeyEncryption"


def b64_field(body, name, required=True, size=None):
    """Decode the Base64 field ``name`` of a JSON body (400/21405 when missing or invalid)."""
    value = body.get(name)
    if value is None:
        if required:
            raise validation_error("Pole '%s' jest wymagane." % name)
        return None
    if not isinstance(value, str):
        raise validation_error("Pole '%s' musi być tekstem Base64." % name)
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise validation_error("Pole '%s' nie jest poprawnym tekstem Base64." % name)
    if size is not None and len(data) != size:
        raise validation_error("Pole '%s' musi zawierać dokładnie %d bajtów." % (name, size))
    return data


def int_field(body, name, minimum=1, maximum=None, required=True):
    value = body.get(name)
    if value is None and not required:
        return None
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or value < minimum
        or (maximum is not None and value > maximum)
    ):
        raise validation_error(
            "Pole '%s' musi być liczbą całkowitą od %d%s."
            % (name, minimum, "" if maximum is None else " do %d" % maximum)
        )
    return value


def hash_field(body, name, required=True):
    """A SHA-256 Base64 field: 44 characters decoding to 32 bytes."""
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or len(value) != 44:
        raise validation_error("Pole '%s' musi zawierać skrót SHA-256 w Base64 (44 znaki)." % name)
    b64_field(body, name, size=32)
    return value


def bool_field(body, name, default=False):
    value = body.get(name, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise validation_error("Pole '%s' musi mieć wartość true lub false." % name)
    return value


def form_code(body):
    """The ``formCode`` of a session request; only FA (3) / 1-0E / FA is supported."""
    code = body.get("formCode")
    if not isinstance(code, dict):
        raise validation_error("Pole 'formCode' jest wymagane.")
    wanted = (FA3_FORM_CODE["systemCode"], FA3_FORM_CODE["schemaVersion"], FA3_FORM_CODE["value"])
    given = (code.get("systemCode"), code.get("schemaVersion"), code.get("value"))
    if given != wanted:
        raise validation_error(
            "Nieobsługiwany formCode %s; symulator przyjmuje systemCode 'FA (3)', schemaVersion '1-0E', "
            "value 'FA'." % (list(given),)
        )
    return dict(FA3_FORM_CODE)


def session_key(sim, body):
    """Unwrap ``encryption`` of a request: returns ``(key, iv)``; key is None if RSA-OAEP fails.

    Unknown ``publicKeyId`` -> 400/21470, malformed fields -> 400/21405.
    """
    enc = body.get("encryption")
    if not isinstance(enc, dict):
        raise validation_error("Pole 'encryption' jest wymagane.")
    wrapped = b64_field(enc, "encryptedSymmetricKey")
    iv = b64_field(enc, "initializationVector", size=AES_IV_BYTES)
    key_id = enc.get("publicKeyId")
    keys = getattr(sim, "keys", None)
    if keys is not None and hasattr(keys, "resolve"):
        private_key = keys.resolve(key_id, SYMMETRIC_USAGE)  # 400/21470 for unknown ids
    else:
        private_key = sim.private_key_for(key_id or SYMMETRIC_USAGE)
    try:
        key = rsa_oaep_decrypt(private_key, wrapped)
    except Exception:
        return None, iv
    if len(key) != AES_KEY_BYTES:
        return None, iv
    return key, iv


# -- pre-signed URLs ---------------------------------------------------------------------------
def _secret(store):
    secret = store.settings.get("_url_secret")
    if not secret:
        secret = store.settings["_url_secret"] = os.urandom(32)
    return secret


def _signature(store, path, expires):
    mac = hmac.new(_secret(store), ("%s|%d" % (path, expires)).encode("utf-8"), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode("ascii")


def signed_url(store, ctx, path, ttl=None):
    """Absolute pre-signed URL for ``STORAGE_PREFIX + path`` and its expiry datetime."""
    ttl = store.settings["url_ttl"] if ttl is None else ttl
    expires_at = store.clock.now() + dt.timedelta(seconds=ttl)
    expires = int(expires_at.timestamp())
    full = STORAGE_PREFIX + path
    base = ctx.request.host_url.rstrip("/")
    return "%s%s?se=%d&sig=%s" % (base, full, expires, _signature(store, full, expires)), expires_at


def check_signature(store, ctx):
    """403 unless the request carries a valid, unexpired signature for its path."""
    try:
        expires = int(ctx.args.get("se", ""))
    except ValueError:
        expires = 0
    sig = ctx.args.get("sig", "")
    if not sig or not hmac.compare_digest(sig, _signature(store, ctx.path, expires)):
        raise ApiError(403, None, "Nieprawidłowy podpis adresu.")
    if store.clock.timestamp() > expires:
        raise ApiError(403, None, "Adres wygasł.")
