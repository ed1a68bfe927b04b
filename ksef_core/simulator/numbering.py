"""KSeF invoice numbers issued by the simulator (reference numbers come from :mod:`.refs`).

KSeF numbers are built with :func:`ksef_core.ksef_number.make_ksef_number`: seller
NIP, acceptance day, 12 uppercase hex characters, CRC-8.  The technical part mixes
a random prefix with a process-wide counter, and every issued number is recorded
in a persisted dict, so numbers never repeat within a simulator.
"""

import itertools
import os
import threading

from ..ksef_number import make_ksef_number
from .refs import new_reference

KIND_ONLINE_SESSION = "SO"
KIND_BATCH_SESSION = "SB"
KIND_INVOICE = "EE"
KIND_SESSION_UPO = "EU"
KIND_EXPORT = "EH"

_LOCK = threading.Lock()
_COUNTER = itertools.count(int.from_bytes(os.urandom(3), "big"))


def _next_serial():
    with _LOCK:
        return next(_COUNTER)


def reference_number(clock, kind):
    """A new 36-character reference number of ``kind`` (``SO``, ``SB``, ``EE``...) dated by ``clock``."""
    return new_reference(clock, kind)


class KsefNumberAllocator:
    """Issues unique KSeF numbers; ``used`` is a persisted set-like dict (number -> True)."""

    def __init__(self, used):
        self._used = used
        self._prefix = int.from_bytes(os.urandom(2), "big")

    def allocate(self, seller_nip, day):
        """A fresh KSeF number for ``seller_nip`` accepted on ``day`` (a date)."""
        while True:
            serial = _next_serial()
            technical = "%04X%08X" % (self._prefix, serial % (1 << 32))
            number = make_ksef_number(seller_nip, day, technical)
            if number not in self._used:
                self._used[number] = True
                return number
            self._prefix = int.from_bytes(os.urandom(2), "big")
