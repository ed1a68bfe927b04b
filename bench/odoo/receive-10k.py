"""Receiving 10,000 supplier invoices inside Odoo: KSeF's export to draft bills through the import cron.

Run with ``bash scripts/bench.sh receive-10k [--invoices N] [--lines N] [--suppliers N] [--deadline S]``
(defaults: $KSEF_BENCH_INVOICES or 10,000 invoices of 20 lines from 200 suppliers, 1,200 s).

Starts the bundled KSeF simulator in this process with the production rate limits on, sets up
fa3-odoo's Polish company with a KSeF token through the setup wizard (as the tests do) and
receiving into its purchase journal, and stores N FA(3) invoices of the suppliers to it in the
simulator (not timed). Then, as Odoo's cron scheduler would, it calls
``res.company._cron_l10n_pl_ksef_receive()`` in a fresh cursor again and again (each call commits
per company; a company with more invoices waiting is due again at once; when KSeF asks to wait
the loop sleeps until the company is due, at most 10 s at a time) until every invoice is a bill
or the deadline has passed.

Last line: ``receive-10k: N bills of M in T s (X bills/s), cron calls C, exports E, waiting W,
duplicates D, peak RSS R MB`` -- N = draft bills with a KSeF number, T = seconds from the first
cron call to the commit of the last bill, E = ``POST /invoices/exports`` the simulator got, W =
invoices in the waiting list, D = KSeF numbers on more than one bill. Exit status 1 when a bill is
missing or duplicated.
"""

import argparse
import collections
import contextlib
import datetime
import importlib.util
import os
import resource
import threading
import time
from pathlib import Path

from odoo import SUPERUSER_ID, api, fields

from odoo.addons.l10n_pl_ksef.ksef_core.client import SyncState
from odoo.addons.l10n_pl_ksef.ksef_core.simulator.seeding import seed_incoming
from odoo.addons.l10n_pl_ksef.ksef_core.simulator.testing import running_simulator

HERE = Path(__file__).resolve()
COMPANY_NAME = "Benchmark receive-10k sp. z o.o."


def load(name):
    spec = importlib.util.spec_from_file_location("ksef_bench_" + name.replace("-", "_"), HERE.with_name(name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_args(args):
    parser = argparse.ArgumentParser(prog="bash scripts/bench.sh receive-10k", description=__doc__.split("\n")[0])
    default = int(os.environ.get("KSEF_BENCH_INVOICES") or 10000)
    parser.add_argument("--invoices", type=int, default=default, help="invoices to receive (default 10,000)")
    parser.add_argument("--lines", type=int, default=20, help="lines per invoice (default 20)")
    parser.add_argument("--suppliers", type=int, default=200, help="number of suppliers (default 200)")
    parser.add_argument("--deadline", type=float, default=1200.0, help="give up after this many seconds")
    options = parser.parse_args(args)
    if min(options.invoices, options.lines, options.suppliers) < 1:
        parser.error("--invoices, --lines and --suppliers must be at least 1")
    return options


@contextlib.contextmanager
def fresh_env(registry):
    """A superuser environment on a new cursor, committed on success (like one cron job)."""
    with registry.cursor() as cr:
        yield api.Environment(cr, SUPERUSER_ID, {})


def setup(env, srv, options):
    fa3 = load("fa3-odoo")
    env, company = fa3.setup_company(env)
    company.name = COMPANY_NAME
    nip = fa3.connect_to_simulator(env, company, srv, ("InvoiceRead",))
    journal = env["account.journal"].search(
        [("company_id", "=", company.id), ("type", "=", "purchase")], order="sequence, id", limit=1
    )
    company.write({"l10n_pl_ksef_receive": True, "l10n_pl_ksef_receive_journal_id": journal.id})
    # the import reads KSeF from now on: the invoices stored below, nothing else
    start = srv.sim.clock.now() - datetime.timedelta(seconds=1)
    state = env["l10n_pl_ksef.receive.state"]._l10n_pl_ksef_for(company)
    state.sync_state = SyncState("Subject2", start.isoformat()).to_dict()
    env.cr.commit()
    return company, nip


def seed(srv, nip, options):
    """Store the suppliers' invoices in the simulator: their KSeF numbers."""
    items = load("import").supplier_invoices(nip, options.invoices, options.lines, options.suppliers)
    return [seed_incoming(srv.sim, xml) for _number, xml, _invoice in items]


def count_requests(sim):
    """A Counter of the simulator's requests by "METHOD /path" (KSeF numbers and references as {})."""
    counter = collections.Counter()
    original = sim.dispatch
    lock = threading.Lock()

    def dispatch(request):
        path = "/".join("{}" if any(ch.isdigit() for ch in part) else part for part in request.path.split("/"))
        with lock:
            counter["%s %s" % (request.method, path)] += 1
        return original(request)

    sim.dispatch = dispatch
    return counter


def counts(env, company_id):
    env.cr.execute(
        """SELECT count(*), count(DISTINCT l10n_pl_ksef_number) FROM account_move
            WHERE company_id = %s AND move_type IN ('in_invoice', 'in_refund') AND l10n_pl_ksef_number IS NOT NULL""",
        (company_id,),
    )
    bills, numbers = env.cr.fetchone()
    env.cr.execute("SELECT count(*) FROM l10n_pl_ksef_receive_failure WHERE company_id = %s", (company_id,))
    return bills, numbers, env.cr.fetchone()[0]


def run(env, args):
    options = parse_args(args)
    registry = env.registry
    with running_simulator(rate_limits=True) as srv:
        srv.sim.invoice_store.configure(permanent_storage_delay=0)
        start = time.perf_counter()
        company, nip = setup(env, srv, options)
        numbers = seed(srv, nip, options)
        print(
            "setup: company %s (NIP %s), %d invoices x %d lines from %d suppliers stored in KSeF in %.1f s"
            % (company.name, nip, len(numbers), options.lines, options.suppliers, time.perf_counter() - start),
            flush=True,
        )
        requests = count_requests(srv.sim)
        t0 = time.perf_counter()
        calls = 0
        bills = duplicates = waiting = 0
        last_bill_at = t0
        while time.perf_counter() - t0 < options.deadline:
            with fresh_env(registry) as cron_env:
                cron_env["res.company"]._cron_l10n_pl_ksef_receive()
                calls += 1
            with fresh_env(registry) as check_env:
                found, distinct, waiting = counts(check_env, company.id)
                state = check_env["l10n_pl_ksef.receive.state"]._l10n_pl_ksef_for(
                    check_env["res.company"].browse(company.id)
                )
                due = state.next_attempt
                text = (state.last_result or "").splitlines()[:1]
            if found != bills:
                bills, duplicates = found, found - distinct
                last_bill_at = time.perf_counter()
                print("  %6.1f s: %d bills (call %d)" % (last_bill_at - t0, bills, calls), flush=True)
            if bills + waiting >= len(numbers):
                break
            if due and due > fields.Datetime.now():
                wait = min(10.0, (due - fields.Datetime.now()).total_seconds())
                print("  waiting %.0f s: %s" % (wait, text[0] if text else "-"), flush=True)
                time.sleep(max(0.1, wait))
        elapsed = last_bill_at - t0
        exports = sum(count for key, count in requests.items() if key.startswith("POST") and "exports" in key)
        print("requests: %s" % ", ".join("%s %d" % item for item in sorted(requests.items())), flush=True)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(
        "receive-10k: %d bills of %d in %.1f s (%.1f bills/s), cron calls %d, exports %s, waiting %d, "
        "duplicates %d, peak RSS %.0f MB"
        % (bills, len(numbers), elapsed, bills / elapsed if elapsed else 0.0, calls, exports, waiting, duplicates, rss)
    )
    return 0 if bills == len(numbers) and not duplicates else 1
