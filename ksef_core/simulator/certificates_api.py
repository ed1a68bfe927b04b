"""Routes of the KSeF certificates (API 2.6/2.7 ``/certificates/*`` and ``PUT /testdata/certificates/{serial}``).

The store and the rules are in ``certificates.py``. Enrolment data and enrolment need a XAdES login (a token
session gets 400/25001 and 400/25002, the contract's words); revocation too (403 ``auth-method-not-allowed``,
as the contract says it is "not available for a subject authenticated with a KSeF token"). Limits, status,
retrieve and query work for any session of the identity.
"""

import binascii
import re

from ..hashing import b64, b64decode
from .certificates import enrollment_data_for
from .clock import iso, parse_iso
from .errors import ApiError, Forbidden, bad_request, validation_error
from .routing import empty, json_response, route

SERIAL_RE = re.compile(r"^[0-9A-F]{16}$")
NAME_RE = re.compile(r"^[a-zA-Z0-9_\- ąćęłńóśźżĄĆĘŁŃÓŚŹŻ]+$")
TYPES = ("Authentication", "Offline")
STATUSES = ("Active", "Blocked", "Revoked", "Expired")
REASONS = ("Unspecified", "Superseded", "KeyCompromise")


def _identity(ctx):
    subject = ctx.principal.subject
    if not subject:
        raise bad_request(25001, "Brak możliwości pobrania danych do CSR dla wykorzystanego sposobu uwierzytelnienia.")
    return subject


def _signer(sim, ctx, code, description):
    """The XAdES signer of the session (its DN), or 400 ``code`` for any other sign-in method."""
    op = sim.auth.operations.get(ctx.principal.auth_ref) or {}
    if ctx.principal.auth_method != "XadesSignature" or not op.get("certificate"):
        raise bad_request(code, description)
    return op["certificate"]


def _object(ctx):
    body = ctx.json
    if body is None:  # "null" as the body of an optional filter
        return {}
    if not isinstance(body, dict):
        raise validation_error("Treść żądania musi być obiektem JSON.")
    return body


def _date(body, name):
    value = body.get(name)
    if value in (None, ""):
        return None
    try:
        return parse_iso(str(value))
    except (ValueError, TypeError):
        raise validation_error("%s: nieprawidłowa data (ISO 8601)." % name) from None


@route("GET", "/certificates/limits")
def certificate_limits(sim, ctx):
    identity = _identity(ctx)
    sim.certificates.process_ready(identity)
    max_requests, max_active = sim.certificates.limits_for(identity)
    requests, active = sim.certificates.usage(identity)
    remaining_requests, remaining_active = max(0, max_requests - requests), max(0, max_active - active)
    xades = ctx.principal.auth_method == "XadesSignature"
    return json_response(
        {
            "canRequest": bool(xades and remaining_requests and remaining_active),
            "enrollment": {"remaining": remaining_requests, "limit": max_requests},
            "certificate": {"remaining": remaining_active, "limit": max_active},
        }
    )


@route("GET", "/certificates/enrollments/data")
def enrollment_data(sim, ctx):
    signer = _signer(
        sim, ctx, 25001, "Brak możliwości pobrania danych do CSR dla wykorzystanego sposobu uwierzytelnienia."
    )
    return json_response(enrollment_data_for(signer))


@route("POST", "/certificates/enrollments")
def enroll(sim, ctx):
    signer = _signer(
        sim,
        ctx,
        25002,
        "Brak możliwości złożenia wniosku certyfikacyjnego dla wykorzystanego sposobu uwierzytelnienia.",
    )
    body = _object(ctx)
    name = body.get("certificateName")
    if not isinstance(name, str) or not 5 <= len(name) <= 100 or not NAME_RE.match(name):
        raise validation_error("certificateName: 5–100 znaków (litery, cyfry, spacja, _ i -).")
    if body.get("certificateType") not in TYPES:
        raise validation_error("certificateType: Authentication lub Offline.")
    try:
        csr = b64decode(str(body.get("csr") or ""))
    except (binascii.Error, ValueError):
        raise validation_error("csr: wymagany ciąg Base64 (PKCS#10 DER).") from None
    if not csr:
        raise validation_error("csr: wymagany ciąg Base64 (PKCS#10 DER).")
    valid_from = _date(body, "validFrom")
    record = sim.certificates.enroll(_identity(ctx), signer, name, body["certificateType"], csr, valid_from)
    return json_response({"referenceNumber": record["referenceNumber"], "timestamp": iso(record["requestDate"])}, 202)


@route("GET", "/certificates/enrollments/{referenceNumber}")
def enrollment_status(sim, ctx):
    record = sim.certificates.enrollment(_identity(ctx), ctx.param("referenceNumber"))
    body = {"requestDate": iso(record["requestDate"]), "status": dict(record["status"])}
    if record["serial"]:
        body["certificateSerialNumber"] = record["serial"]
    return json_response(body)


@route("POST", "/certificates/retrieve")
def retrieve(sim, ctx):
    body = _object(ctx)
    serials = body.get("certificateSerialNumbers")
    if not isinstance(serials, list) or not 1 <= len(serials) <= 10:
        raise validation_error("certificateSerialNumbers: od 1 do 10 numerów seryjnych.")
    if any(not isinstance(s, str) or not SERIAL_RE.match(s) for s in serials):
        raise validation_error("certificateSerialNumbers: numer seryjny to 16 wielkich cyfr szesnastkowych.")
    identity = _identity(ctx)
    sim.certificates.process_ready(identity)
    owner = "%s:%s" % (identity["type"], identity["value"])
    out = []
    for serial in dict.fromkeys(serials):
        record = sim.certificates.certs.get(serial)
        if record is not None and record["owner"] == owner:
            out.append(
                {
                    "certificate": b64(record["der"]),
                    "certificateName": record["name"],
                    "certificateSerialNumber": serial,
                    "certificateType": record["type"],
                }
            )
    return json_response({"certificates": out})


@route("POST", "/certificates/query")
def query(sim, ctx):
    body = _object(ctx)
    try:
        page_size = int(ctx.args.get("pageSize") or 10)
        page = int(ctx.args.get("pageOffset") or 0)
    except ValueError:
        raise validation_error("pageSize i pageOffset muszą być liczbami całkowitymi.") from None
    if not 10 <= page_size <= 50 or page < 0:
        raise validation_error("pageSize: 10–50; pageOffset: od 0.")
    serial, name = body.get("certificateSerialNumber"), body.get("name")
    ctype, status = body.get("type"), body.get("status")
    if serial is not None and (not isinstance(serial, str) or not SERIAL_RE.match(serial)):
        raise validation_error("certificateSerialNumber: 16 wielkich cyfr szesnastkowych.")
    if ctype is not None and ctype not in TYPES:
        raise validation_error("type: Authentication lub Offline.")
    if status is not None and status not in STATUSES:
        raise validation_error("status: Active, Blocked, Revoked lub Expired.")
    expires_after = _date(body, "expiresAfter")
    identity = _identity(ctx)
    store = sim.certificates
    store.process_ready(identity)
    owner = "%s:%s" % (identity["type"], identity["value"])
    items = [
        r
        for r in store.certs.values()
        if r["owner"] == owner
        and (serial is None or r["serial"] == serial)
        and (not name or str(name).lower() in r["name"].lower())
        and (ctype is None or r["type"] == ctype)
        and (status is None or store.status_of(r) == status)
        and (expires_after is None or r["validTo"] > expires_after)
    ]
    items.sort(key=lambda r: (r["requestDate"], r["serial"]), reverse=True)
    start = page * page_size
    chunk = items[start : start + page_size]
    return json_response(
        {"certificates": [store.list_item(r) for r in chunk], "hasMore": start + page_size < len(items)}
    )


@route("POST", "/certificates/{certificateSerialNumber}/revoke")
def revoke(sim, ctx):
    if ctx.principal.auth_method == "Token":
        raise Forbidden(
            "auth-method-not-allowed",
            "Ta operacja nie jest dostępna dla użytej metody uwierzytelnienia.",
            {"authenticationMethodCategory": "Token"},
        )
    serial = ctx.param("certificateSerialNumber")
    if not SERIAL_RE.match(serial or ""):
        raise validation_error("certificateSerialNumber: 16 wielkich cyfr szesnastkowych.")
    body = _object(ctx)
    reason = body.get("revocationReason") or "Unspecified"
    if reason not in REASONS:
        raise validation_error("revocationReason: Unspecified, Superseded lub KeyCompromise.")
    sim.certificates.revoke(serial, reason, identity=_identity(ctx))
    return empty(204)


@route("PUT", "/testdata/certificates/{serialNumber}")
def testdata_update_certificate(sim, ctx):
    serial = ctx.param("serialNumber")
    if not SERIAL_RE.match(serial or ""):
        raise validation_error("serialNumber: 16 wielkich cyfr szesnastkowych.")
    valid_to = _date(_object(ctx), "validTo")
    if valid_to is None:
        raise validation_error("validTo: wymagana data.")
    if valid_to > sim.clock.now():
        raise validation_error("validTo nie może być późniejsza niż obecna data.")
    sim.certificates.owned(_identity(ctx), serial)
    sim.certificates.expire(serial, valid_to)
    return empty(200)


# -- admin API (/_sim, no auth): drive certificates from another process (Odoo tests, demo) ---------------------


def _admin(method, path):
    return route(method, path, auth="none", rate_group=None, prefix="/_sim")


def _admin_record(sim, ctx):
    record = sim.certificates.certs.get(ctx.param("serial"))
    if record is None:
        raise ApiError(404, None, "unknown certificate")
    return record


@_admin("GET", "/certificates")
def admin_certificates(sim, ctx):
    """Every KSeF certificate of the simulator (the CA certificate as ``caCertificate``)."""
    store = sim.certificates
    items = sorted(store.certs.values(), key=lambda r: r["requestDate"], reverse=True)
    return json_response(
        {"caCertificate": b64(store.ca.certificate_der), "certificates": [store.list_item(r) for r in items]}
    )


@_admin("POST", "/certificates/{serial}/revoke")
def admin_revoke(sim, ctx):
    _admin_record(sim, ctx)
    body = ctx.json if isinstance(ctx.json, dict) else {}
    sim.certificates.revoke(ctx.param("serial"), body.get("revocationReason") or "Unspecified")
    return empty(204)


@_admin("POST", "/certificates/{serial}/expire")
def admin_expire(sim, ctx):
    _admin_record(sim, ctx)
    body = ctx.json if isinstance(ctx.json, dict) else {}
    sim.certificates.expire(ctx.param("serial"), _date(body, "validTo"))
    return empty(204)


@_admin("POST", "/certificates/config")
def admin_config(sim, ctx):
    """``{pendingPolls?, processingSeconds?, limits?: {"Nip": [requests, active], ...}}`` → current values."""
    store = sim.certificates
    body = _object(ctx)
    if body.get("pendingPolls") is not None:
        store.pending_polls = int(body["pendingPolls"])
    if body.get("processingSeconds") is not None:
        store.processing_seconds = float(body["processingSeconds"])
    for kind, pair in (body.get("limits") or {}).items():
        if kind not in store.limits or not isinstance(pair, list) or len(pair) != 2:
            raise validation_error("limits: {Nip|Pesel|Fingerprint: [requests, active]}")
        store.limits[kind] = (int(pair[0]), int(pair[1]))
    return json_response(
        {
            "pendingPolls": store.pending_polls,
            "processingSeconds": store.processing_seconds,
            "limits": {k: list(v) for k, v in store.limits.items()},
        }
    )
