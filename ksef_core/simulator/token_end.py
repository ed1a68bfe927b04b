"""The simulator's "tokens ended" switch: ``sim.auth.tokens_end`` (an aware datetime, default None = never).

From that moment ``POST /auth/ksef-token`` starts an operation that fails with status 450 (as KSeF answers a
token it no longer accepts); set it to ``TOKENS_END`` to play KSeF after 31 December 2026.
"""

import datetime

from ..calendar_pl import warsaw_now

#: 1 January 2027, 00:00 in Warsaw (23:00 UTC the day before)
TOKENS_END = datetime.datetime(2026, 12, 31, 23, 0, tzinfo=datetime.timezone.utc)
DETAIL = "Uwierzytelnianie tokenem KSeF nie jest dostępne od 1 stycznia 2027 r."


def tokens_refused(sim):
    """The details of the refusal when tokens have ended at the simulator's time, else None."""
    end = getattr(sim.auth, "tokens_end", None)
    if end is None or warsaw_now(sim.clock.now()) < warsaw_now(end):
        return None
    return [DETAIL]
