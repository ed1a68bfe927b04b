"""KSeF tokens: minting (control API and ``POST /tokens``), lookup, revocation, listing.

Token string: ``<referenceNumber>|nip-<NIP>|<64 hex>`` (or ``|internalId-<id>|``); only its
SHA-256 is stored. New tokens are ``Active`` at once (the real service passes through ``Pending``).
"""

import hashlib
import re
import secrets

from ..nip import normalize_nip
from .clock import iso
from .errors import ApiError, Forbidden, validation_error
from .permissions import ALL_PERMISSIONS, check_permission_names
from .refs import new_reference
from .routing import empty, json_response, route

_CTX_PREFIX = {"nip": "Nip", "internalid": "InternalId"}
_TOKEN_RE = re.compile(
    r"^(?P<ref>[0-9A-Z-]{20,40})\|(?P<ctype>nip|internalId)-(?P<cval>[0-9A-Za-z-]+)\|(?P<secret>[0-9a-f]{64})$"
)


def _hash(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenStore:
    """``sim.tokens``."""

    def __init__(self, sim):
        self.sim = sim
        self.data = sim.state.bucket("ksef_tokens")  # reference -> record

    def mint(
        self,
        context_value,
        permissions=("InvoiceWrite", "InvoiceRead"),
        description="Simulator token",
        context_type="nip",
        author=None,
    ):
        """Create an active token; returns the token string (shown once)."""
        ctype = _CTX_PREFIX.get(str(context_type).lower())
        if ctype is None:
            raise ValueError("context_type must be 'nip' or 'internalId'")
        value = normalize_nip(context_value) if ctype == "Nip" else str(context_value)
        if ctype == "Nip" and not re.fullmatch(r"\d{10}", value):
            raise ValueError("the token context NIP must have 10 digits")
        permissions = check_permission_names(permissions)
        ref = new_reference(self.sim.clock, "EC")
        token = "%s|%s-%s|%s" % (ref, "nip" if ctype == "Nip" else "internalId", value, secrets.token_hex(32))
        record = {
            "referenceNumber": ref,
            "tokenHash": _hash(token),
            "contextType": ctype,
            "contextValue": value,
            "permissions": list(permissions),
            "description": description,
            "status": "Active",
            "dateCreated": self.sim.clock.now(),
            "lastUseDate": None,
            "author": author or {"type": "Nip", "value": value if ctype == "Nip" else value[:10]},
        }
        with self.sim.state.lock:
            self.data[ref] = record
            self.sim.state.mark_dirty()
        return token

    def find(self, token_or_ref):
        """Record for a token string or reference number (None if unknown)."""
        text = str(token_or_ref or "").strip()
        ref = text.split("|", 1)[0]
        record = self.data.get(ref)
        if record is None:
            return None
        if "|" in text and record["tokenHash"] != _hash(text):
            return None
        return record

    def verify(self, token):
        """(record, None) for a usable token, else (record_or_None, reason_text)."""
        match = _TOKEN_RE.match(token or "")
        if not match:
            return None, "Nieprawidłowy token."
        record = self.data.get(match.group("ref"))
        if record is None or record["tokenHash"] != _hash(token):
            return None, "Nieprawidłowy token."
        if record["status"] in ("Revoked", "Revoking"):
            return record, "Token unieważniony."
        if record["status"] != "Active":
            return record, "Token nieaktywny."
        return record, None

    def revoke(self, token_or_ref):
        """Revoke a token; refresh tokens issued from it stop working. Returns False if unknown."""
        with self.sim.state.lock:
            record = self.find(token_or_ref)
            if record is None:
                return False
            record["status"] = "Revoked"
            self.sim.auth.revoke_by_token_ref(record["referenceNumber"])
            self.sim.state.mark_dirty()
            return True

    def public(self, record):
        return {
            "referenceNumber": record["referenceNumber"],
            "authorIdentifier": dict(record["author"]),
            "contextIdentifier": {"type": record["contextType"], "value": record["contextValue"]},
            "description": record["description"],
            "requestedPermissions": list(record["permissions"]),
            "dateCreated": iso(record["dateCreated"]),
            "lastUseDate": iso(record["lastUseDate"]) if record.get("lastUseDate") else None,
            "status": record["status"],
            "statusDetails": [],
        }


def _own_record(sim, ctx):
    record = sim.tokens.data.get(ctx.param("referenceNumber"))
    p = ctx.principal
    if record is None or (record["contextType"], record["contextValue"]) != (p.context_type, p.context_value):
        raise ApiError(400, 21405, "Błąd walidacji danych wejściowych.", ["Token o podanym numerze nie istnieje."])
    return record


@route("POST", "/tokens")
def generate_token(sim, ctx):
    p = ctx.principal
    body = ctx.json
    if not isinstance(body, dict):
        raise validation_error("Treść żądania musi być obiektem JSON.")
    perms = body.get("permissions")
    description = body.get("description")
    if not isinstance(perms, list) or not perms or any(x not in ALL_PERMISSIONS for x in perms):
        raise validation_error("permissions: wymagana niepusta lista wartości TokenPermissionType.")
    if not isinstance(description, str) or not 5 <= len(description) <= 256:
        raise validation_error("description: wymagany tekst o długości 5–256 znaków.")
    if p.context_type not in ("Nip", "InternalId"):
        raise ApiError(
            400,
            26002,
            "Nie można wygenerować tokena dla bieżącego typu kontekstu.",
            ["Tokeny można generować tylko w kontekście Nip lub InternalId."],
        )
    if p.auth_method == "Token":
        raise Forbidden(
            "auth-method-not-allowed",
            "Ta operacja nie jest dostępna dla użytej metody uwierzytelnienia.",
            {"authenticationMethodCategory": "Token"},
        )
    missing = [x for x in perms if x not in p.permissions]
    if missing:
        raise ApiError(
            400,
            26001,
            "Nie można nadać tokenowi uprawnień, których nie posiadasz.",
            ["Brakujące uprawnienia: %s" % ", ".join(missing)],
        )
    token = sim.tokens.mint(
        p.context_value,
        perms,
        description,
        "nip" if p.context_type == "Nip" else "internalId",
        author=p.subject,
    )
    return json_response({"referenceNumber": token.split("|", 1)[0], "token": token}, status=202)


@route("GET", "/tokens")
def list_tokens(sim, ctx):
    p = ctx.principal
    statuses = set(ctx.args.getlist("status"))
    desc = (ctx.args.get("description") or "").lower()
    try:
        page_size = int(ctx.args.get("pageSize") or 10)
        start = int(ctx.headers.get("x-continuation-token") or 0)
    except ValueError:
        raise ApiError(400, 21418, "Nieprawidłowy token kontynuacji.", ["x-continuation-token/pageSize"])
    if not 10 <= page_size <= 100:
        raise validation_error("pageSize musi mieścić się w zakresie 10–100.")
    items = [
        r
        for r in sorted(sim.tokens.data.values(), key=lambda r: r["dateCreated"], reverse=True)
        if (r["contextType"], r["contextValue"]) == (p.context_type, p.context_value)
        and (not statuses or r["status"] in statuses)
        and (not desc or desc in r["description"].lower())
    ]
    page = items[start : start + page_size]
    cont = str(start + page_size) if start + page_size < len(items) else None
    return json_response({"continuationToken": cont, "tokens": [sim.tokens.public(r) for r in page]})


@route("GET", "/tokens/{referenceNumber}")
def get_token(sim, ctx):
    return json_response(sim.tokens.public(_own_record(sim, ctx)))


@route("DELETE", "/tokens/{referenceNumber}")
def revoke_token(sim, ctx):
    record = _own_record(sim, ctx)
    sim.tokens.revoke(record["referenceNumber"])
    return empty(204)
