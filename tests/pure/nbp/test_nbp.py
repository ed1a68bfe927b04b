"""NBP exchange rates (VAT art. 31a): ``ksef_core.nbp.NbpClient`` against the simulator's NBP stand-in.

Nothing here reaches the internet: every client points at the simulator (``srv.nbp_url``), at a
closed local port or at a tiny local HTTP server.
"""

import datetime as dt
import json
import socket
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from ksef_core.calendar_pl import is_business_day, polish_holidays
from ksef_core.errors import InputError, KsefError
from ksef_core.nbp import (
    DEFAULT_NBP_URL,
    NbpClient,
    NbpCurrencyError,
    NbpError,
    NbpNoRate,
    NbpRate,
    NbpRateCache,
    NbpUnavailable,
    clear_cache,
)
from ksef_core.simulator.testing import running_simulator

D = dt.date


@pytest.fixture(autouse=True)
def _empty_cache():
    """The rate cache is process-wide and keyed by URL: a new simulator may reuse an old port."""
    clear_cache()
    yield
    clear_cache()


class RecordingSession(requests.Session):
    """A real ``requests.Session`` that remembers what it sent (method, full URL, headers)."""

    def __init__(self):
        super().__init__()
        self.sent = []

    def send(self, request, **kwargs):
        self.sent.append((request.method, request.url, dict(request.headers)))
        return super().send(request, **kwargs)


@pytest.fixture()
def local_http():
    """A local HTTP server answering every GET with the (status, content type, body) set in ``.answer``."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            status, ctype, body = server.answer
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.answer = (200, "application/json", "{}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    server.url = "http://127.0.0.1:%d/nbp" % server.server_address[1]
    yield server
    server.shutdown()
    server.server_close()


def _raw(srv, path):
    return requests.get(srv.nbp_url + "/api/exchangerates/rates" + path, timeout=10)


def _closed_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


# --------------------------------------------------------------------------- the rule of art. 31a
def test_monday_tax_point_takes_fridays_rate_asked_like_the_real_api(simulator):
    simulator.sim.nbp.set_rate("EUR", D(2026, 11, 27), "4.2111")
    session = RecordingSession()
    client = NbpClient(base_url=simulator.nbp_url, session=session)

    rate = client.rate_before("EUR", D(2026, 11, 30))  # a Monday

    assert rate == NbpRate("EUR", D(2026, 11, 27), Decimal("4.2111"), "231/A/NBP/2026")
    [(method, url, headers)] = session.sent
    assert method == "GET"
    assert url == simulator.nbp_url + "/api/exchangerates/rates/A/EUR/2026-11-15/2026-11-29/?format=json"
    assert headers["Accept"] == "application/json"
    assert DEFAULT_NBP_URL == "https://api.nbp.pl"
    assert NbpClient().base_url == DEFAULT_NBP_URL


def test_day_after_a_holiday_takes_the_last_business_day_before_it(shared_simulator):
    client = NbpClient(base_url=shared_simulator.nbp_url)
    # 11 Nov 2026 (Independence Day) is a Wednesday: no table that day.
    assert _raw(shared_simulator, "/A/EUR/2026-11-11/").status_code == 404
    rate = client.rate_before("EUR", D(2026, 11, 12))
    assert rate.effective_date == D(2026, 11, 10)
    assert rate.table_no == "219/A/NBP/2026"
    served = _raw(shared_simulator, "/A/EUR/2026-11-10/").json()["rates"][0]
    assert rate.mid == Decimal(str(served["mid"]))


def test_new_year_takes_the_last_rate_of_the_previous_year(shared_simulator):
    client = NbpClient(base_url=shared_simulator.nbp_url)
    rate = client.rate_before("EUR", D(2026, 1, 2))
    assert rate.effective_date == D(2025, 12, 31)
    assert rate.table_no.endswith("/A/NBP/2025")
    # The first table of the year is number 001; 6 January (Epiphany) has none.
    assert client.rate_before("EUR", D(2026, 1, 5)).table_no == "001/A/NBP/2026"
    assert client.rate_before("EUR", D(2026, 1, 7)).effective_date == D(2026, 1, 5)


def test_set_rate_is_returned_exactly_as_decimal(simulator):
    simulator.sim.nbp.set_rate("USD", D(2026, 11, 27), Decimal("3.987654"))
    simulator.sim.nbp.set_rate("CHF", D(2026, 11, 27), "4.5100")
    client = NbpClient(base_url=simulator.nbp_url)
    usd = client.rate_before("usd", D(2026, 11, 28))
    assert isinstance(usd.mid, Decimal)
    assert str(usd.mid) == "3.987654"  # parsed from the JSON text, never through a float
    assert usd.currency == "USD"
    assert client.rate_before("CHF", dt.datetime(2026, 11, 30, 15, 0)).mid == Decimal("4.51")


def test_default_rates_are_plausible_deterministic_and_quoted_like_nbp(shared_simulator):
    body = _raw(shared_simulator, "/A/JPY/2026-11-02/2026-11-06/?format=json").json()
    assert body["table"] == "A" and body["code"] == "JPY" and body["currency"] == "jen (Japonia)"
    assert [r["effectiveDate"] for r in body["rates"]] == ["2026-11-0%d" % d for d in range(2, 7)]
    assert all(0.02 < r["mid"] < 0.03 and len(repr(r["mid"]).split(".")[1]) <= 6 for r in body["rates"])
    assert len({r["mid"] for r in body["rates"]}) > 1  # the rate moves from day to day
    eur = NbpClient(base_url=shared_simulator.nbp_url).rate_before("EUR", D(2026, 11, 5))
    assert Decimal("4.0") < eur.mid < Decimal("4.5") and -eur.mid.as_tuple().exponent <= 4
    with running_simulator() as other:  # another simulator serves the same default rate
        clear_cache()
        assert NbpClient(base_url=other.nbp_url).rate_before("EUR", D(2026, 11, 5)) == eur


# --------------------------------------------------------------------------- cache
def test_second_call_is_served_from_the_cache(simulator):
    nbp = simulator.sim.nbp
    client = NbpClient(base_url=simulator.nbp_url)
    first = client.rate_before("GBP", D(2026, 11, 24))
    assert (client.fetched, nbp.requests) == (1, 1)
    nbp.set_rate("GBP", D(2026, 11, 23), "9.9999")  # historical rates never change: not asked again
    assert client.rate_before("gbp", D(2026, 11, 24)) == first
    assert NbpClient(base_url=simulator.nbp_url).rate_before("GBP", D(2026, 11, 24)) == first
    assert (client.fetched, nbp.requests) == (1, 1)
    # Another tax point is another request; a client without cache always asks.
    client.rate_before("GBP", D(2026, 11, 25))
    assert (client.fetched, nbp.requests) == (2, 2)
    uncached = NbpClient(base_url=simulator.nbp_url, cache=False)
    assert uncached.rate_before("GBP", D(2026, 11, 24)).mid == Decimal("9.9999")
    assert uncached.fetched == 1 and nbp.requests == 3


def test_cache_is_bounded_lru():
    cache = NbpRateCache(maxsize=2)
    rate = NbpRate("EUR", D(2026, 1, 2), Decimal("4.3"), "001/A/NBP/2026")
    cache.put("a", rate)
    cache.put("b", rate)
    assert cache.get("a") is rate  # "a" is now the most recent
    cache.put("c", rate)
    assert cache.get("b") is None and cache.get("a") is rate and cache.get("c") is rate
    assert len(cache) == 2


# --------------------------------------------------------------------------- errors
def test_unknown_currency_says_which_currency_and_day_in_both_languages(shared_simulator):
    client = NbpClient(base_url=shared_simulator.nbp_url)
    with pytest.raises(NbpNoRate) as info:
        client.rate_before("XYZ", D(2026, 11, 12))
    err = info.value
    assert isinstance(err, NbpError) and isinstance(err, KsefError) and err.code == "nbp_no_rate"
    for text in (err.message("en"), err.message("pl")):
        assert "XYZ" in text and "2026-11-11" in text and "2026-11-12" in text
    assert "enter the exchange rate on the invoice" in err.message_en
    assert "wpisz kurs na fakturze" in err.message_pl
    assert err.message_pl != err.message_en and "Traceback" not in err.bilingual()
    assert err.details["currency"] == "XYZ"
    with pytest.raises(NbpNoRate):  # a failure is not cached
        client.rate_before("XYZ", D(2026, 11, 12))
    assert client.fetched == 2


def test_nbp_unavailable_then_back(simulator):
    simulator.sim.nbp.set_available(False)
    client = NbpClient(base_url=simulator.nbp_url)
    with pytest.raises(NbpUnavailable) as info:
        client.rate_before("EUR", D(2026, 11, 12))
    err = info.value
    assert err.code == "nbp_unavailable" and err.details["reason"] == "http_503"
    assert "Try again later" in err.message_en and "enter the exchange rate on the invoice" in err.message_en
    assert "Spróbuj ponownie później" in err.message_pl and "wpisz kurs" in err.message_pl
    assert "EUR" in err.message_pl and "2026-11-11" in err.message_en
    simulator.sim.nbp.set_available(True)
    assert client.rate_before("EUR", D(2026, 11, 12)).effective_date == D(2026, 11, 10)
    assert client.fetched == 2 and simulator.sim.nbp.requests == 2


def test_connection_refused_is_unavailable():
    client = NbpClient(base_url="http://127.0.0.1:%d/nbp" % _closed_port(), timeout=5)
    with pytest.raises(NbpUnavailable) as info:
        client.rate_before("EUR", D(2026, 11, 12))
    assert info.value.details["reason"] == "connection"
    assert "nie" in info.value.message_pl and client.fetched == 1


def test_timeout_and_server_error_are_unavailable(simulator):
    client = NbpClient(base_url=simulator.nbp_url, timeout=0.3)
    simulator.sim.faults.delay("/api/exchangerates/*", 1.5)
    with pytest.raises(NbpUnavailable) as info:
        client.rate_before("EUR", D(2026, 11, 12))
    assert info.value.details["reason"] == "timeout"
    simulator.sim.faults.error("/api/exchangerates/*", status=500)
    with pytest.raises(NbpUnavailable) as info:
        client.rate_before("EUR", D(2026, 11, 12))
    assert info.value.details["reason"] == "http_500"


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ((200, "text/html", "<html><body>Przerwa techniczna</body></html>"), "bad_answer"),
        ((200, "application/json", '{"table": "A", "code": "EUR", "rates": {}}'), "bad_answer"),
        (
            (
                200,
                "application/json",
                '{"code": "USD", "rates": [{"no": "1", "effectiveDate": "2026-11-10", "mid": 3.9}]}',
            ),
            "bad_answer",
        ),
        (
            (200, "application/json", '{"code": "EUR", "rates": [{"effectiveDate": "2026-11-10", "mid": -1}]}'),
            "bad_answer",
        ),
        (
            (200, "application/json", '{"code": "EUR", "rates": [{"effectiveDate": "2026-11-10", "mid": "4.2"}]}'),
            "bad_answer",
        ),
        ((400, "text/plain", "400 BadRequest - Błędny zakres dat / Invalid date range"), "http_400"),
        ((502, "text/html", "<html>Bad gateway</html>"), "http_502"),
    ],
)
def test_answers_that_are_not_a_rate_are_unavailable(local_http, answer, reason):
    local_http.answer = answer
    with pytest.raises(NbpUnavailable) as info:
        NbpClient(base_url=local_http.url).rate_before("EUR", D(2026, 11, 12))
    assert info.value.details["reason"] == reason
    assert "Traceback" not in info.value.bilingual()


def test_mid_keeps_every_digit_nbp_sent(local_http):
    body = (
        '{"table":"A","currency":"euro","code":"EUR","rates":[{"no":"219/A/NBP/2026",'
        '"effectiveDate":"2026-11-10","mid":4.23456789012345678901}]}'
    )
    local_http.answer = (200, "application/json", body)
    rate = NbpClient(base_url=local_http.url).rate_before("EUR", D(2026, 11, 12))
    assert rate.mid == Decimal("4.23456789012345678901")  # a float would keep ~16 digits only


def test_empty_rates_is_no_rate(local_http):
    local_http.answer = (200, "application/json", json.dumps({"table": "A", "code": "EUR", "rates": []}))
    with pytest.raises(NbpNoRate):
        NbpClient(base_url=local_http.url).rate_before("EUR", D(2026, 11, 12))


@pytest.mark.parametrize("code", ["PLN", "pln", " Pln ", "EURO", "E1R", "", None])
def test_pln_and_non_codes_are_refused_without_a_request(shared_simulator, code):
    before = shared_simulator.sim.nbp.requests
    client = NbpClient(base_url=shared_simulator.nbp_url)
    with pytest.raises(NbpCurrencyError) as info:
        client.rate_before(code, D(2026, 11, 12))
    err = info.value
    assert isinstance(err, ValueError) and isinstance(err, InputError) and isinstance(err, NbpError)
    assert err.message_pl != err.message_en
    assert client.fetched == 0 and shared_simulator.sim.nbp.requests == before


def test_pln_message_says_no_rate_is_needed(shared_simulator):
    with pytest.raises(NbpCurrencyError) as info:
        NbpClient(base_url=shared_simulator.nbp_url).rate_before("PLN", D(2026, 11, 12))
    assert "PLN" in info.value.message_en and "nie jest potrzebny" in info.value.message_pl


# --------------------------------------------------------------------------- not published yet
def test_rate_not_published_yet_is_refused_and_not_cached():
    # 09:30 UTC = 10:30 in Warsaw on Monday 30 Nov 2026: that day's table is not out yet.
    with running_simulator(clock_start="2026-11-30T09:30:00Z", frozen=True) as srv:
        assert _raw(srv, "/A/EUR/2026-11-30/").status_code == 404
        client = NbpClient(base_url=srv.nbp_url, today=lambda: D(2026, 11, 30))
        with pytest.raises(NbpNoRate) as info:
            client.rate_before("EUR", D(2026, 12, 1))  # needs the table of 30 Nov
        err = info.value
        assert err.code == "nbp_rate_not_published" and err.details["missing"] == "2026-11-30"
        assert "2026-11-30" in err.message_en and "2026-11-30" in err.message_pl
        assert "12:00" in err.message_pl
        srv.sim.clock.set("2026-11-30T11:05:00Z")  # 12:05 in Warsaw: published
        rate = client.rate_before("EUR", D(2026, 12, 1))
        assert rate.effective_date == D(2026, 11, 30) and rate.table_no == "232/A/NBP/2026"
        # A later tax point whose business day has not come yet: refused without asking NBP.
        fetched = client.fetched
        with pytest.raises(NbpNoRate) as info:
            client.rate_before("EUR", D(2026, 12, 3))
        assert info.value.details["missing"] == "2026-12-02" and client.fetched == fetched


def test_weekend_before_a_future_monday_uses_fridays_rate(shared_simulator):
    session = RecordingSession()
    client = NbpClient(base_url=shared_simulator.nbp_url, session=session, today=lambda: D(2026, 11, 28))
    rate = client.rate_before("EUR", D(2026, 11, 30))  # asked on Saturday for Monday: Friday's rate
    assert rate.effective_date == D(2026, 11, 27)
    assert session.sent[0][1].endswith("/A/EUR/2026-11-15/2026-11-28/?format=json")  # never a future date
    client.rate_before("EUR", D(2026, 11, 30))
    assert client.fetched == 2  # not final yet: not cached


# --------------------------------------------------------------------------- calendar and stand-in
def test_polish_holidays():
    days = polish_holidays(2026)
    for day in (D(2026, 1, 6), D(2026, 4, 6), D(2026, 6, 4), D(2026, 8, 15), D(2026, 12, 24), D(2026, 12, 26)):
        assert day in days
    assert D(2025, 4, 21) in polish_holidays(2025)  # Easter Monday 2025
    assert D(2024, 12, 24) not in polish_holidays(2024)  # a working day until 2024
    assert is_business_day(D(2024, 12, 24)) and not is_business_day(D(2025, 12, 24))
    assert not is_business_day(D(2026, 11, 28)) and is_business_day(D(2026, 11, 27))


def test_stand_in_serves_business_days_only(shared_simulator):
    assert _raw(shared_simulator, "/A/EUR/2026-04-06/").status_code == 404  # Easter Monday
    assert _raw(shared_simulator, "/A/EUR/2026-06-04/").status_code == 404  # Corpus Christi
    assert _raw(shared_simulator, "/a/eur/2026-04-07").json()["rates"][0]["effectiveDate"] == "2026-04-07"
    with running_simulator(clock_start="2027-01-04T10:00:00Z", frozen=True) as srv:  # Monday, 11:00 Warsaw
        week = _raw(srv, "/A/EUR/2026-12-21/2027-01-04/").json()["rates"]
        # 24–27 Dec and 1–3 Jan are days off; today's (4 Jan) table is not out before 12:00.
        assert [r["effectiveDate"] for r in week] == [
            "2026-12-21",
            "2026-12-22",
            "2026-12-23",
            "2026-12-28",
            "2026-12-29",
            "2026-12-30",
            "2026-12-31",
        ]
        assert _raw(srv, "/A/EUR/2027-01-05/2027-01-08/").status_code == 404  # the future
        srv.sim.nbp.set_rate("EUR", D(2027, 1, 8), "4.1")  # explicit rates are served whatever the date
        assert _raw(srv, "/A/EUR/2027-01-05/2027-01-08/").json()["rates"][0]["mid"] == 4.1


def test_stand_in_refuses_bad_requests_like_nbp(shared_simulator):
    long_range = _raw(shared_simulator, "/A/EUR/2026-01-01/2026-06-01/")
    assert long_range.status_code == 400 and "93" in long_range.text
    assert _raw(shared_simulator, "/A/EUR/2026-01-01/2026-04-03/").status_code == 200  # 93 days
    assert _raw(shared_simulator, "/A/EUR/2026-01-01/2026-04-04/").status_code == 400  # 94 days
    assert _raw(shared_simulator, "/A/EUR/2026-02-30/").status_code == 400
    assert _raw(shared_simulator, "/A/EUR/2026-11-10/2026-11-01/").status_code == 400
    assert _raw(shared_simulator, "/X/EUR/2026-11-10/").status_code == 400
    missing = _raw(shared_simulator, "/A/XYZ/2026-11-10/")
    assert missing.status_code == 404 and missing.text == "404 NotFound - Not Found - Brak danych"


def test_admin_http_api_sets_rates_and_availability(simulator):
    admin = simulator.admin_url + "/nbp"
    answer = requests.post(admin, json={"rates": [{"code": "EUR", "date": "2026-11-27", "mid": "4.4444"}]}, timeout=10)
    assert answer.status_code == 200 and answer.json()["explicitRates"] == 1
    assert NbpClient(base_url=simulator.nbp_url).rate_before("EUR", D(2026, 11, 30)).mid == Decimal("4.4444")
    assert requests.post(admin, json={"available": False}, timeout=10).json()["available"] is False
    with pytest.raises(NbpUnavailable):
        NbpClient(base_url=simulator.nbp_url).rate_before("EUR", D(2026, 11, 20))
    assert requests.post(admin, json={"rates": [{"code": "EUR", "date": "x", "mid": 1}]}, timeout=10).status_code == 400
