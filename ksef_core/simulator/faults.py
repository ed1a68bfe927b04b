"""Faults on demand, applied by the dispatcher to every route (core and invoice side).

Kinds:
* ``error`` – answer ``status`` (500/503…) without running the handler;
* ``delay`` – sleep ``seconds`` before the handler (or after it with ``after=True``: the state
  changes, the answer comes late);
* ``drop`` – run the handler (the state change happens) and close the connection without an
  answer (the "lost response" case);
* ``corrupt`` – run the handler and answer with its body damaged: bytes flipped in the middle
  (a part of an export or a UPO damaged in transit; the status and headers stay as they were).

``path`` is matched with :func:`fnmatch.fnmatchcase` against both the OpenAPI template of the
route (``/sessions/online/{referenceNumber}/invoices``) and the actual path without the mount
prefix (``/sessions/online/2025…/invoices``); ``method`` "*" matches any method.

``context`` (a NIP, or any context identifier value) scopes a fault to the requests made in that
context: those authenticated in it, and the logins that ask for it (``contextIdentifier`` of the
body); one simulator serving many companies can thus fail for some of them only. A fault without a
context applies to every request.
"""

import fnmatch
import itertools
import threading

KINDS = ("error", "delay", "drop", "corrupt")


class Fault:
    __slots__ = (
        "after",
        "context",
        "count",
        "id",
        "kind",
        "message",
        "method",
        "path",
        "retry_after",
        "seconds",
        "skip",
        "status",
    )

    def __init__(
        self,
        fid,
        kind,
        path,
        method="*",
        count=1,
        status=503,
        seconds=0.0,
        after=False,
        message=None,
        retry_after=None,
        skip=0,
        context=None,
    ):
        self.id = fid
        self.context = str(context) if context else None
        self.kind = kind
        self.path = path
        self.method = (method or "*").upper()
        self.count = count  # None = until removed
        self.status = int(status)
        self.seconds = float(seconds)
        self.after = bool(after)
        self.message = message
        self.retry_after = retry_after
        self.skip = int(skip or 0)  # matching calls let through before the fault applies

    def as_dict(self):
        return {k: getattr(self, k) for k in self.__slots__}

    def matches(self, route, request, context=None):
        if self.context != context:
            return False
        if self.method not in ("*", request.method):
            return False
        actual = request.path
        if actual.startswith(route.prefix):
            actual = actual[len(route.prefix) :]
        return fnmatch.fnmatchcase(route.path, self.path) or fnmatch.fnmatchcase(actual, self.path)


class FaultManager:
    """``sim.faults``: add/list/clear faults; the dispatcher calls :meth:`take`."""

    def __init__(self):
        self._lock = threading.Lock()
        self._faults = []
        self._ids = itertools.count(1)

    def add(
        self,
        kind,
        path,
        method="*",
        count=1,
        status=503,
        seconds=0.0,
        after=False,
        message=None,
        retry_after=None,
        skip=0,
        context=None,
    ):
        """Register a fault for the next ``count`` matching calls (None = unlimited) after the first ``skip``
        matching calls (let through), in ``context`` only when given; returns its id."""
        if kind not in KINDS:
            raise ValueError("fault kind must be one of %s" % (KINDS,))
        if kind == "error" and not 400 <= int(status) <= 599:
            raise ValueError("error faults need an HTTP status 400-599")
        if count is not None and int(count) < 1:
            raise ValueError("count must be >= 1 or None")
        if int(skip or 0) < 0:
            raise ValueError("skip must be >= 0")
        with self._lock:
            fault = Fault(
                next(self._ids),
                kind,
                path,
                method,
                None if count is None else int(count),
                status,
                seconds,
                after,
                message,
                retry_after,
                skip,
                context,
            )
            self._faults.append(fault)
            return fault.id

    def error(self, path, status=503, count=1, method="*", **kw):
        return self.add("error", path, method=method, count=count, status=status, **kw)

    def delay(self, path, seconds, count=1, method="*", after=False, skip=0, context=None):
        return self.add(
            "delay", path, method=method, count=count, seconds=seconds, after=after, skip=skip, context=context
        )

    def drop(self, path, count=1, method="*", skip=0, context=None):
        return self.add("drop", path, method=method, count=count, skip=skip, context=context)

    def corrupt(self, path, count=1, method="*", skip=0, context=None):
        return self.add("corrupt", path, method=method, count=count, skip=skip, context=context)

    def remove(self, fault_id):
        with self._lock:
            self._faults = [f for f in self._faults if f.id != int(fault_id)]

    def clear(self):
        with self._lock:
            self._faults = []

    def list(self):
        with self._lock:
            return [f.as_dict() for f in self._faults]

    def scoped(self):
        """Whether some fault is scoped to a context (the dispatcher then looks for the request's)."""
        return any(fault.context for fault in self._faults)

    def take(self, route, request, context=None):
        """First matching fault without a context, or of ``context`` when given (its count is consumed),
        or None."""
        if not self._faults:
            return None
        with self._lock:
            for fault in self._faults:
                if fault.matches(route, request, context):
                    if fault.skip > 0:
                        fault.skip -= 1
                        continue
                    if fault.count is not None:
                        fault.count -= 1
                        if fault.count <= 0:
                            self._faults.remove(fault)
                    return fault
        return None


def corrupt_body(data):
    """``data`` with 16 bytes in its middle inverted (an empty body stays empty)."""
    if not data:
        return data
    middle = len(data) // 2
    start = max(0, middle - 8)
    damaged = bytes(b ^ 0xFF for b in data[start : start + 16])
    return data[:start] + damaged + data[start + 16 :]
