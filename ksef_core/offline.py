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

OFFLINE24 = "offline24"
UNAVAILABLE = "offline"
EMERGENCY = "emergency"
TOTAL_FAILURE = "total_failure"
MODES = (OFFLINE24, UNAVAILABLE, EMERGENCY, TOTAL_FAILURE)
EMERGENCY_BUSINESS_DAYS = 7

#: Latarnia's status -> the offline mode an invoice issued then is in
MODE_OF_STATUS = {
    "AVAILABLE": OFFLINE24,
    "MAINTENANCE": UNAVAILABLE,
    "FAILURE": EMERGENCY,
    "TOTAL_FAILURE": TOTAL_FAILURE,
}
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
        return self.start <= moment and (self.end is None or moment < self.end)


def _parse(value):
    if not value:
        return None
    moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def outages_from_messages(messages):
    """The outages Latarnia's messages announce (one per event: its start, and its end once announced)."""
    events = {}
    for message in sorted(messages or (), key=lambda m: (str(m.get("published") or ""), m.get("version") or 0)):
        kind = _KIND_OF_CATEGORY.get(str(message.get("category") or "").upper())
        if not kind:
            continue
        key = message.get("eventId") or message.get("id")
        current = events.get(key) or {"kind": kind, "start": None, "end": None}
        start, end = _parse(message.get("start")), _parse(message.get("end"))
        if str(message.get("type") or "").upper() == "FAILURE_END":
            current["end"] = end or start or _parse(message.get("published"))
        else:
            current["start"] = start or current["start"] or _parse(message.get("published"))
            current["end"] = end or current["end"]
        events[key] = current
    return [Outage(e["kind"], e["start"], e["end"]) for e in events.values() if e["start"]]


def _local_day(moment):
    return warsaw_now(moment).date()


def send_deadline(mode, issued_at, outages=()):
    """The last day (a date, Warsaw) on which an invoice issued offline at ``issued_at`` (aware datetime) in
    ``mode`` may reach KSeF; ``None`` when it is not known yet (an outage still going on) or there is none
    (total failure)."""
    issue_day = _local_day(issued_at)
    if mode == TOTAL_FAILURE:
        return None
    if mode == OFFLINE24:
        deadline = next_business_day(issue_day)
    else:
        # the outage the invoice was issued in (the latest of that kind that had started by then)
        kind = UNAVAILABLE if mode == UNAVAILABLE else EMERGENCY
        during = [o for o in outages if o.kind == kind and o.start <= issued_at]
        outage = max(during, key=lambda o: o.start) if during else None
        if outage is not None and outage.end is None:
            return None
        end_day = _local_day(outage.end) if outage is not None else issue_day
        if mode == UNAVAILABLE:
            deadline = next_business_day(end_day)
        else:
            deadline = add_business_days(end_day, EMERGENCY_BUSINESS_DAYS)
    # a failure announced before the deadline passed moves it to 7 business days after the failure ends
    for outage in sorted(outages, key=lambda o: o.start):
        if outage.kind not in (EMERGENCY, TOTAL_FAILURE) or _local_day(outage.start) > deadline:
            continue
        if outage.end is None:
            return None
        if outage.end <= issued_at:
            continue
        deadline = max(deadline, add_business_days(_local_day(outage.end), EMERGENCY_BUSINESS_DAYS))
    return deadline
