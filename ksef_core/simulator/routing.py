"""Route registry shared by all simulator modules, plus the request context and response helpers.

Usage in any simulator module listed in ``app.ROUTE_MODULES``::

    from .routing import route, json_response
    from .errors import ApiError

    @route("POST", "/sessions/online", permissions=("InvoiceWrite", "PefInvoiceWrite"),
           rate_group="sessions_online")
    def open_online_session(sim, ctx):
        body = ctx.json            # parsed JSON (400/21405 if invalid)
        nip = ctx.principal.context_value
        ...
        return json_response({...}, status=201)

``permissions`` = any-of (OpenAPI ``x-required-permissions``); ``auth`` = "access" (default:
Bearer access token), "none" (public), "operation" (authenticationToken), "refresh" (refreshToken).
``prefix`` = "/v2" (default) or any other mount point, e.g. "/_upload" for pre-signed URLs.
"""

import json

from werkzeug.wrappers import Response

from .errors import validation_error

ROUTES = []
HOOKS = {}

AUTH_MODES = ("access", "none", "operation", "refresh")


class Route:
    __slots__ = ("auth", "handler", "lock", "method", "path", "permissions", "prefix", "rate_group")

    def __init__(self, method, path, handler, permissions, rate_group, auth, prefix, lock):
        self.method = method.upper()
        self.path = path
        self.handler = handler
        self.permissions = tuple(permissions or ())
        self.rate_group = rate_group
        self.auth = auth
        self.prefix = prefix
        self.lock = lock

    @property
    def full_path(self):
        return self.prefix + self.path

    @property
    def pattern(self):
        """Path as written in the OpenAPI (``/sessions/{referenceNumber}``), used by faults."""
        return self.path


def route(method, path, permissions=(), rate_group="default", auth="access", prefix="/v2", lock=True):
    """Register ``handler(sim, ctx) -> Response`` for METHOD + path (OpenAPI style ``{param}``).

    :param rate_group: key of ``ratelimit.LIMITS`` (None = never rate limited)
    :param lock: hold ``sim.state.lock`` while the handler runs
    """
    if auth not in AUTH_MODES:
        raise ValueError("auth must be one of %s" % (AUTH_MODES,))

    def decorator(handler):
        ROUTES.append(Route(method, path, handler, permissions, rate_group, auth, prefix, lock))
        return handler

    return decorator


def hook(name):
    """Register ``fn(sim, *args)`` for a named hook called by the core (see README)."""

    def decorator(fn):
        HOOKS.setdefault(name, []).append(fn)
        return fn

    return decorator


class Principal:
    """Who is calling: the authenticated context and its permissions (from the access token)."""

    __slots__ = (
        "allowed_ips",
        "auth_method",
        "auth_ref",
        "context_type",
        "context_value",
        "permissions",
        "subject",
        "token_id",
        "token_ref",
    )

    def __init__(
        self,
        context_type,
        context_value,
        permissions,
        auth_method,
        token_id,
        auth_ref=None,
        subject=None,
        allowed_ips=None,
        token_ref=None,
    ):
        self.context_type = context_type  # "Nip", "InternalId", ...
        self.context_value = context_value  # e.g. the NIP
        self.permissions = frozenset(permissions or ())
        self.auth_method = auth_method  # "Token" or "XadesSignature"
        self.token_id = token_id  # id of the JWT-like token used for this request
        self.auth_ref = auth_ref  # reference number of the authentication operation
        self.subject = subject  # {"type": "Nip"|"Pesel"|"Fingerprint", "value": ...}
        self.allowed_ips = allowed_ips
        self.token_ref = token_ref  # KSeF token reference when auth_method == "Token"

    @property
    def nip(self):
        return self.context_value if self.context_type == "Nip" else None

    def has_any(self, permissions):
        return not permissions or bool(self.permissions.intersection(permissions))


class RequestContext:
    """What a handler gets besides ``sim``."""

    def __init__(self, request, route, path_params, client_ip, principal=None):
        self.request = request
        self.route = route
        self.path_params = dict(path_params)
        self.client_ip = client_ip
        self.principal = principal
        self.method = request.method
        self.path = request.path
        self.args = request.args
        self.headers = request.headers
        self._json = None
        self._json_loaded = False
        self.auth_token = None  # the raw token record used (auth modes "operation"/"refresh")

    @property
    def body(self):
        """Raw request body (bytes)."""
        return self.request.get_data(cache=True)

    @property
    def json(self):
        """Parsed JSON body; empty body -> {}; invalid JSON -> 400/21405."""
        if not self._json_loaded:
            raw = self.body
            if not raw.strip():
                self._json = {}
            else:
                try:
                    self._json = json.loads(raw.decode("utf-8"))
                except (ValueError, UnicodeDecodeError):
                    raise validation_error("Treść żądania nie jest poprawnym dokumentem JSON.")
            self._json_loaded = True
        return self._json

    @property
    def problem_details(self):
        return self.headers.get("X-Error-Format", "").lower() == "problem-details"

    def param(self, name):
        return self.path_params.get(name)


def json_response(obj, status=200, headers=None):
    """JSON answer (``application/json``)."""
    resp = Response(
        json.dumps(obj, ensure_ascii=False).encode("utf-8"),
        status=status,
        content_type="application/json; charset=utf-8",
    )
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def xml_response(data, status=200, headers=None, content_type="application/xml"):
    """XML (or any bytes) answer."""
    resp = Response(bytes(data), status=status, content_type=content_type)
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def bytes_response(data, status=200, headers=None, content_type="application/octet-stream"):
    return xml_response(data, status, headers, content_type)


def empty(status=204, headers=None):
    """Answer without a body (204, 201 for uploads…)."""
    resp = Response(b"", status=status)
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp
