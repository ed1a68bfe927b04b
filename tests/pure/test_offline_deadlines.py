"""Offline invoices' deadlines in business days of the Polish calendar (ksef_core.offline, ksef_core.calendar_pl)."""

import datetime as dt

import pytest
import requests

from ksef_core.calendar_pl import add_business_days, next_business_day
from ksef_core.offline import (
    EMERGENCY,
    OFFLINE24,
    TOTAL_FAILURE,
    UNAVAILABLE,
    Outage,
    outages_from_messages,
    send_deadline,
)

D = dt.date
UTC = dt.timezone.utc


def at(day, hour=10, minute=0):
    """A moment of that Warsaw day (CET, UTC+1 in winter; CEST, UTC+2 in summer)."""
    summer = 3 < day.month < 11
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - dt.timedelta(hours=2 if summer else 1)


@pytest.mark.parametrize(
    "issued, deadline, why",
    [
        (D(2026, 11, 25), D(2026, 11, 26), "Wednesday: Thursday"),
        (D(2026, 11, 27), D(2026, 11, 30), "Friday: over the weekend"),
        (D(2026, 11, 10), D(2026, 11, 12), "11 November"),
        (D(2026, 4, 3), D(2026, 4, 7), "Easter Monday 6 April 2026"),
        (D(2026, 6, 3), D(2026, 6, 5), "Corpus Christi 4 June 2026"),
        (D(2026, 12, 23), D(2026, 12, 28), "24 December, a day off since 2025, then Christmas and a weekend"),
        (D(2024, 12, 23), D(2024, 12, 24), "24 December 2024 was still a working day"),
        (D(2026, 12, 31), D(2027, 1, 4), "New Year's Day and a weekend"),
        (D(2027, 1, 5), D(2027, 1, 7), "Epiphany"),
    ],
)
def test_offline24_is_due_the_next_business_day(issued, deadline, why):
    assert send_deadline(OFFLINE24, at(issued)) == deadline, why


def test_the_issue_day_is_warsaws():
    late_evening = dt.datetime(2026, 11, 26, 23, 30, tzinfo=UTC)  # 00:30 on Friday 27 November in Warsaw
    assert send_deadline(OFFLINE24, late_evening) == D(2026, 11, 30)


def test_announced_unavailability_is_due_the_business_day_after_it_ends():
    maintenance = Outage(UNAVAILABLE, at(D(2026, 11, 27), 9), at(D(2026, 11, 28), 18))
    assert send_deadline(UNAVAILABLE, at(D(2026, 11, 27), 11), [maintenance]) == D(2026, 11, 30)
    going_on = Outage(UNAVAILABLE, at(D(2026, 11, 27), 9))
    assert send_deadline(UNAVAILABLE, at(D(2026, 11, 27), 11), [going_on]) is None


def test_emergency_is_due_seven_business_days_after_the_failure_ends():
    failure = Outage(EMERGENCY, at(D(2026, 11, 9), 8), at(D(2026, 11, 10), 15))
    # 12, 13, 16, 17, 18, 19, 20 November (11 November is a holiday)
    assert send_deadline(EMERGENCY, at(D(2026, 11, 9), 12), [failure]) == D(2026, 11, 20)
    assert send_deadline(EMERGENCY, at(D(2026, 11, 9), 12), [Outage(EMERGENCY, failure.start)]) is None


def test_a_failure_during_the_deadline_moves_it():
    issued = at(D(2026, 11, 27), 16)  # offline24: due Monday 30 November
    failure = Outage(EMERGENCY, at(D(2026, 11, 30), 8), at(D(2026, 12, 1), 12))
    assert send_deadline(OFFLINE24, issued, [failure]) == D(2026, 12, 10)
    assert send_deadline(OFFLINE24, issued, [Outage(EMERGENCY, failure.start)]) is None
    after_the_deadline = Outage(EMERGENCY, at(D(2026, 12, 1), 8), at(D(2026, 12, 1), 12))
    assert send_deadline(OFFLINE24, issued, [after_the_deadline]) == D(2026, 11, 30)
    over_before_the_invoice = Outage(EMERGENCY, at(D(2026, 11, 20), 8), at(D(2026, 11, 21), 12))
    assert send_deadline(OFFLINE24, issued, [over_before_the_invoice]) == D(2026, 11, 30)


def test_total_failure_has_no_deadline():
    assert send_deadline(TOTAL_FAILURE, at(D(2026, 11, 27))) is None


def test_business_day_arithmetic():
    assert next_business_day(D(2026, 4, 3)) == D(2026, 4, 7)
    assert add_business_days(D(2026, 12, 22), 3) == D(2026, 12, 29)


def test_outages_from_the_simulators_latarnia(simulator):
    sim = simulator.sim
    sim.set_latarnia("FAILURE")
    sim.clock.advance(3600)
    sim.set_latarnia("AVAILABLE")
    sim.set_latarnia("MAINTENANCE")
    messages = requests.get(simulator.latarnia_url + "/messages", timeout=10).json()
    outages = outages_from_messages(messages)
    assert sorted(o.kind for o in outages) == sorted([UNAVAILABLE, EMERGENCY])
    failure = next(o for o in outages if o.kind == EMERGENCY)
    assert failure.end is not None and failure.end - failure.start >= dt.timedelta(hours=1)
    maintenance = next(o for o in outages if o.kind == UNAVAILABLE)
    assert maintenance.end is None, "announced without an end: still going on"


def test_an_outage_over_before_the_invoice_does_not_date_it_back():
    old_maintenance = Outage(UNAVAILABLE, at(D(2026, 11, 2), 8), at(D(2026, 11, 2), 12))
    assert send_deadline(UNAVAILABLE, at(D(2026, 11, 25)), [old_maintenance]) == D(2026, 11, 26)
    old_failure = Outage(EMERGENCY, at(D(2026, 10, 1), 8), at(D(2026, 10, 2), 12))
    # no failure going on: at least the next business day after the issue, 7 business days after it at most
    assert send_deadline(EMERGENCY, at(D(2026, 11, 25)), [old_failure]) == D(2026, 12, 4)


def test_the_deadline_counts_from_the_invoices_issue_date_when_earlier():
    went_offline = at(D(2026, 11, 27), 9)  # Friday; the invoice is dated Thursday
    assert send_deadline(OFFLINE24, went_offline, issue_date=D(2026, 11, 26)) == D(2026, 11, 27)
    assert send_deadline(OFFLINE24, went_offline, issue_date=D(2026, 11, 30)) == D(2026, 11, 30)


def test_latarnia_messages_odd_shapes():
    start = "2026-11-30T08:00:00.1234Z"  # four fraction digits: Python 3.10's fromisoformat refuses them
    messages = [
        {"eventId": 7, "category": "FAILURE", "type": "FAILURE_START", "start": start, "published": start},
        {"eventId": 7, "category": "FAILURE", "type": "FAILURE_END", "published": "2026-12-01T11:00:00Z"},
        {"eventId": 8, "category": "MAINTENANCE", "type": "MAINTENANCE_ANNOUNCEMENT", "start": "not a date"},
        "garbage",
        {"eventId": 9, "category": "MAINTENANCE", "type": "MAINTENANCE_ANNOUNCEMENT", "start": start},
    ]
    outages = {o.kind: o for o in outages_from_messages(messages)}
    assert outages[EMERGENCY].end == dt.datetime(2026, 12, 1, 11, tzinfo=UTC), "the end message's publication"
    assert outages[UNAVAILABLE].end is None
    now = dt.datetime(2026, 12, 1, 12, tzinfo=UTC)
    closed = {o.kind: o for o in outages_from_messages(messages, now=now, available=True)}
    assert closed[UNAVAILABLE].end == now, "Latarnia says AVAILABLE: an outage without an announced end is over"
