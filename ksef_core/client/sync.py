"""Incremental download of received invoices on ``permanentStorageHwmDate``.

:class:`SyncState` (serialisable, persisted by the caller) remembers where the
next window starts, which KSeF numbers at that edge were already handed out and
the export under way.  :meth:`InvoiceSync.run` yields each new invoice exactly
once across runs and windows:

* the invoices of a package come ascending by ``permanentStorageDate``; each one
  handed out moves the window start to its date (numbers at that date are kept in
  ``seen``), so a run that stops early (the caller's limit, the run's deadline, an
  error) leaves the window at the last invoice it finished: a backlog is read once;
* a started export is remembered (reference, filters, key and IV: the caller keeps
  the key secret) and the next run resumes it by its status (fresh part URLs, no new
  export: KSeF allows 20 an hour) while KSeF still has it; invoices before the window
  start or in ``seen`` are skipped; an expired, gone or failed export is forgotten and
  a new one started;
* the window moves past the package (``lastPermanentStorageDate`` when truncated,
  else ``permanentStorageHwmDate``) only once the whole package was consumed.

The state counts an invoice as delivered when it is yielded (``on_progress`` is
called just before): persist the state in the same transaction that stores the
invoice, so a rollback undoes both.
"""

import binascii
import datetime
import logging

from ..crypto import new_symmetric_key
from ..errors import XmlInputError
from ..hashing import b64, b64decode
from .errors import KsefApiError, KsefProcessingError
from .tokens import format_datetime, parse_datetime

_logger = logging.getLogger(__name__)

SUBJECT_TYPES = ("Subject1", "Subject2", "Subject3", "SubjectAuthorized")
MAX_WINDOW = datetime.timedelta(days=90)


#: keys of ``SyncState.export``: the export's reference, the filters it was started with, and the AES
#: key and IV (Base64) that decrypt its parts -- a secret: the caller stores it encrypted
EXPORT_KEYS = ("reference", "filters", "key", "iv")


class SyncState:
    """``date_from`` (ISO text) of the next window + ``seen`` ``{ksefNumber: permanentStorageDate}``
    + ``export`` (the export under way, see ``EXPORT_KEYS``, or None)."""

    def __init__(self, subject_type="Subject2", date_from=None, seen=None, export=None):
        self.subject_type = subject_type
        self.date_from = format_datetime(parse_datetime(date_from)) if date_from else None
        self.seen = dict(seen or {})
        self.export = dict(export) if export else None

    def to_dict(self):
        return {
            "subject_type": self.subject_type,
            "date_from": self.date_from,
            "seen": dict(self.seen),
            "export": dict(self.export) if self.export else None,
        }

    @classmethod
    def from_dict(cls, data):
        data = data or {}
        return cls(data.get("subject_type") or "Subject2", data.get("date_from"), data.get("seen"), data.get("export"))

    def advance(self, new_from):
        """Start the next window at ``new_from``; forget numbers stored before it."""
        new_dt = parse_datetime(new_from)
        self.date_from = format_datetime(new_dt)
        self.seen = {k: v for k, v in self.seen.items() if v and parse_datetime(v) >= new_dt}

    def __repr__(self):
        return "SyncState(%s from %s, %d at edge%s)" % (
            self.subject_type,
            self.date_from,
            len(self.seen),
            ", export %s" % self.export.get("reference") if self.export else "",
        )


class SyncItem:
    """One synced invoice: ``ksef_number``, ``xml`` (bytes), ``metadata`` (dict) and ``problem``.

    ``problem`` (a bilingual :class:`~ksef_core.errors.KsefError`, or None) says why ``xml`` is None: the
    file is too large, or KSeF's package did not hold it; the invoice still counts as handed out.
    """

    __slots__ = ("ksef_number", "metadata", "problem", "xml")

    def __init__(self, ksef_number, xml, metadata, problem=None):
        self.ksef_number = ksef_number
        self.xml = xml
        self.metadata = metadata or {}
        self.problem = problem

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

    def _emit(self, number, xml, metadata, problem=None):
        if number in self.state.seen:
            return None
        stored = metadata.get("permanentStorageDate")
        if stored and parse_datetime(stored) > parse_datetime(self.state.date_from):
            # ascending order: everything before this invoice is finished once it is handed out
            self.state.advance(stored)
        self.state.seen[number] = stored or self.state.date_from
        return SyncItem(number, xml, metadata, problem)

    def run(self):
        """Iterate over new invoices; the state is updated as items are consumed."""
        if self.state.date_from is None:
            self.state.date_from = self._filters()[0]["dateRange"]["from"]
        for _window in range(self.max_windows):
            if self.mode == "query":
                filters, start, end = self._filters()
                truncated, next_from = yield from self._query_window(filters)
            else:
                truncated, next_from, start, end = yield from self._export_window()
            if truncated:
                if not next_from:  # never with dateType PermanentStorage; do not skip past unread invoices
                    _logger.warning("KSeF truncated a window without naming where it ended; sync stops here")
                    self._changed()
                    return
                self._advance(next_from)
                self._changed()
                continue
            candidates = [d for d in (next_from, end and format_datetime(end)) if d]
            if candidates:
                new_from = min(candidates, key=parse_datetime)
                if parse_datetime(new_from) > start:
                    self._advance(new_from)
            self._changed()
            if end is None or (next_from and parse_datetime(next_from) < end):
                return
        _logger.info("KSeF sync stopped after %d windows; it continues on the next run", self.max_windows)

    def _advance(self, new_from):
        """Move the window start forward (never back behind invoices already handed out)."""
        if parse_datetime(new_from) >= parse_datetime(self.state.date_from):
            self.state.advance(new_from)

    # -- export mode -----------------------------------------------------------------------------
    def _export_window(self):
        """Yield the new invoices of one export (resumed, else started); return
        ``(truncated, start of the next window or None, window start, window end or None)``.

        KSeF promises ``lastPermanentStorageDate`` only on a truncated package and a nullable
        ``permanentStorageHwmDate``: without them the latest ``permanentStorageDate`` seen is used.
        """
        receiving = self._c.receiving
        package = self._resume()
        if package is None:
            filters = self._filters()[0]
            key, iv = new_symmetric_key()
            reference = receiving.start_export(filters, key, iv)
            self.state.export = {"reference": reference, "filters": filters, "key": b64(key), "iv": b64(iv)}
            self._changed()  # remembered before waiting: a run stopped from here on resumes it
            try:
                package = receiving.wait_export(reference)
            except KsefProcessingError:
                self._forget_export()  # failed for good: the next run starts a new one
                raise
        export = self.state.export
        date_range = export["filters"]["dateRange"]
        start = parse_datetime(date_range["from"])
        end = parse_datetime(date_range["to"]) if date_range.get("to") else None
        last = None
        for inv in receiving.read_package(package, b64decode(export["key"]), b64decode(export["iv"])):
            stored = inv.metadata.get("permanentStorageDate")
            if stored and (last is None or parse_datetime(stored) > parse_datetime(last)):
                last = stored
            if stored and parse_datetime(stored) < parse_datetime(self.state.date_from):
                continue  # finished by the run that stopped in this package
            item = self._emit(inv.ksef_number, inv.xml, inv.metadata, getattr(inv, "problem", None))
            if item is not None:
                self._changed()
                yield item
        self.state.export = None  # consumed: persisted with the window's move by run()
        if package.is_truncated:
            return True, package.last_permanent_storage_date or last, start, end
        return False, package.permanent_storage_hwm_date or last, start, end

    def _forget_export(self):
        self.state.export = None
        self._changed()

    def _resume(self):
        """The package of the remembered export while KSeF still has it, else None (forgotten)."""
        export = self.state.export
        if not export:
            return None
        if not self._resumable(export):
            _logger.info("KSeF sync: the remembered export does not fit the position; a new one is started")
            self._forget_export()
            return None
        try:
            return self._c.receiving.wait_export(export["reference"])
        except KsefProcessingError as exc:  # 210 expired, 415, 500, 550...
            _logger.info("KSeF sync: the remembered export ended with status %s; a new one is started", exc.status_code)
        except KsefApiError as exc:
            if not (exc.http_status in (404, 410) or 21175 in exc.exception_codes):
                raise  # KSeF unreachable, 429, the run's deadline...: the export stays remembered
            _logger.info("KSeF sync: the remembered export is gone (%s); a new one is started", exc.code)
        self._forget_export()
        return None

    def _resumable(self, export):
        try:
            filters = export["filters"]
            b64decode(export["key"]), b64decode(export["iv"])
            begins = parse_datetime(filters["dateRange"]["from"])
        except (KeyError, TypeError, ValueError, binascii.Error):
            return False
        return (
            bool(export.get("reference"))
            and filters.get("subjectType") == self.state.subject_type
            and begins <= parse_datetime(self.state.date_from)
        )

    def _query_window(self, filters):
        info = {}
        last = None
        for meta in self._c.receiving.query_metadata(filters, info=info):
            last = meta.get("permanentStorageDate") or last
            number = meta.get("ksefNumber")
            if number in self.state.seen:
                continue
            try:
                xml, problem = self._c.receiving.download(number), None
            except XmlInputError as exc:  # too large: handed out with its reason, like in an export
                if exc.code != "invoice_too_large":
                    raise
                xml, problem = None, exc
            item = self._emit(number, xml, meta, problem)
            self._changed()
            yield item
        return False, info.get("permanentStorageHwmDate") or last
