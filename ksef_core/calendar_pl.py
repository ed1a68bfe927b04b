"""The Polish calendar the law counts in: public holidays (computed, Easter-based: no table to keep up to
date), business days, Warsaw time. NBP publishes its rates on business days (``nbp.py``); offline invoices
must reach KSeF within business days (``offline.py``)."""

import datetime as dt
import functools


def easter_sunday(year):
    """Gregorian Easter Sunday (anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


@functools.lru_cache(maxsize=64)
def polish_holidays(year):
    """Statutory public holidays in Poland (days off work) of ``year``, as a frozenset of dates."""
    easter = easter_sunday(year)
    days = {
        dt.date(year, 1, 1),
        dt.date(year, 5, 1),
        dt.date(year, 5, 3),
        dt.date(year, 8, 15),
        dt.date(year, 11, 1),
        dt.date(year, 11, 11),
        dt.date(year, 12, 25),
        dt.date(year, 12, 26),
        easter,
        easter + dt.timedelta(days=1),  # Easter Monday
        easter + dt.timedelta(days=49),  # Pentecost (a Sunday)
        easter + dt.timedelta(days=60),  # Corpus Christi
    }
    if year >= 2011:
        days.add(dt.date(year, 1, 6))  # Epiphany, a day off again since 2011
    if year >= 2025:
        days.add(dt.date(year, 12, 24))  # Christmas Eve, a day off since 2025
    return frozenset(days)


def is_business_day(day):
    """Monday to Friday except Polish public holidays (NBP table A days; offline deadlines count them)."""
    return day.weekday() < 5 and day not in polish_holidays(day.year)


def last_business_day(day):
    """``day`` itself if it is a business day, else the last business day before it."""
    while not is_business_day(day):
        day -= dt.timedelta(days=1)
    return day


def warsaw_now(now_utc=None):
    """Local time in Warsaw (naive) for an aware UTC time (default: now); EU summer-time rules."""
    now_utc = now_utc or dt.datetime.now(dt.timezone.utc)
    utc = now_utc.astimezone(dt.timezone.utc).replace(tzinfo=None)

    def last_sunday(month):
        day = dt.date(utc.year, month, 31)
        return dt.datetime.combine(day - dt.timedelta(days=(day.weekday() + 1) % 7), dt.time(1, 0))

    summer = last_sunday(3) <= utc < last_sunday(10)
    return utc + dt.timedelta(hours=2 if summer else 1)


def next_business_day(day):
    """The first business day after ``day``."""
    day += dt.timedelta(days=1)
    while not is_business_day(day):
        day += dt.timedelta(days=1)
    return day


def add_business_days(day, count):
    """The ``count``-th business day after ``day`` (``count`` >= 1)."""
    for _ in range(count):
        day = next_business_day(day)
    return day
