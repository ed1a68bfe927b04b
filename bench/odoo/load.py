"""Load: 10,000 invoices sent while 10,000 are received, by a real Odoo server with two cron workers,
users clicking meanwhile. No deadlock, no long lock wait, no duplicate.

Run with ``bash scripts/bench.sh load [--send N] [--receive N] [--lines N] [--deadline S]``
(defaults: 10,000 and 10,000, 2 lines per invoice sent, 3600 s).

The rig of the faults benchmark (``_faults_rig.py``): the KSeF simulator in this process, with the
production rate limits on, and ``odoo-bin --workers=2 --max-cron-threads=2``. Then:

1. N supplier invoices (3 lines each) are stored in KSeF for the company and receiving is due;
2. the invoices to send are created as drafts beforehand (2 lines each; not timed), then posted by
   "users" 500 at a time while the import runs (automatic sending: each posting queues them and
   wakes the send cron);
3. two users click meanwhile, over JSON-RPC like the web client: one reads the invoice list and the
   bills every second, the other clicks Send to KSeF on the last posted invoices every 5 s (the
   cron has them: the click either waits for the cron's lock or finds nothing to do);
4. a monitor looks at PostgreSQL twice a second: backends waiting for a lock (longest wait, and
   whether its query touches res_company or account_move), and the deadlocks of the database; and
   at the workers' resident memory.

Last line: ``load: S sent (A accepted) while R received (B bills, W waiting) in T s, duplicates D,
lost L, deadlocks K, errors logged E, longest lock wait X s (res_company Y s, account_move Z s), peak
worker RSS M MB (all workers N MB)`` (E: ERROR lines of the addon in the server's log; lock waits of
the benchmark's own statements are not counted). Exit status 1 when D, L, K or E is not 0, or a lock
wait on res_company / account_move exceeded 10 s.
"""

import argparse
import collections
import importlib.util
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import requests

from odoo.addons.l10n_pl_ksef.ksef_core.simulator.testing import running_simulator

HERE = Path(__file__).resolve()
LOCK_LIMIT = 10.0


def load(name):
    """A sibling benchmark file as a module (the faults benchmark's rig and set-up are shared)."""
    spec = importlib.util.spec_from_file_location("ksef_bench_load_" + name.strip("_"), HERE.with_name(name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_args(args):
    parser = argparse.ArgumentParser(prog="bash scripts/bench.sh load", description=__doc__.split("\n")[0])
    parser.add_argument("--send", type=int, default=10000)
    parser.add_argument("--receive", type=int, default=10000)
    parser.add_argument("--lines", type=int, default=2, help="lines per invoice sent (default 2)")
    parser.add_argument("--deadline", type=float, default=3600.0)
    return parser.parse_args(args)


class Monitor(threading.Thread):
    """Lock waits, deadlocks and the workers' memory, twice a second."""

    def __init__(self, rig):
        super().__init__(name="load monitor", daemon=True)
        self.rig = rig
        self.stop_event = threading.Event()
        self.longest = collections.defaultdict(float)  # "res_company" / "account_move" / "other" -> seconds
        self.peak_rss = 0.0
        self.peak_total_rss = 0.0
        self.samples = 0

    def run(self):
        while not self.stop_event.wait(0.5):
            try:
                rows = self.rig.query(
                    """SELECT EXTRACT(EPOCH FROM now() - a.query_start), a.query
                         FROM pg_stat_activity a
                        WHERE a.datname = current_database() AND a.wait_event_type = 'Lock'
                          AND a.application_name != %s""",
                    ("odoo-%d" % os.getpid(),),  # the benchmark's own statements (its time help) are not counted
                )
            except Exception:
                continue
            self.samples += 1
            for waited, query in rows:
                waited = float(waited or 0)
                kind = "other"
                for table in ("res_company", "account_move"):
                    if table in (query or ""):
                        kind = table
                        break
                self.longest[kind] = max(self.longest[kind], waited)
            sizes = self.rig.worker_rss_mb()
            if sizes:
                self.peak_rss = max(self.peak_rss, *sizes.values())
                self.peak_total_rss = max(self.peak_total_rss, sum(sizes.values()))

    def stop(self):
        self.stop_event.set()
        self.join(5)


class Users(threading.Thread):
    """Two users over JSON-RPC: one reads lists, one clicks Send to KSeF on recent invoices."""

    def __init__(self, ctx, posted):
        super().__init__(name="load users", daemon=True)
        self.ctx = ctx
        self.posted = posted  # list of posted ids (grows)
        self.stop_event = threading.Event()
        self.reads = self.clicks = self.errors = 0
        self.error_texts = collections.Counter()
        self.first_error = None
        self.slowest = 0.0

    def call(self, model, method, args, kwargs=None):
        started = time.monotonic()
        answer = self.ctx.rig.jsonrpc(
            self.uid, "admin", model, method, args, kwargs, company_id=self.ctx.company_id, timeout=300
        )
        self.slowest = max(self.slowest, time.monotonic() - started)
        if "error" in answer:
            self.errors += 1
            data = answer["error"].get("data") or {}
            self.error_texts[data.get("name") or "error"] += 1
            self.first_error = self.first_error or (data.get("message") or str(answer["error"]))[:200]
        return answer

    def run(self):
        self.uid = self.ctx.admin_uid()
        tick = 0
        while not self.stop_event.wait(1.0):
            tick += 1
            try:
                self.call(
                    "account.move",
                    "search_read",
                    [[("move_type", "=", "out_invoice")]],
                    {"fields": ["name", "amount_total", "l10n_pl_ksef_state", "l10n_pl_ksef_number"], "limit": 80},
                )
                self.call(
                    "account.move",
                    "search_read",
                    [[("move_type", "=", "in_invoice")]],
                    {"fields": ["name", "partner_id", "amount_total", "l10n_pl_ksef_number"], "limit": 80},
                )
                self.reads += 2
                if tick % 5 == 0 and self.posted:
                    self.call("account.move", "action_l10n_pl_ksef_send", [self.posted[-5:]])
                    self.clicks += 1
            except requests.RequestException:
                self.errors += 1

    def stop(self):
        self.stop_event.set()
        self.join(330)


def run(env, args):
    options = parse_args(args)
    faults = load("faults")
    rig_module = load("_faults_rig")
    env.cr.rollback()
    work = tempfile.mkdtemp(prefix="ksef_load_")
    with running_simulator(rate_limits=True) as srv:
        rig = rig_module.Rig(env.registry, srv, work)
        ctx = faults.Context(rig, faults.load("fa3-odoo"), faults.load("import"))
        ctx.setup()
        ctx.param("l10n_pl_ksef.batch_threshold", 50)
        ctx.param("l10n_pl_ksef.http_timeout", 30)
        with rig.env() as cenv:
            template = ctx.fa3.invoice_vals(cenv(context={"allowed_company_ids": [ctx.company_id]}), 1, options.lines)[
                0
            ]
        started = time.monotonic()
        numbers = {}
        for first in range(0, options.receive, 1000):
            numbers.update(ctx.seed(min(1000, options.receive - first)))
        print("stored %d supplier invoices in KSeF in %.0f s" % (len(numbers), time.monotonic() - started), flush=True)
        started = time.monotonic()
        drafts = []
        with rig.env() as cenv:
            cenv = cenv(context={"allowed_company_ids": [ctx.company_id]})
            for first in range(0, options.send, 500):
                size = min(500, options.send - first)
                drafts.extend(cenv["account.move"].create([dict(template) for _i in range(size)]).ids)
                cenv.cr.commit()
                cenv.invalidate_all()
        print("created %d draft invoices in %.0f s" % (len(drafts), time.monotonic() - started), flush=True)
        with rig.env() as cenv:
            cenv.cr.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
            deadlocks_before = cenv.cr.fetchone()[0]
        rig.start_server()
        monitor = Monitor(rig)
        monitor.start()
        posted = []
        users = Users(ctx, posted)
        t0 = time.monotonic()
        ctx.import_due()
        users.start()
        try:
            for first in range(0, len(drafts), 500):
                chunk = drafts[first : first + 500]
                with rig.env() as cenv:
                    cenv = cenv(context={"allowed_company_ids": [ctx.company_id]})
                    cenv["account.move"].browse(chunk).action_post()
                posted.extend(chunk)
            print(
                "posted %d invoices in %.0f s (the crons were sending and receiving meanwhile)"
                % (len(posted), time.monotonic() - t0),
                flush=True,
            )
            last_report = 0.0

            def done():
                nonlocal last_report
                sent = rig.sending_done(posted)
                received = rig.receiving_done(numbers)
                if time.monotonic() - last_report > 60:
                    last_report = time.monotonic()
                    print("  +%.0f s: sending %s; receiving %s" % (time.monotonic() - t0, sent, received), flush=True)
                return True if sent is True and received is True else (sent, received)

            took = rig.settle(done, timeout=options.deadline, warp_after=30.0)
        finally:
            users.stop()
            monitor.stop()
            rig.stop_server()
        elapsed = time.monotonic() - t0
        with rig.env() as cenv:
            cenv.cr.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
            deadlocks = cenv.cr.fetchone()[0] - deadlocks_before
        deadlocks += len(rig.log_lines("deadlock detected"))
        errors = rig.log_errors()
        for line in errors[:5]:
            print("  logged: %s" % line[:300])
        s_dup, s_lost, s_half, detail = rig.count_sent(posted, ctx.nip)
        r_dup, r_lost, r_half, r_detail = rig.count_received(numbers)
        print(
            "users: %d reads, %d Send clicks, %d answered with an error %s, slowest answer %.1f s"
            % (users.reads, users.clicks, users.errors, dict(users.error_texts), users.slowest)
        )
        if users.first_error:
            print("  first error answer: %s" % users.first_error)
        print(
            "documents: %s; half-made %d (sent) + %d (received); time brought forward %.0f s; %s"
            % (detail, s_half, r_half, rig.warped, "settled" if took is not None else "NOT SETTLED")
        )
        longest = max(monitor.longest.values(), default=0.0)
    shutil.rmtree(work, ignore_errors=True)
    duplicates = s_dup + r_dup
    lost = s_lost + r_lost
    print(
        "load: %d sent (%d accepted) while %d received (%d bills, %d waiting) in %.0f s, duplicates %d, lost %d, "
        "deadlocks %d, errors logged %d, longest lock wait %.1f s (res_company %.1f s, account_move %.1f s), "
        "peak worker RSS %.0f MB (all workers %.0f MB)"
        % (
            len(posted),
            detail.get("accepted", 0),
            len(numbers),
            r_detail["bills"],
            r_detail["waiting"],
            elapsed,
            duplicates,
            lost,
            deadlocks,
            len(errors),
            longest,
            monitor.longest.get("res_company", 0.0),
            monitor.longest.get("account_move", 0.0),
            monitor.peak_rss,
            monitor.peak_total_rss,
        )
    )
    bad_wait = max(monitor.longest.get("res_company", 0.0), monitor.longest.get("account_move", 0.0)) > LOCK_LIMIT
    return 1 if duplicates or lost or deadlocks or errors or bad_wait or s_half or r_half else 0
