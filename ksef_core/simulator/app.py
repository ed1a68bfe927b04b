"""The simulator: :class:`Simulator` holds all state and is the WSGI application.

Every request goes through :meth:`Simulator.wsgi_app`: route match → faults (error/delay)
→ bearer authentication → IP policy → permissions → rate limits → handler (under
``state.lock``) → faults (dropped response) → persistence mark.
"""

import contextlib
import importlib
import ipaddress
import json
import logging
import time

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request

from .clock import SimClock
from .errors import ApiError, Forbidden, render_error
from .faults import FaultManager, corrupt_body
from .latarnia import Latarnia
from .ratelimit import RateLimiter
from .routing import HOOKS, ROUTES, RequestContext
from .state import SimState

_logger = logging.getLogger(__name__)

# Modules of this package whose @route/@hook decorators must run. Core modules are imported
# unconditionally; the invoice side is imported when present (ModuleNotFoundError for the
# module itself only – errors inside an existing module propagate).
CORE_MODULES = (
    "keys",
    "auth",
    "auth_xades",
    "certificates",
    "certificates_api",
    "tokens",
    "permissions",
    "ratelimit",
    "latarnia",
    "admin",
    "testdata",
    "nbp",
)
OPTIONAL_MODULES = (
    "storage_invoices",
    "numbering",
    "invoice_checks",
    "upo",
    "sessions_online",
    "sessions_batch",
    "receiving",
    "exports",
    "seeding",
    "collective",
    "collective_api",
)


def load_route_modules():
    for name in CORE_MODULES:
        importlib.import_module("%s.%s" % (__package__, name))
    for name in OPTIONAL_MODULES:
        full = "%s.%s" % (__package__, name)
        try:
            importlib.import_module(full)
        except ModuleNotFoundError as exc:
            if exc.name != full:
                raise


def _rule_path(route):
    return route.full_path.replace("{", "<").replace("}", ">")


def _build_map():
    seen = set()
    rules = []
    for index, route in enumerate(ROUTES):
        key = (route.method, route.full_path)
        if key in seen:
            raise RuntimeError("duplicate simulator route %s %s" % key)
        seen.add(key)
        rules.append(Rule(_rule_path(route), endpoint=index, methods=[route.method]))
    return Map(rules, strict_slashes=False)


class DropConnection(ConnectionError):
    """Raised after a handler ran when a 'drop' fault says the answer must be lost.

    A ConnectionError, so werkzeug treats it as a dropped connection and writes nothing."""


class Simulator:
    """All state of one simulated KSeF plus the Python control API.

    :param data_dir: directory for persistence (None = memory only)
    :param rate_limits: False (off), True (production table) or a float scale factor
    :param clock_start: initial simulated time (datetime/ISO string), default = real time
    :param frozen: start with a frozen clock
    """

    def __init__(self, data_dir=None, rate_limits=False, clock_start=None, frozen=False):
        load_route_modules()
        from .auth import AuthStore
        from .keys import KeyStore
        from .nbp import NbpStandIn
        from .permissions import PermissionStore
        from .tokens import TokenStore

        self.clock = SimClock(start=clock_start, frozen=frozen)
        self.state = SimState(data_dir)
        self.keys = KeyStore(self)
        self.tokens = TokenStore(self)
        self.permissions = PermissionStore(self)
        self.auth = AuthStore(self)
        self.ratelimiter = RateLimiter(self.clock)
        self.set_rate_limits(rate_limits)
        self.faults = FaultManager()
        self.latarnia = Latarnia(self)
        self.nbp = NbpStandIn(self)  # NBP exchange rates under /nbp (see nbp.py)
        self.url_map = _build_map()
        self.routes = list(ROUTES)
        self.request_count = 0
        self.call_hook("init")

    # -- control API (more in the component objects) ---------------------------------------------
    def set_rate_limits(self, enabled, scale=1.0):
        """Switch rate limiting: ``enabled`` bool or a scale factor (limits × scale)."""
        if enabled is True or enabled is False or enabled is None:
            self.ratelimiter.configure(bool(enabled), scale)
        else:
            self.ratelimiter.configure(True, float(enabled))

    def private_key_for(self, key):
        """RSA private key for a ``publicKeyId`` or a usage name (e.g. "SymmetricKeyEncryption")."""
        return self.keys.private_key_for(key)

    def rotate_keys(self, emergency=True, usage=None):
        """New RSA keys; ``emergency`` removes the old ones at once (old publicKeyId → 21470)."""
        return self.keys.rotate(emergency=emergency, usage=usage)

    def mint_token(
        self,
        nip,
        permissions=("InvoiceWrite", "InvoiceRead"),
        description="Simulator token",
        context_type="nip",
    ):
        """Create an active KSeF token for ``nip``; returns the token string."""
        return self.tokens.mint(nip, permissions, description, context_type)

    def revoke_token(self, token_or_ref):
        """Revoke a KSeF token (by the token string or its reference number)."""
        return self.tokens.revoke(token_or_ref)

    def grant(self, context_nip, subject, permissions):
        """Grant ``permissions`` in context ``context_nip`` to subject (NIP, PESEL or SHA-256 fingerprint)."""
        return self.permissions.grant(context_nip, subject, permissions)

    def revoke_grant(self, context_nip, subject, permissions=None):
        return self.permissions.revoke(context_nip, subject, permissions)

    def set_latarnia(self, status, message=None, **kwargs):
        """AVAILABLE / MAINTENANCE / FAILURE / TOTAL_FAILURE (+ optional message)."""
        return self.latarnia.set_status(status, message=message, **kwargs)

    def expire_session(self, reference_number):
        """Ask the invoice side to expire a session now; returns True if some hook handled it."""
        return any(self.call_hook("expire_session", reference_number))

    def seed(self, seed_dir):
        """Load seed data through the invoice side's ``seed`` hooks (error if none is registered)."""
        if not HOOKS.get("seed"):
            raise RuntimeError("no seed hook registered (the invoice side of the simulator is missing)")
        return self.call_hook("seed", seed_dir)

    def call_hook(self, name, *args):
        return [fn(self, *args) for fn in HOOKS.get(name, ())]

    def flush(self):
        self.state.flush()

    # -- WSGI ------------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        return self.wsgi_app(environ, start_response)

    def wsgi_app(self, environ, start_response):
        request = Request(environ)
        response = self.dispatch(request)
        if response is None:  # dropped connection: no answer at all
            sock = environ.get("werkzeug.socket")
            if sock is not None:
                import socket

                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            raise DropConnection()
        return response(environ, start_response)

    def dispatch(self, request):
        self.request_count += 1
        problem = request.headers.get("X-Error-Format", "").lower() == "problem-details"
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, params = adapter.match()
        except NotFound:
            return render_error(ApiError(404, None, "Nie znaleziono zasobu."), request.path, True, self.clock)
        except MethodNotAllowed:
            return render_error(ApiError(405, None, "Metoda niedozwolona."), request.path, True, self.clock)
        route = self.routes[endpoint]
        ctx = RequestContext(request, route, params, request.remote_addr or "")
        fault = self.faults.take(route, request)
        try:
            if fault is None and self.faults.scoped() and route.auth == "none":
                fault = self.faults.take(route, request, context=_asked_context(ctx))
            _fault_before(fault)
            self._authenticate(route, ctx)
            if fault is None and self.faults.scoped() and ctx.principal is not None:
                fault = self.faults.take(route, request, context=ctx.principal.context_value)
                _fault_before(fault)
            self._check_rate(route, ctx)
            if route.lock:
                with self.state.lock:
                    response = route.handler(self, ctx)
            else:
                response = route.handler(self, ctx)
        except ApiError as err:
            response = render_error(err, request.path, problem, self.clock)
        except Exception:
            _logger.exception("simulator handler failed: %s %s", route.method, route.full_path)
            response = render_error(
                ApiError(500, None, "Nieoczekiwany błąd symulatora."), request.path, problem, self.clock
            )
        if request.method not in ("GET", "HEAD"):
            self.state.mark_dirty()
        if fault is not None and fault.kind == "delay" and fault.after:
            time.sleep(fault.seconds)
        if fault is not None and fault.kind == "drop":
            return None
        if fault is not None and fault.kind == "corrupt":
            response.set_data(corrupt_body(response.get_data()))
        return response

    def _authenticate(self, route, ctx):
        if route.auth == "none":
            return
        principal, record = self.auth.authenticate(ctx.headers.get("Authorization", ""), route.auth)
        ctx.principal = principal
        ctx.auth_token = record
        if principal.allowed_ips and not ip_allowed(ctx.client_ip, principal.allowed_ips):
            raise Forbidden(
                "ip-not-allowed",
                "Żądanie pochodzi z adresu IP innego niż wskazany podczas uwierzytelnienia.",
                {"clientIp": ctx.client_ip},
            )
        if route.permissions and not principal.has_any(route.permissions):
            raise Forbidden(
                "missing-permissions",
                "Brak wymaganych uprawnień do wykonania operacji w bieżącym kontekście.",
                {
                    "requiredAnyOfPermissions": list(route.permissions),
                    "presentPermissions": sorted(principal.permissions),
                },
            )

    def _check_rate(self, route, ctx):
        if route.rate_group is None or not self.ratelimiter.enabled:
            return
        if ctx.principal is not None and ctx.principal.context_value:
            who = "%s:%s|%s" % (ctx.principal.context_type, ctx.principal.context_value, ctx.client_ip)
        else:
            who = "ip|%s" % ctx.client_ip
        self.ratelimiter.hit(route.rate_group, "%s %s" % (route.method, route.full_path), who)


def _fault_before(fault):
    """Apply what ``fault`` does before the handler: an error answer, or a delay."""
    if fault is not None and fault.kind == "error":
        raise ApiError(
            fault.status,
            None,
            fault.message or "Błąd serwera (symulowany).",
            headers={"Retry-After": str(fault.retry_after)} if fault.retry_after else None,
        )
    if fault is not None and fault.kind == "delay" and not fault.after:
        time.sleep(fault.seconds)


def _asked_context(ctx):
    """The context a login asks for (``contextIdentifier.value`` of its JSON body), or None."""
    if "json" not in (ctx.headers.get("Content-Type") or ""):
        return None
    try:
        body = json.loads(ctx.body or b"{}")
    except ValueError:
        return None
    asked = body.get("contextIdentifier") if isinstance(body, dict) else None
    return str(asked.get("value")) if isinstance(asked, dict) and asked.get("value") else None


def ip_allowed(client_ip, policy):
    """True if ``client_ip`` matches an AuthorizationPolicy ``allowedIps`` dict."""
    try:
        ip = ipaddress.ip_address(client_ip)
    except ValueError:
        return False
    for addr in policy.get("ip4Addresses") or ():
        if str(addr).strip() == client_ip:
            return True
    for rng in policy.get("ip4Ranges") or ():
        try:
            low, high = (ipaddress.ip_address(p.strip()) for p in str(rng).split("-", 1))
        except ValueError:
            continue
        if low <= ip <= high:
            return True
    for mask in policy.get("ip4Masks") or ():
        try:
            if ip in ipaddress.ip_network(str(mask).strip(), strict=False):
                return True
        except ValueError:
            continue
    return False
