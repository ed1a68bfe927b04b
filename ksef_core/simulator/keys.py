"""The simulator's own MF-like RSA keys and ``GET /security/public-key-certificates``.

One RSA-2048 key per usage (``KsefTokenEncryption``, ``SymmetricKeyEncryption``) with a
self-signed certificate; ``certificateId`` = Base64 SHA-256 of the certificate DER,
``publicKeyId`` = Base64 SHA-256 of the SubjectPublicKeyInfo DER. RSA keys are generated once per
process and reused by every simulator instance (generation is slow); they are persisted with a
data directory. Rotation: planned (old key stays valid, new one has the latest ``validFrom``) or
emergency (old key removed at once → using its ``publicKeyId`` gives 400 / 21470).
"""

import datetime as dt
import threading

from cryptography import x509
from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from ..hashing import b64, sha256_b64
from .clock import iso, parse_iso
from .errors import ApiError
from .routing import json_response, route

USAGES = ("KsefTokenEncryption", "SymmetricKeyEncryption")

_POOL = []
_POOL_LOCK = threading.Lock()


def _pool_key(exclude_pems):
    """A process-wide cached RSA key whose PEM is not in ``exclude_pems`` (generated if needed)."""
    with _POOL_LOCK:
        for key, pem in _POOL:
            if pem not in exclude_pems:
                return key, pem
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048, backend=default_backend())
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        _POOL.append((key, pem))
        return key, pem


def _self_signed(key, usage, valid_from, valid_to, serial):
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "PL"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "KSeF Simulator"),
            x509.NameAttribute(NameOID.COMMON_NAME, "KSeF Simulator %s" % usage),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(valid_from.replace(tzinfo=None))
        .not_valid_after(valid_to.replace(tzinfo=None))
        .sign(key, hashes.SHA256(), default_backend())
    )
    return cert.public_bytes(serialization.Encoding.DER)


def _spki(key):
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


class KeyStore:
    """``sim.keys``: current keys, lookup by ``publicKeyId``/usage, rotation."""

    def __init__(self, sim):
        self.sim = sim
        self.data = sim.state.bucket("keys")
        self.data.setdefault("entries", [])
        self._objects = {}
        for entry in self.data["entries"]:
            self._objects[entry["publicKeyId"]] = serialization.load_pem_private_key(
                entry["keyPem"], password=None, backend=default_backend()
            )
        for usage in USAGES:
            if not self._active(usage):
                self._add(usage)

    def _active(self, usage):
        return [e for e in self.data["entries"] if e["usage"] == usage]

    def _add(self, usage, valid_from=None):
        used = {e["keyPem"] for e in self.data["entries"]} | set(self.data.setdefault("retiredPems", []))
        key, pem = _pool_key(used)
        now = self.sim.clock.now()
        valid_from = valid_from or (now - dt.timedelta(days=1))
        valid_to = valid_from + dt.timedelta(days=730)
        serial = x509.random_serial_number()
        der = _self_signed(key, usage, valid_from, valid_to, serial)
        entry = {
            "usage": usage,
            "keyPem": pem,
            "certificate": der,
            "certificateId": sha256_b64(der),
            "publicKeyId": sha256_b64(_spki(key)),
            "validFrom": valid_from.replace(microsecond=0),
            "validTo": valid_to.replace(microsecond=0),
        }
        self.data["entries"].append(entry)
        self._objects[entry["publicKeyId"]] = key
        return entry

    def certificates(self):
        """The list served by ``GET /security/public-key-certificates``."""
        with self.sim.state.lock:
            return [
                {
                    "certificate": b64(e["certificate"]),
                    "certificateId": e["certificateId"],
                    "publicKeyId": e["publicKeyId"],
                    "validFrom": iso(e["validFrom"]),
                    "validTo": iso(e["validTo"]),
                    "usage": [e["usage"]],
                }
                for e in self.data["entries"]
            ]

    def current(self, usage):
        """Newest entry (latest validFrom not in the future) for ``usage``."""
        now = self.sim.clock.now()
        with self.sim.state.lock:
            entries = sorted(self._active(usage), key=lambda e: e["validFrom"])
            valid = [e for e in entries if parse_iso(e["validFrom"]) <= now] or entries
            return valid[-1]

    def private_key_for(self, key, usage=None):
        """RSA private key for a ``publicKeyId`` or a usage name.

        :raises ApiError: 400 / 21470 when the id is unknown, retired, or of another usage
        """
        if key in USAGES:
            return self._objects[self.current(key)["publicKeyId"]]
        with self.sim.state.lock:
            for entry in self.data["entries"]:
                if entry["publicKeyId"] == key and (usage is None or entry["usage"] == usage):
                    return self._objects[key]
        raise ApiError(
            400,
            21470,
            "Nieprawidłowy identyfikator klucza publicznego.",
            [
                "Klucz publiczny o wskazanym identyfikatorze nie istnieje lub został wycofany. "
                "Pobierz aktualną listę certyfikatów (GET /security/public-key-certificates)."
            ],
        )

    def resolve(self, public_key_id, usage):
        """Private key to use for a request: ``publicKeyId`` if given (must match ``usage``), else current."""
        if public_key_id:
            return self.private_key_for(public_key_id, usage=usage)
        return self.private_key_for(usage)

    def rotate(self, emergency=True, usage=None):
        """Add a new key per usage (or just ``usage``); emergency removes the old keys at once."""
        usages = [usage] if usage else list(USAGES)
        created = []
        with self.sim.state.lock:
            for name in usages:
                old = self._active(name)
                entry = self._add(name, valid_from=self.sim.clock.now().replace(microsecond=0))
                created.append(entry["publicKeyId"])
                if emergency:
                    for e in old:
                        self.data["entries"].remove(e)
                        self.data.setdefault("retiredPems", []).append(e["keyPem"])
                        self._objects.pop(e["publicKeyId"], None)
            self.sim.state.mark_dirty()
        return created


@route("GET", "/security/public-key-certificates", auth="none", rate_group="auth")
def public_key_certificates(sim, ctx):
    return json_response(sim.keys.certificates())
