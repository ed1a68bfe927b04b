"""Admin HTTP API under ``/_sim`` (no auth: bind the simulator to localhost) – drives the simulator
from another process (demo, Odoo tests). Every endpoint takes/returns JSON; see README.md."""

import base64
import binascii

from ..errors import InputError
from .clock import iso
from .errors import ApiError, validation_error
from .latarnia import parse_status
from .routing import empty, json_response, route


def _admin(method, path):
    return route(method, path, auth="none", rate_group=None, prefix="/_sim")


def _body(ctx):
    body = ctx.json
    if not isinstance(body, dict):
        raise validation_error("JSON object expected")
    return body


def _require(body, *names):
    for name in names:
        if body.get(name) in (None, ""):
            raise validation_error("missing field %s" % name)


def _value_error(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except ValueError as exc:
        raise validation_error(str(exc))


@_admin("GET", "/health")
def health(sim, ctx):
    return json_response(
        {
            "ok": True,
            "now": iso(sim.clock.now()),
            "requests": sim.request_count,
            "latarnia": sim.latarnia.status,
            "rateLimits": sim.ratelimiter.enabled,
        }
    )


@_admin("POST", "/tokens")
def mint_token(sim, ctx):
    body = _body(ctx)
    _require(body, "nip")
    token = _value_error(
        sim.mint_token,
        body["nip"],
        body.get("permissions") or ("InvoiceWrite", "InvoiceRead"),
        body.get("description") or "Simulator token",
        body.get("contextType") or "nip",
    )
    return json_response({"token": token, "referenceNumber": token.split("|", 1)[0]}, status=201)


@_admin("POST", "/tokens/revoke")
def revoke_token(sim, ctx):
    body = _body(ctx)
    key = body.get("token") or body.get("referenceNumber")
    if not key:
        raise validation_error("give token or referenceNumber")
    if not sim.revoke_token(key):
        raise ApiError(404, None, "unknown token")
    return empty(204)


@_admin("POST", "/grants")
def grant(sim, ctx):
    body = _body(ctx)
    _require(body, "context", "subject", "permissions")
    perms = sim.grant(body["context"], body["subject"], body["permissions"])
    return json_response({"permissions": perms})


@_admin("POST", "/grants/revoke")
def revoke_grant(sim, ctx):
    body = _body(ctx)
    _require(body, "context", "subject")
    sim.revoke_grant(body["context"], body["subject"], body.get("permissions"))
    return empty(204)


@_admin("POST", "/contexts/block")
def block_context(sim, ctx):
    body = _body(ctx)
    _require(body, "nip")
    if body.get("blocked", True):
        sim.permissions.block_context(body["nip"])
    else:
        sim.permissions.unblock_context(body["nip"])
    return empty(204)


@_admin("GET", "/clock")
def get_clock(sim, ctx):
    return json_response({"now": iso(sim.clock.now()), "frozen": sim.clock.frozen})


@_admin("POST", "/clock")
def set_clock(sim, ctx):
    body = _body(ctx)
    if body.get("set"):
        _value_error(sim.clock.set, body["set"])
    if body.get("advance"):
        sim.clock.advance(float(body["advance"]))
    if body.get("freeze") is True:
        sim.clock.freeze()
    elif body.get("freeze") is False:
        sim.clock.unfreeze()
    return json_response({"now": iso(sim.clock.now()), "frozen": sim.clock.frozen})


@_admin("POST", "/rate-limits")
def rate_limits(sim, ctx):
    body = _body(ctx)
    if body.get("reset"):
        sim.ratelimiter.reset()
    if "enabled" in body:
        sim.set_rate_limits(bool(body["enabled"]), float(body.get("scale") or 1.0))
    return json_response({"enabled": sim.ratelimiter.enabled, "scale": sim.ratelimiter.scale})


@_admin("GET", "/faults")
def list_faults(sim, ctx):
    return json_response(sim.faults.list())


@_admin("POST", "/faults")
def add_fault(sim, ctx):
    body = _body(ctx)
    _require(body, "kind", "path")
    count = body.get("count", 1)
    fid = _value_error(
        sim.faults.add,
        body["kind"],
        body["path"],
        method=body.get("method") or "*",
        count=None if count is None else int(count),
        status=int(body.get("status") or 503),
        seconds=float(body.get("seconds") or 0),
        after=bool(body.get("after")),
        message=body.get("message"),
        retry_after=body.get("retryAfter"),
        skip=int(body.get("skip") or 0),
        context=body.get("context"),
    )
    return json_response({"id": fid}, status=201)


@_admin("DELETE", "/faults")
def clear_faults(sim, ctx):
    sim.faults.clear()
    return empty(204)


@_admin("DELETE", "/faults/{faultId}")
def remove_fault(sim, ctx):
    sim.faults.remove(_value_error(int, ctx.param("faultId")))
    return empty(204)


@_admin("POST", "/latarnia")
def latarnia(sim, ctx):
    body = _body(ctx)
    msg = sim.set_latarnia(parse_status(body.get("status")), message=body.get("message"), title=body.get("title"))
    return json_response({"status": sim.latarnia.status, "message": msg})


@_admin("POST", "/keys/rotate")
def rotate_keys(sim, ctx):
    body = _body(ctx)
    ids = sim.rotate_keys(emergency=bool(body.get("emergency", True)), usage=body.get("usage"))
    return json_response({"publicKeyIds": ids})


@_admin("POST", "/sessions/{referenceNumber}/expire")
def expire_session(sim, ctx):
    if not sim.expire_session(ctx.param("referenceNumber")):
        raise ApiError(404, None, "unknown session (or no invoice side loaded)")
    return empty(204)


@_admin("POST", "/auth/invalidate-access-tokens")
def invalidate_access(sim, ctx):
    body = _body(ctx)
    return json_response({"invalidated": sim.auth.invalidate_access_tokens(body.get("nip"))})


@_admin("POST", "/auth/expire-tokens")
def expire_tokens(sim, ctx):
    sim.auth.expire_all_tokens()
    return empty(204)


@_admin("POST", "/auth/config")
def auth_config(sim, ctx):
    body = _body(ctx)
    names = {
        "challengeTtl": "challenge_ttl",
        "operationTtl": "operation_ttl",
        "accessTtl": "access_ttl",
        "refreshTtl": "refresh_ttl",
        "pendingPolls": "pending_polls",
    }
    for key, attr in names.items():
        if key in body:
            setattr(sim.auth, attr, int(body[key]))
    return json_response({key: getattr(sim.auth, attr) for key, attr in names.items()})


@_admin("POST", "/seed")
def seed(sim, ctx):
    body = _body(ctx)
    _require(body, "dir")
    try:
        sim.seed(body["dir"])
    except RuntimeError as exc:
        raise ApiError(409, None, str(exc))
    return empty(204)


@_admin("POST", "/invoices")
def store_invoice(sim, ctx):
    """An FA(3) invoice of any seller stored as if its seller had sent it (``seed_incoming``)."""
    body = _body(ctx)
    _require(body, "xml")
    try:
        xml_bytes = base64.b64decode(body["xml"], validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise validation_error("xml: base64 expected")
    try:
        number = sim.seed_incoming(
            xml_bytes, acquisition_time=body.get("acquisitionTime"), offline=bool(body.get("offline"))
        )
    except InputError as exc:
        raise ApiError(400, None, exc.message_en)
    except ValueError as exc:
        raise validation_error(str(exc))
    return json_response({"ksefNumber": number}, status=201)


@_admin("POST", "/flush")
def flush(sim, ctx):
    sim.flush()
    return empty(204)
