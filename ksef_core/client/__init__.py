"""KSeF 2.0 API client (pure Python; the Odoo layer only calls this).

Typical use::

    client = KsefClient("TEST", nip="5265877635", ksef_token=token,
                        token_state=stored, on_token_change=store)
    report = client.check_connection()
    results = client.send_invoices([("INV/1", xml_bytes)])
    for item in client.sync(SyncState("Subject2", "2026-01-01T00:00:00Z")).run(): ...
"""

import datetime
import time

import requests

from ..environments import get_environment
from ..errors import InputError
from ..nip import validate_nip
from .auth import Authenticator, CertificateCredential, TokenCredential
from .batch import MAX_PART_SIZE, BatchResult, BatchSessions
from .certificates import CertificatesApi
from .collective import CollectiveIdentifier, CollectiveIdentifiers, CollectiveInvoice
from .errors import (
    KsefApiError,
    KsefAuthError,
    KsefIntegrityError,
    KsefPermissionError,
    KsefProcessingError,
    KsefRateLimited,
    KsefTimeout,
    KsefUnavailable,
    KsefUnknownOutcome,
)
from .http import RetryPolicy, Transport
from .keys import PublicKeyStore
from .online import OnlineSession, OnlineSessions
from .polling import PollPolicy
from .receiving import ExportedInvoice, Receiving
from .results import InvoiceResult
from .session import TokenManager
from .sync import InvoiceSync, SyncState
from .tokens import TokenState, check_ksef_token, jwt_permissions

#: seconds Latarnia may take to answer (one try)
LATARNIA_TIMEOUT = 5

__all__ = [
    "BatchResult",
    "CertificateCredential",
    "CertificatesApi",
    "CollectiveIdentifier",
    "CollectiveInvoice",
    "ConnectionReport",
    "ExportedInvoice",
    "InvoiceResult",
    "InvoiceSync",
    "KsefApiError",
    "KsefAuthError",
    "KsefClient",
    "KsefIntegrityError",
    "KsefPermissionError",
    "KsefProcessingError",
    "KsefRateLimited",
    "KsefTimeout",
    "KsefUnavailable",
    "KsefUnknownOutcome",
    "OnlineSession",
    "PollPolicy",
    "RetryPolicy",
    "SyncState",
    "TokenCredential",
    "TokenState",
    "check_ksef_token",
]

SEND_PERMISSION = "InvoiceWrite"
RECEIVE_PERMISSION = "InvoiceRead"


def _utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


class ConnectionReport:
    """Result of :meth:`KsefClient.check_connection`."""

    def __init__(self, context, method, permissions, certificate_info=None):
        self.context = context
        self.method = method
        self.permissions = None if permissions is None else sorted(permissions)
        known = permissions is not None
        self.can_send = known and SEND_PERMISSION in permissions
        self.can_receive = known and RECEIVE_PERMISSION in permissions
        self.missing = [] if not known else [p for p in (SEND_PERMISSION, RECEIVE_PERMISSION) if p not in permissions]
        self.certificate_not_before = certificate_info.not_before if certificate_info else None
        self.certificate_not_after = certificate_info.not_after if certificate_info else None
        self.source = "token"  # where the permissions come from: "token" claims or "probe" calls

    def messages(self, lang="en"):
        """Human-readable lines (PL or EN) describing missing permissions."""
        pl = (lang or "").lower().startswith("pl")
        lines = []
        if self.permissions is None:
            lines.append(
                "KSeF nie podał listy uprawnień; połączenie działa."
                if pl
                else "KSeF did not list the permissions; the connection works."
            )
        texts = {
            SEND_PERMISSION: (
                "Sending is not allowed (InvoiceWrite missing): generate a token with 'wystawianie faktur'.",
                "Brak uprawnienia do wysyłki (InvoiceWrite): wygeneruj token z uprawnieniem 'wystawianie faktur'.",
            ),
            RECEIVE_PERMISSION: (
                "Receiving is not allowed (InvoiceRead missing): generate a token with 'przeglądanie faktur'.",
                "Brak uprawnienia do odbioru (InvoiceRead): wygeneruj token z uprawnieniem 'przeglądanie faktur'.",
            ),
        }
        lines.extend(texts[p][1 if pl else 0] for p in self.missing)
        return lines

    def to_dict(self):
        fmt = lambda d: d.isoformat() if d else None  # noqa: E731
        return {
            "context": self.context,
            "method": self.method,
            "permissions": self.permissions,
            "can_send": self.can_send,
            "can_receive": self.can_receive,
            "missing": list(self.missing),
            "source": self.source,
            "certificate_not_before": fmt(self.certificate_not_before),
            "certificate_not_after": fmt(self.certificate_not_after),
        }


class KsefClient:
    """One company (context) on one KSeF environment.

    :param environment: ``"TEST"``, ``"DEMO"``, ``"PROD"`` or an ``Environment``; with
        ``custom_api_url`` a simulator or other compatible server.
    :param nip: the company's NIP (the context); required for token login.
    :param ksef_token: a KSeF token (checked for shape and NIP here, before any request).
    :param certificate: a ``ksef_core.credentials.Credential`` (certificate + key) instead of a token,
        or the bytes of a PKCS#12 (.p12/.pfx) or PEM/DER certificate file; then ``private_key`` (PEM/DER
        bytes, if not inside the file) and ``certificate_password`` are used to open it.
    :param token_state: a stored :class:`TokenState` (or its ``to_dict()``) to reuse.
    :param on_token_change: ``callback(TokenState)`` whenever tokens change (persist them there).
    :param max_wait_seconds: longest 429 ``Retry-After`` the client sleeps; longer raises
        :class:`KsefRateLimited` (a cron should pass a small value and reschedule).
    :param deadline_seconds: the run's time: no wait (retry, ``Retry-After``, poll) may end later than
        this many seconds after the client was made; one that would raises :class:`KsefTimeout`
        (code ``run_deadline``).
    :param clock: ``callable() -> aware datetime`` (tests: the simulator's clock).
    :param problem_details: ask KSeF for ``application/problem+json`` errors (both formats are parsed).
    :param latarnia_url: override of the environment's Latarnia (status service) host.
    """

    def __init__(
        self,
        environment="TEST",
        nip=None,
        ksef_token=None,
        certificate=None,
        context_type="Nip",
        context_value=None,
        custom_api_url=None,
        token_state=None,
        on_token_change=None,
        timeout=(10.0, 60.0),
        max_attempts=4,
        max_wait_seconds=30.0,
        retry=None,
        poll_policy=None,
        clock=None,
        sleep=time.sleep,
        batch_part_size=None,
        upload_workers=4,
        tmp_dir=None,
        verify_certificate_chain=None,
        problem_details=False,
        private_key=None,
        certificate_password=None,
        latarnia_url=None,
        deadline_seconds=None,
    ):
        self.environment = get_environment(environment, custom_api_url=custom_api_url)
        self.clock = clock or _utc_now
        self.nip = validate_nip(nip, "Company NIP", "NIP firmy") if nip else None
        if isinstance(certificate, (bytes, bytearray)):
            from ..credentials import load_credential

            certificate = load_credential(bytes(certificate), certificate_password, key_data=private_key)
        self.credential = self._make_credential(
            ksef_token, certificate, context_type, context_value, verify_certificate_chain
        )
        retry = retry or RetryPolicy(max_attempts=max_attempts, max_wait_seconds=max_wait_seconds)
        self.transport = Transport(
            self.environment.api_url, timeout=timeout, retry=retry, sleep=sleep, problem_details=problem_details
        )
        # one deadline for the whole run: no retry, Retry-After or poll waits past it
        self.transport.set_deadline(deadline_seconds)
        self.keys = PublicKeyStore(self.transport, self.clock)
        self.poll_policy = poll_policy or PollPolicy()
        self.authenticator = Authenticator(self.transport, self.keys, self.poll_policy, self.clock)
        self.tokens = TokenManager(self.authenticator, self.credential, self.clock, token_state, on_token_change)
        self.online = OnlineSessions(self)
        self.batch = BatchSessions(self, batch_part_size or MAX_PART_SIZE, upload_workers, tmp_dir)
        self.receiving = Receiving(self, tmp_dir=tmp_dir)
        self.collective = CollectiveIdentifiers(self)  # collective identifiers of payments (API 2.7.0)
        self.certificates = CertificatesApi(self)  # KSeF certificates of the signed-in identity
        self.latarnia_url = (latarnia_url or self.environment.latarnia_url or "").rstrip("/")

    def _make_credential(self, ksef_token, certificate, context_type, context_value, verify_chain):
        if ksef_token and certificate is not None:
            raise InputError(
                "Give either a KSeF token or a certificate, not both.",
                "Podaj token KSeF albo certyfikat, nie oba naraz.",
                code="credential_ambiguous",
            )
        if ksef_token:
            if not self.nip:
                raise InputError(
                    "The company's NIP is required to sign in with a KSeF token.",
                    "Do logowania tokenem KSeF wymagany jest NIP firmy.",
                    code="nip_missing",
                )
            return TokenCredential(ksef_token, self.nip)
        if certificate is not None:
            value = context_value or self.nip
            if not value:
                raise InputError(
                    "The company's NIP (context) is required to sign in with a certificate.",
                    "Do logowania certyfikatem wymagany jest NIP firmy (kontekst).",
                    code="nip_missing",
                )
            return CertificateCredential(
                certificate, context_type, value, check_now=self.clock(), verify_chain=verify_chain
            )
        return None

    # -- plumbing ---------------------------------------------------------------------------
    def api(self, method, path, **kwargs):
        """Authenticated call; a 401 makes the client refresh/sign in and try once more."""
        token = self.tokens.access_token()
        try:
            return self.transport.request(method, path, bearer=token, **kwargs)
        except KsefAuthError as exc:
            if exc.http_status != 401:
                raise
            self.tokens.invalidate_access(token)
            return self.transport.request(method, path, bearer=self.tokens.access_token(), **kwargs)

    @property
    def token_state(self):
        return self.tokens.state

    def close(self):
        self.transport.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- high level -------------------------------------------------------------------------
    def check_connection(self):
        """Sign in now and report the permissions for sending and receiving."""
        self.tokens.login()
        perms = jwt_permissions(self.tokens.state.access_token)
        source = "token"
        if perms is None:
            perms, source = self._probe_permissions(), "probe"
        info = getattr(self.credential, "certificate_info", None)
        report = ConnectionReport(self.tokens.state.context, self.credential.method, perms, info)
        report.source = source
        return report

    def _probe_permissions(self):
        """Permissions found by harmless read calls (used when the access token carries none).

        ``GET /sessions`` needs InvoiceWrite (or Introspection), ``GET /invoices/exports/{ref}``
        needs InvoiceRead; a 403 lists the present permissions, any other answer means allowed.
        """
        found = set()
        probes = (
            (SEND_PERMISSION, "GET", "/sessions", {"pageSize": 10, "sessionType": "Online"}),
            (RECEIVE_PERMISSION, "GET", "/invoices/exports/00000000-EX-0000000000-0000000000-00", None),
        )
        for permission, method, path, params in probes:
            try:
                self.api(method, path, params=params)
                found.add(permission)
            except KsefPermissionError as exc:
                present = (exc.details.get("security") or {}).get("presentPermissions")
                found.update(present or ())
                found.discard(permission)
            except KsefApiError as exc:
                if exc.http_status in (400, 404, 410):
                    found.add(permission)
                else:
                    raise
        return found

    def prepare_signed_login(self, context_type="Nip", context_value=None):
        """The unsigned ``AuthTokenRequest`` for a sign-in signed outside (qualified signature, Profil Zaufany):
        ``{"xml", "challenge", "context_type", "context_value", "issued_at", "valid_until"}``."""
        return self.authenticator.prepare_signed_login(context_type, context_value or self.nip)

    def login_with_signed_request(self, signed_xml, prepared=None):
        """Sign in with the signed ``AuthTokenRequest``; the tokens become this client's (``on_token_change``
        is called). Returns the :class:`TokenState`."""
        verify_chain = getattr(self.credential, "verify_chain", None)
        state = self.authenticator.login_with_signed_request(signed_xml, prepared, verify_chain)
        with self.tokens._lock:
            self.tokens._set(state)
        return state

    def send_invoices(self, invoices, form="FA3", close=False, wait=True):
        """Online: ``[(own_id, xml[, options])]`` → ``{own_id: InvoiceResult}``."""
        return self.online.send_many(invoices, form=form, close=close, wait=wait)

    def send_batch(self, invoices, form="FA3", offline_mode=False, wait=True, on_opened=None):
        """Batch: ``[(own_id, xml)]`` → :class:`BatchResult` (``results`` keyed by own id).

        ``on_opened(reference)`` runs once KSeF has opened the session (store the reference there)."""
        return self.batch.send(invoices, form=form, offline_mode=offline_mode, wait=wait, on_opened=on_opened)

    def download_invoice(self, ksef_number):
        return self.receiving.download(ksef_number)

    def query_metadata(self, filters, page_size=250, sort_order="Asc"):
        return self.receiving.query_metadata(filters, page_size, sort_order)

    def export(self, filters, only_metadata=False):
        return self.receiving.export(filters, only_metadata)

    def latarnia_status(self):
        """KSeF availability from Latarnia: ``{"status": AVAILABLE|MAINTENANCE|FAILURE|TOTAL_FAILURE, "messages"}``.

        Public service, no authentication.  The status decides the offline modes (API-NOTES §9).  One try with a
        short timeout and no retries: it is asked just before sending, which it must never hold up.
        """
        data = self._latarnia_get("/status")
        if not isinstance(data, dict):
            data = {}
        status = str(data.get("status") or "").upper()
        messages = [m for m in data.get("messages") or [] if isinstance(m, dict)]
        return {"status": status, "available": status == "AVAILABLE", "messages": messages}

    def latarnia_messages(self):
        """Latarnia's announcements, past ones included (``GET /messages``): the starts and ends of outages,
        which move the deadlines of offline invoices (``ksef_core.offline.outages_from_messages``)."""
        data = self._latarnia_get("/messages")
        if isinstance(data, dict):
            data = data.get("messages")
        return [m for m in data or [] if isinstance(m, dict)]

    def _latarnia_get(self, path):
        if not self.latarnia_url:
            raise InputError(
                "No Latarnia (KSeF status) address is known for this environment.",
                "Dla tego środowiska nie jest znany adres Latarni (statusu KSeF).",
                code="latarnia_url_missing",
            )
        try:
            response = self.transport.session.get(self.latarnia_url + path, timeout=LATARNIA_TIMEOUT)
            response.raise_for_status()
            return response.json()
        except (requests.RequestException, ValueError) as exc:
            raise KsefUnavailable(
                "Latarnia (KSeF's status service) did not answer (%s)." % exc.__class__.__name__,
                "Latarnia (serwis statusu KSeF) nie odpowiedziała (%s)." % exc.__class__.__name__,
                code="latarnia_unavailable",
            ) from None

    def sync(self, state, mode="export", on_progress=None):
        """An :class:`InvoiceSync` over ``state`` (a :class:`SyncState` or its dict)."""
        if not isinstance(state, SyncState):
            state = SyncState.from_dict(state)
        return InvoiceSync(self, state, mode=mode, on_progress=on_progress)
