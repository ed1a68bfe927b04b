"""HTTP transport of the KSeF client: one ``requests.Session``, timeouts, retries,
429 handling, error parsing (legacy and problem-details) and request counting.

Nothing secret is logged: only the method, the path, the HTTP status and the
duration.  Bodies, headers and query strings never reach the log.
"""

import json
import logging
import math
import random
import threading
import time
from urllib.parse import urlsplit

import requests

from . import status_codes
from .errors import (
    KsefApiError,
    KsefAuthError,
    KsefPermissionError,
    KsefRateLimited,
    KsefTimeout,
    KsefUnavailable,
    KsefUnknownOutcome,
)

_logger = logging.getLogger(__name__)


class _NoSignedQuery(logging.Filter):
    """urllib3 logs every request line at DEBUG, query string included; KSeF's pre-signed addresses
    (part uploads, export parts, UPOs) carry their signature there (``?...&sig=...``). Such a query
    is replaced by ``?(signature removed)`` in the record; other lines pass unchanged."""

    def filter(self, record):
        if isinstance(record.args, tuple) and any(isinstance(a, str) and "sig=" in a for a in record.args):
            record.args = tuple(
                a.split("?", 1)[0] + "?(signature removed)" if isinstance(a, str) and "sig=" in a else a
                for a in record.args
            )
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_NoSignedQuery())

RETRY_STATUSES = (500, 502, 503, 504)


class RetryPolicy:
    """Exponential backoff with full jitter for idempotent calls.

    :param max_attempts: total attempts (first try included)
    :param base_delay: delay before the 2nd attempt, doubled each time
    :param max_delay: cap of a single delay
    :param max_wait_seconds: longest ``Retry-After`` (429) the client sleeps; longer →
        :class:`KsefRateLimited` is raised so the caller (a cron) can reschedule. ``0`` never waits.
    """

    def __init__(self, max_attempts=4, base_delay=0.5, max_delay=8.0, max_wait_seconds=30.0, jitter=True):
        self.max_attempts = max(1, int(max_attempts))
        self.base_delay = float(base_delay)
        self.max_delay = float(max_delay)
        self.max_wait_seconds = float(max_wait_seconds)
        self.jitter = jitter

    def delay(self, attempt):
        """Seconds to sleep after failed attempt number ``attempt`` (1-based)."""
        cap = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        if not self.jitter:
            return cap
        return random.uniform(cap / 2.0, cap)  # jitter, not security


class RequestCounter:
    """Counts HTTP requests by category; attach with :meth:`Transport.counter`."""

    def __init__(self):
        self.total = 0
        self.by_key = {}
        self._lock = threading.Lock()  # batch parts are uploaded from several threads

    def add(self, method, path):
        key = "%s %s" % (method, path)
        with self._lock:
            self.total += 1
            self.by_key[key] = self.by_key.get(key, 0) + 1

    def reset(self):
        self.total = 0
        self.by_key = {}


def _path_template(path):
    """Path with reference numbers / KSeF numbers replaced, for logs and counters."""
    out = []
    for seg in path.split("/"):
        if any(c.isdigit() for c in seg) and len(seg) > 12:
            out.append("{id}")
        else:
            out.append(seg)
    return "/".join(out)


def _json_or_none(response):
    try:
        return response.json()
    except ValueError:
        return None


def parse_error(response):
    """``(exception_codes, descriptions, details, extra)`` of an error answer in either format."""
    body = _json_or_none(response)
    codes, descriptions, details, extra = [], [], [], {}
    if not isinstance(body, dict):
        return codes, descriptions, details, extra
    exc = body.get("exception")
    if isinstance(exc, dict):  # legacy format
        for item in exc.get("exceptionDetailList") or ():
            if item.get("exceptionCode") is not None:
                codes.append(item.get("exceptionCode"))
            if item.get("exceptionDescription"):
                descriptions.append(str(item["exceptionDescription"]))
            details.extend(str(d) for d in item.get("details") or ())
    elif isinstance(body.get("status"), dict):  # legacy 429 / status-shaped body
        st = body["status"]
        if st.get("description"):
            descriptions.append(str(st["description"]))
        details.extend(str(d) for d in st.get("details") or ())
    else:  # problem-details
        for item in body.get("errors") or ():
            if isinstance(item, dict):
                if item.get("code") is not None:
                    codes.append(item.get("code"))
                if item.get("description"):
                    descriptions.append(str(item["description"]))
                details.extend(str(d) for d in item.get("details") or ())
        if body.get("detail"):
            descriptions.append(str(body["detail"]))
        elif body.get("title") and not descriptions:
            descriptions.append(str(body["title"]))
        for key in ("reasonCode", "security"):
            if key in body:
                extra[key] = body[key]
    return codes, descriptions, details, extra


def _retry_after(response):
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def error_from_response(response, path):
    """Build the right :class:`KsefApiError` subclass for an error answer."""
    status = response.status_code
    codes, descriptions, details, extra = parse_error(response)
    ksef_text = "; ".join(descriptions + details)[:600]
    kwargs = {"http_status": status, "exception_codes": codes, "descriptions": descriptions + details}
    suffix = (" [%s]" % ksef_text) if ksef_text else ""
    if status == 429:
        wait = _retry_after(response)
        return KsefRateLimited(
            "KSeF limits the request rate: try again in %s seconds." % (int(wait) if wait is not None else "a few"),
            "KSeF ogranicza liczbę żądań: spróbuj ponownie za %s s." % (int(wait) if wait is not None else "kilka"),
            retry_after=wait,
            **kwargs,
        )
    if status == 401:
        return KsefAuthError(
            "KSeF did not accept the access token (expired or revoked): the client signs in again.%s" % suffix,
            "KSeF nie przyjął tokena dostępowego (wygasł lub unieważniony): klient zaloguje się ponownie.%s" % suffix,
            code="unauthorized",
            **kwargs,
        )
    if status == 403:
        reason = extra.get("reasonCode")
        security = extra.get("security") or {}
        required = security.get("requiredAnyOfPermissions") or security.get("requiredAllOfPermissions") or []
        present = set(security.get("presentPermissions") or [])
        missing = [p for p in required if p not in present]
        msg = status_codes.describe_reason(reason) or (
            "KSeF refused the operation (%s): check the credential's permissions." % (reason or "forbidden"),
            "KSeF odmówił wykonania operacji (%s): sprawdź uprawnienia poświadczenia." % (reason or "forbidden"),
        )
        if reason == "missing-permissions" or missing:
            return KsefPermissionError(
                msg[0] + suffix,
                msg[1] + suffix,
                missing=missing,
                code="permission_missing",
                details={"security": security},
                **kwargs,
            )
        return KsefApiError(msg[0] + suffix, msg[1] + suffix, code=reason or "forbidden", **kwargs)
    if status >= 500:
        return KsefUnavailable(
            "KSeF answered with a server error (HTTP %d): try again later.%s" % (status, suffix),
            "KSeF odpowiedział błędem serwera (HTTP %d): spróbuj ponownie później.%s" % (status, suffix),
            code="server_error",
            **kwargs,
        )
    known = None
    for code in codes:
        known = status_codes.describe_exception(code)
        if known:
            break
    if known:
        mcode, en, pl = known
        return KsefApiError(en + suffix, pl + suffix, code=mcode, **kwargs)
    if status == 410:
        return KsefApiError(
            "The KSeF operation status expired (kept for 7 days only).",
            "Status operacji KSeF wygasł (jest przechowywany tylko 7 dni).",
            code="gone",
            **kwargs,
        )
    return KsefApiError(
        "KSeF refused the request %s (HTTP %d).%s" % (_path_template(path), status, suffix),
        "KSeF odrzucił żądanie %s (HTTP %d).%s" % (_path_template(path), status, suffix),
        code="http_%d" % status,
        **kwargs,
    )


class Transport:
    """Sends requests to one KSeF API base URL.

    :param base_url: API base, e.g. ``https://api-test.ksef.mf.gov.pl/v2``
    :param timeout: ``(connect, read)`` seconds applied to every call
    :param retry: :class:`RetryPolicy`
    :param sleep: injectable ``sleep`` (tests)
    """

    def __init__(
        self,
        base_url,
        timeout=(10.0, 60.0),
        retry=None,
        sleep=time.sleep,
        session=None,
        pool_size=10,
        problem_details=False,
    ):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        #: ``time.monotonic()`` moment after which no sleep (retry, Retry-After, poll) may end; None: no limit
        self.deadline = None
        self.monotonic = time.monotonic
        self.session = session or requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = "l10n_pl_ksef/19.0 (Odoo; ksef_core)"
        self.api_headers = {"X-Error-Format": "problem-details"} if problem_details else {}
        self.counters = []
        self.session.hooks["response"].append(self._count)

    def set_deadline(self, seconds):
        """From now on, every wait of this client (retries, Retry-After, polls) ends within ``seconds``."""
        self.deadline = None if seconds is None else self.monotonic() + float(seconds)

    def sleep(self, seconds):
        """Wait ``seconds`` unless that passes the run's deadline: then stop now, with a clear error."""
        if self.deadline is not None and self.monotonic() + seconds > self.deadline:
            raise KsefTimeout(
                "This run's time is up (KSeF asked to wait %d s more): the next run continues where this "
                "one stopped." % math.ceil(seconds),
                "Czas tego przebiegu minął (KSeF poprosił o %d s oczekiwania): następny przebieg będzie "
                "kontynuowany od miejsca, w którym ten się zatrzymał." % math.ceil(seconds),
                code="run_deadline",
                details={"wait": seconds},
            )
        self._sleep(seconds)

    def close(self):
        self.session.close()

    def _count(self, response, *args, **kwargs):
        if self.counters:
            method = response.request.method
            path = _path_template(urlsplit(response.request.url).path)
            for counter in list(self.counters):
                counter.add(method, path)

    def counter(self):
        """Start a new :class:`RequestCounter` (stop with ``transport.counters.remove(c)``)."""
        counter = RequestCounter()
        self.counters.append(counter)
        return counter

    def url(self, path):
        return path if path.startswith(("http://", "https://")) else self.base_url + path

    def request(
        self,
        method,
        path,
        bearer=None,
        json_body=None,
        data=None,
        headers=None,
        params=None,
        idempotent=None,
        expect_json=True,
        timeout=None,
        max_wait_seconds=None,
        stream=False,
    ):
        """Send one call; retry when safe; return parsed JSON (or the response).

        :param idempotent: may the call be repeated after a lost answer?  Defaults to
            ``True`` for GET/PUT/DELETE.  A non-idempotent call that may have reached
            KSeF raises :class:`KsefUnknownOutcome` instead of being repeated.
        """
        if idempotent is None:
            idempotent = method in ("GET", "PUT", "DELETE", "HEAD")
        url = self.url(path)
        hdrs = {"Accept": "application/json"}
        if url.startswith(self.base_url):
            hdrs.update(self.api_headers)
        if headers:
            hdrs.update(headers)
        if bearer:
            hdrs["Authorization"] = "Bearer " + bearer
        body = data
        if json_body is not None:
            body = json.dumps(json_body, separators=(",", ":")).encode("utf-8")
            hdrs.setdefault("Content-Type", "application/json")
        wait_cap = self.retry.max_wait_seconds if max_wait_seconds is None else max_wait_seconds
        log_path = _path_template(urlsplit(url).path)
        attempt = 0
        while True:
            attempt += 1
            started = time.monotonic()
            try:
                response = self.session.request(
                    method,
                    url,
                    data=body,
                    headers=hdrs,
                    params=params,
                    timeout=timeout or self.timeout,
                    stream=stream,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                not_sent = isinstance(exc, requests.ConnectTimeout) or _refused(exc)
                _logger.info("KSeF %s %s: %s (attempt %d)", method, log_path, type(exc).__name__, attempt)
                if not idempotent and not not_sent:
                    raise KsefUnknownOutcome(
                        "The connection to KSeF broke after the request was sent; it is unknown whether "
                        "KSeF received it.",
                        "Połączenie z KSeF zerwało się po wysłaniu żądania; nie wiadomo, czy KSeF je otrzymał.",
                        code="unknown_outcome",
                    ) from None
                if attempt >= self.retry.max_attempts:
                    raise KsefUnavailable(
                        "KSeF cannot be reached (%s): check the internet connection or try again later."
                        % type(exc).__name__,
                        "Brak połączenia z KSeF (%s): sprawdź połączenie z internetem lub spróbuj później."
                        % type(exc).__name__,
                        code="connection_failed",
                    ) from None
                self.sleep(self.retry.delay(attempt))
                continue
            elapsed = time.monotonic() - started
            _logger.debug("KSeF %s %s -> %s (%.2fs)", method, log_path, response.status_code, elapsed)
            status = response.status_code
            if status < 400:
                if not expect_json:
                    return response
                if status == 204 or not response.content:
                    return {}
                parsed = _json_or_none(response)
                return parsed if parsed is not None else {}
            if status == 429:
                wait = _retry_after(response)
                wait = 1.0 if wait is None else wait
                if wait > wait_cap or attempt >= self.retry.max_attempts + 2:
                    raise error_from_response(response, url)
                _logger.info("KSeF %s %s: rate limited, waiting %.0fs", method, log_path, wait)
                self.sleep(wait)
                continue
            if status in RETRY_STATUSES:
                if not idempotent:
                    if status == 503:
                        # 503 = the service refused before processing; safe to repeat.
                        if attempt < self.retry.max_attempts:
                            self.sleep(_retry_after(response) or self.retry.delay(attempt))
                            continue
                        raise error_from_response(response, url)
                    raise KsefUnknownOutcome(
                        "KSeF answered with a server error (HTTP %d) to a request that may have been "
                        "processed." % status,
                        "KSeF odpowiedział błędem serwera (HTTP %d) na żądanie, "
                        "które mogło zostać przetworzone." % status,
                        code="unknown_outcome",
                        http_status=status,
                    )
                wait = _retry_after(response) or self.retry.delay(attempt)
                if attempt < self.retry.max_attempts and wait <= max(wait_cap, self.retry.max_delay):
                    self.sleep(wait)
                    continue
            raise error_from_response(response, url)


def _refused(exc):
    """True when the connection was never established (nothing was sent)."""
    text = repr(exc)
    return "NewConnectionError" in text or "Connection refused" in text or "Name or service" in text
