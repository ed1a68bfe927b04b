"""Offices: an accounting office's database, many companies served by two Odoo servers; every healthy company
done, each in its fair share of the time, whatever a few failing companies do.

Run with ``bash scripts/bench.sh offices [--companies N] [--invoices N] [--bills N] [--failing N]
[--deadline S]`` (defaults: 200 companies, 25 invoices to send and 25 supplier invoices waiting in KSeF
each, 10 failing, 1500 s). Develop with ``--companies 10``.

Set-up (not timed): N Polish companies (own chart of accounts, own NIP and KSeF token of the simulator,
which runs in this process with KSeF's production rate limits on), automatic sending and receiving; the
invoices of each are posted (queued: FA(3) frozen) and its supplier invoices stored in KSeF. Some companies
fail on purpose, in turns: a revoked token, KSeF answering 500 to everything in their context, a 429 storm
in their context (simulator faults scoped to the NIP).

Then two ``odoo-bin`` servers start on the same database and data directory (the faults benchmark's
rig, twice: ``--workers=2 --max-cron-threads=2`` each, own HTTP port and log, Odoo's default real-time
limit of 120 s) and nobody clicks: the crons do the work. The clock starts before the first server starts.

Measured: per healthy company, the seconds until all its invoices are accepted and all its bills made;
which server did the work (the "KSeF: company N sent K invoice(s)" and "received K new bill(s)" lines of
each server's own log); duplicates (an invoice KSeF holds twice, a KSeF number on two invoices, a bill
made twice: all companies) and lost (a healthy company's invoice not accepted or supplier invoice without
a bill at the end).

Last line: ``offices: C companies, S sent and R received in T s on 2 servers (shares A% / B%), slowest
healthy company W s, median M s, duplicates D, lost L``. Exit status 1 unless every healthy company
is done, T <= 900 s, each server's share >= 25 %, W <= 2 x M and D = L = 0.
"""

import argparse
import collections
import contextlib
import datetime
import importlib.util
import os
import re
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from odoo import Command, fields

from odoo.addons.l10n_pl_ksef.ksef_core.client import SyncState
from odoo.addons.l10n_pl_ksef.ksef_core.simulator.seeding import seed_incoming
from odoo.addons.l10n_pl_ksef.ksef_core.simulator.testing import running_simulator

HERE = Path(__file__).resolve()
TARGET_SECONDS = 900.0
MIN_SHARE = 25.0
FAILURES = ("revoked token", "500 in its context", "429 storm in its context")
FA3_NIP = re.compile(r"[1-9]((\d[1-9])|([1-9]\d))\d{7}")
SENT_LINE = re.compile(r"KSeF: company (\d+) sent (\d+) invoice")
RECEIVED_LINE = re.compile(r"KSeF: company (\d+) received (\d+) new bill")


def load(name):
    spec = importlib.util.spec_from_file_location("ksef_bench_offices_" + name.strip("_"), HERE.with_name(name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_args(args):
    parser = argparse.ArgumentParser(prog="bash scripts/bench.sh offices", description=__doc__.split("\n")[0])
    parser.add_argument("--companies", type=int, default=200)
    parser.add_argument("--invoices", type=int, default=25, help="invoices to send per company")
    parser.add_argument("--bills", type=int, default=25, help="supplier invoices waiting in KSeF per company")
    parser.add_argument(
        "--failing", type=int, default=None, help="companies failing on purpose (default 10, 3 below 200)"
    )
    parser.add_argument("--deadline", type=float, default=1500.0, help="give up after this many seconds")
    parser.add_argument("--until", help="give up at this UTC time of day (HH:MM) at the latest")
    parser.add_argument(
        "--setup-until", help="set up no further company after this UTC time of day (HH:MM): run with those set up"
    )
    parser.add_argument(
        "--branches",
        action="store_true",
        help="set up the companies as branches of one company (its chart of accounts; each branch with its own "
        "NIP, token and purchase journal): a set-up several times faster; KSeF's side is the same",
    )
    return parser.parse_args(args)


class Office:
    """The office's companies: set-up, faults, progress."""

    def __init__(self, rigs, srv, importer, options):
        self.rigs = rigs
        self.rig = rigs[0]
        self.srv = srv
        self.sim = srv.sim
        self.importer = importer
        self.options = options
        self.companies = []  # [{"id", "nip", "token", "moves", "numbers", "failure"}]
        self.root_id = None
        self.phases = collections.Counter()  # seconds of the set-up per phase

    # ------------------------------------------------------------------ set-up

    def setup(self):
        started = time.monotonic()
        with self.rig.env() as env:
            poland = env.ref("base.pl")
            env.ref("base.PLN").active = True
            partner = env["res.partner"].create(
                {
                    "name": "Hurtownia Odbiorca S.A.",
                    "is_company": True,
                    "vat": "PL7680002466",
                    "street": "ul. Polna 12",
                    "city": "Kraków",
                    "zip": "30-001",
                    "country_id": poland.id,
                }
            )
            product = env["product.product"].create({"name": "Usługa księgowa", "type": "service", "list_price": 100})
            env["ir.config_parameter"].sudo().set_param("l10n_pl_ksef.http_timeout", 10)
            self.partner_id, self.product_id = partner.id, product.id
            if self.options.branches:
                pln = env.ref("base.PLN")
                root = (
                    env["res.company"]
                    .with_context(install_mode=True)
                    .create({"name": "Biuro rachunkowe", "country_id": poland.id, "currency_id": pln.id})
                )
                env.user.company_ids |= root
                renv = env(context=dict(env.context, allowed_company_ids=[root.id]))
                renv["account.chart.template"].try_loading("pl", root.with_env(renv), install_demo=False)
                self.root_id = root.id
        stop = seconds_until(self.options.setup_until)
        for index in range(self.options.companies):
            if stop is not None and time.monotonic() >= stop:
                print("  set-up stopped at %s UTC (--setup-until): %d companies" % (self.options.setup_until, index))
                break
            self.companies.append(self.setup_company(index))
            if index % 10 == 9 or index == self.options.companies - 1:
                print(
                    "  set up %d companies in %.0f s (%s)"
                    % (
                        index + 1,
                        time.monotonic() - started,
                        ", ".join("%s %.0f s" % item for item in self.phases.items()),
                    ),
                    flush=True,
                )

    @contextlib.contextmanager
    def phase(self, name):
        started = time.monotonic()
        yield
        self.phases[name] += time.monotonic() - started

    def setup_company(self, index):
        seed = 500000 + index * 37
        nip = self.importer.make_nip(seed)
        # FA(3)'s TNrNIP: the second and third digits are not both 0; one NIP per company
        while not FA3_NIP.fullmatch(nip) or nip in {c["nip"] for c in self.companies}:
            seed += 1
            nip = self.importer.make_nip(seed)
        with self.rig.env() as env:
            poland = env.ref("base.pl")
            # install_mode: no extra localisation modules installed (see fa3-odoo.py)
            with self.phase("company and chart"):
                company = (
                    env["res.company"]
                    .with_context(install_mode=True)
                    .create(
                        {
                            "name": "Klient %03d sp. z o.o." % index,
                            "parent_id": self.root_id or False,
                            "country_id": poland.id,
                            "currency_id": env.ref("base.PLN").id,
                            "vat": "PL%s" % nip,
                            "street": "ul. Biurowa %d" % (index + 1),
                            "city": "Warszawa",
                            "zip": "00-%03d" % (index % 1000),
                        }
                    )
                )
                env.user.company_ids |= company
                cenv = env(context=dict(env.context, allowed_company_ids=[company.id]))
                if not self.root_id:
                    cenv["account.chart.template"].try_loading("pl", company.with_env(cenv), install_demo=False)
                company_id = company.id
        # committed: a branch gets its part of the root's chart (Odoo loads it when the branch is committed)
        with self.rig.env() as env:
            cenv = env(context=dict(env.context, allowed_company_ids=[company_id]))
            company = cenv["res.company"].browse(company_id)
            with self.phase("company and chart"):
                if self.root_id:
                    expense = (
                        env["account.journal"]
                        .search([("company_id", "=", self.root_id), ("type", "=", "purchase")], limit=1)
                        .default_account_id
                    )
                    cenv["account.journal"].create(
                        {
                            "name": "Zakupy z KSeF",
                            "code": "KSZ",
                            "type": "purchase",
                            "company_id": company.id,
                            "default_account_id": expense.id,
                        }
                    )
                company.l10n_pl_ksef_active = True
            token = self.sim.mint_token(nip, ("InvoiceWrite", "InvoiceRead"))
            credentials = time.monotonic()
            wizard = cenv["l10n_pl_ksef.setup.wizard"].create(
                {
                    "company_id": company.id,
                    "step": "credentials",
                    "environment": "custom",
                    "custom_url": self.srv.base_url,
                    "auth_method": "token",
                    "token": token,
                }
            )
            wizard.action_save_credentials()
            if wizard.step != "done":
                raise RuntimeError("company %d: the set-up wizard refused the token (step %s)" % (index, wizard.step))
            purchase = cenv["account.journal"].search(
                [("company_id", "=", company.id), ("type", "=", "purchase")], order="sequence, id", limit=1
            )
            company.write(
                {
                    "l10n_pl_ksef_send_mode": "auto",
                    "l10n_pl_ksef_unavailable_mode": "wait",
                    "l10n_pl_ksef_receive": True,
                    "l10n_pl_ksef_receive_journal_id": purchase.id,
                }
            )
            state = cenv["l10n_pl_ksef.receive.state"]._l10n_pl_ksef_for(company)
            start = self.sim.clock.now() - datetime.timedelta(seconds=1)
            state.sync_state = SyncState("Subject2", start.isoformat()).to_dict()
            self.phases["credentials and settings"] += time.monotonic() - credentials
            chart_company = company.browse(self.root_id) if self.root_id else company
            tax = cenv["account.chart.template"].with_company(chart_company).ref("vs_kraj_23")
            posting = time.monotonic()
            today = fields.Date.context_today(cenv.user)
            moves = cenv["account.move"].create(
                [
                    {
                        "move_type": "out_invoice",
                        "partner_id": self.partner_id,
                        "invoice_date": today,
                        "invoice_line_ids": [
                            Command.create(
                                {
                                    "product_id": self.product_id,
                                    "quantity": 1 + n % 3,
                                    "price_unit": 100 + 7 * n,
                                    "tax_ids": [Command.set(tax.ids)],
                                }
                            )
                        ],
                    }
                    for n in range(self.options.invoices)
                ]
            )
            moves.action_post()  # automatic sending: queued (FA(3) frozen), the send cron triggered
            company_id, move_ids = company.id, moves.ids
            self.phases["invoices posted"] += time.monotonic() - posting
        with self.phase("supplier invoices stored in KSeF"):
            items = self.importer.supplier_invoices(nip, self.options.bills, 2, 3, first=index * self.options.bills)
            numbers = {seed_incoming(self.sim, xml): 2 for _n, xml, _invoice in items}
        return {
            "index": index,
            "id": company_id,
            "nip": nip,
            "token": token,
            "moves": move_ids,
            "numbers": numbers,
            "failure": None,
        }

    def break_some(self, count):
        """``count`` companies, spread over the list, fail on purpose from now on (kinds in turns)."""
        if not count:
            return []
        step = len(self.companies) / count
        broken = []
        for k in range(count):
            company = self.companies[int(k * step + step / 2) % len(self.companies)]
            kind = FAILURES[k % len(FAILURES)]
            if kind == "revoked token":
                self.sim.revoke_token(company["token"])
                self.sim.auth.invalidate_access_tokens(context_value=company["nip"])
            elif kind.startswith("500"):
                self.sim.faults.error("*", status=500, count=None, context=company["nip"])
            else:
                self.sim.faults.error("*", status=429, count=None, retry_after=60, context=company["nip"])
            company["failure"] = kind
            broken.append(company)
        return broken

    # ------------------------------------------------------------------ progress

    def progress(self):
        """{company id: (invoices accepted, bills made)}."""
        accepted = dict(
            self.rig.query(
                "SELECT company_id, count(*) FROM l10n_pl_ksef_document WHERE state = 'accepted' GROUP BY company_id"
            )
        )
        bills = dict(
            self.rig.query(
                """SELECT company_id, count(*) FROM account_move
                    WHERE move_type = 'in_invoice' AND l10n_pl_ksef_number IS NOT NULL GROUP BY company_id"""
            )
        )
        return {c["id"]: (accepted.get(c["id"], 0), bills.get(c["id"], 0)) for c in self.companies}

    def done(self, company, progress):
        sent, bills = progress[company["id"]]
        return sent >= len(company["moves"]) and bills >= len(company["numbers"])


def seconds_until(moment):
    """The ``time.monotonic()`` value at the next UTC time of day ``moment`` (HH:MM), or None."""
    if not moment:
        return None
    now = datetime.datetime.now(datetime.timezone.utc)
    hour, minute = (int(part) for part in moment.split(":"))
    until = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if until < now - datetime.timedelta(hours=12):
        until += datetime.timedelta(days=1)
    return time.monotonic() + (until - now).total_seconds()


def server_shares(rigs):
    """Per server: (invoices sent, new bills) from its own log."""
    shares = []
    for rig in rigs:
        sent = sum(int(m.group(2)) for line in rig.log_lines(" sent ") if (m := SENT_LINE.search(line)))
        received = sum(int(m.group(2)) for line in rig.log_lines(" received ") if (m := RECEIVED_LINE.search(line)))
        shares.append((sent, received))
    return shares


def run(env, args):
    options = parse_args(args)
    if options.failing is None:
        options.failing = 10 if options.companies >= 200 else min(3, max(options.companies - 1, 0))
    rig_module = load("_faults_rig")
    importer = load("import")
    env.cr.rollback()  # the runner's transaction stays empty: the servers work on the same database
    work = tempfile.mkdtemp(prefix="ksef_offices_")
    ok = False
    with running_simulator(rate_limits=True) as srv:
        srv.sim.invoice_store.configure(permanent_storage_delay=0)
        rigs = []
        for name in ("a", "b"):
            os.makedirs(os.path.join(work, name))
            rig = rig_module.Rig(env.registry, srv, os.path.join(work, name))
            rig.server_args = ["--limit-time-real=120"]  # Odoo's default: a cron job's budget is 96 s
            rigs.append(rig)
        office = Office(rigs, srv, importer, options)
        office.setup()
        broken = office.break_some(options.failing)
        healthy = [c for c in office.companies if c["failure"] is None]
        print(
            "set up: %d companies (%d failing: %s), %d invoices queued, %d supplier invoices in KSeF"
            % (
                len(office.companies),
                len(broken),
                ", ".join(sorted({c["failure"] for c in broken})) or "none",
                sum(len(c["moves"]) for c in office.companies),
                sum(len(c["numbers"]) for c in office.companies),
            ),
            flush=True,
        )
        finished = {}
        t0 = time.monotonic()
        try:
            for rig in rigs:
                rig.start_server()
            rigs[0].trigger("l10n_pl_ksef.ir_cron_l10n_pl_ksef_send")
            rigs[0].trigger("l10n_pl_ksef.ir_cron_l10n_pl_ksef_receive")
            print(
                "servers: %s (2 HTTP + 2 cron workers each); started in %.0f s"
                % (", ".join("port %d" % r.http_port for r in rigs), time.monotonic() - t0),
                flush=True,
            )
            last_report = time.monotonic()
            deadline = t0 + options.deadline
            if options.until:
                deadline = min(deadline, seconds_until(options.until))
            while time.monotonic() < deadline:
                for rig in rigs:
                    if rig.server.poll() is not None:
                        raise RuntimeError("an Odoo server exited: %s" % rig.exit_reason())
                progress = office.progress()
                now = time.monotonic() - t0
                for company in healthy:
                    if company["id"] not in finished and office.done(company, progress):
                        finished[company["id"]] = now
                if len(finished) == len(healthy):
                    break
                if time.monotonic() - last_report > 60:
                    last_report = time.monotonic()
                    shares = server_shares(rigs)
                    print(
                        "  +%.0f s: %d/%d healthy companies done; sent %d, bills %d; servers %s"
                        % (
                            now,
                            len(finished),
                            len(healthy),
                            sum(p[0] for p in progress.values()),
                            sum(p[1] for p in progress.values()),
                            " / ".join("%d+%d" % s for s in shares),
                        ),
                        flush=True,
                    )
                time.sleep(2)
            elapsed = time.monotonic() - t0
        finally:
            for rig in rigs:
                rig.stop_server()
        shares = server_shares(rigs)
        progress = office.progress()
        duplicates = lost = half = 0
        for company in office.companies:
            s_dup, s_lost, s_half, _detail = office.rig.count_sent(company["moves"], company["nip"])
            r_dup, r_lost, r_half, _r = office.rig.count_received(company["numbers"])
            duplicates += s_dup + r_dup
            if company["failure"] is None:
                lost += s_lost + r_lost
                half += s_half + r_half
        errors = [line for rig in rigs for line in rig.log_errors()]
        for line in errors[:5]:
            print("  logged: %s" % line[:300])
        for company in broken:
            sent, bills = progress[company["id"]]
            print(
                "  failing company %d (%s): %d accepted, %d bills" % (company["index"], company["failure"], sent, bills)
            )
        times = sorted(finished.values())
        slowest = max(times) if times else float("nan")
        median = statistics.median(times) if times else float("nan")
        unfinished = [c["index"] for c in healthy if c["id"] not in finished]
        if unfinished:
            print(
                "NOT DONE within %.0f s: %d of %d healthy companies (%s...)"
                % (elapsed, len(unfinished), len(healthy), ", ".join(str(i) for i in unfinished[:20]))
            )
        fastest = sorted(finished.items(), key=lambda item: item[1])
        by_id = {c["id"]: c["index"] for c in office.companies}
        print(
            "done: first %s, last %s; quartiles %s s; errors logged %d; half-made %d"
            % (
                ", ".join("%d at %.0f s" % (by_id[i], t) for i, t in fastest[:3]),
                ", ".join("%d at %.0f s" % (by_id[i], t) for i, t in fastest[-3:]),
                " / ".join("%.0f" % q for q in statistics.quantiles(times, n=4)) if len(times) > 1 else "-",
                len(errors),
                half,
            )
        )
        total_work = sum(s + r for s, r in shares) or 1
        percents = [100.0 * (s + r) / total_work for s, r in shares]
        sent_total = sum(p[0] for p in progress.values())
        received_total = sum(p[1] for p in progress.values())
        print(
            "servers: %s (invoices sent + bills made, from each server's log)"
            % " / ".join("%d+%d" % share for share in shares)
        )
        print(
            "offices: %d companies, %d sent and %d received in %.0f s on 2 servers (shares %.0f%% / %.0f%%), "
            "slowest healthy company %.0f s, median %.0f s, duplicates %d, lost %d"
            % (
                len(office.companies),
                sent_total,
                received_total,
                elapsed,
                percents[0],
                percents[1],
                slowest,
                median,
                duplicates,
                lost,
            ),
            flush=True,
        )
        ok = (
            not unfinished
            and elapsed <= TARGET_SECONDS
            and min(percents) >= MIN_SHARE
            and slowest <= 2 * median
            and duplicates == lost == 0
        )
    if ok:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print("the servers' logs are kept in %s" % work)
    return 0 if ok else 1
