"""NBP exchange rates for invoices in a foreign currency (VAT act, art. 31a).

The VAT of an invoice in a foreign currency is converted to PLN at the average rate of
NBP table A of the last business day before the tax point.  :class:`NbpClient` asks the
public NBP Web API (https://api.nbp.pl) exactly as its documentation says::

    GET {base}/api/exchangerates/rates/A/{code}/{start}/{end}/?format=json

with ``end`` = tax point − 1 day and ``start`` = ``end`` − 14 days (long holiday gaps), and takes
the latest rate of the answer.  Rates of past days never change, so they are cached in
process.  A tax point whose rate NBP has not published yet (tomorrow's invoice before about
12:00 Warsaw time) is refused instead of silently taking an older rate.

:meth:`NbpClient.rates_for_days` asks once for the rates of many tax points of one currency
(Odoo fetches them ahead of time, so that confirming an invoice never waits on NBP).

Every error is a bilingual :class:`~ksef_core.errors.KsefError` telling the accountant
what to do (try later or enter the rate on the invoice).  Depends on ``requests`` only.
"""

import datetime as dt
import json
import logging
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal

import requests

from .calendar_pl import last_business_day, warsaw_now
from .errors import InputError, KsefError

_logger = logging.getLogger(__name__)

DEFAULT_NBP_URL = "https://api.nbp.pl"
LOOKBACK_DAYS = 14
#: NBP answers ranges of up to 93 days: the tax points asked together span at most this
MAX_SPAN_DAYS = 93 - LOOKBACK_DAYS - 2
CACHE_SIZE = 512
MAX_ANSWER_BYTES = 1024 * 1024
_CODE_RE = re.compile(r"^[A-Za-z]{3}$")


# --------------------------------------------------------------------------- errors
class NbpError(KsefError):
    """Base class of the errors of :class:`NbpClient`."""

    default_code = "nbp_error"


class NbpUnavailable(NbpError):
    """NBP could not be asked now (no connection, timeout, 5xx, 400, an answer that is not JSON)."""

    default_code = "nbp_unavailable"


class NbpNoRate(NbpError):
    """NBP has no table A rate for the currency and the days asked (404 "Brak danych"), or has
    not published it yet (code ``nbp_rate_not_published``)."""

    default_code = "nbp_no_rate"


class NbpCurrencyError(NbpError, InputError, ValueError):
    """The currency cannot be asked for (PLN, not a 3-letter code); no request was made."""

    default_code = "nbp_currency_invalid"


@dataclass(frozen=True)
class NbpRate:
    """One average rate of NBP table A: ``mid`` PLN for 1 unit of ``currency``."""

    currency: str
    effective_date: dt.date
    mid: Decimal
    table_no: str


# --------------------------------------------------------------------------- calendar
# --------------------------------------------------------------------------- cache
class NbpRateCache:
    """Bounded LRU cache of final rates, keyed by (base URL, currency, last day asked)."""

    def __init__(self, maxsize=CACHE_SIZE):
        self.maxsize = max(1, int(maxsize))
        self._data = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            rate = self._data.get(key)
            if rate is not None:
                self._data.move_to_end(key)
            return rate

    def put(self, key, rate):
        with self._lock:
            self._data[key] = rate
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def clear(self):
        with self._lock:
            self._data.clear()

    def __len__(self):
        return len(self._data)


_SHARED_CACHE = NbpRateCache()


def clear_cache():
    """Empty the process-wide cache shared by the clients (tests; a rate typed in by mistake)."""
    _SHARED_CACHE.clear()


# --------------------------------------------------------------------------- picking
def pick_rates(rates, tax_points, today):
    """``{tax point: NbpRate}`` from the table A ``rates`` of one currency (any order).

    Each tax point takes the rate of the last business day before it, as :meth:`NbpClient.rate_before`
    does: the latest rate of the ``LOOKBACK_DAYS`` before it; when that business day is ``today``
    (or later) only its own table counts, so a tax point is left out until its table is published.
    """
    rates = sorted(rates, key=lambda r: r.effective_date)
    found = {}
    for tax_point in tax_points:
        end = tax_point - dt.timedelta(days=1)
        needed = last_business_day(end)
        if needed > today:
            continue
        start = end - dt.timedelta(days=LOOKBACK_DAYS)
        candidates = [r for r in rates if start <= r.effective_date <= end]
        if not candidates:
            continue
        rate = candidates[-1]
        if needed == today and rate.effective_date < needed:
            continue
        found[tax_point] = rate
    return found


# --------------------------------------------------------------------------- client
def _iso(day):
    return day.isoformat()


class NbpClient:
    """Reads NBP table A average rates.

    :param base_url: NBP Web API root (the simulator's ``nbp_url`` in tests)
    :param timeout: seconds for connecting and for reading the answer
    :param session: optional ``requests.Session`` (connection reuse, proxies)
    :param cache: an :class:`NbpRateCache`; None = the process-wide cache, False = no cache
    :param today: callable returning today's date in Warsaw (default: the real clock)
    :ivar fetched: number of HTTP requests this client made
    """

    def __init__(self, base_url=DEFAULT_NBP_URL, timeout=10, session=None, cache=None, today=None):
        self.base_url = (base_url or DEFAULT_NBP_URL).rstrip("/")
        self.timeout = timeout
        self.session = session
        self.cache = _SHARED_CACHE if cache is None else (cache or None)
        self._today = today or (lambda: warsaw_now().date())
        self.fetched = 0

    # -- public ----------------------------------------------------------------------------------
    def rate_before(self, currency, tax_point):
        """The table A rate of the last business day before ``tax_point`` (a date) for ``currency``.

        :raises NbpCurrencyError: PLN or not a 3-letter code (no request is made)
        :raises NbpNoRate: NBP has no rate for those days, or has not published it yet
        :raises NbpUnavailable: NBP cannot be asked now
        """
        code = self._check_code(currency)
        if isinstance(tax_point, dt.datetime):
            tax_point = tax_point.date()
        if not isinstance(tax_point, dt.date):
            raise TypeError("tax_point must be a datetime.date")
        end = tax_point - dt.timedelta(days=1)
        start = end - dt.timedelta(days=LOOKBACK_DAYS)
        today = self._today()
        key = (self.base_url, code, end)
        if end < today and self.cache is not None:
            cached = self.cache.get(key)
            if cached is not None:
                return cached
        needed = last_business_day(end)  # the day whose table the tax point needs
        if needed > today:  # a future day: its table cannot exist yet
            raise self._not_published(code, tax_point, end, needed)
        rates = self._fetch(code, start, min(end, today), tax_point, end)
        rate = rates[-1]
        if needed == today and rate.effective_date < needed:  # today's table is due but not out yet
            raise self._not_published(code, tax_point, end, needed)
        if end < today and self.cache is not None:
            self.cache.put(key, rate)
        return rate

    def rates_for_days(self, currency, days):
        """``{day: NbpRate}``: the rate each tax point in ``days`` needs, asked in ONE request.

        A tax point whose table is not out yet (a future day, today's table before about 12:00 Warsaw)
        is left out, as :meth:`rate_before` would refuse it; so is one NBP has no rate for.  ``days``
        must span at most ``MAX_SPAN_DAYS`` (NBP answers ranges of up to 93 days).

        :raises NbpCurrencyError: PLN or not a 3-letter code (no request is made)
        :raises NbpUnavailable: NBP cannot be asked now
        """
        code = self._check_code(currency)
        days = sorted({day.date() if isinstance(day, dt.datetime) else day for day in days})
        if not days:
            return {}
        if (days[-1] - days[0]).days > MAX_SPAN_DAYS:
            raise ValueError("at most %d days apart in one request" % MAX_SPAN_DAYS)
        today = self._today()
        wanted = [day for day in days if last_business_day(day - dt.timedelta(days=1)) <= today]
        if not wanted:
            return {}
        start = wanted[0] - dt.timedelta(days=1 + LOOKBACK_DAYS)
        end = min(wanted[-1] - dt.timedelta(days=1), today)
        try:
            rates = self._fetch(code, start, end, wanted[-1], end)
        except NbpNoRate:
            return {}
        return pick_rates(rates, wanted, today)

    # -- helpers ---------------------------------------------------------------------------------
    @staticmethod
    def _check_code(currency):
        text = str(currency or "").strip()
        if not _CODE_RE.match(text):
            raise NbpCurrencyError(
                "'%s' is not a currency code: NBP rates are asked for by a 3-letter ISO 4217 code (e.g. EUR)."
                % text[:20],
                "'%s' nie jest kodem waluty: kursy NBP pobiera się według 3-literowego kodu ISO 4217 (np. EUR)."
                % text[:20],
                details={"currency": text[:20]},
            )
        code = text.upper()
        if code == "PLN":
            raise NbpCurrencyError(
                "The invoice is in PLN: no exchange rate is needed.",
                "Faktura jest w PLN: kurs waluty nie jest potrzebny.",
                details={"currency": code},
            )
        return code

    def _fetch(self, code, start, end, tax_point, wanted_end):
        url = "%s/api/exchangerates/rates/A/%s/%s/%s/" % (self.base_url, code, _iso(start), _iso(end))
        ctx = {"currency": code, "tax_point": _iso(tax_point), "day": _iso(wanted_end)}
        self.fetched += 1
        try:
            getter = self.session.get if self.session is not None else requests.get
            response = getter(
                url, params={"format": "json"}, headers={"Accept": "application/json"}, timeout=self.timeout
            )
        except requests.Timeout:
            raise self._unavailable(ctx, "timeout", "it did not answer in time", "nie odpowiedział na czas")
        except requests.RequestException:
            raise self._unavailable(ctx, "connection", "no connection", "brak połączenia")
        status = response.status_code
        if status == 404:
            raise self._no_rate(code, tax_point, wanted_end)
        if status != 200:
            _logger.warning("NBP rate request for %s answered HTTP %d", code, status)
            if status >= 500:
                raise self._unavailable(
                    ctx, "http_%d" % status, "server error HTTP %d" % status, "błąd serwera HTTP %d" % status
                )
            raise self._unavailable(
                ctx,
                "http_%d" % status,
                "the request was refused, HTTP %d" % status,
                "żądanie odrzucone, HTTP %d" % status,
            )
        rates = self._parse(response, code, end)
        if rates is None:
            raise self._unavailable(ctx, "bad_answer", "unexpected answer", "nieoczekiwana odpowiedź")
        if not rates:
            raise self._no_rate(code, tax_point, wanted_end)
        return rates

    @staticmethod
    def _parse(response, code, end):
        """Sorted list of :class:`NbpRate` not later than ``end``; None if the answer is not NBP's JSON."""
        content = response.content or b""
        if len(content) > MAX_ANSWER_BYTES:
            return None
        try:
            body = json.loads(content.decode("utf-8"), parse_float=Decimal, parse_int=Decimal)
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(body, dict) or not isinstance(body.get("rates"), list):
            return None
        if str(body.get("code") or code).upper() != code:
            return None
        rates = []
        for item in body["rates"]:
            try:
                day = dt.date.fromisoformat(str(item["effectiveDate"]))
                mid = item["mid"]
                table_no = str(item.get("no") or "")
            except (KeyError, TypeError, ValueError):
                return None
            if not isinstance(mid, Decimal) or not mid.is_finite() or mid <= 0:
                return None
            if day <= end:
                rates.append(NbpRate(currency=code, effective_date=day, mid=mid, table_no=table_no))
        rates.sort(key=lambda r: r.effective_date)
        return rates

    @staticmethod
    def _unavailable(ctx, reason, why_en, why_pl):
        details = dict(ctx, reason=reason)
        return NbpUnavailable(
            "The NBP exchange-rate service cannot be reached now (%s). Try again later, or enter the exchange "
            "rate on the invoice yourself: the NBP table A average rate for %s of %s or, if there was no table "
            "that day, of the last business day before it." % (why_en, ctx["currency"], ctx["day"]),
            "Serwis kursów walut NBP jest teraz niedostępny (%s). Spróbuj ponownie później albo wpisz kurs "
            "na fakturze ręcznie: średni kurs NBP z tabeli A dla %s z dnia %s, a jeśli tego dnia nie było "
            "tabeli – z ostatniego dnia roboczego przed nim." % (why_pl, ctx["currency"], ctx["day"]),
            details=details,
        )

    @staticmethod
    def _no_rate(code, tax_point, end):
        start = end - dt.timedelta(days=LOOKBACK_DAYS)
        return NbpNoRate(
            "NBP has no table A average rate for %s between %s and %s (the day before the tax point %s). "
            "Check the currency code; if NBP table A does not quote %s, enter the exchange rate on the "
            "invoice yourself." % (code, _iso(start), _iso(end), _iso(tax_point), code),
            "NBP nie podaje średniego kursu %s w tabeli A od %s do %s (dzień przed datą powstania obowiązku "
            "podatkowego %s). Sprawdź kod waluty; jeśli tabela A NBP nie obejmuje %s, wpisz kurs na fakturze "
            "ręcznie." % (code, _iso(start), _iso(end), _iso(tax_point), code),
            details={"currency": code, "tax_point": _iso(tax_point), "day": _iso(end)},
        )

    @staticmethod
    def _not_published(code, tax_point, end, missing):
        return NbpNoRate(
            "NBP has not published the %s rate of %s yet (table A comes out on business days at about "
            "12:00 Warsaw time); the tax point %s needs it. Try again once it is published, or enter the "
            "exchange rate on the invoice yourself." % (code, _iso(missing), _iso(tax_point)),
            "NBP nie opublikował jeszcze kursu %s z dnia %s (tabela A ukazuje się w dni robocze około "
            "12:00 czasu warszawskiego), a wymaga go data powstania obowiązku podatkowego %s. Spróbuj "
            "ponownie po publikacji albo wpisz kurs na fakturze ręcznie." % (code, _iso(missing), _iso(tax_point)),
            code="nbp_rate_not_published",
            details={"currency": code, "tax_point": _iso(tax_point), "day": _iso(end), "missing": _iso(missing)},
        )
