"""Being paid: 10,000 bank transactions matched with 20,000 open customer invoices by the KSeF numbers and the
collective identifiers in their labels.

Run with ``bash scripts/bench.sh match [--lines N] [--customers N]`` (defaults 10,000 lines, 200 customers).

Starts the bundled KSeF simulator in this process (production rate limits), sets up fa3-odoo's Polish company
with a KSeF token through the setup wizard, and seeds (not timed):

* open customer invoices: real posted ``account.move`` records (one line, a receivable line), created by the
  ORM 500 at a time, each with a KSeF number: 4 in 5 lines pay one invoice; the invoices of the others are also
  stored in the simulator (``seed_raw``: the company sells, the customer buys) and the customer asks the
  simulator for a collective identifier of 3 to 10 of them (``sim.collective.generate``, amounts named), 6 on
  average: N lines, 0.8 N + 1.2 N invoices (20,000 for 10,000 lines);
* N bank statement lines (Odoo's ``create``, 1,000 at a time, without the matching at import): 80 % name one KSeF
  number (as is, with text around, in lower case, or lower case in groups of 4 as some banks deliver it), 20 %
  a collective identifier (as is, in lower case with text, or split by spaces), each paying exactly what its
  invoices owe.

Then all N lines are handed to the matching the scheduled action runs ("KSeF: match bank transactions",
``account.bank.statement.line._cron_l10n_pl_ksef_match``: 500 lines a batch, their collective identifiers
resolved through KSeF 10 a request and cached, one search for the invoices of a batch, one reconciliation,
a commit after each batch), called again as Odoo's scheduler would while lines are left (it stops at its
budget). Measured: T (wall time of those calls), R (HTTP requests the simulator got meanwhile, logins
included), Q (SQL queries per line). Checked from the database: each line is reconciled with exactly the
invoices it names (W = lines reconciled with others), M = lines reconciled with all their invoices, paid.

Diagnostics: ``KSEF_BENCH_PROFILE=1`` prints a cProfile of the matching, ``KSEF_BENCH_SQLSTATS=1`` the statements
it ran by kind (both to stderr; ``KSEF_BENCH_DB`` with a smaller ``--lines`` to iterate).

Last line: ``match: M of N lines matched in T s, wrong W, KSeF requests R, queries/line Q``. Targets: M = N,
W = 0, T <= 120 s, R <= the number of collective identifiers, Q <= 10. Exit status 1 when M < N or W > 0.
"""

import argparse
import collections
import datetime
import importlib.util
import os
import sys
import time
from pathlib import Path

from odoo import Command

from odoo.addons.l10n_pl_ksef.ksef_core.ksef_number import make_ksef_number
from odoo.addons.l10n_pl_ksef.ksef_core.simulator.seeding import seed_raw
from odoo.addons.l10n_pl_ksef.ksef_core.simulator.testing import running_simulator
from odoo.addons.l10n_pl_ksef.models.account_bank_statement_line_ksef_auto import NO_MATCH_KEY

HERE = Path(__file__).resolve()
#: invoices per collective identifier, cycled: 3 to 10, 6 on average
SIZES = (3, 4, 5, 6, 7, 8, 10, 5)
SEED_BATCH = 500
SHOW_FAILURES = 5


def load(name):
    spec = importlib.util.spec_from_file_location("ksef_bench_" + name.replace("-", "_"), HERE.with_name(name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_args(args):
    parser = argparse.ArgumentParser(prog="bash scripts/bench.sh match", description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=10000, help="bank statement lines (default 10,000)")
    parser.add_argument("--customers", type=int, default=200, help="customers (default 200)")
    options = parser.parse_args(args)
    if options.lines < 5 or options.customers < 1:
        parser.error("--lines must be at least 5, --customers at least 1")
    return options


def spaced(text):
    """Lower case, without dashes, in groups of 4 (as some banks deliver titles)."""
    plain = text.replace("-", "").lower()
    return " ".join(plain[i : i + 4] for i in range(0, len(plain), 4))


def single_label(number, n):
    return (
        number,
        "Zaplata za fakture FV/%d %s dziekujemy" % (n, number),
        "przelew %s" % number.lower(),
        spaced(number),
    )[n % 4]


def collective_label(identifier, n):
    return (
        identifier,
        "Platnosc zbiorcza %s za luty" % identifier.lower(),
        identifier.replace("-", " "),
    )[n % 3]


def seed_invoices(env, company, customers, prices, numbers):
    """Posted customer invoices (one line each, no tax) to ``customers`` (cycled) → account.move in order."""
    journal = env["account.journal"].search(
        [("company_id", "=", company.id), ("type", "=", "sale")], order="sequence, id", limit=1
    )
    income = journal.default_account_id
    day = datetime.date.today() - datetime.timedelta(days=20)
    # seeding only: no chatter messages for the new invoices (the matching measured below tracks as usual)
    Move = env["account.move"].with_context(l10n_pl_ksef_skip_fa3_check=True, tracking_disable=True)
    moves = Move.browse()
    for start in range(0, len(prices), SEED_BATCH):
        vals = [
            {
                "move_type": "out_invoice",
                "journal_id": journal.id,
                "partner_id": customers[n % len(customers)].id,
                "invoice_date": day,
                "l10n_pl_ksef_number": numbers[n],
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Usluga %d" % n,
                            "quantity": 1,
                            "price_unit": prices[n],
                            "account_id": income.id,
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
            for n in range(start, min(start + SEED_BATCH, len(prices)))
        ]
        batch = Move.create(vals)
        batch.action_post()
        env.flush_all()
        moves |= batch
        env.invalidate_all()
    return moves


def sql_tally(cr):
    """A Counter of the statements ``cr`` runs from now on, by their first words (diagnostics)."""
    counter = collections.Counter()
    original = cr.execute

    def execute(query, params=None, log_exceptions=True):
        text = " ".join(str(getattr(query, "code", query)).split())
        counter[text[:90]] += 1
        return original(query, params, log_exceptions)

    cr.execute = execute
    return counter


def reconciled_with(env, st_lines):
    """``{statement line id: {invoice ids it is reconciled with}}`` and the set of fully reconciled lines."""
    env.flush_all()
    env.cr.execute(
        """
        SELECT st.id, inv.move_id
          FROM account_bank_statement_line st
          JOIN account_move_line own ON own.move_id = st.move_id
          JOIN account_partial_reconcile p ON p.credit_move_id = own.id OR p.debit_move_id = own.id
          JOIN account_move_line inv
            ON inv.id = CASE WHEN p.credit_move_id = own.id THEN p.debit_move_id ELSE p.credit_move_id END
         WHERE st.id = ANY(%s)
        """,
        [st_lines.ids],
    )
    out = collections.defaultdict(set)
    for st_id, move_id in env.cr.fetchall():
        out[st_id].add(move_id)
    env.invalidate_all()
    done = {line.id for line in st_lines if line.is_reconciled}
    return out, done


def run(env, args):
    options = parse_args(args)
    fa3 = load("fa3-odoo")
    nip_of = load("import").make_nip
    with running_simulator(rate_limits=True) as srv:
        srv.sim.invoice_store.configure(permanent_storage_delay=0)
        t_setup = time.perf_counter()
        env, company = fa3.setup_company(env)
        # (a database kept between runs, KSEF_BENCH_DB, has the companies of the runs before)
        runs = env["res.company"].search_count([("name", "=like", "Benchmark match%")])
        company.name = "Benchmark match sp. z o.o." + (" (%d)" % (runs + 1) if runs else "")
        seller = fa3.connect_to_simulator(env, company, srv, ("InvoiceRead",))
        company.l10n_pl_ksef_active = False  # the seeding posts without FA(3) checks; on again to match
        customer_nips = [nip_of(5000 + c) for c in range(options.customers)]
        customers = env["res.partner"].create(
            [{"name": "Odbiorca %d S.A." % c, "is_company": True} for c in range(options.customers)]
        )

        n_collective = options.lines // 5
        n_single = options.lines - n_collective
        sizes = [SIZES[c % len(SIZES)] for c in range(n_collective)]
        day = datetime.date.today() - datetime.timedelta(days=20)
        # invoices 0 .. n_single-1: one line each; then the collectives' invoices, size by size
        prices, numbers, owner = [], [], []  # owner: the customer index of each invoice
        for n in range(n_single):
            prices.append(100 + (n * 37) % 4900 + 0.25 * (n % 4))
            numbers.append(make_ksef_number(seller, day, "%012X" % (0xA10000000000 + n)))
            owner.append(n % options.customers)
        groups = []
        for c, size in enumerate(sizes):
            first = len(prices)
            for k in range(size):
                prices.append(50 + ((c * 11 + k * 29) % 2000) + 0.5 * (k % 2))
                number = seed_raw(
                    srv.sim,
                    b"<Faktura/>",
                    seller,
                    customer_nips[c % options.customers],
                    invoice_number="FV/Z/%d/%d" % (c, k),
                )
                numbers.append(number)
                owner.append(c % options.customers)
            groups.append(range(first, first + size))
        customer_of = [customers[i] for i in owner]
        invoices = seed_invoices(env, company, customer_of, prices, numbers)
        totals = dict(zip(invoices.ids, invoices.mapped("amount_total"), strict=True))
        identifiers = []
        for c, group in enumerate(groups):
            items = [
                {"ksefNumber": numbers[i], "payment": {"amount": totals[invoices[i].id], "currency": "PLN"}}
                for i in group
            ]
            identifiers.append(srv.sim.collective.generate(customer_nips[c % options.customers], items)["number"])
        company.l10n_pl_ksef_active = True

        bank = env["account.journal"].search(
            [("company_id", "=", company.id), ("type", "=", "bank")], order="sequence, id", limit=1
        )
        vals, expected = [], []
        for n in range(n_single):
            vals.append({"payment_ref": single_label(numbers[n], n), "amount": totals[invoices[n].id]})
            expected.append({invoices[n].id})
        for c, group in enumerate(groups):
            ids = {invoices[i].id for i in group}
            vals.append(
                {"payment_ref": collective_label(identifiers[c], c), "amount": round(sum(totals[i] for i in ids), 2)}
            )
            expected.append(ids)
        StLine = env["account.bank.statement.line"].with_context(**{NO_MATCH_KEY: True, "tracking_disable": True})
        st_lines = StLine.browse()
        today = datetime.date.today()
        for start in range(0, len(vals), 1000):
            batch = [
                dict(v, journal_id=bank.id, date=today, partner_name="Klient %d" % (start + i))
                for i, v in enumerate(vals[start : start + 1000])
            ]
            st_lines |= StLine.create(batch)
            env.flush_all()
            env.invalidate_all()
        expected = dict(zip(st_lines.ids, expected, strict=True))
        # handed to the scheduled action, as the lines an import leaves waiting for it
        st_lines.write({"l10n_pl_ksef_match_pending": True})
        env.flush_all()
        env.cr.execute("ANALYZE account_move, account_move_line, account_bank_statement_line")
        env.cr.commit()
        print(
            "setup: %d invoices (%d in %d collective identifiers of 3-10), %d statement lines (%d single, %d "
            "collective), %d customers, seeded in %.1f s"
            % (
                len(invoices),
                len(prices) - n_single,
                len(groups),
                len(st_lines),
                n_single,
                len(groups),
                options.customers,
                time.perf_counter() - t_setup,
            ),
            flush=True,
        )

        env.invalidate_all()
        requests = load("receive-10k").count_requests(srv.sim)
        before = srv.sim.request_count
        queries = env.cr.sql_log_count
        Cron = env["account.bank.statement.line"]
        calls = 0
        start = time.perf_counter()
        profile = tally = None
        if os.environ.get("KSEF_BENCH_SQLSTATS"):  # which statements the matching runs, by table and verb
            tally = sql_tally(env.cr)
        if os.environ.get("KSEF_BENCH_PROFILE"):
            import cProfile

            profile = cProfile.Profile()
            profile.enable()
        while True:
            result = Cron._cron_l10n_pl_ksef_match()
            calls += 1
            print("  call %d: %s" % (calls, result), flush=True)
            if not result["waiting"] or not result["done"]:
                break
        seconds = time.perf_counter() - start
        queries = env.cr.sql_log_count - queries
        if profile is not None:
            import pstats

            profile.disable()
            order = os.environ.get("KSEF_BENCH_SORT", "cumtime")
            pstats.Stats(profile, stream=sys.stderr).sort_stats(order).print_stats(70)
        ksef_requests = srv.sim.request_count - before
        if tally is not None:
            for key, count in tally.most_common(40):
                print("  sql %6d %s" % (count, key), file=sys.stderr)
        print("requests: %s" % ", ".join("%s %d" % item for item in sorted(requests.items())), flush=True)

    found, done = reconciled_with(env, st_lines)
    matched = wrong = 0
    failures = []
    paid = {m.id: m.payment_state for m in invoices}
    for st_id, want in expected.items():
        got = found.get(st_id, set())
        if got and got != want:
            wrong += 1
            failures.append("line %d reconciled with %s, names %s" % (st_id, sorted(got), sorted(want)))
        elif got == want and st_id in done and all(paid[i] in ("paid", "in_payment") for i in want):
            matched += 1
        else:
            failures.append("line %d not matched (reconciled with %s, names %s)" % (st_id, sorted(got), sorted(want)))
    for failure in failures[:SHOW_FAILURES]:
        print("  " + failure)
    count = len(st_lines)
    print(
        "collective identifiers: %d; cron calls: %d; invoices paid: %d of %d"
        % (len(identifiers), calls, sum(1 for s in paid.values() if s in ("paid", "in_payment")), len(paid))
    )
    print(
        "match: %d of %d lines matched in %.1f s, wrong %d, KSeF requests %d, queries/line %.1f"
        % (matched, count, seconds, wrong, ksef_requests, queries / count)
    )
    return 0 if matched == count and not wrong else 1
