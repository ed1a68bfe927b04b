"""Controllable clock: every time-dependent rule of the simulator reads it.

Real-time mode (default): ``now()`` = real UTC time + an offset that ``set``/``advance`` change.
Frozen mode: time stands still until ``advance``/``set``.
"""

import datetime as dt
import threading
import time

UTC = dt.timezone.utc


def _aware(value):
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class SimClock:
    """A clock that tests can move: ``now()``, ``timestamp()``, ``advance()``, ``set()``, ``freeze()``."""

    def __init__(self, start=None, frozen=False):
        self._lock = threading.Lock()
        self._offset = 0.0
        self._frozen_at = None
        if frozen:
            self.freeze()
        if start is not None:
            self.set(start)

    def timestamp(self):
        """Current simulated time as a Unix timestamp (float seconds)."""
        with self._lock:
            if self._frozen_at is not None:
                return self._frozen_at
            return time.time() + self._offset

    def now(self):
        """Current simulated time as an aware UTC datetime."""
        return dt.datetime.fromtimestamp(self.timestamp(), UTC)

    def now_ms(self):
        """Current simulated time in Unix milliseconds."""
        return int(self.timestamp() * 1000)

    def advance(self, seconds):
        """Move the clock forward (or back, if negative) by ``seconds``."""
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += float(seconds)
            else:
                self._offset += float(seconds)

    def set(self, when):
        """Jump to ``when`` (datetime, naive = UTC, or ISO string); keeps running unless frozen."""
        target = _aware(when).timestamp()
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = target
            else:
                self._offset = target - time.time()

    def freeze(self):
        """Stop the clock at the current simulated time."""
        with self._lock:
            if self._frozen_at is None:
                self._frozen_at = time.time() + self._offset

    def unfreeze(self):
        """Let the clock run again from the frozen instant."""
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - time.time()
                self._frozen_at = None

    @property
    def frozen(self):
        return self._frozen_at is not None


def iso(value):
    """ISO-8601 UTC text with ``Z``-less offset form used by the API (``2025-07-11T12:23:56.015+00:00``)."""
    return _aware(value).isoformat(timespec="milliseconds")


def parse_iso(text):
    """Parse an ISO-8601 date-time (``Z`` or offset; naive = UTC)."""
    return _aware(text)
