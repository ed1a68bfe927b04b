"""MF public keys (``GET /security/public-key-certificates``): fetch, cache, choose.

Keys are cached with their validity; the one valid now with the latest
``validFrom`` is chosen per usage (``KsefTokenEncryption`` or
``SymmetricKeyEncryption``).  :meth:`PublicKeyStore.with_key` retries an
operation once with a re-downloaded list when KSeF answers 21470 (key retired).
"""

import base64
import datetime
import logging

from cryptography import x509
from cryptography.hazmat.backends import default_backend

from .errors import KsefApiError
from .tokens import parse_datetime

_logger = logging.getLogger(__name__)

TOKEN_ENCRYPTION = "KsefTokenEncryption"
SYMMETRIC_KEY_ENCRYPTION = "SymmetricKeyEncryption"
KEY_RETIRED = 21470

#: Re-download the list at least this often even if every key is still valid.
MAX_CACHE_AGE = datetime.timedelta(hours=6)


class PublicKey:
    """One MF public key: ``key`` (cryptography object), ``public_key_id``, validity, usage."""

    __slots__ = ("key", "public_key_id", "usage", "valid_from", "valid_to")

    def __init__(self, key, public_key_id, usage, valid_from, valid_to):
        self.key = key
        self.public_key_id = public_key_id
        self.usage = tuple(usage)
        self.valid_from = valid_from
        self.valid_to = valid_to

    def valid_at(self, now):
        return (self.valid_from is None or self.valid_from <= now) and (self.valid_to is None or now < self.valid_to)


def parse_key_list(items):
    """``PublicKeyCertificate[]`` JSON → list of :class:`PublicKey` (unreadable entries skipped)."""
    keys = []
    for item in items or ():
        try:
            cert = x509.load_der_x509_certificate(base64.b64decode(item["certificate"]), default_backend())
            keys.append(
                PublicKey(
                    cert.public_key(),
                    item.get("publicKeyId"),
                    item.get("usage") or (),
                    parse_datetime(item.get("validFrom")),
                    parse_datetime(item.get("validTo")),
                )
            )
        except (KeyError, ValueError, TypeError):
            _logger.warning("Skipping an unreadable KSeF public key certificate")
    return keys


class PublicKeyStore:
    """Cache of MF public keys for one environment."""

    def __init__(self, transport, clock):
        self._transport = transport
        self._clock = clock
        self._keys = None
        self._fetched_at = None

    def refresh(self):
        data = self._transport.request("GET", "/security/public-key-certificates")
        self._keys = parse_key_list(data if isinstance(data, list) else data.get("items", []))
        self._fetched_at = self._clock()

    def invalidate(self):
        self._keys = None

    def get(self, usage):
        """The key to use now for ``usage``; downloads the list when needed."""
        now = self._clock()
        if self._keys is None or self._fetched_at is None or now - self._fetched_at > MAX_CACHE_AGE:
            self.refresh()
        key = self._choose(usage, now)
        if key is None:
            self.refresh()
            key = self._choose(usage, now)
        if key is None:
            raise KsefApiError(
                "KSeF published no valid public key for %s: try again later." % usage,
                "KSeF nie udostępnia ważnego klucza publicznego do %s: spróbuj ponownie później." % usage,
                code="public_key_missing",
            )
        return key

    def _choose(self, usage, now):
        candidates = [k for k in self._keys or () if usage in k.usage and k.valid_at(now)]
        if not candidates:
            return None
        epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
        return max(candidates, key=lambda k: k.valid_from or epoch)

    def with_key(self, usage, operation):
        """Run ``operation(public_key)``; on 21470 re-download the keys and run it once more."""
        try:
            return operation(self.get(usage))
        except KsefApiError as exc:
            if KEY_RETIRED not in exc.exception_codes:
                raise
            _logger.info("KSeF retired the public key for %s; downloading the key list again", usage)
            self.refresh()
            return operation(self.get(usage))
