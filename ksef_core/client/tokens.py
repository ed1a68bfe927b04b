"""KSeF token shape checks, JWT claim reading and the persistable token state.

* :func:`check_ksef_token` validates a KSeF token *before* any request:
  ``<reference>|nip-<NIP>|<64 hex>`` or ``<reference>|internalId-<NIP>-<5 digits>|<64 hex>``,
  and that its context is the company's context.
* :func:`jwt_claims` decodes a JWT payload without verifying it (the client only
  reads ``exp`` and the permission claims for display, never for security).
* :class:`TokenState` holds the access/refresh tokens with their expiry; it is
  serialisable (``to_dict``/``from_dict``) so a caller can store and share it.
"""

import datetime
import json
import re

from ..errors import CredentialError
from ..hashing import b64url_decode
from ..nip import nip_checksum_ok

_REF_RE = re.compile(r"^\d{8}-[A-Z]{2}-[0-9A-F]{10}-[0-9A-F]{10}-[0-9A-F]{2}$")
_SECRET_RE = re.compile(r"^[0-9a-fA-F]{64}$")
_CTX_RE = re.compile(r"^(nip|internalId)-(\d{10})(?:-(\d{5}))?$")

_FIX_EN = "Copy the whole token from KSeF (three parts separated by '|') or generate a new one."
_FIX_PL = "Skopiuj cały token z KSeF (trzy części rozdzielone znakiem '|') lub wygeneruj nowy."


def _bad(en, pl, code):
    return CredentialError("%s %s" % (en, _FIX_EN), "%s %s" % (pl, _FIX_PL), code=code)


class KsefTokenInfo:
    """Non-secret parts of a KSeF token (the secret part is never kept here)."""

    __slots__ = ("context_type", "context_value", "nip", "reference")

    def __init__(self, reference, context_type, context_value, nip):
        self.reference = reference
        self.context_type = context_type  # "Nip" or "InternalId"
        self.context_value = context_value
        self.nip = nip

    def __repr__(self):
        return "KsefTokenInfo(%s, %s-%s)" % (self.reference, self.context_type, self.context_value)


def check_ksef_token(token, context_nip=None):
    """Validate the shape of a KSeF token and its NIP; return :class:`KsefTokenInfo`.

    :param context_nip: the company's NIP (normalised); the token's NIP must equal it.
    :raises CredentialError: ``token_missing``, ``token_shape``, ``token_nip_mismatch``.
    """
    if not token or not isinstance(token, str) or not token.strip():
        raise CredentialError(
            "The KSeF token is empty: paste the token generated in KSeF.",
            "Token KSeF jest pusty: wklej token wygenerowany w KSeF.",
            code="token_missing",
        )
    token = token.strip()
    parts = token.split("|")
    if len(parts) != 3:
        raise _bad(
            "The KSeF token does not have the form <reference>|nip-<NIP>|<secret>.",
            "Token KSeF nie ma postaci <numer referencyjny>|nip-<NIP>|<sekret>.",
            "token_shape",
        )
    reference, context, secret = parts
    if not _REF_RE.match(reference):
        raise _bad(
            "The first part of the KSeF token is not a KSeF reference number.",
            "Pierwsza część tokena KSeF nie jest numerem referencyjnym KSeF.",
            "token_shape",
        )
    match = _CTX_RE.match(context)
    if not match or (match.group(1) == "internalId") != bool(match.group(3)):
        raise _bad(
            "The middle part of the KSeF token must be 'nip-<10 digits>' or 'internalId-<NIP>-<5 digits>'.",
            "Środkowa część tokena KSeF musi mieć postać 'nip-<10 cyfr>' lub 'internalId-<NIP>-<5 cyfr>'.",
            "token_shape",
        )
    if not _SECRET_RE.match(secret):
        raise _bad(
            "The last part of the KSeF token must be 64 hexadecimal characters.",
            "Ostatnia część tokena KSeF musi mieć 64 znaki szesnastkowe.",
            "token_shape",
        )
    nip = match.group(2)
    if not nip_checksum_ok(nip):
        raise _bad(
            "The NIP inside the KSeF token has a wrong check digit.",
            "NIP zapisany w tokenie KSeF ma błędną cyfrę kontrolną.",
            "token_shape",
        )
    if match.group(1) == "nip":
        info = KsefTokenInfo(reference, "Nip", nip, nip)
    else:
        info = KsefTokenInfo(reference, "InternalId", "%s-%s" % (nip, match.group(3)), nip)
    if context_nip and nip != context_nip:
        raise CredentialError(
            "The KSeF token was generated for NIP %s, but the company's NIP is %s: generate a token in the "
            "company's context or correct the company's NIP." % (nip, context_nip),
            "Token KSeF wygenerowano dla NIP %s, a NIP firmy to %s: wygeneruj token w kontekście firmy lub "
            "popraw NIP firmy." % (nip, context_nip),
            code="token_nip_mismatch",
            details={"token_nip": nip, "context_nip": context_nip},
        )
    return info


def jwt_claims(token):
    """Decoded payload of a JWT, or ``{}`` when ``token`` is not a readable JWT."""
    parts = (token or "").split(".")
    if len(parts) != 3:
        return {}
    try:
        claims = json.loads(b64url_decode(parts[1]).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return {}
    return claims if isinstance(claims, dict) else {}


def _claim_list(value):
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                return []
        else:
            return [v.strip().strip('"') for v in text.split(",") if v.strip()]
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if v]
    return []


def jwt_permissions(token):
    """Permissions carried by a KSeF access token, or ``None`` if the token says nothing.

    KSeF puts them in ``per`` (granted), ``pep`` (effective) and ``pec`` (excluded).
    """
    claims = jwt_claims(token)
    if not claims or not any(k in claims for k in ("per", "pep", "permissions")):
        return None
    if "pep" in claims:
        perms = set(_claim_list(claims.get("pep")))
    else:
        perms = set(_claim_list(claims.get("per"))) | set(_claim_list(claims.get("permissions")))
    return perms - set(_claim_list(claims.get("pec")))


def parse_datetime(value):
    """ISO-8601 text from KSeF → aware UTC ``datetime`` (``None`` stays ``None``)."""
    if value is None or isinstance(value, datetime.datetime):
        return value
    text = str(value).strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    # Python 3.10 fromisoformat accepts only 3 or 6 fraction digits.
    match = re.match(r"^(.*T\d\d:\d\d:\d\d)(\.\d+)?(.*)$", text)
    if match:
        frac = (match.group(2) or "")[:7]
        if frac:
            frac = frac.ljust(7, "0")
        text = match.group(1) + frac + match.group(3)
    result = datetime.datetime.fromisoformat(text)
    if result.tzinfo is None:
        result = result.replace(tzinfo=datetime.timezone.utc)
    return result.astimezone(datetime.timezone.utc)


def format_datetime(value):
    if value is None:
        return None
    return value.astimezone(datetime.timezone.utc).isoformat().replace("+00:00", "Z")


class TokenState:
    """Access and refresh tokens of one authenticated context, with expiry.

    ``to_dict()`` contains the tokens themselves: the caller stores it like a
    password.  ``repr`` never shows them.
    """

    FIELDS = (
        "access_token",
        "access_valid_until",
        "refresh_token",
        "refresh_valid_until",
        "context",
        "method",
    )

    def __init__(
        self,
        access_token=None,
        access_valid_until=None,
        refresh_token=None,
        refresh_valid_until=None,
        context=None,
        method=None,
    ):
        self.access_token = access_token
        self.access_valid_until = parse_datetime(access_valid_until)
        self.refresh_token = refresh_token
        self.refresh_valid_until = parse_datetime(refresh_valid_until)
        self.context = context  # e.g. "Nip:5265877635"
        self.method = method  # "token" or "certificate"

    def access_valid(self, now, margin=0):
        return bool(
            self.access_token
            and self.access_valid_until
            and self.access_valid_until - datetime.timedelta(seconds=margin) > now
        )

    def refresh_valid(self, now, margin=0):
        return bool(
            self.refresh_token
            and self.refresh_valid_until
            and self.refresh_valid_until - datetime.timedelta(seconds=margin) > now
        )

    def permissions(self):
        """Permissions in the access token's claims (``None`` when not a readable JWT)."""
        return jwt_permissions(self.access_token)

    def to_dict(self):
        return {
            "access_token": self.access_token,
            "access_valid_until": format_datetime(self.access_valid_until),
            "refresh_token": self.refresh_token,
            "refresh_valid_until": format_datetime(self.refresh_valid_until),
            "context": self.context,
            "method": self.method,
        }

    @classmethod
    def from_dict(cls, data):
        data = data or {}
        return cls(**{k: data.get(k) for k in cls.FIELDS})

    def __eq__(self, other):
        return isinstance(other, TokenState) and self.to_dict() == other.to_dict()

    __hash__ = None

    def __repr__(self):
        return "TokenState(context=%s, access_valid_until=%s, refresh_valid_until=%s)" % (
            self.context,
            format_datetime(self.access_valid_until),
            format_datetime(self.refresh_valid_until),
        )
