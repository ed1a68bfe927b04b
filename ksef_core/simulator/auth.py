"""Authentication: challenge, KSeF-token login, status polling, redeem, refresh, auth sessions.

Bearer tokens are JWT-like strings (HS256 with a per-simulator secret); only their SHA-256 is
stored with the record (kind operation/access/refresh, expiry, context, permissions).
The XAdES login lives in ``auth_xades.py`` and uses :meth:`AuthStore.start_operation`.
"""

import datetime as dt
import hashlib
import hmac
import json
import re
import secrets

from ..crypto import rsa_oaep_decrypt
from ..hashing import b64decode, b64url
from ..nip import normalize_nip
from .clock import iso
from .errors import ApiError, Unauthorized, bad_request, validation_error
from .refs import new_reference
from .routing import Principal, empty, json_response, route
from .token_end import tokens_refused

CHALLENGE_RE = re.compile(r"^\d{8}-CR-[A-F0-9]{10}-[A-F0-9]{10}-[A-F0-9]{2}$")
CONTEXT_TYPES = ("Nip", "InternalId", "NipVatUe", "PeppolId")
STATUS_TEXT = {
    100: "Uwierzytelnianie w toku",
    200: "Uwierzytelnianie zakończone sukcesem",
    415: "Uwierzytelnianie zakończone niepowodzeniem",
    425: "Uwierzytelnienie unieważnione",
    450: "Uwierzytelnianie zakończone niepowodzeniem z powodu błędnego tokenu",
    460: "Uwierzytelnianie zakończone niepowodzeniem z powodu błędu certyfikatu",
    470: "Uwierzytelnianie zakończone niepowodzeniem",
    480: "Uwierzytelnienie zablokowane",
    500: "Nieznany błąd",
    550: "Operacja została anulowana przez system",
}
METHODS = {
    "Token": ({"category": "Token", "code": "token", "displayName": "Token KSeF"}, "Token"),
    "XadesSignature": (
        {
            "category": "XadesSignature",
            "code": "xades.certificate",
            "displayName": "Podpis XAdES (certyfikat)",
        },
        "QualifiedSignature",
    ),
}


def _b64url_json(obj):
    return b64url(json.dumps(obj, separators=(",", ":")).encode("utf-8"))


def _hash(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _bad_challenge():
    return bad_request(21111, "Nieprawidłowe wyzwanie autoryzacyjne.")


class AuthStore:
    """``sim.auth``: challenges, authentication operations and bearer tokens.

    Lifetimes (seconds, changeable at run time): ``challenge_ttl`` 600, ``operation_ttl`` 2700,
    ``access_ttl`` 900, ``refresh_ttl`` 604800. ``pending_polls`` = how many status polls answer
    100 before the final status (default 0).
    """

    def __init__(self, sim):
        self.sim = sim
        self.challenges = sim.state.bucket("challenges")
        self.operations = sim.state.bucket("auth_ops")
        self.bearers = sim.state.bucket("bearer")
        meta = sim.state.bucket("auth_meta")
        meta.setdefault("secret", secrets.token_bytes(32))
        self._secret = meta["secret"]
        self.challenge_ttl = 600
        self.operation_ttl = 2700
        self.access_ttl = 900
        self.refresh_ttl = 7 * 24 * 3600
        self.pending_polls = 0
        self.tokens_end = None  # the "tokens ended" switch (token_end.py)
        self._prune_at = 10000

    def _prune(self, now):
        """Forget bearer tokens expired for more than a day (keeps memory and snapshots small)."""
        with self.sim.state.lock:
            for key in [k for k, r in self.bearers.items() if r["exp"] < now - 86400]:
                del self.bearers[key]
            self._prune_at = max(10000, 2 * len(self.bearers))

    # -- challenges -----------------------------------------------------------------------------
    def new_challenge(self, client_ip):
        now = self.sim.clock.timestamp()
        challenge = new_reference(self.sim.clock, "CR")
        with self.sim.state.lock:
            if len(self.challenges) > 1000:
                for key in [k for k, v in self.challenges.items() if v["ts"] < now - self.challenge_ttl]:
                    del self.challenges[key]
            self.challenges[challenge] = {"ts": now, "ms": int(now * 1000), "ip": client_ip, "used": False}
        return challenge, now

    def consume_challenge(self, challenge):
        """The challenge record; 400/21111 if it was never issued; ``problem`` text if expired/reused."""
        if not isinstance(challenge, str) or not CHALLENGE_RE.match(challenge):
            raise _bad_challenge()
        record = self.challenges.get(challenge)
        if record is None:
            raise _bad_challenge()
        problem = None
        if record["used"] or self.sim.clock.timestamp() - record["ts"] > self.challenge_ttl:
            problem = "Nieprawidłowe wyzwanie autoryzacyjne."
        record["used"] = True
        return record, problem

    # -- bearer tokens --------------------------------------------------------------------------
    def _issue(self, kind, auth_ref, ttl, extra=None):
        now = self.sim.clock.timestamp()
        exp = now + ttl
        jti = secrets.token_hex(16)
        header = _b64url_json({"alg": "HS256", "typ": "JWT"})
        payload = _b64url_json(
            {
                "typ": kind,
                "jti": jti,
                "ref": auth_ref,
                "iat": int(now),
                "exp": int(exp),
                "iss": "ksef-simulator",
            }
        )
        signing = "%s.%s" % (header, payload)
        sig = b64url(hmac.new(self._secret, signing.encode("ascii"), hashlib.sha256).digest())
        token = "%s.%s" % (signing, sig)
        record = {"kind": kind, "ref": auth_ref, "exp": exp, "jti": jti, "revoked": False}
        record.update(extra or {})
        if len(self.bearers) >= self._prune_at:
            self._prune(now)
        self.bearers[_hash(token)] = record
        return token, dt.datetime.fromtimestamp(exp, dt.timezone.utc)

    def authenticate(self, header, mode):
        """(Principal, record) for an ``Authorization: Bearer`` header of the given kind, else 401."""
        kind = {"access": "access", "operation": "operation", "refresh": "refresh"}[mode]
        if not header or not header[:7].lower() == "bearer ":
            raise Unauthorized("Brak tokena uwierzytelniającego (nagłówek Authorization: Bearer).")
        record = self.bearers.get(_hash(header[7:].strip()))
        if record is None or record["kind"] != kind:
            raise Unauthorized("Nieprawidłowy token uwierzytelniający.")
        if record["revoked"]:
            raise Unauthorized("Token został unieważniony.")
        if self.sim.clock.timestamp() >= record["exp"]:
            raise Unauthorized("Token wygasł.")
        op = self.operations.get(record["ref"], {})
        principal = Principal(
            context_type=record.get("contextType") or op.get("contextType"),
            context_value=record.get("contextValue") or op.get("contextValue"),
            permissions=record.get("permissions", ()),
            auth_method=op.get("method"),
            token_id=record["jti"],
            auth_ref=record["ref"],
            subject=op.get("subject"),
            allowed_ips=record.get("allowedIps") if kind == "access" else None,
            token_ref=op.get("tokenRef"),
        )
        return principal, record

    def invalidate_access_tokens(self, context_value=None):
        """Fault helper: make existing access tokens (of one context, or all) answer 401."""
        with self.sim.state.lock:
            count = 0
            for record in self.bearers.values():
                if record["kind"] == "access" and context_value in (None, record.get("contextValue")):
                    record["revoked"] = True
                    count += 1
            self.sim.state.mark_dirty()
            return count

    def expire_all_tokens(self):
        """Fault helper: every access/refresh/operation token expires now."""
        now = self.sim.clock.timestamp()
        with self.sim.state.lock:
            for record in self.bearers.values():
                record["exp"] = min(record["exp"], now)
            self.sim.state.mark_dirty()

    def revoke_by_token_ref(self, token_ref):
        """A KSeF token was revoked: refresh tokens of its authentications stop working."""
        refs = {r for r, op in self.operations.items() if op.get("tokenRef") == token_ref}
        for record in self.bearers.values():
            if record["kind"] == "refresh" and record["ref"] in refs:
                record["revoked"] = True

    def revoke_operation(self, auth_ref):
        """Revoke an authentication session (status 425; its refresh tokens die, access tokens live)."""
        op = self.operations.get(auth_ref)
        if op is None:
            return False
        op["revoked"] = True
        op["status"] = self.status(425, ["Uwierzytelnienie i powiązane refresh tokeny zostały unieważnione."])
        for record in self.bearers.values():
            if record["ref"] == auth_ref and record["kind"] == "refresh":
                record["revoked"] = True
        return True

    # -- operations -----------------------------------------------------------------------------
    @staticmethod
    def status(code, details=None):
        return {"code": code, "description": STATUS_TEXT[code], "details": list(details or [])}

    def start_operation(
        self,
        method,
        context,
        subject,
        permissions,
        status_code,
        details=None,
        allowed_ips=None,
        token_ref=None,
        extra=None,
    ):
        """Record a finished authentication; returns the 202 body (referenceNumber, authenticationToken).

        ``extra``: more fields kept with the operation (XAdES: ``certificate``, the signer's DN attributes)."""
        ref = new_reference(self.sim.clock, "AU")
        op = {
            "referenceNumber": ref,
            "startDate": self.sim.clock.now(),
            "method": method,
            "contextType": context["type"],
            "contextValue": context["value"],
            "subject": subject,
            "permissions": sorted(permissions or ()),
            "status": self.status(status_code, details),
            "allowedIps": allowed_ips,
            "tokenRef": token_ref,
            "redeemed": False,
            "revoked": False,
            "refreshValidUntil": None,
            "lastTokenRefreshDate": None,
            "polls": 0,
        }
        op.update(extra or {})
        self.operations[ref] = op
        token, valid_until = self._issue("operation", ref, self.operation_ttl)
        return {
            "referenceNumber": ref,
            "authenticationToken": {"token": token, "validUntil": iso(valid_until)},
        }

    def current_permissions(self, op):
        """Permissions an access token gets now (token auth: token ∩ live token; XAdES: live grants)."""
        if op["method"] == "Token":
            record = self.sim.tokens.data.get(op.get("tokenRef"))
            if record is None or record["status"] != "Active":
                return None
            return sorted(record["permissions"])
        perms = self.sim.permissions.effective(op["contextType"], op["contextValue"], [op.get("subject")])
        return sorted(perms)

    def issue_access(self, op):
        perms = self.current_permissions(op)
        if perms is None:
            raise bad_request(21301, "Brak autoryzacji.", ["Token KSeF został unieważniony."])
        return self._issue(
            "access",
            op["referenceNumber"],
            self.access_ttl,
            {
                "contextType": op["contextType"],
                "contextValue": op["contextValue"],
                "permissions": perms,
                "allowedIps": op.get("allowedIps"),
            },
        )

    def operation_body(self, op, current_ref=None):
        info, legacy = METHODS[op["method"]]
        body = {
            "startDate": iso(op["startDate"]),
            "authenticationMethod": legacy,
            "authenticationMethodInfo": dict(info),
            "status": dict(op["status"]),
            "isTokenRedeemed": op["redeemed"],
            "lastTokenRefreshDate": iso(op["lastTokenRefreshDate"]) if op["lastTokenRefreshDate"] else None,
            "refreshTokenValidUntil": iso(op["refreshValidUntil"]) if op["refreshValidUntil"] else None,
        }
        if current_ref is not None:
            body["referenceNumber"] = op["referenceNumber"]
            body["isCurrent"] = op["referenceNumber"] == current_ref
        return body


def parse_context(value):
    if not isinstance(value, dict) or value.get("type") not in CONTEXT_TYPES or not value.get("value"):
        raise validation_error("contextIdentifier: wymagane pola type (Nip|InternalId|NipVatUe|PeppolId) i value.")
    ctx = {"type": value["type"], "value": str(value["value"]).strip()}
    if ctx["type"] == "Nip":
        ctx["value"] = normalize_nip(ctx["value"])
        if not re.fullmatch(r"\d{10}", ctx["value"]):
            raise validation_error("contextIdentifier.value: NIP musi mieć 10 cyfr.")
    return ctx


def parse_policy(value):
    """AuthorizationPolicy → allowedIps dict (None when absent or empty)."""
    if not value:
        return None
    if not isinstance(value, dict):
        raise validation_error("authorizationPolicy musi być obiektem.")
    ips = value.get("allowedIps") or {}
    policy = {k: list(ips.get(k) or []) for k in ("ip4Addresses", "ip4Ranges", "ip4Masks")}
    if any(len(v) > 10 for v in policy.values()):
        raise validation_error("authorizationPolicy.allowedIps: maksymalnie 10 pozycji na listę.")
    return policy if any(policy.values()) else None


@route("POST", "/auth/challenge", auth="none", rate_group="auth")
def auth_challenge(sim, ctx):
    challenge, ts = sim.auth.new_challenge(ctx.client_ip)
    when = dt.datetime.fromtimestamp(ts, dt.timezone.utc)
    return json_response(
        {
            "challenge": challenge,
            "timestamp": iso(when),
            "timestampMs": int(ts * 1000),
            "clientIp": ctx.client_ip,
        }
    )


@route("POST", "/auth/ksef-token", auth="none", rate_group="auth")
def auth_ksef_token(sim, ctx):
    body = ctx.json
    if not isinstance(body, dict):
        raise validation_error("Treść żądania musi być obiektem JSON.")
    for field in ("challenge", "contextIdentifier", "encryptedToken"):
        if not body.get(field):
            raise validation_error("Brak wymaganego pola %s." % field)
    context = parse_context(body["contextIdentifier"])
    policy = parse_policy(body.get("authorizationPolicy"))
    private_key = sim.keys.resolve(body.get("publicKeyId"), "KsefTokenEncryption")
    challenge, problem = sim.auth.consume_challenge(body["challenge"])
    try:
        encrypted = b64decode(body["encryptedToken"])
    except (ValueError, TypeError):
        raise validation_error("encryptedToken nie jest poprawnym ciągiem Base64.")
    token_ref, subject, perms = None, None, ()
    code, details = 200, []
    try:
        plain = rsa_oaep_decrypt(private_key, encrypted).decode("utf-8")
        token, _, stamp = plain.rpartition("|")
    except Exception:
        token, stamp = "", ""
    record, reason = sim.tokens.verify(token)
    ended = tokens_refused(sim)
    if ended:
        code, details = 450, ended
    elif problem:
        code, details = 450, [problem]
    elif not token:
        code, details = 450, ["Nieprawidłowy token."]
    elif stamp != str(challenge["ms"]):
        code, details = 450, ["Nieprawidłowy czas tokena."]
    elif reason:
        code, details = 450, [reason]
    elif (record["contextType"], record["contextValue"]) != (context["type"], context["value"]):
        code, details = 450, ["Nieprawidłowy token."]
    elif sim.permissions.is_blocked(context["value"], context["type"]):
        code, details = (
            480,
            ["Podejrzenie incydentu bezpieczeństwa. Skontaktuj się z Ministerstwem Finansów."],
        )
    elif not record["permissions"]:
        code, details = 415, ["Brak przypisanych uprawnień."]
    if record is not None and code == 200:
        token_ref, perms = record["referenceNumber"], record["permissions"]
        subject = dict(record["author"])
        record["lastUseDate"] = sim.clock.now()
    result = sim.auth.start_operation("Token", context, subject, perms, code, details, policy, token_ref)
    return json_response(result, status=202)


def _operation(sim, ctx, ref):
    op = sim.auth.operations.get(ref)
    if op is None or ctx.auth_token["ref"] != ref:
        raise bad_request(
            21304,
            "Brak uwierzytelnienia.",
            ["Operacja uwierzytelniania o numerze referencyjnym %s nie została znaleziona." % ref],
        )
    return op


@route("GET", "/auth/{referenceNumber}", auth="operation", rate_group="auth")
def auth_status(sim, ctx):
    op = _operation(sim, ctx, ctx.param("referenceNumber"))
    if sim.clock.now() - op["startDate"] > dt.timedelta(days=7):
        raise ApiError(410, None, "Status operacji uwierzytelniania nie jest już dostępny.")
    body = sim.auth.operation_body(op)
    if op["polls"] < sim.auth.pending_polls:
        op["polls"] += 1
        body["status"] = sim.auth.status(100)
    return json_response(body)


@route("POST", "/auth/token/redeem", auth="operation", rate_group="auth")
def auth_redeem(sim, ctx):
    op = _operation(sim, ctx, ctx.auth_token["ref"])
    if op["redeemed"]:
        raise bad_request(
            21301,
            "Brak autoryzacji.",
            ["Tokeny dla operacji uwierzytelniania %s zostały już pobrane." % op["referenceNumber"]],
        )
    if op["status"]["code"] != 200 or op["polls"] < sim.auth.pending_polls:
        raise bad_request(
            21301,
            "Brak autoryzacji.",
            ["Status uwierzytelniania (%s) nie pozwala na pobranie tokenów." % op["status"]["code"]],
        )
    access, access_until = sim.auth.issue_access(op)
    refresh, refresh_until = sim.auth._issue("refresh", op["referenceNumber"], sim.auth.refresh_ttl)
    op["redeemed"] = True
    op["refreshValidUntil"] = refresh_until
    return json_response(
        {
            "accessToken": {"token": access, "validUntil": iso(access_until)},
            "refreshToken": {"token": refresh, "validUntil": iso(refresh_until)},
        }
    )


@route("POST", "/auth/token/refresh", auth="refresh", rate_group="auth")
def auth_refresh(sim, ctx):
    op = _operation(sim, ctx, ctx.auth_token["ref"])
    if op["revoked"] or op["status"]["code"] != 200:
        raise bad_request(
            21301,
            "Brak autoryzacji.",
            ["Status uwierzytelniania (%s) nie pozwala na odświeżenie tokenu dostępowego." % op["status"]["code"]],
        )
    access, access_until = sim.auth.issue_access(op)
    op["lastTokenRefreshDate"] = sim.clock.now()
    return json_response({"accessToken": {"token": access, "validUntil": iso(access_until)}})


@route("GET", "/auth/sessions")
def auth_sessions(sim, ctx):
    p = ctx.principal
    try:
        page_size = int(ctx.args.get("pageSize") or 10)
        start = int(ctx.headers.get("x-continuation-token") or 0)
    except ValueError:
        raise bad_request(21418, "Przekazany token kontynuacji ma nieprawidłowy format.")
    if not 10 <= page_size <= 100:
        raise validation_error("pageSize musi mieścić się w zakresie 10–100.")
    now = sim.clock.now()
    items = sorted(
        (
            op
            for op in sim.auth.operations.values()
            if (op["contextType"], op["contextValue"]) == (p.context_type, p.context_value)
            and op["redeemed"]
            and not op["revoked"]
            and op["refreshValidUntil"]
            and op["refreshValidUntil"] > now
        ),
        key=lambda op: op["startDate"],
        reverse=True,
    )
    page = items[start : start + page_size]
    cont = str(start + page_size) if start + page_size < len(items) else None
    return json_response({"continuationToken": cont, "items": [sim.auth.operation_body(op, p.auth_ref) for op in page]})


@route("DELETE", "/auth/sessions/current")
def auth_session_delete_current(sim, ctx):
    sim.auth.revoke_operation(ctx.principal.auth_ref)
    return empty(204)


@route("DELETE", "/auth/sessions/{referenceNumber}")
def auth_session_delete(sim, ctx):
    p = ctx.principal
    op = sim.auth.operations.get(ctx.param("referenceNumber"))
    if op is None or (op["contextType"], op["contextValue"]) != (p.context_type, p.context_value):
        raise bad_request(21304, "Brak uwierzytelnienia.", ["Sesja uwierzytelnienia nie została znaleziona."])
    sim.auth.revoke_operation(op["referenceNumber"])
    return empty(204)
