"""Offline invoices: their modes and the day by which each must be in KSeF (VAT Act art. 106nda, 106nf, 106nh).

* **offline24** (the taxpayer's choice, e.g. no connection): by the next business day after the issue date;
* **offline** (an unavailability the Ministry announced, e.g. maintenance): by the next business day after it ends;
* **emergency** (a failure announced in Latarnia): within 7 business days after it ends;
* **total failure** (announced in the mass media): no sending at all.

A failure announced while an offline24 or offline invoice waits moves its deadline to 7 business days after that
failure ends. Business days are counted in the Polish calendar (``calendar_pl``). Announcements come from
Latarnia's messages (``outages_from_messages``); a deadline that depends on an outage still going on is ``None``
(its end is not known yet).
"""

import datetime as dt
from dataclasses import dataclass

from .calendar_pl import add_business_days, next_business_day, warsaw_now
from .client.tokens import parse_datetime

OFFLINE24 = "offline24"
UNAVAILABLE = "offline"
EMERGENCY = "emergency"
TOTAL_FAILURE = "total_failure"
MODES = (OFFLINE24, UNAVAILABLE, EMERGENCY, TOTAL_FAILURE)
EMERGENCY_BUSINESS_DAYS = 7
SLACK = dt.timedelta(seconds=1)

#: Latarnia's status -> the offline mode an invoice issued then is in
MODE_OF_STATUS = {
    "AVAILABLE": OFFLINE24,
    "MAINTENANCE": UNAVAILABLE,
    "FAILURE": EMERGENCY,
    "TOTAL_FAILURE": TOTAL_FAILURE,
}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
#: Latarnia's message category -> the kind of outage
_KIND_OF_CATEGORY = {"MAINTENANCE": UNAVAILABLE, "FAILURE": EMERGENCY, "TOTAL_FAILURE": TOTAL_FAILURE}


@dataclass(frozen=True)
class Outage:
    """An announced outage: ``kind`` one of UNAVAILABLE / EMERGENCY / TOTAL_FAILURE; ``start``/``end`` aware
    datetimes, ``end`` None while it lasts."""

    kind: str
    start: dt.datetime
    end: dt.datetime = None

    def covers(self, moment):
        """Going on at ``moment``, give or take a second (stored moments are kept to the second)."""
        return self.start <= moment + SLACK and (self.end is None or moment - SLACK < self.end)


def _parse(value):
    try:
        return parse_datetime(value) if value else None
    except (TypeError, ValueError):
        return None


def outages_from_messages(messages, now=None, available=False):
    """The outages Latarnia's messages announce (one per event: its start, and its end once announced). Malformed
    messages are skipped. With ``available`` (Latarnia says AVAILABLE at ``now``), an outage whose end was never
    announced is taken as over by ``now``."""
    events = {}
    usable = [m for m in messages or () if isinstance(m, dict)]
    for message in sorted(usable, key=lambda m: (_parse(m.get("published")) or _EPOCH, str(m.get("version") or ""))):
        kind = _KIND_OF_CATEGORY.get(str(message.get("category") or "").upper())
        if not kind:
            continue
        key = message.get("eventId") or message.get("id")
        current = events.get(key) or {"kind": kind, "start": None, "end": None}
        start, end, published = (
            _parse(message.get("start")),
            _parse(message.get("end")),
            _parse(message.get("published")),
        )
        if str(message.get("type") or "").upper() == "FAILURE_END":
            current["end"] = end or published or start
        else:
            current["start"] = start or current["start"] or published
            current["end"] = end or current["end"]
        events[key] = current
    outages = [Outage(e["kind"], e["start"], e["end"]) for e in events.values() if e["start"]]
    if available and now is not None:
        outages = [o if o.end or o.start > now else Outage(o.kind, o.start, now) for o in outages]
    return outages


def _local_day(moment):
    return warsaw_now(moment).date()


def send_deadline(mode, issued_at, outages=(), issue_date=None):
    """The last day (a date, Warsaw) on which an invoice issued offline at ``issued_at`` (aware datetime) in
    ``mode`` may reach KSeF; ``None`` when it is not known yet (an outage still going on) or there is none
    (total failure). ``issue_date``: the invoice's own issue date (P_1), when earlier than the day it went
    offline (the deadlines count from the issue)."""
    issue_day = _local_day(issued_at)
    if issue_date is not None and issue_date < issue_day:
        issue_day = issue_date
    if mode == TOTAL_FAILURE:
        return None
    deadline = next_business_day(issue_day)  # offline24; never earlier for the other modes either
    if mode in (UNAVAILABLE, EMERGENCY):
        # the outage the invoice was issued in: one of that kind going on then
        during = [o for o in outages if o.kind == mode and o.covers(issued_at)]
        outage = max(during, key=lambda o: o.start) if during else None
        if outage is not None and outage.end is None:
            return None
        end_day = max(_local_day(outage.end), issue_day) if outage is not None else issue_day
        if mode == UNAVAILABLE:
            deadline = max(deadline, next_business_day(end_day))
        else:
            deadline = max(deadline, add_business_days(end_day, EMERGENCY_BUSINESS_DAYS))
    # a failure announced before the deadline passed moves it to 7 business days after the failure ends
    for outage in sorted(outages, key=lambda o: o.start):
        if outage.kind not in (EMERGENCY, TOTAL_FAILURE) or _local_day(outage.start) > deadline:
            continue
        if outage.end is not None and outage.end <= issued_at:
            continue
        if outage.end is None:
            return None
        deadline = max(deadline, add_business_days(_local_day(outage.end), EMERGENCY_BUSINESS_DAYS))
    return deadline
