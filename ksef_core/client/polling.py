"""Bounded polling of KSeF's asynchronous operations (auth, session, export)."""

import time

from .errors import KsefTimeout


class PollPolicy:
    """Delays grow from ``initial`` by ``factor`` up to ``max_delay``; give up after ``timeout`` seconds."""

    def __init__(self, initial=0.5, factor=1.6, max_delay=5.0, timeout=120.0):
        self.initial = float(initial)
        self.factor = float(factor)
        self.max_delay = float(max_delay)
        self.timeout = float(timeout)

    def delays(self):
        delay = self.initial
        while True:
            yield delay
            delay = min(self.max_delay, delay * self.factor)


def poll(fetch, is_done, policy, sleep, what_en, what_pl, monotonic=time.monotonic):
    """Call ``fetch()`` until ``is_done(result)``; return the last result.

    :raises KsefTimeout: not done within ``policy.timeout`` seconds (bilingual message).
    """
    deadline = monotonic() + policy.timeout
    delays = policy.delays()
    while True:
        result = fetch()
        if is_done(result):
            return result
        delay = next(delays)
        if monotonic() + delay > deadline:
            raise KsefTimeout(
                "KSeF has not finished %s within %d seconds: try again later (the result is kept by KSeF)."
                % (what_en, policy.timeout),
                "KSeF nie zakończył operacji: %s w ciągu %d s: "
                "spróbuj ponownie później (KSeF przechowuje wynik)." % (what_pl, policy.timeout),
                code="poll_timeout",
            )
        sleep(delay)
