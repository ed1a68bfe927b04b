"""Faults: crashes and KSeF failures against a real Odoo server, counted. Nothing sent twice, nothing
lost, nothing half-made.

Run with ``bash scripts/bench.sh faults [--only NAME[,NAME...]] [--quick] [--list]``. The README's test
command runs four of them with ``--quick`` (an idle cron worker is woken after 10 s without progress
rather than sleeping its 60-70 s; the counts are the same, the settle times are not Odoo's own).

Sets up a Polish company with a KSeF token of the simulator (which runs in this process), automatic
sending and receiving, then starts ``odoo-bin`` on the benchmark's database with two HTTP workers
and two cron workers (prefork: separate processes). Each scenario:

1. posts invoices (sending starts by itself: the cron is triggered) and/or stores supplier invoices
   in the simulator for the company (receiving is due);
2. injects its fault: a worker killed with SIGKILL at a chosen moment, a KSeF answer that fails,
   is late, is lost or is damaged, a 429 storm, a session / key / token taken away, Latarnia
   announcing a failure, PostgreSQL restarted; or a race between two actors (``_faults_races.py``): a
   user withdrawing an invoice while the cron sends, an environment switch with invoices on their
   way, a KSeF number typed by hand while the invoice is sent;
3. lets the system recover by itself: the cron workers (and the master respawning a killed worker)
   do the work; nobody clicks. Only time is helped: when nothing changed for 75 s (longer than an
   idle cron worker sleeps, 60-70 s, when no trigger wakes it), the engine's schedules that lie
   ahead (a retry in 5 minutes, a session closed after 15 idle minutes, a 30-minute back-off, the
   next hourly import) are brought to now; the line says how far the nearest one was;
4. counts, against the simulator's own invoice store and Odoo's database:
   - duplicates: an invoice KSeF holds twice, a KSeF number on two invoices, a bill made twice;
   - lost: an invoice neither accepted nor clearly rejected at the end, a received invoice with
     neither a bill nor an entry in the waiting list;
   - half-made: a bill without all its lines, Odoo's state contradicting KSeF (accepted with a
     number KSeF does not hold for that invoice, rejected while KSeF has it).

Prints one line per scenario, then ``faults: S scenarios, duplicates D, lost L, half-made H``
(S = scenarios run to their end). Exit status 1 unless S >= 18 (all chosen with ``--only``) and
D = L = H = 0. A withdrawn invoice that reaches KSeF counts as a duplicate.
"""

import argparse
import datetime
import importlib.util
import os
import shutil
import subprocess
import tempfile
import threading
import time
import types
from pathlib import Path

import requests

from odoo import Command

from odoo.addons.l10n_pl_ksef.ksef_core.client import SyncState
from odoo.addons.l10n_pl_ksef.ksef_core.simulator.seeding import seed_incoming
from odoo.addons.l10n_pl_ksef.ksef_core.simulator.testing import running_simulator

HERE = Path(__file__).resolve()
COMPANY_NAME = "Benchmark faults sp. z o.o."
SEND = "/sessions/online/*/invoices"
TIMEOUT = 5  # seconds: l10n_pl_ksef.http_timeout during the benchmark
SCENARIOS = []
#: a full run must run at least this many scenarios to their end
MIN_SCENARIOS = 18
#: --quick: seconds without progress after which the idle cron workers are woken
QUICK_WAKE = 10.0


def load(name):
    spec = importlib.util.spec_from_file_location("ksef_bench_" + name.replace("-", "_"), HERE.with_name(name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def scenario(name, what):
    def register(function):
        SCENARIOS.append((name, what, function))
        return function

    return register


class Context:
    def __init__(self, rig, fa3, importer):
        self.rig = rig
        self.sim = rig.sim
        self.fa3 = fa3
        self.importer = importer
        self.company_id = self.nip = self.token = None
        self.template = None
        self.seeded = 0
        self.since = None  # the current scenario's start (database time)
        self.busy_lines = 0

    # ------------------------------------------------------------------ set-up

    def setup(self):
        with self.rig.env() as env:
            # KSEF_BENCH_DB: the companies of earlier runs stay, out of the way
            earlier = env["res.company"].search([("name", "=like", COMPANY_NAME + "%")])
            earlier.write({"l10n_pl_ksef_active": False})
            env, company = self.fa3.setup_company(env)
            company.name = "%s (run %d)" % (COMPANY_NAME, os.getpid())
            self.nip = self.fa3.connect_to_simulator(env, company, self.rig.srv, ("InvoiceWrite", "InvoiceRead"))
            journal = env["account.journal"].search(
                [("company_id", "=", company.id), ("type", "=", "purchase")], order="sequence, id", limit=1
            )
            company.write(
                {
                    "l10n_pl_ksef_send_mode": "auto",
                    "l10n_pl_ksef_unavailable_mode": "wait",
                    "l10n_pl_ksef_receive": True,
                    "l10n_pl_ksef_receive_journal_id": journal.id,
                }
            )
            state = env["l10n_pl_ksef.receive.state"]._l10n_pl_ksef_for(company)
            start = self.sim.clock.now() - datetime.timedelta(seconds=1)
            state.sync_state = SyncState("Subject2", start.isoformat()).to_dict()
            params = env["ir.config_parameter"].sudo()
            params.set_param("l10n_pl_ksef.http_timeout", TIMEOUT)
            params.set_param("l10n_pl_ksef.batch_threshold", 1000)
            self.template = self.fa3.invoice_vals(env, 1, 3)[0]
            admin = env.ref("base.user_admin")
            admin.write({"company_ids": [Command.link(company.id)], "password": "admin"})
            self.company_id = company.id
        self.token = self.current_token()

    def current_token(self):
        with self.rig.env() as env:
            return env["res.company"].browse(self.company_id)._l10n_pl_ksef_get_token()

    def param(self, key, value):
        with self.rig.env() as env:
            env["ir.config_parameter"].sudo().set_param(key, value)

    # ------------------------------------------------------------------ work

    def post(self, count):
        """``count`` invoices created (one create) and posted (one action_post): queued and the cron triggered."""
        with self.rig.env() as env:
            env = env(context={"allowed_company_ids": [self.company_id]})
            moves = env["account.move"].create([dict(self.template) for _i in range(count)])
            moves.action_post()
            return moves.ids

    def post_manual(self, count):
        """``count`` invoices confirmed while sending is manual: nothing queued."""
        with self.rig.env() as env:
            env["res.company"].browse(self.company_id).l10n_pl_ksef_send_mode = "manual"
        try:
            return self.post(count)
        finally:
            with self.rig.env() as env:
                env["res.company"].browse(self.company_id).l10n_pl_ksef_send_mode = "auto"

    def seed(self, count, lines=3):
        """``count`` supplier invoices stored in KSeF for the company; receiving made due. {number: lines}"""
        items = self.importer.supplier_invoices(self.nip, count, lines, 5, first=self.seeded)
        self.seeded += count
        numbers = {seed_incoming(self.sim, xml): lines for _n, xml, _invoice in items}
        return numbers

    def import_due(self):
        """The hourly check comes (time passes until it is due)."""
        self.rig.warp()
        self.rig.trigger("l10n_pl_ksef.ir_cron_l10n_pl_ksef_receive")

    def held(self, ids):
        """How many of these invoices KSeF holds."""
        names = {row[0] for row in self.rig.query("SELECT name FROM account_move WHERE id = ANY(%s)", (ids,))}
        with self.sim.state.lock:
            return sum(1 for r in self.sim.invoice_store.invoices.values() if r.get("invoiceNumber") in names)

    def wait_held(self, ids, at_least, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.held(ids) >= at_least:
                return True
            time.sleep(0.1)
        return False

    def user_sends(self, ids):
        """The accountant clicks Send to KSeF on these invoices (JSON-RPC, as the web client would)."""
        try:
            return self.rig.jsonrpc(
                self.admin_uid(), "admin", "account.move", "action_l10n_pl_ksef_send", [ids], company_id=self.company_id
            )
        except requests.RequestException as exc:
            return {"error": str(exc)}

    def admin_uid(self):
        return self.rig.query("SELECT id FROM res_users WHERE login = 'admin'")[0][0]

    # ------------------------------------------------------------------ outcome

    def settle_sent(self, ids, timeout=600):
        return self.rig.settle(lambda: self.rig.sending_done(ids), timeout=timeout)

    def settle_received(self, numbers, timeout=600):
        return self.rig.settle(lambda: self.rig.receiving_done(numbers), timeout=timeout)

    def reset(self):
        self.sim.faults.clear()
        self.sim.set_latarnia("AVAILABLE")
        self.param("l10n_pl_ksef.batch_threshold", 1000)


def sent_outcome(ctx, ids, took):
    duplicates, lost, half, detail = ctx.rig.count_sent(ids, ctx.nip)
    states = ", ".join("%s %d" % item for item in sorted(detail.items()))
    return duplicates, lost, half, "%d invoices: %s" % (len(ids), states), took


def received_outcome(ctx, numbers, took):
    duplicates, lost, half, detail = ctx.rig.count_received(numbers, ctx.company_id, ctx.since)
    text = "%d received: %d bills, %d waiting" % (len(numbers), detail["bills"], detail["waiting"])
    return duplicates, lost, half, text, took


def combine(*outcomes):
    duplicates = sum(o[0] for o in outcomes)
    lost = sum(o[1] for o in outcomes)
    half = sum(o[2] for o in outcomes)
    took = None if any(o[4] is None for o in outcomes) else max(o[4] for o in outcomes)
    return duplicates, lost, half, "; ".join(o[3] for o in outcomes), took


# --------------------------------------------------------------------------- worker killed


def must_kill(killed):
    if not killed:
        raise RuntimeError("no worker was found doing that work: nothing was killed")
    return killed


@scenario("kill-after-post", "cron worker SIGKILLed after KSeF accepted the POST, before Odoo committed")
def kill_after_post(ctx):
    fault = ctx.sim.faults.delay(SEND, 30, method="POST", after=True, skip=1)
    ids = ctx.post(4)
    assert ctx.rig.wait_fault_taken(fault), "the send never reached KSeF"
    time.sleep(0.5)  # KSeF has processed it; the answer is held back
    killed = must_kill(ctx.rig.kill_connected("WorkerCron"))
    return sent_outcome(ctx, ids, ctx.settle_sent(ids)), "killed %d" % killed


@scenario("kill-batch-upload", "cron worker SIGKILLed while uploading a batch part")
def kill_batch_upload(ctx):
    ctx.param("l10n_pl_ksef.batch_threshold", 5)
    fault = ctx.sim.faults.delay("/batch/*", 30, method="PUT")
    ids = ctx.post(12)
    assert ctx.rig.wait_fault_taken(fault), "no part was uploaded"
    time.sleep(0.3)
    killed = must_kill(ctx.rig.kill_connected("WorkerCron"))
    return sent_outcome(ctx, ids, ctx.settle_sent(ids)), "killed %d" % killed


@scenario("kill-close-status", "cron worker SIGKILLed between the batch session's close and its status")
def kill_close_status(ctx):
    ctx.param("l10n_pl_ksef.batch_threshold", 5)
    fault = ctx.sim.faults.delay("/sessions/batch/*/close", 30, method="POST", after=True)
    ids = ctx.post(12)
    assert ctx.rig.wait_fault_taken(fault), "the batch was never closed"
    time.sleep(0.5)
    killed = must_kill(ctx.rig.kill_connected("WorkerCron"))
    return sent_outcome(ctx, ids, ctx.settle_sent(ids)), "killed %d" % killed


@scenario("kill-mid-import", "cron worker SIGKILLed while it writes the bills of an import")
def kill_mid_import(ctx):
    numbers = ctx.seed(400)
    ctx.import_due()
    # the worker whose database connection is inserting bills (Odoo names connections "odoo-<pid>")
    killed = must_kill(ctx.rig.kill_when_writing("account_move_line", timeout=120))
    made = ctx.rig.receive_state(numbers)[0]
    outcome = received_outcome(ctx, numbers, ctx.settle_received(numbers))
    return outcome, "killed %d with bills made but not committed (%d committed then)" % (killed, made)


@scenario("kill-user-send", "HTTP worker SIGKILLed while the accountant's Send to KSeF waits for KSeF")
def kill_user_send(ctx):
    ids = ctx.post_manual(3)
    fault = ctx.sim.faults.delay(SEND, 30, method="POST", after=True)
    click = threading.Thread(target=ctx.user_sends, args=(ids,), daemon=True)
    click.start()
    assert ctx.rig.wait_fault_taken(fault), "the click sent nothing"
    time.sleep(0.5)
    killed = must_kill(ctx.rig.kill_connected("WorkerHTTP"))
    click.join(30)
    return sent_outcome(ctx, ids, ctx.settle_sent(ids)), "killed %d" % killed


@scenario("race", "two cron workers and two accountants send the same invoices at once")
def race(ctx):
    ids = ctx.post_manual(20)  # confirmed, not queued: the clicks queue them
    ctx.sim.faults.delay(SEND, 0.3, method="POST", count=None)
    with ctx.rig.env() as env:
        cron = env.ref("l10n_pl_ksef.ir_cron_l10n_pl_ksef_send")
        twin_id = cron.copy({"name": "KSeF: send (second scheduler, faults benchmark)"}).id
    answers = []
    try:
        clicks = [threading.Thread(target=lambda: answers.append(ctx.user_sends(ids)), daemon=True) for _i in range(2)]
        for click in clicks:
            click.start()
        with ctx.rig.env() as env:
            env["ir.cron"].browse(twin_id)._trigger()
            env.ref("l10n_pl_ksef.ir_cron_l10n_pl_ksef_send")._trigger()
        took = ctx.settle_sent(ids)
        for click in clicks:
            click.join(60)
    finally:
        with ctx.rig.env() as env:
            env["ir.cron"].browse(twin_id).unlink()
    busy = len(ctx.rig.log_lines("is already sending in another worker")) - ctx.busy_lines
    refused = sum(1 for answer in answers if "error" in answer)
    if not busy and not refused:
        raise RuntimeError("no worker found another one sending and no click was refused: there was no race")
    note = "2 cron jobs + 2 clicks: %d run(s) found the company busy, %d click(s) refused" % (busy, refused)
    return sent_outcome(ctx, ids, took), note


# --------------------------------------------------------------------------- KSeF misbehaving


@scenario("ksef-5xx", "KSeF answers 500 to sends and 503 to logins")
def ksef_5xx(ctx):
    ctx.sim.faults.error(SEND, status=500, count=3, method="POST")
    ctx.sim.faults.error("/auth/*", status=503, count=2)
    ctx.sim.auth.invalidate_access_tokens()
    ids = ctx.post(5)
    return sent_outcome(ctx, ids, ctx.settle_sent(ids)), "3x500 + 2x503"


@scenario("ksef-timeout", "KSeF processes the send but answers after the client's timeout")
def ksef_timeout(ctx):
    ctx.sim.faults.delay(SEND, TIMEOUT + 4, method="POST", after=True, skip=1)
    ids = ctx.post(4)
    return sent_outcome(ctx, ids, ctx.settle_sent(ids)), "answer %d s late" % (TIMEOUT + 4)


@scenario("ksef-drop", "KSeF processes the send and drops the connection without an answer")
def ksef_drop(ctx):
    ctx.sim.faults.drop(SEND, count=2, method="POST", skip=1)
    ids = ctx.post(5)
    return sent_outcome(ctx, ids, ctx.settle_sent(ids)), "2 answers lost"


@scenario("429-storm", "every KSeF call answers 429 (Retry-After 2 s), 20 times")
def storm(ctx):
    ctx.sim.faults.error("*", status=429, count=20, retry_after=2, message="Too Many Requests")
    ids = ctx.post(6)
    numbers = ctx.seed(10)
    ctx.import_due()
    return combine(
        sent_outcome(ctx, ids, ctx.settle_sent(ids)), received_outcome(ctx, numbers, ctx.settle_received(numbers))
    ), "20x429"


def mid_run(ctx, count, fault):
    """Send ``count`` invoices slowly; when KSeF holds a third of them, apply ``fault()``."""
    ctx.sim.faults.delay(SEND, 0.4, method="POST", count=None)
    ids = ctx.post(count)
    assert ctx.wait_held(ids, count // 3), "sending did not start"
    note = fault()
    return sent_outcome(ctx, ids, ctx.settle_sent(ids)), note


@scenario("session-expiry", "the online session and the access tokens expire mid-run")
def session_expiry(ctx):
    def fault():
        refs = [r[0] for r in ctx.rig.query("SELECT reference FROM l10n_pl_ksef_session WHERE state = 'open'")]
        for ref in refs:
            ctx.sim.expire_session(ref)
        ctx.sim.auth.expire_all_tokens()
        return "%d session(s) expired" % len(refs)

    return mid_run(ctx, 12, fault)


@scenario("key-rotation", "KSeF's encryption keys rotated (emergency: the old one refused) mid-run")
def key_rotation(ctx):
    def fault():
        ctx.sim.rotate_keys(emergency=True)
        return "keys rotated"

    return mid_run(ctx, 12, fault)


@scenario("token-revoked", "the company's token revoked mid-run, then a new one saved by the admin")
def token_revoked(ctx):
    def fault():
        ctx.sim.revoke_token(ctx.token)
        ctx.sim.auth.invalidate_access_tokens()
        time.sleep(10)  # sends fail meanwhile, and wait
        with ctx.rig.env() as env:
            company = env["res.company"].browse(ctx.company_id)
            ctx.fa3.connect_to_simulator(env, company, ctx.rig.srv, ("InvoiceWrite", "InvoiceRead"))
        ctx.token = ctx.current_token()
        return "revoked 10 s, new token"

    outcome, note = mid_run(ctx, 12, fault)
    return outcome, note


@scenario("latarnia-failure", "Latarnia announces a failure and KSeF answers 503, then it is available again")
def latarnia(ctx):
    ctx.sim.set_latarnia("FAILURE", message="Awaria KSeF (benchmark)")
    fault = ctx.sim.faults.error("*", status=503, count=None)
    ids = ctx.post(6)
    time.sleep(12)
    ctx.sim.faults.remove(fault)
    ctx.sim.set_latarnia("AVAILABLE")
    return sent_outcome(ctx, ids, ctx.settle_sent(ids)), "12 s of failure"


@scenario("corrupt-export", "a part of KSeF's export damaged in transit")
def corrupt_export(ctx):
    ctx.sim.faults.corrupt("/export/*", method="GET")
    numbers = ctx.seed(30)
    ctx.import_due()
    return received_outcome(ctx, numbers, ctx.settle_received(numbers)), "1 part damaged"


load("_faults_races").register(
    types.SimpleNamespace(scenario=scenario, sent_outcome=sent_outcome, combine=combine, SEND=SEND, TIMEOUT=TIMEOUT)
)


@scenario("postgres-restart", "PostgreSQL restarted while sending and receiving")
def postgres_restart(ctx):
    command = os.environ.get("KSEF_BENCH_PG_RESTART") or (
        "pg_ctlcluster 15 main restart" if shutil.which("pg_ctlcluster") else ""
    )
    if not command:
        return None, "skipped: set KSEF_BENCH_PG_RESTART to the command restarting PostgreSQL"
    ctx.sim.faults.delay(SEND, 0.3, method="POST", count=None)
    ids = ctx.post(15)
    numbers = ctx.seed(200)
    ctx.import_due()
    assert ctx.wait_held(ids, 4), "sending did not start"
    restart = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=120, check=False)
    if restart.returncode:
        raise RuntimeError("restarting PostgreSQL failed: %s" % (restart.stderr or restart.stdout))
    return combine(
        sent_outcome(ctx, ids, ctx.settle_sent(ids)), received_outcome(ctx, numbers, ctx.settle_received(numbers))
    ), "restarted"


# --------------------------------------------------------------------------- the run


def parse_args(args):
    parser = argparse.ArgumentParser(prog="bash scripts/bench.sh faults", description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="comma-separated scenario names")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="wake idle cron workers after 10 s without progress instead of letting them sleep 60-70 s "
        "(the test command's trimmed set; the counts are the same, the settle times are not Odoo's)",
    )
    return parser.parse_args(args)


def run(env, args):
    options = parse_args(args)
    if options.list:
        for name, what, _f in SCENARIOS:
            print("%-18s %s" % (name, what))
        return 0
    chosen = [s for s in SCENARIOS if not options.only or s[0] in options.only.split(",")]
    rig_module = load("_faults_rig")
    env.cr.rollback()  # the runner's transaction stays empty: the server works on the same database
    work = tempfile.mkdtemp(prefix="ksef_faults_")
    totals = [0, 0, 0, 0]
    failed = 0
    with running_simulator(rate_limits=False) as srv:
        rig = rig_module.Rig(env.registry, srv, work)
        if options.quick:
            rig.wake_after = QUICK_WAKE
        ctx = Context(rig, load("fa3-odoo"), load("import"))
        ctx.setup()
        print("set up: company %d, NIP %s" % (ctx.company_id, ctx.nip), flush=True)
        rig.start_server()
        print(
            "Odoo server: 2 HTTP + 2 cron workers on port %d; simulator %s; log %s"
            % (rig.http_port, srv.base_url, rig.log_path),
            flush=True,
        )
        try:
            for name, _what, function in chosen:
                started = time.monotonic()
                warped, tracebacks, wakes = rig.warped, rig.log_tracebacks(), rig.wakes
                ctx.since = rig.query("SELECT now() at time zone 'UTC'")[0][0]
                ctx.busy_lines = len(rig.log_lines("is already sending in another worker"))
                try:
                    rig.begin_scenario()  # a server dead since the last one fails this one at once
                    outcome, note = function(ctx)
                    if rig.restart_note():
                        note = "%s; %s" % (note, rig.restart_note())
                    if rig.wakes > wakes:
                        note = "%s; idle cron workers woken %d time(s)" % (note, rig.wakes - wakes)
                    # a fault that never fired proves nothing: the scenario fails
                    unfired = [f for f in ctx.sim.faults.list() if f["count"] is not None]
                    if outcome is not None and unfired:
                        raise RuntimeError("fault(s) never fired: %s" % ", ".join(f["path"] for f in unfired))
                except Exception as exc:
                    outcome, note = None, "FAILED: %s" % exc
                finally:
                    ctx.reset()
                if outcome is None:
                    skipped = note.startswith("skipped")
                    failed += not skipped
                    print("%-18s %s" % (name, note if skipped else "NOT RUN, " + note), flush=True)
                    continue
                duplicates, lost, half, text, took = outcome
                failed += took is None  # not settled within 15 minutes (of the restart): a failure whatever the counts
                totals[0] += 1
                totals[1] += duplicates
                totals[2] += lost
                totals[3] += half
                print(
                    "%-18s %s; %s; %s; %s, time brought forward %.0f s; errors logged by l10n_pl_ksef %d; "
                    "duplicates %d, lost %d, half-made %d"
                    % (
                        name,
                        text,
                        note,
                        "settled in %.1f s" % took if took is not None else "NOT SETTLED",
                        "%.0f s in all" % (time.monotonic() - started),
                        rig.warped - warped,
                        rig.log_tracebacks() - tracebacks,
                        duplicates,
                        lost,
                        half,
                    ),
                    flush=True,
                )
                for line in rig.log_errors()[tracebacks:][:3]:
                    print("    logged: %s" % line[:300], flush=True)
            rss = rig.worker_rss_mb()
            print("workers' RSS at the end: %s MB" % ", ".join("%.0f" % v for v in sorted(rss.values())))
        finally:
            rig.stop_server()
    scenarios, duplicates, lost, half = totals
    if failed or duplicates or lost or half:
        print("the server's log is kept in %s" % work)
    else:
        shutil.rmtree(work, ignore_errors=True)
    if failed:
        print("%d scenario(s) failed: not run to their end, their fault never fired, or not settled" % failed)
    print("faults: %d scenarios, duplicates %d, lost %d, half-made %d" % (scenarios, duplicates, lost, half))
    enough = MIN_SCENARIOS if not options.only else len(chosen)
    return 0 if scenarios >= enough and not failed and duplicates == lost == half == 0 else 1
