"""How long a cron job or a click may work: from Odoo's real-time limits, never from constants.

Odoo kills a worker that runs longer than its real-time limit, which rolls back what was not
committed and, for a cron job, counts a timeout (three in a row and the job counts as failed):

* an HTTP request: ``limit_time_real`` (120 s by default; 0 or less: no limit);
* a cron job: ``limit_time_real_cron`` when set above 0, else ``limit_time_real`` (``-1``, the default,
  means "as requests"; threaded servers also read 0 that way: the safer reading is kept). The limit
  counts from the start of the worker's turn on the database, and Odoo calls a job's method again
  (up to 10 times) while it reports progress (``_commit_progress``): a job's budget is counted from
  the job's start, which ``cron_end_time`` in the context tells (the start + ``MIN_TIME_PER_JOB``).

In prefork mode (``workers`` > 0) a worker is also killed when one unit of work (a request, or a cron
worker's turn on a database) uses more than ``limit_time_cpu`` seconds of CPU (60 s by default). CPU time
never exceeds real time, so a budget within that limit keeps a job clear of it, even a CPU-bound import.

A cron job works for ``share`` of its limit (the rest covers the jobs before it in the same turn, the
last KSeF call under way and the commit), then stops where it is and leaves the rest for its next call
(it triggers itself or reports the remaining work). A click works at most ``CLICK_TARGET`` seconds, and
at most half of ``limit_time_real``; what is left goes to the cron.
"""

import time

from odoo.tools import config

from odoo.addons.base.models.ir_cron import MIN_TIME_PER_JOB

#: a click (Send, Send & Print, Check status, Download UPO) works at most this long
CLICK_TARGET = 30.0
#: share of the cron worker's real-time limit a job uses by default
CRON_SHARE = 0.8
#: when no real-time limit is configured at all (a cron job still stops, for the other jobs' sake)
NO_LIMIT_DEFAULT = 600.0


def _seconds(value):
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


def real_time_limit(cron=False):
    """Seconds after which Odoo kills a request (or, with ``cron``, a cron job); 0.0 when unlimited.

    In prefork mode the CPU limit of a worker's unit of work bounds it too (see above)."""
    limit = _seconds(config.get("limit_time_real"))
    if cron:
        cron_limit = _seconds(config.get("limit_time_real_cron"))
        if cron_limit > 0:
            limit = cron_limit
    limit = limit if limit > 0 else 0.0
    cpu = cpu_time_limit()
    if cpu and (not limit or cpu < limit):
        return cpu
    return limit


def cpu_time_limit():
    """Seconds of CPU after which a prefork worker is killed in one unit of work; 0.0 when none applies
    (threaded or gevent servers do not enforce ``limit_time_cpu``)."""
    if _seconds(config.get("workers")) <= 0:
        return 0.0
    cpu = _seconds(config.get("limit_time_cpu"))
    return cpu if cpu > 0 else 0.0


def cron_budget(env, share=CRON_SHARE, default=NO_LIMIT_DEFAULT):
    """Seconds the cron job running in ``env`` may still work (never negative).

    In a cron job (``cron_end_time`` in the context) counted from the job's start, so that the calls
    Odoo repeats while the job reports progress share one budget; called outside a cron job (a shell,
    a test, a server action), counted from now."""
    limit = real_time_limit(cron=True)
    total = share * limit if limit else default
    end = env.context.get("cron_end_time")
    if end is None:
        return total
    started = end - MIN_TIME_PER_JOB
    return max(0.0, started + total - time.monotonic())


def click_budget(target=CLICK_TARGET):
    """Seconds a click may work inside the user's request: ``target``, at most half of ``limit_time_real``."""
    limit = real_time_limit()
    return min(target, limit / 2) if limit else target


def deadline_in(seconds):
    """The ``time.monotonic()`` moment ``seconds`` from now."""
    return time.monotonic() + max(0.0, seconds)


def seconds_to(deadline):
    """Seconds left until the ``time.monotonic()`` moment ``deadline`` (never negative)."""
    return max(0.0, deadline - time.monotonic())
