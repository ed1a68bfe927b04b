"""Rate limits of KSeF (API-NOTES §6): sliding 1 s / 60 s / 60 min windows per (context, IP).

Counted per endpoint and per caller key (``context|ip``; public endpoints: ``ip``). A request that
would exceed any window gets 429 with ``Retry-After`` = seconds until the window admits it again;
refused requests are not counted. ``scale`` multiplies every limit (0.1 = ten times stricter).
"""

import collections
import math
import threading

from .errors import TooManyRequests
from .routing import json_response, route

# group: (per second, per minute, per hour); None = no limit for that window
LIMITS = {
    "auth": (60, None, None),  # auth endpoints, public keys, peppol
    "sessions_online": (10, 30, 120),  # POST /sessions/online, …/close
    "online_invoice": (10, 30, 180),  # POST /sessions/online/{ref}/invoices
    "sessions_batch": (10, 20, 60),  # POST /sessions/batch, …/close
    "invoice_status": (30, 120, 1200),  # GET /sessions/{ref}/invoices/{invoiceRef}
    "sessions_list": (5, 10, 60),  # GET /sessions
    "session_invoices": (10, 20, 200),  # GET /sessions/{ref}/invoices, …/failed
    "session_status": (10, 120, 1200),  # GET /sessions/{ref}, UPO endpoints
    "query_metadata": (8, 16, 20),  # POST /invoices/query/metadata
    "exports": (8, 16, 20),  # POST /invoices/exports
    "export_status": (10, 60, 600),  # GET /invoices/exports/{ref}
    "invoice_download": (8, 16, 64),  # GET /invoices/ksef/{ksefNumber}
    "collective_identifier": (10, 60, 120),  # POST /collective-identifiers (API 2.7.0)
    "default": (10, 30, 120),  # tokens, certificates, permissions, limits, auth sessions
}
WINDOWS = (1.0, 60.0, 3600.0)
_WINDOW_TEXT = ("na sekundę", "na minutę", "na godzinę")


class RateLimiter:
    def __init__(self, clock):
        self.clock = clock
        self.enabled = False
        self.scale = 1.0
        self._lock = threading.Lock()
        self._hits = {}

    def configure(self, enabled, scale=1.0):
        with self._lock:
            self.enabled = bool(enabled)
            self.scale = float(scale or 1.0)
            self._hits = {}

    def reset(self):
        with self._lock:
            self._hits = {}

    def limits_for(self, group):
        raw = LIMITS.get(group, LIMITS["default"])
        return tuple(None if v is None else max(1, math.floor(v * self.scale)) for v in raw)

    def hit(self, group, endpoint, who):
        """Count one request or raise :class:`TooManyRequests`."""
        if not self.enabled:
            return
        limits = self.limits_for(group)
        now = self.clock.timestamp()
        with self._lock:
            hits = self._hits.get((endpoint, who))
            if hits is None:
                hits = self._hits[(endpoint, who)] = collections.deque()
            while hits and hits[0] <= now - WINDOWS[-1]:
                hits.popleft()
            retry = 0.0
            violated = None
            for index, (limit, window) in enumerate(zip(limits, WINDOWS, strict=False)):
                if limit is None:
                    continue
                in_window = [t for t in _tail(hits, limit) if t > now - window]
                if len(in_window) >= limit:
                    wait = in_window[0] + window - now
                    if wait > retry:
                        retry, violated = wait, (index, limit)
            if violated is not None:
                index, limit = violated
                seconds = max(1, math.ceil(retry))
                raise TooManyRequests(
                    seconds,
                    "Przekroczono limit %d żądań %s. Spróbuj ponownie po %d sekundach."
                    % (limit, _WINDOW_TEXT[index], seconds),
                )
            hits.append(now)


def _tail(hits, count):
    """The last ``count`` timestamps (oldest first)."""
    if len(hits) <= count:
        return list(hits)
    return list(hits)[-count:]


# GET /rate-limits field -> LIMITS group
_EFFECTIVE = {
    "onlineSession": "sessions_online",
    "batchSession": "sessions_batch",
    "invoiceSend": "online_invoice",
    "invoiceStatus": "invoice_status",
    "sessionList": "sessions_list",
    "sessionInvoiceList": "session_invoices",
    "sessionMisc": "session_status",
    "invoiceMetadata": "query_metadata",
    "invoiceExport": "exports",
    "invoiceExportStatus": "export_status",
    "invoiceDownload": "invoice_download",
    "collectiveIdentifier": "collective_identifier",
    "other": "default",
}


@route("GET", "/rate-limits")
def effective_rate_limits(sim, ctx):
    """The limits in force (scaled); returned even when limiting is switched off."""
    body = {}
    for field, group in _EFFECTIVE.items():
        second, minute, hour = sim.ratelimiter.limits_for(group)
        body[field] = {"perSecond": second, "perMinute": minute, "perHour": hour}
    return json_response(body)
