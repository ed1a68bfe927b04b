"""NBP rates of many tax points in one request (``NbpClient.rates_for_days``, ``pick_rates``): what Odoo
fetches ahead of time so that confirming an invoice never waits on NBP (VAT act art. 31a ust. 1)."""

import datetime as dt
from decimal import Decimal

import pytest

from ksef_core.nbp import NbpClient, NbpRate, NbpUnavailable, clear_cache, pick_rates
from ksef_core.simulator.testing import running_simulator

D = dt.date


@pytest.fixture(autouse=True)
def _empty_cache():
    clear_cache()
    yield
    clear_cache()


def test_one_request_gives_each_tax_point_the_rate_of_the_business_day_before(simulator):
    nbp = simulator.sim.nbp
    nbp.set_rate("EUR", D(2026, 11, 10), "4.2010")
    nbp.set_rate("EUR", D(2026, 11, 27), "4.2270")
    nbp.set_rate("EUR", D(2026, 11, 30), "4.2300")
    client = NbpClient(base_url=simulator.nbp_url, today=lambda: D(2026, 12, 7))
    before = nbp.requests
    found = client.rates_for_days("EUR", [D(2026, 11, 12), D(2026, 11, 30), D(2026, 12, 1), D(2026, 11, 29)])
    assert nbp.requests == before + 1, "one request for all the days"
    assert found[D(2026, 11, 12)].effective_date == D(2026, 11, 10), "11 Nov is a holiday: the 10th"
    assert found[D(2026, 11, 12)].mid == Decimal("4.2010")
    assert found[D(2026, 11, 30)] == NbpRate("EUR", D(2026, 11, 27), Decimal("4.2270"), "231/A/NBP/2026")
    assert found[D(2026, 11, 29)].effective_date == D(2026, 11, 27), "a Sunday: Friday's rate"
    assert found[D(2026, 12, 1)].mid == Decimal("4.2300")
    # the same rates as asking day by day
    for day, rate in found.items():
        assert NbpClient(base_url=simulator.nbp_url, cache=False).rate_before("EUR", day) == rate


def test_tax_points_whose_table_is_not_out_yet_are_left_out():
    # 10:30 in Warsaw on Monday 30 Nov 2026: that day's table is not out yet
    with running_simulator(clock_start="2026-11-30T09:30:00Z", frozen=True) as srv:
        client = NbpClient(base_url=srv.nbp_url, today=lambda: D(2026, 11, 30))
        found = client.rates_for_days("EUR", [D(2026, 11, 30), D(2026, 12, 1), D(2026, 12, 2)])
        assert set(found) == {D(2026, 11, 30)}, "Monday needs Friday's table; Tuesday needs Monday's, not out yet"
        srv.sim.clock.set("2026-11-30T11:05:00Z")  # 12:05 in Warsaw
        found = client.rates_for_days("EUR", [D(2026, 12, 1), D(2026, 12, 2)])
        assert set(found) == {D(2026, 12, 1)}
        assert found[D(2026, 12, 1)].effective_date == D(2026, 11, 30)


def test_only_future_days_make_no_request(simulator):
    client = NbpClient(base_url=simulator.nbp_url, today=lambda: D(2026, 11, 30))
    assert client.rates_for_days("EUR", [D(2026, 12, 5), D(2026, 12, 8)]) == {}
    assert client.fetched == 0


def test_unavailable_nbp_raises_and_unknown_currency_gives_nothing(simulator):
    client = NbpClient(base_url=simulator.nbp_url, today=lambda: D(2026, 12, 7))
    assert client.rates_for_days("XYZ", [D(2026, 11, 30)]) == {}
    simulator.sim.nbp.set_available(False)
    with pytest.raises(NbpUnavailable):
        client.rates_for_days("EUR", [D(2026, 11, 30)])


def test_a_span_nbp_would_refuse_is_not_asked(simulator):
    client = NbpClient(base_url=simulator.nbp_url, today=lambda: D(2026, 12, 7))
    with pytest.raises(ValueError):
        client.rates_for_days("EUR", [D(2026, 1, 5), D(2026, 11, 30)])
    assert client.fetched == 0


def test_pick_rates_skips_gaps_longer_than_the_lookback():
    rates = [NbpRate("EUR", D(2026, 10, 1), Decimal("4.3"), "190/A/NBP/2026")]
    assert pick_rates(rates, [D(2026, 10, 2), D(2026, 11, 2)], today=D(2026, 12, 7)) == {D(2026, 10, 2): rates[0]}
