"""Supplier invoices (FA(3)) into draft vendor bills inside Odoo: l10n_pl_ksef against Odoo's l10n_pl_edi.

Run with ``bash scripts/bench.sh import [--invoices N] [--lines N] [--suppliers N] [--partners N]``
(defaults 200 invoices of 20 lines from 25 suppliers; ``--partners``: that many other partners with a
Polish NIP seeded first, as in a database in use: the suppliers are then found among them).

Sets up fa3-odoo's Polish company (Polish chart, KSeF on, receiving into its purchase journal),
builds N FA(3) invoices the suppliers issued to it (lines at 23 % and 8 % alternately, a payment
due date, a sale date) with ksef_core's builder, each with a KSeF number, then, on the same XML
in the same database:

A. ours: the import cron's own path for received invoices, ``RECEIVE_BATCH`` (50) at a time, with one
   :class:`BillCache` (taxes, suppliers, products read once) per cron run (up to ``RECEIVE_LIMIT``):
   ``company._l10n_pl_ksef_receive_batch(items, result)`` (parse, find or create the supplier,
   build the bills in one ``create`` and their journal items in one INSERT, attach the XML, log the notes);
B. l10n_pl_edi: what its download cron does with the XML it downloaded:
   ``l10n_pl_edi_get_ksef_bill_vals_from_xml(xml)`` per invoice, then one ``create`` of all bills.

Each side starts from an empty record cache and no suppliers (it runs in a savepoint rolled back
afterwards) and is warmed up first by one untimed invoice of another supplier (ormcaches, compiled
code), so both are measured in the steady state of a running server. SQL queries are counted with
``cr.sql_log_count``. Our bills are checked against the XML: total, untaxed amount and VAT to the
grosz, one bill per invoice, no waiting-list entry.

Last line: ``import: ours X bills/s, l10n_pl_edi Y bills/s, ratio Z, queries/bill Q`` (Z = X / Y,
Q = our SQL queries per bill). Exit status 1 when one of our bills is missing or wrong.
"""

import argparse
import datetime
import importlib.util
import os
import sys
import time
from decimal import Decimal as D
from pathlib import Path

from odoo.addons.l10n_pl_ksef.ksef_core.fa3 import build_fa3, parse_fa3
from odoo.addons.l10n_pl_ksef.ksef_core.fa3.model import (
    Address,
    Invoice,
    Line,
    Party,
    Payment,
    PaymentTerm,
)
from odoo.addons.l10n_pl_ksef.ksef_core.ksef_number import make_ksef_number
from odoo.addons.l10n_pl_ksef.ksef_core.nip import nip_checksum_ok
from odoo.addons.l10n_pl_ksef.models.account_move_ksef_import_build import BillCache
from odoo.addons.l10n_pl_ksef.models.res_company_ksef_receive import RECEIVE_LIMIT
from odoo.addons.l10n_pl_ksef.models.res_company_ksef_receive_sync import RECEIVE_BATCH

FA3_BENCH = Path(__file__).resolve().with_name("fa3-odoo.py")
SHOW_FAILURES = 5


def parse_args(args):
    parser = argparse.ArgumentParser(prog="bash scripts/bench.sh import", description=__doc__.split("\n")[0])
    parser.add_argument("--invoices", type=int, default=200, help="number of invoices (default 200)")
    parser.add_argument("--lines", type=int, default=20, help="lines per invoice (default 20)")
    parser.add_argument("--suppliers", type=int, default=25, help="number of suppliers (default 25)")
    parser.add_argument("--history", type=int, default=100, help="bills the company has before (default 100)")
    parser.add_argument("--partners", type=int, default=0, help="other partners with a NIP seeded first (default 0)")
    parser.add_argument("--ours-only", action="store_true", help="measure l10n_pl_ksef only (when profiling)")
    options = parser.parse_args(args)
    if options.invoices < 1 or options.lines < 1 or options.suppliers < 1 or options.partners < 0:
        parser.error("--invoices, --lines and --suppliers must be at least 1, --partners at least 0")
    return options


def load_fa3_bench():
    spec = importlib.util.spec_from_file_location("ksef_bench_fa3_odoo", FA3_BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_nip(seed):
    """A valid NIP (check digit) made from a number."""
    while True:
        first9 = "%09d" % (100000000 + seed * 7919 % 899999999)
        for digit in "0123456789":
            if nip_checksum_ok(first9 + digit):
                return first9 + digit
        seed += 1


def supplier_invoices(buyer_nip, count, lines, suppliers, first=0):
    """``[(ksef_number, xml, invoice)]`` of ``count`` invoices of ``lines`` lines from ``suppliers`` suppliers
    (the suppliers and invoice numbers of ``first`` differ from those of another ``first``)."""
    issued = datetime.date.today() - datetime.timedelta(days=3)
    created = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    nips = [make_nip(1000 + first + s) for s in range(suppliers)]
    result = []
    for n in range(first, first + count):
        nip = nips[n % suppliers]
        invoice = Invoice(
            number="FV/%05d/%s" % (n + 1, issued.year),
            issue_date=issued,
            sale_date=issued - datetime.timedelta(days=1),
            created_at=created,
            seller=Party(
                name="Dostawca %d sp. z o.o." % (n % suppliers),
                nip=nip,
                address=Address("ul. Przemysłowa %d" % (n % suppliers + 1), "30-%03d Kraków" % (n % suppliers)),
            ),
            buyer=Party(
                name="Benchmark FA3 sp. z o.o.", nip=buyer_nip, address=Address("ul. Kwiatowa 1", "00-001 Warszawa")
            ),
            lines=[
                Line(
                    name="Towar %02d partii %d" % (i, n),
                    quantity=D(i % 5 + 1),
                    unit="szt.",
                    unit_price=D(10 + (7 * n + 13 * i) % 990) + D("0.25") * (i % 4),
                    rate=("23", "8")[i % 2],
                )
                for i in range(lines)
            ],
            payment=Payment(terms=[PaymentTerm(due_date=issued + datetime.timedelta(days=14))]),
        )
        xml = build_fa3(invoice)
        number = make_ksef_number(nip, issued, "%012X" % (0xBE0000000000 + n))
        result.append((number, xml, parse_fa3(xml)))
    return result


def seed_partners(env, count):
    """``count`` companies with a Polish NIP (written "PL...", "...-...-..-.." or plain digits, all starting
    with 9: none is a supplier's), inserted in one statement; their normalised NIP is then filled as the
    module's install fills it. Prints the seconds of both and of a supplier look-up by NIP."""
    if not count:
        return
    env.flush_all()
    cr = env.cr
    start = time.perf_counter()
    cr.execute(
        """
        WITH seq AS (SELECT nextval('res_partner_id_seq') AS id, g, '9' || lpad(g::text, 9, '0') AS nip
                       FROM generate_series(1, %(count)s) g)
        INSERT INTO res_partner (id, commercial_partner_id, name, complete_name, active, is_company, type,
                                 vat, country_id, autopost_bills, customer_rank, supplier_rank,
                                 create_uid, write_uid, create_date, write_date)
        SELECT id, id, 'Kontrahent ' || g, 'Kontrahent ' || g, true, true, 'contact',
               CASE g %% 3 WHEN 0 THEN 'PL' || nip
                           WHEN 1 THEN substr(nip, 1, 3) || '-' || substr(nip, 4, 3) || '-' || substr(nip, 7, 2)
                                       || '-' || substr(nip, 9, 2)
                           ELSE nip END,
               %(country)s, 'ask', 0, 1, 1, 1, now() at time zone 'UTC', now() at time zone 'UTC'
          FROM seq
        """,
        {"count": count, "country": env.ref("base.pl").id},
    )
    seeded = time.perf_counter() - start
    start = time.perf_counter()
    env["res.partner"]._l10n_pl_ksef_fill_nip()
    filled = time.perf_counter() - start
    cr.execute("ANALYZE res_partner")
    env.invalidate_all()
    Move = env["account.move"]
    nip = "9%09d" % (count // 2)
    start = time.perf_counter()
    partner, _archived = Move._l10n_pl_ksef_find_partner(nip, env.company)
    found = time.perf_counter() - start
    if not partner:
        raise RuntimeError("the seeded partner with NIP %s is not found by its NIP" % nip)
    start = time.perf_counter()
    env["res.partner"].with_context(active_test=False).search([("vat", "=ilike", "%" + "%".join(nip) + "%")])
    scanned = time.perf_counter() - start
    print(
        "partners: %d seeded in %.1f s, their NIP normalised in %.1f s (the install's SQL); a supplier found by NIP "
        "in %.1f ms (a scan of vat =ilike: %.1f ms)" % (count, seeded, filled, 1000 * found, 1000 * scanned)
    )


def ours(company, items):
    result = company._l10n_pl_ksef_empty_result()
    pairs = [(number, xml) for number, xml, _invoice in items]
    cache = None
    for start in range(0, len(pairs), RECEIVE_BATCH):  # as the cron: RECEIVE_BATCH invoices at a time,
        if start % RECEIVE_LIMIT == 0:  # with what it read of the company once per run (RECEIVE_LIMIT)
            cache = BillCache(company.env, company)
        company._l10n_pl_ksef_receive_batch(pairs[start : start + RECEIVE_BATCH], result, cache=cache)
    return result


def edi(env, items):
    Move = env["account.move"]
    vals_list = []
    for number, xml, _invoice in items:
        vals = Move.l10n_pl_edi_get_ksef_bill_vals_from_xml(xml)
        vals["l10n_pl_edi_number"] = number
        vals_list.append(vals)
    return Move.create(vals_list)


def measured(env, call):
    """(result, seconds, queries) of call() in a savepoint rolled back afterwards."""
    env.invalidate_all()
    with env.cr.savepoint(flush=False) as savepoint:
        queries = env.cr.sql_log_count
        start = time.perf_counter()
        if os.environ.get("KSEF_BENCH_PROFILE"):
            import cProfile
            import pstats

            profile = cProfile.Profile()
            result = profile.runcall(call)
            order = os.environ.get("KSEF_BENCH_SORT", "cumtime")
            restrictions = [os.environ["KSEF_BENCH_FILTER"], 40] if os.environ.get("KSEF_BENCH_FILTER") else [60]
            stats = pstats.Stats(profile, stream=sys.stderr).sort_stats(order)
            stats.print_stats(*restrictions)
            if os.environ.get("KSEF_BENCH_CALLERS"):
                stats.print_callers(os.environ["KSEF_BENCH_CALLERS"])
        else:
            result = call()
        env.flush_all()
        seconds = time.perf_counter() - start
        queries = env.cr.sql_log_count - queries
        checked = check(env, result) if isinstance(result, dict) else None
        savepoint.rollback()
    env.invalidate_all()
    return result, seconds, queries, checked


def check(env, result):
    """{KSeF number: problem} of our bills that do not say what the invoice says."""
    items = env.context["bench_items"]
    bills = env["account.move"].search([("l10n_pl_ksef_number", "in", [number for number, _x, _i in items])])
    by_number = {bill.l10n_pl_ksef_number: bill for bill in bills}
    failures = dict(result["failed"])
    for number, _xml, invoice in items:
        bill = by_number.get(number)
        if bill is None:
            failures.setdefault(number, "no bill")
            continue
        net = sum(t.net or 0 for t in invoice.totals.values()) if invoice.totals else None
        total = invoice.total
        if total is not None and bill.currency_id.compare_amounts(bill.amount_total, float(total)):
            failures[number] = "total %s, the invoice says %s" % (bill.amount_total, total)
        elif net is not None and bill.currency_id.compare_amounts(bill.amount_untaxed, float(net)):
            failures[number] = "untaxed %s, the invoice says %s" % (bill.amount_untaxed, net)
        elif len(bill.invoice_line_ids) != len(invoice.lines):
            failures[number] = "%d lines, the invoice has %d" % (len(bill.invoice_line_ids), len(invoice.lines))
    return failures


def run(env, args):
    options = parse_args(args)
    env, company = load_fa3_bench().setup_company(env)
    journal = env["account.journal"].search(
        [("company_id", "=", company.id), ("type", "=", "purchase")], order="sequence, id", limit=1
    )
    company.write({"l10n_pl_ksef_receive": True, "l10n_pl_ksef_receive_journal_id": journal.id})
    buyer = company.vat[2:]
    seed_partners(env, options.partners)
    start = time.perf_counter()
    items = supplier_invoices(buyer, options.invoices, options.lines, options.suppliers)
    # the warm-up invoices come from suppliers of their own
    warm_a = supplier_invoices(buyer, 1, options.lines, 1, first=options.invoices + 10)
    warm_b = supplier_invoices(buyer, 1, options.lines, 1, first=options.invoices + 20)
    print(
        "setup: company %s (chart %s), %d FA(3) invoices x %d lines from %d suppliers built in %.1f s"
        % (
            company.name,
            company.chart_template,
            len(items),
            options.lines,
            options.suppliers,
            time.perf_counter() - start,
        )
    )
    has_edi = hasattr(env["account.move"], "l10n_pl_edi_get_ksef_bill_vals_from_xml")
    env = env(context=dict(env.context, bench_items=items))
    company = company.with_env(env)
    # A company in use has bills already, and its database planner statistics that say so: without
    # them (tables analysed while empty) PostgreSQL runs Odoo's reconciliation queries as nested
    # loops over every journal item, minutes per create, for either side.
    history = supplier_invoices(buyer, options.history, options.lines, 10, first=options.invoices + 100)
    ours(company, history)
    env.flush_all()
    env.cr.execute("ANALYZE account_move, account_move_line, account_partial_reconcile, account_payment")

    measured(env, lambda: ours(company, warm_a))
    _result, seconds_a, queries_a, failures = measured(env, lambda: ours(company, items))
    count = len(items)
    print(
        "ours (l10n_pl_ksef): %d bills in %.2f s = %.1f bills/s, %.1f ms/bill, %d queries = %.1f/bill, %d wrong"
        % (count, seconds_a, count / seconds_a, 1000 * seconds_a / count, queries_a, queries_a / count, len(failures))
    )
    for number, problem in list(failures.items())[:SHOW_FAILURES]:
        print("  %s: %s" % (number, str(problem)[:300]))
    if not has_edi or options.ours_only:
        print(
            "import: ours %.1f bills/s, l10n_pl_edi not installed, queries/bill %.1f"
            % (count / seconds_a, queries_a / count)
        )
        return 1 if failures else 0
    measured(env, lambda: edi(env, warm_b))
    _bills, seconds_b, queries_b, _checked = measured(env, lambda: edi(env, items))
    print(
        "l10n_pl_edi (decode + create): %d bills in %.2f s = %.1f bills/s, %.1f ms/bill, %d queries = %.1f/bill"
        % (count, seconds_b, count / seconds_b, 1000 * seconds_b / count, queries_b, queries_b / count)
    )
    ours_rate, edi_rate = count / seconds_a, count / seconds_b
    print(
        "import: ours %.1f bills/s, l10n_pl_edi %.1f bills/s, ratio %.1f, queries/bill %.1f"
        % (ours_rate, edi_rate, ours_rate / edi_rate, queries_a / count)
    )
    return 1 if failures else 0
