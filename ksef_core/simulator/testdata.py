"""The TEST environment's helper API ``/testdata/*`` (subset): block/unblock a context, grant/revoke
permissions. Public (no bearer), like on TE. Rate-limit overrides and subjects/persons are not simulated."""

from .auth import CONTEXT_TYPES
from .errors import validation_error
from .permissions import ALL_PERMISSIONS
from .routing import empty, route


def _object(ctx):
    body = ctx.json
    if not isinstance(body, dict):
        raise validation_error("Treść żądania musi być obiektem JSON.")
    return body


def _identifier(body, name, types):
    value = body.get(name)
    if not isinstance(value, dict) or value.get("type") not in types or not value.get("value"):
        raise validation_error("%s: wymagane pola type (%s) i value." % (name, "|".join(types)))
    return value["type"], str(value["value"]).strip()


def _block(sim, ctx, blocked):
    ctype, value = _identifier(_object(ctx), "contextIdentifier", CONTEXT_TYPES)
    if blocked:
        sim.permissions.block_context(value, ctype)
    else:
        sim.permissions.unblock_context(value, ctype)
    return empty(200)


@route("POST", "/testdata/context/block", auth="none", rate_group="default")
def block_context(sim, ctx):
    return _block(sim, ctx, True)


@route("POST", "/testdata/context/unblock", auth="none", rate_group="default")
def unblock_context(sim, ctx):
    return _block(sim, ctx, False)


def _grant_args(ctx):
    body = _object(ctx)
    _, context = _identifier(body, "contextIdentifier", ("Nip",))
    stype, subject = _identifier(body, "authorizedIdentifier", ("Nip", "Pesel", "Fingerprint"))
    return body, context, {"type": stype, "value": subject}


@route("POST", "/testdata/permissions", auth="none", rate_group="auth")
def grant_permissions(sim, ctx):
    body, context, subject = _grant_args(ctx)
    perms = body.get("permissions")
    if not isinstance(perms, list) or not perms:
        raise validation_error("permissions: wymagana niepusta lista.")
    names = [p.get("permissionType") if isinstance(p, dict) else None for p in perms]
    if any(n not in ALL_PERMISSIONS for n in names):
        raise validation_error("permissions[].permissionType: nieznany typ uprawnienia.")
    sim.grant(context, subject, names)
    return empty(200)


@route("POST", "/testdata/permissions/revoke", auth="none", rate_group="auth")
def revoke_permissions(sim, ctx):
    _, context, subject = _grant_args(ctx)
    sim.revoke_grant(context, subject)
    return empty(200)
