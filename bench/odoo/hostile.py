"""Hostile input: 500+ broken, malicious or odd FA(3) files through Upload and through receiving from KSeF.

Run with ``bash scripts/bench.sh hostile [--limit N] [--only TEXT] [--verbose]`` (about 5 minutes; with
``KSEF_BENCH_DB`` the two companies it makes stay in that database, importing nothing any more).

The inputs (bench/odoo/_hostile_inputs.py, always the same ones) are mutations of the official FA(3)
samples of tests/spec/samples (seeded: truncated files, invalid numbers, dates and NIPs, totals that do
not add up, missing parts, markup and script in every text field, very long texts, Unicode edge cases,
other encodings and byte order marks, FA(2), other namespaces) and hand-written files (XXE, external
DTDs, entity expansion, deep nesting, files over the size limit, other XML and non-XML files).

Every input goes through both paths, in a Polish company set up for it (the buyer of the samples,
NIP 1111111111, with the Polish chart):

* **Upload**: the file is uploaded in Vendor Bills as the Upload button does
  (``account.journal._create_document_from_attachment``), one file per upload, in its own transaction;
* **receiving**: the simulator (in this process) stores the very bytes as an invoice to the company
  (``seed_raw``, test only: real KSeF would refuse most of them) and the import cron
  (``res.company._cron_l10n_pl_ksef_receive()``, fresh cursors) receives them all: each becomes a bill
  or waits in the waiting list with its reason.

An input counts as a clear outcome (E) when on *both* paths it ends as either

* a clear message -- the Upload's chatter message, the waiting list's reason -- in Polish and English
  (bilingual, or a translated string) that names what is wrong, with no Python exception text, and no
  bill left with anything of the invoice (the Upload's empty draft carries the message, as Odoo's Upload
  does; it must stay empty); or
* a complete bill (one product line per line of the invoice, its file attached by its hash) whose
  texts are escaped in the chatter, in the KSeF visualization and in the bill's PDF report (their HTML
  is rendered and searched for unescaped payload tags); a file whose totals do not add up must say so
  in the bill's notes.

T counts inputs where an exception escaped on either path, or a message carries exception text or is
the generic "see the server log"; P counts inputs that left a partial bill (lines missing, or content
written although the import was refused). Other failures (a message in one language only, a silent
Upload, markup unescaped, a bill for a file that must be refused...) count against E only.

Last line: ``hostile: N inputs, E clear errors, T tracebacks, P partial bills``: N = distinct inputs, each
checked on both paths; E = inputs with a clear outcome on both paths (a clear error, or a complete bill
with escaped texts, as above). Exit status 1 unless N >= 500, E = N, T = P = 0.
"""

import argparse
import contextlib
import datetime
import importlib.util
import time
from pathlib import Path

from odoo import SUPERUSER_ID, api

from odoo.addons.l10n_pl_ksef.ksef_core.client import SyncState
from odoo.addons.l10n_pl_ksef.ksef_core.simulator.testing import running_simulator

HERE = Path(__file__).resolve()
TARGET = 500


def load(name):
    spec = importlib.util.spec_from_file_location("ksef_bench_" + name.strip("_"), HERE.with_name(name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


inputs_module = load("_hostile_inputs")
judge = load("_hostile_judge")


def parse_args(args):
    parser = argparse.ArgumentParser(prog="bash scripts/bench.sh hostile", description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=0, help="only the first N inputs (when iterating)")
    parser.add_argument("--only", default="", help="only inputs whose name contains this text")
    parser.add_argument("--verbose", action="store_true", help="print every failed check, not the first 80")
    return parser.parse_args(args)


@contextlib.contextmanager
def fresh_env(registry, uid=SUPERUSER_ID, context=None):
    """An environment on a new cursor, committed on success (like one request or cron job)."""
    with registry.cursor() as cr:
        yield api.Environment(cr, uid, context or {})


def make_company(env, name, nip):
    """A Polish company with the Polish chart (the buyer of the samples); returns its id."""
    pln = env.ref("base.PLN")
    pln.active = True
    company = (
        env["res.company"]
        .with_context(install_mode=True)
        .create(
            {
                "name": name,
                "country_id": env.ref("base.pl").id,
                "currency_id": pln.id,
                "vat": "PL%s" % nip,
                "street": "ul. Polna 1",
                "city": "Warszawa",
                "zip": "00-001",
            }
        )
    )
    env.user.company_ids |= company
    env.ref("base.user_admin").company_ids |= company
    env["account.chart.template"].with_context(allowed_company_ids=[company.id]).try_loading(
        "pl", company, install_demo=False
    )
    company.l10n_pl_ksef_active = True
    return company


def setup(registry, srv, stamp):
    """The Upload company and the receiving company (committed); returns their ids and journals."""
    with fresh_env(registry) as env:
        # (with KSEF_BENCH_DB) the receiving companies of earlier runs that were killed import nothing any more
        env["res.company"].search([("name", "=like", "Hostile Receive %")]).l10n_pl_ksef_receive = False
        nip = inputs_module.BUYER_NIP
        upload = make_company(env, "Hostile Upload %s" % stamp, nip)
        receive = make_company(env, "Hostile Receive %s" % stamp, nip)
        env = env(context=dict(env.context, allowed_company_ids=[receive.id]))
        load("fa3-odoo").connect_to_simulator(env, receive, srv, ("InvoiceRead",))
        journals = {}
        for company in (upload, receive):
            journals[company.id] = env["account.journal"].search(
                [("company_id", "=", company.id), ("type", "=", "purchase")], order="sequence, id", limit=1
            )
        receive.write({"l10n_pl_ksef_receive": True, "l10n_pl_ksef_receive_journal_id": journals[receive.id].id})
        start = srv.sim.clock.now() - datetime.timedelta(seconds=1)
        state = env["l10n_pl_ksef.receive.state"]._l10n_pl_ksef_for(receive)
        state.sync_state = SyncState("Subject2", start.isoformat()).to_dict()
        return upload.id, receive.id, journals[upload.id].id


def receive_all(registry, srv, company_id, cases, deadline=420.0):
    """Store every input in the simulator, run the import cron until each is a bill or waiting."""
    numbers = [
        srv.sim.seed_raw(case.data, inputs_module.SELLER_NIP, inputs_module.BUYER_NIP, invoice_number="H/%d" % index)
        for index, case in enumerate(cases)
    ]
    started, calls, errors = time.perf_counter(), 0, []
    while time.perf_counter() - started < deadline:
        with fresh_env(registry) as env:
            try:
                env["res.company"]._cron_l10n_pl_ksef_receive()
            except Exception as exc:  # the cron must never raise: a traceback of every input still waiting
                errors.append("%s: %s" % (type(exc).__name__, exc))
            calls += 1
        with fresh_env(registry) as env:
            env.cr.execute(
                "SELECT count(*) FROM account_move WHERE company_id = %s AND l10n_pl_ksef_number = ANY(%s)",
                (company_id, numbers),
            )
            bills = env.cr.fetchone()[0]
            env.cr.execute(
                "SELECT count(*) FROM l10n_pl_ksef_receive_failure WHERE company_id = %s AND ksef_number = ANY(%s)",
                (company_id, numbers),
            )
            waiting = env.cr.fetchone()[0]
            state = env["l10n_pl_ksef.receive.state"].search([("company_id", "=", company_id)], limit=1)
            last = state.last_result or ""
            state.next_attempt = False  # due again at once (as if its interval had passed)
        if judge.GENERIC.search(last):
            errors.append(last.splitlines()[0] if last else "")
        if bills + waiting >= len(numbers) or calls > 60:
            break
    print(
        "receiving: %d inputs stored in KSeF, %d cron calls in %.1f s: %d bills, %d waiting"
        % (len(numbers), calls, time.perf_counter() - started, bills, waiting),
        flush=True,
    )
    return numbers, errors


def upload_all(registry, company_id, journal_id, cases):
    """Upload every input in Vendor Bills (one file per upload, each in its own transaction)."""
    started = time.perf_counter()
    context = {"allowed_company_ids": [company_id]}
    with fresh_env(registry, context=context) as env:
        attachments = env["ir.attachment"].create(
            [
                {"name": "hostile-%04d.xml" % index, "raw": case.data, "mimetype": "application/xml"}
                for index, case in enumerate(cases)
            ]
        )
        attachment_ids = attachments.ids
    admin_id = None
    with fresh_env(registry) as env:
        admin_id = env.ref("base.user_admin").id
    outcome = []
    for attachment_id in attachment_ids:
        with fresh_env(registry, uid=admin_id, context=context) as env:
            journal = env["account.journal"].browse(journal_id)
            journal = journal.with_context(default_move_type="in_invoice", default_journal_id=journal_id)
            try:
                bills = journal._create_document_from_attachment([attachment_id])
                outcome.append((bills.ids, None))
            except Exception as exc:
                env.cr.rollback()
                outcome.append(([], "%s: %s" % (type(exc).__name__, str(exc)[:200])))
    print("upload: %d files uploaded in %.1f s" % (len(outcome), time.perf_counter() - started), flush=True)
    return outcome


def run(env, args):
    options = parse_args(args)
    cases = inputs_module.inputs()
    if options.only:
        cases = [case for case in cases if options.only in case.name]
    if options.limit:
        cases = cases[: options.limit]
    registry = env.registry
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    started = time.perf_counter()
    with running_simulator() as srv:
        srv.sim.invoice_store.configure(permanent_storage_delay=0)
        upload_id, receive_id, journal_id = setup(registry, srv, stamp)
        try:
            print("setup: 2 companies in %.1f s, %d inputs" % (time.perf_counter() - started, len(cases)), flush=True)
            numbers, run_errors = receive_all(registry, srv, receive_id, cases)
            uploads = upload_all(registry, upload_id, journal_id, cases)
        finally:
            with fresh_env(registry) as end_env:
                # the companies stay (their bills were committed) but import nothing any more
                end_env["res.company"].browse(receive_id).l10n_pl_ksef_receive = False
    with fresh_env(registry) as check_env:
        verdicts = judge.judge_all(check_env, cases, numbers, run_errors, uploads, receive_id, upload_id)
    return judge.report(cases, verdicts, time.perf_counter() - started, TARGET, verbose=options.verbose)
