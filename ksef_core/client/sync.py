"""Incremental download of received invoices on ``permanentStorageHwmDate``.

:class:`SyncState` (serialisable, persisted by the caller) remembers where the
next window starts and which KSeF numbers at that edge were already handed
out.  :meth:`InvoiceSync.run` yields each new invoice exactly once across runs
and windows: the window start moves only after a whole window was consumed,
and numbers already yielded are skipped when a window is read again.

The state counts an invoice as delivered when it is yielded (``on_progress`` is
called just before): persist the state in the same transaction that stores the
invoice, so a rollback undoes both.
"""

import datetime
import logging

from .tokens import format_datetime, parse_datetime

_logger = logging.getLogger(__name__)

SUBJECT_TYPES = ("Subject1", "Subject2", "Subject3", "SubjectAuthorized")
MAX_WINDOW = datetime.timedelta(days=90)


class SyncState:
    """``date_from`` (ISO text) of the next window + ``seen`` ``{ksefNumber: permanentStorageDate}``."""

    def __init__(self, subject_type="Subject2", date_from=None, seen=None):
        self.subject_type = subject_type
        self.date_from = format_datetime(parse_datetime(date_from)) if date_from else None
        self.seen = dict(seen or {})

    def to_dict(self):
        return {"subject_type": self.subject_type, "date_from": self.date_from, "seen": dict(self.seen)}

    @classmethod
    def from_dict(cls, data):
        data = data or {}
        return cls(data.get("subject_type") or "Subject2", data.get("date_from"), data.get("seen"))

    def advance(self, new_from):
        """Start the next window at ``new_from``; forget numbers stored before it."""
        new_dt = parse_datetime(new_from)
        self.date_from = format_datetime(new_dt)
        self.seen = {k: v for k, v in self.seen.items() if v and parse_datetime(v) >= new_dt}

    def __repr__(self):
        return "SyncState(%s from %s, %d at edge)" % (self.subject_type, self.date_from, len(self.seen))


class SyncItem:
    """One synced invoice: ``ksef_number``, ``xml`` (bytes) and ``metadata`` (dict)."""

    __slots__ = ("ksef_number", "metadata", "xml")

    def __init__(self, ksef_number, xml, metadata):
        self.ksef_number = ksef_number
        self.xml = xml
        self.metadata = metadata or {}

    def __repr__(self):
        return "SyncItem(%s)" % self.ksef_number


class InvoiceSync:
    """Yields new invoices of ``state.subject_type``.

    :param mode: ``"export"`` (async export packages, for volume) or ``"query"``
        (metadata query + one download per invoice, for small volumes).
    :param on_progress: called with the state whenever it changed (persist it there).
    """

    def __init__(self, client, state, mode="export", on_progress=None, max_windows=20):
        self._c = client
        self.state = state
        self.mode = mode
        self.on_progress = on_progress
        self.max_windows = max_windows

    def _changed(self):
        if self.on_progress:
            self.on_progress(self.state)

    def _filters(self):
        now = self._c.clock()
        start = parse_datetime(self.state.date_from) if self.state.date_from else now - MAX_WINDOW
        date_range = {
            "dateType": "PermanentStorage",
            "from": format_datetime(start),
            "restrictToPermanentStorageHwmDate": True,
        }
        end = None
        if now - start > MAX_WINDOW:
            end = start + MAX_WINDOW
            date_range["to"] = format_datetime(end)
        return {"subjectType": self.state.subject_type, "dateRange": date_range}, start, end

    def _emit(self, number, xml, metadata):
        if number in self.state.seen:
            return None
        self.state.seen[number] = metadata.get("permanentStorageDate") or self.state.date_from
        return SyncItem(number, xml, metadata)

    def run(self):
        """Iterate over new invoices; the state is updated as items are consumed."""
        if self.state.date_from is None:
            self.state.date_from = self._filters()[0]["dateRange"]["from"]
        for _window in range(self.max_windows):
            filters, start, end = self._filters()
            if self.mode == "query":
                truncated, next_from = yield from self._query_window(filters)
            else:
                truncated, next_from = yield from self._export_window(filters)
            if truncated:
                if not next_from:  # never with dateType PermanentStorage; do not skip past unread invoices
                    _logger.warning("KSeF truncated a window without naming where it ended; sync stops here")
                    self._changed()
                    return
                self.state.advance(next_from)
                self._changed()
                continue
            candidates = [d for d in (next_from, end and format_datetime(end)) if d]
            if candidates:
                new_from = min(candidates, key=parse_datetime)
                if parse_datetime(new_from) > start:
                    self.state.advance(new_from)
            self._changed()
            if end is None or (next_from and parse_datetime(next_from) < end):
                return
        _logger.info("KSeF sync stopped after %d windows; it continues on the next run", self.max_windows)

    def _export_window(self, filters):
        """Yield the window's new invoices; return (truncated, start of the next window or None).

        KSeF promises ``lastPermanentStorageDate`` only on a truncated package and a nullable
        ``permanentStorageHwmDate``: without them the latest ``permanentStorageDate`` seen is used.
        """
        export = self._c.receiving.export(filters)
        last = None
        for inv in export:
            stored = inv.metadata.get("permanentStorageDate")
            if stored and (last is None or parse_datetime(stored) > parse_datetime(last)):
                last = stored
            item = self._emit(inv.ksef_number, inv.xml, inv.metadata)
            if item is not None:
                self._changed()
                yield item
        package = export.package
        if package is None:
            return False, None
        if package.is_truncated:
            return True, package.last_permanent_storage_date or last
        return False, package.permanent_storage_hwm_date or last

    def _query_window(self, filters):
        info = {}
        last = None
        for meta in self._c.receiving.query_metadata(filters, info=info):
            last = meta.get("permanentStorageDate") or last
            number = meta.get("ksefNumber")
            if number in self.state.seen:
                continue
            item = self._emit(number, self._c.receiving.download(number), meta)
            self._changed()
            yield item
        return False, info.get("permanentStorageHwmDate") or last
