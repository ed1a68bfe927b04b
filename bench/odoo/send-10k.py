"""Sending 10,000 posted invoices to KSeF inside Odoo: the cron engine against the bundled simulator.

Run with ``bash scripts/bench.sh send-10k [--invoices N] [--lines N] [--chunk N] [--deadline S]``
(defaults: $KSEF_BENCH_INVOICES or 10,000 invoices, 20 lines, 500 invoices per chunk, 900 s).

Starts the bundled KSeF simulator in this process with the production rate limits on, sets up
fa3-odoo's Polish company (Polish chart, taxes with KSeF rate codes, a Polish customer, 20
products) with a KSeF token through the setup wizard, as the tests do, and automatic sending
(``l10n_pl_ksef_send_mode = "auto"``). Then:

1. creates the customer invoices as drafts, a chunk at a time (one ``create`` per chunk with all
   the invoices and their lines), committing per chunk (not timed in T);
2. posts them, a chunk at a time (one ``action_post`` per chunk), committing per chunk: posting
   queues one ``l10n_pl_ksef.document`` per invoice (state ``to_send``) and must not call KSeF
   (checked: the simulator must see no request meanwhile). T starts here;
3. plays Odoo's cron scheduler: runs ``l10n_pl_ksef.document._cron_l10n_pl_ksef_send()`` in a
   fresh cursor (committed), asks ``_l10n_pl_ksef_wake_up()`` when to run next, sleeps until then
   (at most 10 s a time: this process is the scheduler, not a request) and repeats until no
   document is in to_send / sending / processing, or the deadline (counted from the start of
   posting) has passed;
4. checks the outcome in Odoo and in the simulator: KSeF numbers, duplicates, lost invoices.

The benchmark commits (the engine commits itself outside tests): in the throwaway database this
does not matter; with KSEF_BENCH_DB a run leaves its company and invoices behind, and the next run
retires them first (renamed, KSeF off, pending documents cancelled).

KSEF_BENCH_PROFILE=1: cProfile of the draft creation, of the posting and of the cron passes (this
thread only: the simulator's threads are not included) on stderr. KSEF_BENCH_SQLSTATS=1: the statements the
cron passes ran, by their first words, and the queries per invoice (the time per invoice is always shown); the
passes then go on until every UPO is kept, so that its work is counted too.

Last line: ``send-10k: N accepted of M in T s, peak RSS R MB, requests Q, duplicates D, lost L`` —
N = documents accepted with a KSeF number, M = invoices posted, T = seconds from the start of
posting to the commit of the last KSeF number (a watcher thread looks twice a second), R = peak
RSS of this process (the simulator runs inside it), Q = KSeF API requests (/v2) the simulator got
during the send phase (UPO downloads and part uploads are shown on an earlier line), D = invoices
the simulator holds more than once for the same seller invoice number + KSeF numbers on more than
one invoice in Odoo, L = posted invoices without an accepted document. Exit status 1 when D or L
is not 0, or a KSeF number belongs to another invoice number in the simulator (or is unknown to it).
"""

import argparse
import collections
import contextlib
import copy
import datetime
import importlib.util
import os
import re
import resource
import sys
import threading
import time
from pathlib import Path

from odoo import SUPERUSER_ID, api

from odoo.addons.l10n_pl_ksef.ksef_core.simulator.ratelimit import LIMITS
from odoo.addons.l10n_pl_ksef.ksef_core.simulator.testing import running_simulator

#: fa3-odoo.py's set-up (Polish company, customer, products, 20-line invoices) is reused as is
FA3_BENCH = Path(__file__).resolve().with_name("fa3-odoo.py")
COMPANY_NAME = "Benchmark send-10k sp. z o.o."
PENDING = ("to_send", "sending", "processing")
#: longest sleep of the scheduler between two cron passes
MAX_SLEEP = 10.0
SHOW = 5
DEFAULT_INVOICES = 10000


def parse_args(args):
    parser = argparse.ArgumentParser(prog="bash scripts/bench.sh send-10k", description=__doc__.split("\n")[0])
    default = int(os.environ.get("KSEF_BENCH_INVOICES") or DEFAULT_INVOICES)
    parser.add_argument("--invoices", type=int, default=default, help="invoices (default $KSEF_BENCH_INVOICES, 10000)")
    parser.add_argument("--lines", type=int, default=20, help="lines per invoice (default 20)")
    parser.add_argument("--chunk", type=int, default=500, help="invoices per create / post call (default 500)")
    parser.add_argument("--deadline", type=float, default=900.0, help="seconds from the start of posting (default 900)")
    options = parser.parse_args(args)
    if options.invoices < 1 or options.lines < 1 or options.chunk < 1 or options.deadline <= 0:
        parser.error("--invoices, --lines, --chunk and --deadline must be positive")
    return options


def load_fa3_bench():
    spec = importlib.util.spec_from_file_location("ksef_bench_fa3_odoo_setup", FA3_BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def peak_rss_mb():
    """Peak resident set size of this process so far (Linux: ru_maxrss is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


@contextlib.contextmanager
def fresh_env(registry):
    """A superuser environment on a new cursor, committed on success (like one cron job)."""
    with registry.cursor() as cr:
        yield api.Environment(cr, SUPERUSER_ID, {})


@contextlib.contextmanager
def profiled(label):
    """cProfile of the block on stderr when KSEF_BENCH_PROFILE is set (slows the run down)."""
    if not os.environ.get("KSEF_BENCH_PROFILE"):
        yield None
        return
    import cProfile
    import pstats

    profile = cProfile.Profile()
    try:
        yield profile
    finally:
        print("==== profile: %s ====" % label, file=sys.stderr)
        stats = pstats.Stats(profile, stream=sys.stderr)
        stats.sort_stats("tottime").print_stats(30)
        stats.sort_stats("cumulative").print_stats(40)


class SqlTally:
    """KSEF_BENCH_SQLSTATS=1: the statements the cron passes run (this thread only), by their first words."""

    def __init__(self):
        self.enabled = bool(os.environ.get("KSEF_BENCH_SQLSTATS"))
        self.counter = collections.Counter()
        self.total = 0
        self.seconds = self.cpu = 0.0
        self.active = False
        if not self.enabled:
            return
        from odoo import sql_db

        original = sql_db.Cursor.execute
        owner = threading.get_ident()
        tally = self

        def execute(cr, query, params=None, log_exceptions=True):
            if tally.active and threading.get_ident() == owner:
                text = " ".join(str(getattr(query, "code", query)).split())
                tally.counter[text[:110]] += 1
                tally.total += 1
            return original(cr, query, params, log_exceptions)

        sql_db.Cursor.execute = execute

    @contextlib.contextmanager
    def counting(self):
        self.active = True
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            yield
        finally:
            self.seconds += time.perf_counter() - started
            self.cpu += time.thread_time() - cpu
            self.active = False

    def report(self, invoices):
        print(
            "cron passes: %.2f s in all = %.1f ms per invoice (Python CPU of the cron thread %.1f ms); %s"
            % (
                self.seconds,
                1000.0 * self.seconds / max(invoices, 1),
                1000.0 * self.cpu / max(invoices, 1),
                "%d queries = %.1f per invoice" % (self.total, self.total / max(invoices, 1))
                if self.enabled
                else "queries not counted (KSEF_BENCH_SQLSTATS=1)",
            )
        )
        for text, count in self.counter.most_common(60):
            print("  %6d  %s" % (count, text))


TALLY = None


# --------------------------------------------------------------------------- simulator requests


class RequestCounter:
    """Counts the simulator's requests by kind and by path template (wraps ``sim.dispatch``)."""

    REF = re.compile(r"^(?=.*\d)[0-9A-Za-z]+(-[0-9A-Za-z]+)+$|^\d+$")

    def __init__(self, sim):
        self.lock = threading.Lock()
        self.by_path = collections.Counter()
        self.by_status = collections.Counter()
        original = sim.dispatch

        def dispatch(request):
            response = original(request)
            key = "%s %s" % (request.method, self.template(request.path))
            status = response.status_code if response is not None else "dropped"
            with self.lock:
                self.by_path[key] += 1
                self.by_status[status] += 1
            return response

        sim.dispatch = dispatch

    def template(self, path):
        return "/".join("{}" if self.REF.match(part) else part for part in path.split("/"))

    def snapshot(self):
        with self.lock:
            return collections.Counter(self.by_path), collections.Counter(self.by_status)

    @staticmethod
    def kinds(by_path):
        """``(api, upo downloads, part uploads, other)`` request counts."""
        api_count = upo = upload = other = 0
        for key, count in by_path.items():
            path = key.split(" ", 1)[1]
            if path.startswith("/v2/"):
                api_count += count
            elif path.startswith("/_storage/upo/"):
                upo += count
            elif path.startswith("/_storage/batch/"):
                upload += count
            else:
                other += count
        return api_count, upo, upload, other


# --------------------------------------------------------------------------- set-up


def retire_earlier_runs(env):
    """KSEF_BENCH_DB: an earlier run committed its company; keep it out of this run's cron passes."""
    earlier = env["res.company"].search([("name", "=", COMPANY_NAME)])
    for company in earlier:
        env.cr.execute(
            "UPDATE l10n_pl_ksef_document SET state = 'cancelled' WHERE company_id = %s AND state IN %s",
            (company.id, PENDING),
        )
        company.write({"name": "%s (earlier run %d)" % (COMPANY_NAME, company.id), "l10n_pl_ksef_active": False})
    if earlier:
        env.cr.commit()
        print("retired %d company(ies) of earlier runs (KSEF_BENCH_DB)" % len(earlier))


def setup(env, fa3, srv, options):
    """fa3-odoo's company, with KSeF credentials for the simulator and automatic sending."""
    retire_earlier_runs(env)
    env, company = fa3.setup_company(env)
    company.name = COMPANY_NAME
    fa3.connect_to_simulator(env, company, srv, ("InvoiceWrite", "InvoiceRead"))
    company.l10n_pl_ksef_send_mode = "auto"
    template = fa3.invoice_vals(env, min(options.chunk, options.invoices), options.lines)
    env.cr.commit()
    return env, company, template


def create_drafts(env, template, options):
    """Draft invoices, one ``create`` per chunk, committed per chunk; returns their ids."""
    ids = []
    for start in range(0, options.invoices, options.chunk):
        size = min(options.chunk, options.invoices - start)
        moves = env["account.move"].create(copy.deepcopy(template[:size]))
        ids.extend(moves.ids)
        env.cr.commit()
        env.invalidate_all()
    return ids


def post(env, ids, options):
    """Post the drafts, one ``action_post`` per chunk, committed per chunk."""
    for start in range(0, len(ids), options.chunk):
        moves = env["account.move"].browse(ids[start : start + options.chunk])
        moves.action_post()
        env.cr.commit()
        env.invalidate_all()


# --------------------------------------------------------------------------- the scheduler


def pending_count(env, company):
    env.cr.execute(
        "SELECT state, count(*) FROM l10n_pl_ksef_document WHERE company_id = %s GROUP BY state", (company.id,)
    )
    states = dict(env.cr.fetchall())
    return sum(states.get(state, 0) for state in PENDING), states


def accepted_numbers(env, company):
    env.cr.execute(
        """SELECT count(*) FROM l10n_pl_ksef_document
            WHERE company_id = %s AND state = 'accepted' AND ksef_number IS NOT NULL""",
        (company.id,),
    )
    return env.cr.fetchone()[0]


def without_upo(env, company):
    env.cr.execute(
        """SELECT count(*) FROM l10n_pl_ksef_document
            WHERE company_id = %s AND state = 'accepted' AND upo_attachment_id IS NULL""",
        (company.id,),
    )
    return env.cr.fetchone()[0]


def describe_result(results):
    parts = []
    for result in results.values():
        text = "sent %(sent)d, accepted %(accepted)d, rejected %(rejected)d, recovered %(recovered)d" % result
        if result.get("error_code"):
            text += ", %s" % result["error_code"]
            if result.get("retry_at"):
                text += " (retry at %s)" % result["retry_at"]
            if result.get("error") and result.get("error_code") != "rate_limited":
                text += ": %s" % str(result["error"])[:200]
        if result.get("busy"):
            text += ", busy"
        parts.append(text)
    return "; ".join(parts) or "no company with work"


class Passes:
    """The cron passes as they went: one line per pass that changed something; passes that changed
    nothing (no document changed state) are folded into one line."""

    def __init__(self):
        self.count = self.rate_limited = self.immediate = 0
        self.folded = self.folded_rate_limited = 0
        self.folded_until = None
        self.last = None

    def add(self, elapsed, took, results, states, accepted):
        self.count += 1
        limited = any(r.get("error_code") == "rate_limited" for r in results.values())
        self.rate_limited += limited
        state_text = ", ".join("%s %d" % item for item in sorted(states.items()))
        signature = (state_text, accepted)
        if signature == self.last:
            self.folded += 1
            self.folded_rate_limited += limited
            self.folded_until = elapsed
            return
        self.flush()
        self.last = signature
        print(
            "  pass %d ended at +%.1f s, took %.1f s: %s | %s | accepted with number %d, peak RSS %.0f MB"
            % (self.count, elapsed, took, describe_result(results), state_text, accepted, peak_rss_mb()),
            flush=True,
        )

    def flush(self):
        if self.folded:
            print(
                "  ... %d more pass(es) that changed nothing (%d of them stopped by a 429), the last one ended "
                "at +%.1f s" % (self.folded, self.folded_rate_limited, self.folded_until),
                flush=True,
            )
        self.folded = self.folded_rate_limited = 0


class Watcher(threading.Thread):
    """Looks at the committed data twice a second: when did the last KSeF number / UPO arrive?

    A cron pass stores the numbers (commit) before it downloads the UPOs, so the end of the pass
    is later than the moment the numbers were stored; this gives that moment.
    """

    INTERVAL = 0.5

    def __init__(self, registry, company_id):
        super().__init__(name="send-10k watcher", daemon=True)
        self.registry = registry
        self.company_id = company_id
        self.stop_event = threading.Event()
        self.numbers = self.upos = 0
        self.numbers_at = self.upos_at = None  # perf_counter of the last increase

    def run(self):
        threading.current_thread().dbname = self.registry.db_name
        while True:
            with self.registry.cursor() as cr:
                cr.execute(
                    """SELECT count(*) FILTER (WHERE ksef_number IS NOT NULL),
                              count(*) FILTER (WHERE upo_attachment_id IS NOT NULL)
                         FROM l10n_pl_ksef_document WHERE company_id = %s AND state = 'accepted'""",
                    (self.company_id,),
                )
                numbers, upos = cr.fetchone()
            now = time.perf_counter()
            if numbers > self.numbers:
                self.numbers, self.numbers_at = numbers, now
            if upos > self.upos:
                self.upos, self.upos_at = upos, now
            if self.stop_event.wait(self.INTERVAL):
                return

    def stop(self):
        self.stop_event.set()
        self.join()
        self.run()  # one last look (the event is set: it returns after one query)


def schedule(registry, company, t0, deadline, profile):
    """Run cron passes until nothing is pending or the deadline; returns (Passes, loop end, finished)."""
    passes = Passes()
    while True:
        started = time.perf_counter()
        with fresh_env(registry) as env, TALLY.counting():
            if profile is not None:
                results = profile.runcall(env["l10n_pl_ksef.document"]._cron_l10n_pl_ksef_send)
            else:
                results = env["l10n_pl_ksef.document"]._cron_l10n_pl_ksef_send()
        took = time.perf_counter() - started
        with fresh_env(registry) as env:
            pending, states = pending_count(env, company)
            accepted = accepted_numbers(env, company)
            if TALLY.enabled and not pending:  # diagnostics: the UPOs' work is counted too
                pending = without_upo(env, company)
            wake = env["l10n_pl_ksef.document"]._l10n_pl_ksef_wake_up()
            now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
        elapsed = time.perf_counter() - t0
        passes.add(elapsed, took, results, states, accepted)
        if not pending:
            passes.flush()
            return passes, time.perf_counter(), True
        if elapsed >= deadline:
            passes.flush()
            return passes, time.perf_counter(), False
        if wake is None:
            # something is pending but the engine does not say when to come back (Odoo's cron would
            # wait for its daily run): look again after MAX_SLEEP
            passes.flush()
            print("  !! %d document(s) pending but _l10n_pl_ksef_wake_up() returned None" % pending)
            delay = MAX_SLEEP
        else:
            delay = (wake - now).total_seconds()
        delay = max(0.0, min(MAX_SLEEP, delay, deadline - elapsed))
        if delay:
            time.sleep(delay)
        else:
            passes.immediate += 1


# --------------------------------------------------------------------------- checks


def check(env, company, ids, sim, nip):
    """(accepted, duplicates, lost, details) from Odoo's data and the simulator's invoice store."""
    env.cr.execute(
        """SELECT m.id, m.name, d.ksef_number, d.upo_attachment_id, m.l10n_pl_ksef_number
             FROM account_move m
        LEFT JOIN l10n_pl_ksef_document d
               ON d.move_id = m.id AND d.state = 'accepted' AND d.ksef_number IS NOT NULL
            WHERE m.id = ANY(%s)""",
        (ids,),
    )
    rows = env.cr.fetchall()
    accepted = {}  # move id -> (name, ksef number)
    lost = []
    with_upo = 0
    move_field_wrong = 0
    two_accepted = 0  # an invoice with two accepted documents (the unique index should prevent it)
    for move_id, name, number, upo, move_number in rows:
        if not number:
            lost.append((move_id, name, "no accepted document with a KSeF number"))
            continue
        if move_id in accepted:
            two_accepted += 1
            continue
        accepted[move_id] = (name, number)
        with_upo += bool(upo)
        move_field_wrong += move_number != number
    # Odoo: a KSeF number on more than one invoice (documents of any company, and the invoices' own field)
    env.cr.execute(
        """SELECT ksef_number, count(DISTINCT move_id) FROM l10n_pl_ksef_document
            WHERE ksef_number IS NOT NULL AND company_id = %s
         GROUP BY ksef_number HAVING count(DISTINCT move_id) > 1""",
        (company.id,),
    )
    odoo_duplicates = two_accepted + sum(count - 1 for _number, count in env.cr.fetchall())
    env.cr.execute(
        """SELECT l10n_pl_ksef_number, count(*) FROM account_move
            WHERE l10n_pl_ksef_number IS NOT NULL AND company_id = %s GROUP BY 1 HAVING count(*) > 1""",
        (company.id,),
    )
    odoo_duplicates += sum(count - 1 for _number, count in env.cr.fetchall())
    # the simulator: one accepted invoice per seller invoice number (P_2)
    with sim.state.lock:
        records = [
            (number, record.get("invoiceNumber"))
            for number, record in sim.invoice_store.invoices.items()
            if (record.get("seller") or {}).get("nip") == nip
        ]
    by_invoice_number = collections.Counter(invoice_number for _number, invoice_number in records)
    sim_duplicates = sum(count - 1 for count in by_invoice_number.values() if count > 1)
    held = dict(records)
    wrong = 0  # an invoice whose KSeF number the simulator gave to another invoice number
    missing_in_sim = 0
    for _move_id, (name, number) in accepted.items():
        if number not in held:
            missing_in_sim += 1
        elif held[number] != name:
            wrong += 1
    details = {
        "odoo_duplicates": odoo_duplicates,
        "sim_duplicates": sim_duplicates,
        "sim_held": len(records),
        "wrong": wrong,
        "missing_in_sim": missing_in_sim,
        "with_upo": with_upo,
        "move_field_wrong": move_field_wrong,
        "lost_examples": lost[:SHOW],
    }
    return len(accepted), odoo_duplicates + sim_duplicates, len(lost), details


# --------------------------------------------------------------------------- run


def anchor_hours(count):
    """Hours to send ``count`` invoices online, one request each, under the production limits."""
    limits = per_second, per_minute, per_hour = LIMITS["online_invoice"]
    return max(count / per_second / 3600.0, count / per_minute / 60.0, count / per_hour), limits


def run(env, args):
    global TALLY  # noqa: PLW0603 (the benchmark's one diagnostics switch)
    options = parse_args(args)
    TALLY = SqlTally()
    fa3 = load_fa3_bench()
    registry = env.registry
    with running_simulator(rate_limits=True) as srv:
        sim = srv.sim
        counter = RequestCounter(sim)

        start = time.perf_counter()
        env, company, template = setup(env, fa3, srv, options)
        nip = company.l10n_pl_ksef_nip or company.vat[2:]
        print(
            "setup: company %s (NIP %s, chart %s, send mode %s) in %.1f s; simulator %s, rate limits %s"
            % (
                company.name,
                nip,
                company.chart_template,
                company.l10n_pl_ksef_send_mode,
                time.perf_counter() - start,
                srv.base_url,
                "on (production)" if sim.ratelimiter.enabled else "off",
            ),
            flush=True,
        )

        start = time.perf_counter()
        with profiled("draft invoices") as profile:
            if profile is not None:
                ids = profile.runcall(create_drafts, env, template, options)
            else:
                ids = create_drafts(env, template, options)
        print(
            "drafts: %d invoices x %d lines created in %.1f s (%d per create), peak RSS %.0f MB"
            % (len(ids), options.lines, time.perf_counter() - start, options.chunk, peak_rss_mb()),
            flush=True,
        )

        before_post, _statuses = counter.snapshot()
        t0 = time.perf_counter()
        with profiled("posting") as profile:
            if profile is not None:
                profile.runcall(post, env, ids, options)
            else:
                post(env, ids, options)
        posted_at = time.perf_counter()
        after_post, _statuses = counter.snapshot()
        during_post = sum((after_post - before_post).values())
        with fresh_env(registry) as check_env:
            queued, states = pending_count(check_env, company)
            check_env.cr.execute("SELECT count(*) FROM account_move WHERE id = ANY(%s) AND state = 'posted'", (ids,))
            posted = check_env.cr.fetchone()[0]
        print(
            "posting: %d invoices posted in %.1f s = %.1f inv/s (%d per action_post, committed per chunk), "
            "%d documents queued (%s), KSeF requests while posting %d, peak RSS %.0f MB"
            % (
                posted,
                posted_at - t0,
                posted / (posted_at - t0),
                options.chunk,
                queued,
                ", ".join("%s %d" % item for item in sorted(states.items())),
                during_post,
                peak_rss_mb(),
            ),
            flush=True,
        )
        if during_post:
            print("  !! posting called KSeF: %s" % dict(after_post - before_post))

        print("sending: cron passes (the simulator runs in this process, its memory is in the RSS):", flush=True)
        watcher = Watcher(registry, company.id)
        watcher.start()
        with profiled("cron passes") as profile:
            passes, loop_end, finished = schedule(registry, company, t0, options.deadline, profile)
        watcher.stop()
        TALLY.report(len(ids))
        # all numbers stored: the commit of the last one (seen by the watcher), not the end of the pass
        done_at = watcher.numbers_at if finished and watcher.numbers_at else loop_end
        after_send, statuses = counter.snapshot()
        sent = after_send - after_post
        api_requests, upo_requests, upload_requests, other_requests = RequestCounter.kinds(sent)
        seconds = done_at - t0
        print(
            "send phase: %d cron passes (%d stopped by a 429, %d started again at once: wake-up time already "
            "past) in %.1f s%s; T = posting %.1f s + sending until the last KSeF number was committed %.1f s; "
            "last UPO stored at +%s s (UPOs are not part of T)"
            % (
                passes.count,
                passes.rate_limited,
                passes.immediate,
                loop_end - posted_at,
                "" if finished else " (DEADLINE %.0f s REACHED: documents still pending)" % options.deadline,
                posted_at - t0,
                done_at - posted_at,
                "%.1f" % (watcher.upos_at - t0) if watcher.upos_at else "-",
            )
        )
        print(
            "simulator requests in the send phase: KSeF API %d, UPO downloads (/_storage/upo) %d, part uploads "
            "(/_storage/batch) %d, other %d; 429 answers (whole run) %d; simulator total so far %d"
            % (api_requests, upo_requests, upload_requests, other_requests, statuses.get(429, 0), sim.request_count)
        )
        for key, count in sorted(sent.items(), key=lambda item: -item[1]):
            print("  %6d  %s" % (count, key))

        with fresh_env(registry) as check_env:
            accepted, duplicates, lost, details = check(check_env, company, ids, sim, nip)
        print(
            "checks: simulator holds %(sim_held)d invoices of the seller, duplicates there %(sim_duplicates)d; "
            "KSeF numbers on more than one invoice in Odoo %(odoo_duplicates)d; numbers given to another invoice "
            "number %(wrong)d; accepted numbers unknown to the simulator %(missing_in_sim)d; invoices whose "
            "l10n_pl_ksef_number differs from their document %(move_field_wrong)d; UPO attachments %(with_upo)d"
            % details
        )
        for move_id, name, why in details["lost_examples"]:
            print("  lost: %s (id %d): %s" % (name, move_id, why))

    rss = peak_rss_mb()
    hours, limits = anchor_hours(len(ids))
    print(
        "anchor (online only, one POST per invoice under production limits %d/s, %d/min, %d/h): ~%.1f h"
        % (*limits, hours)
    )
    print(
        "send-10k: %d accepted of %d in %.1f s, peak RSS %.0f MB, requests %d, duplicates %d, lost %d"
        % (accepted, len(ids), seconds, rss, api_requests, duplicates, lost)
    )
    return 1 if duplicates or lost or details["wrong"] or details["missing_in_sim"] else 0
