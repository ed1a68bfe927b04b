"""Latarnia (KSeF status service): ``GET /latarnia/status`` and ``GET /latarnia/messages``.

Shapes follow the official clients: status ``{"status": "AVAILABLE"|"MAINTENANCE"|"FAILURE"|
"TOTAL_FAILURE", "messages": [...]}``; message ``{id, eventId, category, type, title, text, start,
end, version, published}``. Switch with ``sim.set_latarnia(status, message=...)``.
"""

from .clock import iso
from .errors import validation_error
from .routing import json_response, route

STATUSES = ("AVAILABLE", "MAINTENANCE", "FAILURE", "TOTAL_FAILURE")
_START_TYPE = {
    "FAILURE": "FAILURE_START",
    "TOTAL_FAILURE": "FAILURE_START",
    "MAINTENANCE": "MAINTENANCE_ANNOUNCEMENT",
}
_TITLES = {
    "MAINTENANCE": "Prace serwisowe KSeF",
    "FAILURE": "Awaria KSeF",
    "TOTAL_FAILURE": "Awaria całkowita KSeF",
}


class Latarnia:
    def __init__(self, sim):
        self.sim = sim
        data = sim.state.bucket("latarnia")
        data.setdefault("status", "AVAILABLE")
        data.setdefault("messages", [])
        data.setdefault("active", [])
        data.setdefault("lastEvent", 0)
        self.data = data

    def _next_event(self):
        self.data["lastEvent"] += 1
        return self.data["lastEvent"]

    @property
    def status(self):
        return self.data["status"]

    def set_status(self, status, message=None, title=None, start=None, end=None):
        """Switch the status; non-AVAILABLE statuses publish a message (FAILURE_START/MAINTENANCE_…);
        going back to AVAILABLE publishes FAILURE_END for an active failure."""
        status = str(status or "").upper()
        if status not in STATUSES:
            raise ValueError("Latarnia status must be one of %s" % (STATUSES,))
        now = self.sim.clock.now()
        with self.sim.state.lock:
            previous = self.data["status"]
            self.data["status"] = status
            msg = None
            if status != "AVAILABLE":
                msg = self._message(
                    status,
                    _START_TYPE[status],
                    title or _TITLES[status],
                    message or _TITLES[status],
                    start or now,
                    end,
                    now,
                )
                self.data["active"] = [msg]
            else:
                ended = [m for m in self.data["active"] if m["category"] in ("FAILURE", "TOTAL_FAILURE")]
                if previous in ("FAILURE", "TOTAL_FAILURE") or ended:
                    category = ended[0]["category"] if ended else previous
                    event = ended[0]["eventId"] if ended else self._next_event()
                    msg = self._message(
                        category,
                        "FAILURE_END",
                        title or "Koniec awarii KSeF",
                        message or "KSeF działa poprawnie.",
                        now,
                        now,
                        now,
                        event,
                    )
                self.data["active"] = []
            if msg is not None:
                self.data["messages"].append(msg)
            return msg

    def _message(self, category, mtype, title, text, start, end, now, event_id=None):
        return {
            "id": "sim-%d" % (len(self.data["messages"]) + 1),
            "eventId": event_id if event_id is not None else self._next_event(),
            "category": category,
            "type": mtype,
            "title": title,
            "text": text,
            "start": iso(start),
            "end": iso(end) if end else None,
            "version": 1,
            "published": iso(now),
        }

    def status_body(self):
        return {"status": self.data["status"], "messages": list(self.data["active"])}


@route("GET", "/status", auth="none", rate_group=None, prefix="/latarnia")
def latarnia_status(sim, ctx):
    return json_response(sim.latarnia.status_body())


@route("GET", "/messages", auth="none", rate_group=None, prefix="/latarnia")
def latarnia_messages(sim, ctx):
    return json_response(list(sim.latarnia.data["messages"]))


def parse_status(value):
    status = str(value or "").upper()
    if status not in STATUSES:
        raise validation_error("status must be one of %s" % ", ".join(STATUSES))
    return status
