"""Stand-in for the NBP Web API (api.nbp.pl): average rates of table A, served under ``/nbp``.

``GET /nbp/api/exchangerates/rates/A/{code}/{date}/`` and
``GET /nbp/api/exchangerates/rates/A/{code}/{startDate}/{endDate}/`` answer like the real service:
``{"table":"A","currency":"euro","code":"EUR","rates":[{"no":"232/A/NBP/2026","effectiveDate":"2026-11-30",
"mid":4.2345}]}``; 404 ``404 NotFound - Not Found - Brak danych`` (text) when the range holds no rate;
400 for a bad date, a reversed range or a range over 93 days.  Rates exist for business days
(Monday–Friday, not Polish public holidays) up to the simulated today (today's table after 12:00
Warsaw time); default rates are deterministic per currency and day.  Control API: ``sim.nbp``.
"""

import datetime as dt
import functools
import hashlib
import math
import threading
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from werkzeug.wrappers import Response

from ..calendar_pl import is_business_day, warsaw_now
from .errors import validation_error
from .routing import json_response, route

PREFIX = "/nbp"
PUBLISH_AT = dt.time(12, 0)
FIRST_TABLE_DAY = dt.date(2002, 1, 2)
MAX_RANGE_DAYS = 93
NO_DATA = "404 NotFound - Not Found - Brak danych"
BAD_RANGE = "400 BadRequest - Błędny zakres dat / Invalid date range"
RANGE_LIMIT = "400 BadRequest - Przekroczony limit 93 dni / Limit of 93 days has been exceeded"
BAD_TABLE = "400 BadRequest - Nieprawidłowy typ tabeli / Invalid table type"

# code: (name as NBP spells it, base average rate for 1 unit, decimal places of "mid").
# Currencies NBP quotes per 100 (per 10 000 for IDR) get 6 (8) places once divided to 1 unit.
CURRENCIES = {
    "THB": ("bat (Tajlandia)", "0.1120", 4),
    "USD": ("dolar amerykański", "3.9500", 4),
    "AUD": ("dolar australijski", "2.5500", 4),
    "HKD": ("dolar Hongkongu", "0.5080", 4),
    "CAD": ("dolar kanadyjski", "2.8500", 4),
    "NZD": ("dolar nowozelandzki", "2.3000", 4),
    "SGD": ("dolar singapurski", "2.9500", 4),
    "EUR": ("euro", "4.2500", 4),
    "HUF": ("forint (Węgry)", "0.010800", 6),
    "CHF": ("frank szwajcarski", "4.5000", 4),
    "GBP": ("funt szterling", "5.0000", 4),
    "UAH": ("hrywna (Ukraina)", "0.0950", 4),
    "JPY": ("jen (Japonia)", "0.026000", 6),
    "CZK": ("korona czeska", "0.1700", 4),
    "DKK": ("korona duńska", "0.5700", 4),
    "ISK": ("korona islandzka", "0.029000", 6),
    "NOK": ("korona norweska", "0.3600", 4),
    "SEK": ("korona szwedzka", "0.3800", 4),
    "RON": ("lej rumuński", "0.8400", 4),
    "TRY": ("lira turecka", "0.1100", 4),
    "ILS": ("nowy izraelski szekel", "1.0500", 4),
    "CLP": ("peso chilijskie", "0.004200", 6),
    "PHP": ("peso filipińskie", "0.068000", 6),
    "MXN": ("peso meksykańskie", "0.2100", 4),
    "ZAR": ("rand (Republika Południowej Afryki)", "0.2100", 4),
    "BRL": ("real (Brazylia)", "0.7000", 4),
    "MYR": ("ringgit (Malezja)", "0.8800", 4),
    "IDR": ("rupia indonezyjska", "0.00024000", 8),
    "INR": ("rupia indyjska", "0.046000", 6),
    "KRW": ("won południowokoreański", "0.002800", 6),
    "CNY": ("yuan renminbi (Chiny)", "0.5500", 4),
    "XDR": ("SDR (MFW)", "5.3000", 4),
}


def _hash_unit(text):
    """Deterministic number in [0, 1) from ``text``."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:6], "big") / float(1 << 48)


def default_mid(code, day):
    """The simulator's own rate of ``code`` on ``day``: base ± a slow wave (1.5 %) ± daily noise (0.2 %)."""
    _name, base, places = CURRENCIES[code]
    wave = 0.015 * math.sin(day.toordinal() / 23.0 + 2 * math.pi * _hash_unit(code))
    noise = 0.004 * (_hash_unit("%s|%s" % (code, day.isoformat())) - 0.5)
    value = Decimal(repr(float(base) * (1.0 + wave + noise)))
    return value.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)


@functools.lru_cache(maxsize=1024)
def table_no(day):
    """``NNN/A/NBP/YYYY``: NNN counts the business days of the year up to ``day``."""
    count, current = 0, dt.date(day.year, 1, 1)
    while current <= day:
        count += is_business_day(current)
        current += dt.timedelta(days=1)
    return "%03d/A/NBP/%d" % (count, day.year)


def _parse_day(value):
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _text(status, text):
    return Response(text.encode("utf-8"), status=status, content_type="text/plain; charset=utf-8")


class NbpStandIn:
    """State and control API of the NBP stand-in (``sim.nbp``).

    Explicit rates (:meth:`set_rate`) win over the defaults and are served whatever the simulated
    date (also on days without a table).  ``requests`` counts the NBP requests answered.
    """

    def __init__(self, sim):
        self.sim = sim
        self.rates = sim.state.bucket("nbp").setdefault("rates", {})  # {code: {iso day: "mid"}}
        self.available = True
        self.requests = 0
        self._lock = threading.Lock()

    # -- control API -----------------------------------------------------------------------------
    def set_rate(self, code, day, mid):
        """Serve ``mid`` (Decimal/str/number; None removes it) as the rate of ``code`` on ``day``."""
        code = str(code or "").strip().upper()
        if len(code) != 3 or not code.isalpha():
            raise ValueError("currency code must have 3 letters")
        key = _parse_day(day).isoformat()
        with self.sim.state.lock:
            if mid is None:
                self.rates.get(code, {}).pop(key, None)
                return None
            try:
                value = Decimal(str(mid))
            except InvalidOperation:
                raise ValueError("mid must be a number")
            if not value.is_finite() or value <= 0:
                raise ValueError("mid must be a positive number")
            self.rates.setdefault(code, {})[key] = str(value)
        self.sim.state.mark_dirty()
        return value

    def set_available(self, available=True):
        """False: every NBP request answers 503 (maintenance)."""
        self.available = bool(available)

    def reset(self):
        """Forget explicit rates, become available, zero the request counter."""
        with self.sim.state.lock:
            self.rates.clear()
        self.available = True
        self.requests = 0

    # -- data ------------------------------------------------------------------------------------
    def published(self, day):
        """True once the table of ``day`` is out at the simulated time (business days at 12:00 Warsaw)."""
        local = warsaw_now(self.sim.clock.now())
        return day < local.date() or (day == local.date() and local.time() >= PUBLISH_AT)

    def rate_on(self, code, day):
        """Decimal rate of ``code`` on ``day`` as the stand-in serves it, or None."""
        with self.sim.state.lock:
            explicit = self.rates.get(code, {}).get(day.isoformat())
        if explicit is not None:
            return Decimal(explicit)
        if code not in CURRENCIES or day < FIRST_TABLE_DAY or not is_business_day(day) or not self.published(day):
            return None
        return default_mid(code, day)

    def rates_between(self, code, start, end):
        out, day = [], start
        while day <= end:
            mid = self.rate_on(code, day)
            if mid is not None:
                out.append({"no": table_no(day), "effectiveDate": day.isoformat(), "mid": float(mid)})
            day += dt.timedelta(days=1)
        return out

    def currency_name(self, code):
        return CURRENCIES[code][0] if code in CURRENCIES else code

    # -- HTTP ------------------------------------------------------------------------------------
    def answer(self, ctx, start_text, end_text):
        with self._lock:
            self.requests += 1
        if not self.available:
            return _text(503, "503 Service Unavailable - NBP Web API (symulator) niedostępne")
        table = str(ctx.param("table") or "").upper()
        if table not in ("A", "B", "C"):
            return _text(400, BAD_TABLE)
        try:
            start, end = dt.date.fromisoformat(start_text), dt.date.fromisoformat(end_text)
        except ValueError:
            return _text(400, BAD_RANGE)
        if start > end:
            return _text(400, BAD_RANGE)
        if (end - start).days + 1 > MAX_RANGE_DAYS:
            return _text(400, RANGE_LIMIT)
        code = str(ctx.param("code") or "").upper()
        rates = self.rates_between(code, start, end) if table == "A" else []
        if not rates:
            return _text(404, NO_DATA)
        return json_response({"table": "A", "currency": self.currency_name(code), "code": code, "rates": rates})

    def status(self):
        return {
            "available": self.available,
            "requests": self.requests,
            "explicitRates": sum(map(len, self.rates.values())),
        }


_RATES = "/api/exchangerates/rates/{table}/{code}"


@route("GET", _RATES + "/{date}/", auth="none", rate_group=None, prefix=PREFIX, lock=False)
def nbp_rate_on_day(sim, ctx):
    return sim.nbp.answer(ctx, ctx.param("date"), ctx.param("date"))


@route("GET", _RATES + "/{startDate}/{endDate}/", auth="none", rate_group=None, prefix=PREFIX, lock=False)
def nbp_rates_in_range(sim, ctx):
    return sim.nbp.answer(ctx, ctx.param("startDate"), ctx.param("endDate"))


# -- admin HTTP API (/_sim/nbp) ------------------------------------------------------------------
@route("GET", "/nbp", auth="none", rate_group=None, prefix="/_sim")
def nbp_admin_status(sim, ctx):
    return json_response(sim.nbp.status())


@route("POST", "/nbp", auth="none", rate_group=None, prefix="/_sim")
def nbp_admin_set(sim, ctx):
    body = ctx.json
    if not isinstance(body, dict):
        raise validation_error("JSON object expected")
    if body.get("reset"):
        sim.nbp.reset()
    if "available" in body:
        sim.nbp.set_available(bool(body["available"]))
    for item in body.get("rates") or ():
        if not isinstance(item, dict):
            raise validation_error("rates: objects {code, date, mid} expected")
        try:
            sim.nbp.set_rate(item.get("code"), item.get("date"), item.get("mid"))
        except (TypeError, ValueError) as exc:
            raise validation_error("rates: %s" % exc)
    return json_response(sim.nbp.status())
