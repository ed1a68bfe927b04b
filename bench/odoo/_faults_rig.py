"""The faults benchmark's rig: a real Odoo server (prefork, 2 HTTP and 2 cron workers) on the
benchmark's database, the KSeF simulator in this process, and the counts.

Not a benchmark itself (its name starts with "_"): ``faults.py`` uses it.

* The simulator runs in this process (``running_simulator``): the scenarios inject faults through
  its Python control API and the counts read its own invoice store.
* The Odoo server is ``odoo-bin --workers=2 --max-cron-threads=2``: its cron workers are separate
  processes (``odoo: WorkerCron …``) that the prefork master respawns when one is killed. The
  scenarios SIGKILL the worker that holds a connection to the simulator at that moment.
* The rig supervises the server as systemd's ``Restart=always`` would in production: when the
  prefork master exits (a PostgreSQL restart makes it stop: "Stopping forcefully"), the server is
  started again, once per scenario, and the scenario's recovery is counted from there. A server that
  cannot be started again, or exits a second time, fails the scenario at once.
* This process writes to the database only as a user would (invoices created and posted, a token
  saved) and to let time pass (:meth:`Rig.warp`): schedules of the engine (a retry in 5 minutes, a
  back-off of 30 minutes) are moved to now, never a state.
"""

import collections
import contextlib
import datetime
import os
import re
import signal
import socket
import subprocess
import sys
import time

import psutil
import psycopg2.errors
import requests

from odoo import SUPERUSER_ID, api, sql_db
from odoo.tools import config

from odoo.addons.l10n_pl_ksef.models.l10n_pl_ksef_document_send import SEND_LOCK
from odoo.addons.l10n_pl_ksef.models.res_company_ksef_receive import LOCK_NAMESPACE as RECEIVE_LOCK

PENDING = ("to_send", "sending", "processing")
WORKER_ALIVE = re.compile(r"Worker (Worker\w+) \((\d+)\) alive")
#: schedules of the engine that :meth:`Rig.warp` may bring forward: (table, column)
SCHEDULES = (
    ("l10n_pl_ksef_document", "next_try"),
    ("l10n_pl_ksef_session", "next_try"),
    ("l10n_pl_ksef_receive_state", "next_attempt"),
    ("l10n_pl_ksef_receive_failure", "next_try"),
)
CRONS = (
    "l10n_pl_ksef.ir_cron_l10n_pl_ksef_send",
    "l10n_pl_ksef.ir_cron_l10n_pl_ksef_receive",
)
#: a scenario's limit to settle (seconds), counted from its start or from the server's restart
SETTLE_LIMIT = 900.0
#: the supervisor's restart: attempts, and seconds between them (systemd's RestartSec)
RESTART_ATTEMPTS = 10
RESTART_SEC = 5.0


#: runs odoo-bin (the first argument) without its longpolling (gevent) worker: nobody is connected to the
#: benchmark's servers, and where gevent cannot start (a Python without zope.interface) the prefork server
#: spawns it again at every turn of its loop, a Python start-up each time that eats a core of the machine
NO_LONGPOLLING = (
    "import os, runpy, sys; sys.argv = sys.argv[1:]; sys.path.insert(0, os.path.dirname(sys.argv[0])); "
    "import odoo.service.server as server; server.PreforkServer.long_polling_spawn = lambda self: None; "
    "runpy.run_path(sys.argv[0], run_name='__main__')"
)


class ServerDead(RuntimeError):
    """The Odoo server exited and could not be kept running: the scenario fails at once."""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Rig:
    def __init__(self, registry, srv, work_dir):
        self.registry = registry
        self.srv = srv
        self.sim = srv.sim
        self.work_dir = work_dir
        self.server = None
        self.http_port = None
        self.log_path = os.path.join(work_dir, "odoo-server.log")
        self.kills = 0
        self.warped = 0.0  # seconds of schedules brought forward
        #: quick runs (the test command's trimmed set): seconds without progress after which the idle cron workers
        #: are woken (a respawned cron worker first sleeps 60-70 s when nothing notifies it); None: never
        self.wake_after = None
        #: more options of odoo-bin (a later one overrides the same option above)
        self.server_args = []
        self.wakes = 0  # the idle cron workers woken, in all
        self.log_start = 0
        self.restarts = 0  # the server started again by the supervisor, in all
        self.restarted = None  # this scenario: (seconds into it, why the server exited) once restarted
        self.scenario_started = time.monotonic()
        self.deadline = time.monotonic() + SETTLE_LIMIT

    # ------------------------------------------------------------------ database

    @contextlib.contextmanager
    def env(self):
        """A superuser environment on a new cursor, committed on success; survives a PostgreSQL restart."""
        for attempt in range(30):
            try:
                cr = self.registry.cursor()
                cr.execute("SELECT 1")
                break
            except Exception:
                with contextlib.suppress(Exception):
                    cr.close()
                sql_db.close_all()
                time.sleep(1 + attempt * 0.2)
        else:
            raise RuntimeError("the database does not answer")
        with cr:
            yield api.Environment(cr, SUPERUSER_ID, {})
        # a changed System Parameter (or any cached value) must reach the server's workers
        self.registry.signal_changes()

    def query(self, sql, params=()):
        with self.env() as env:
            env.cr.execute(sql, params)
            return env.cr.fetchall()

    # ------------------------------------------------------------------ the Odoo server

    def start_server(self):
        odoo_bin = os.path.join(os.environ.get("ODOO_SRC", "/opt/odoo/19.0"), "odoo-bin")
        addons = config["addons_path"]
        if isinstance(addons, (list, tuple)):
            addons = ",".join(addons)
        db = self.registry.db_name
        self.http_port = free_port()
        command = [
            sys.executable,
            "-c",
            NO_LONGPOLLING,
            odoo_bin,
            "--addons-path=%s" % addons,
            "--data-dir=%s" % config["data_dir"],
            "-d",
            db,
            "--db-filter=^%s$" % db,
            "--workers=2",
            "--max-cron-threads=2",
            "--http-port=%d" % self.http_port,
            "--gevent-port=%d" % free_port(),
            "--http-interface=127.0.0.1",
            "--limit-time-real=900",
            "--limit-time-cpu=600",
            "--limit-memory-soft=4294967296",
            "--limit-memory-hard=6442450944",
            "--log-level=info",
            "--logfile=%s" % self.log_path,
            *self.server_args,
        ]
        env = dict(os.environ, ODOO_NOTIFY_CRON_CHANGES="1")
        self.log_start = len(self.log_lines(""))  # this server's lines follow
        with open(self.log_path + ".out", "ab") as out:
            self.server = subprocess.Popen(command, env=env, start_new_session=True, stdout=out, stderr=out)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise RuntimeError("the Odoo server stopped at once; see %s" % self.log_path)
            if len(self.workers("WorkerCron")) >= 2:
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.http_port), 1):
                    return
            time.sleep(0.3)
        raise RuntimeError("the Odoo server did not start within 90 s; see %s" % self.log_path)

    def stop_server(self):
        if not self.server:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.server.pid, signal.SIGTERM)
        try:
            self.server.wait(30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.server.pid, signal.SIGKILL)
            self.server.wait(10)
        self.server = None

    # ------------------------------------------------------------------ the supervisor

    def begin_scenario(self):
        """A scenario starts: its settle limit runs from now; the server may be restarted once in it."""
        self.restarted = None
        self.scenario_started = time.monotonic()
        self.deadline = self.scenario_started + SETTLE_LIMIT
        self.check_server()

    def exit_reason(self):
        """The server's last words: its exit status and the last CRITICAL line or "Stopping forcefully"."""
        code = self.server.returncode if self.server else None
        lines = self.log_lines("")[self.log_start :]
        said = [line for line in lines if " CRITICAL " in line or "Stopping forcefully" in line]
        return "exit status %s%s" % (code, ", %s" % said[-1].split(" ", 4)[-1][:160] if said else "")

    def check_server(self):
        """Raise :class:`ServerDead` unless the server runs; an exited server is started again once per
        scenario first (as systemd's ``Restart=always``): returns True when it was restarted now."""
        if self.server is None:
            raise ServerDead("the Odoo server is not running")
        if self.server.poll() is None:
            return False
        reason = self.exit_reason()
        if self.restarted is not None:
            raise ServerDead("the Odoo server exited again after its restart (%s)" % reason)
        exited_at = time.monotonic() - self.scenario_started
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.server.pid, signal.SIGKILL)  # its workers, if any outlived the master
        self.server = None
        for attempt in range(RESTART_ATTEMPTS):
            time.sleep(RESTART_SEC)
            try:
                self.start_server()
                break
            except RuntimeError as exc:  # the database not back yet: the supervisor tries again
                if self.server is not None and self.server.poll() is None:
                    self.stop_server()
                self.server = None
                if attempt == RESTART_ATTEMPTS - 1:
                    raise ServerDead("the Odoo server exited (%s) and could not be started again: %s" % (reason, exc))
        self.restarts += 1
        self.restarted = (exited_at, reason)
        self.deadline = time.monotonic() + SETTLE_LIMIT  # the recovery is counted from the restart
        return True

    def restart_note(self):
        if self.restarted is None:
            return ""
        exited_at, reason = self.restarted
        return "Odoo server exited %.0f s into the scenario (%s), restarted by the rig as systemd would" % (
            exited_at,
            reason,
        )

    def workers(self, kind=None):
        """The server's live worker processes (``kind``: WorkerCron / WorkerHTTP), known from the
        "Worker WorkerCron (PID) alive" lines of its log (without setproctitle their command lines
        are all alike)."""
        if not self.server:
            return []
        try:
            children = {child.pid: child for child in psutil.Process(self.server.pid).children()}
        except psutil.NoSuchProcess:
            return []
        kinds = {}
        for line in self.log_lines(" alive"):
            match = WORKER_ALIVE.search(line)
            if match:
                kinds[int(match.group(2))] = match.group(1)
        return [
            child
            for pid, child in children.items()
            if pid in kinds and (kind is None or kinds[pid] == kind) and child.is_running()
        ]

    def worker_rss_mb(self):
        """{pid: RSS MB} of the live workers."""
        sizes = {}
        for worker in self.workers():
            with contextlib.suppress(psutil.Error):
                sizes[worker.pid] = worker.memory_info().rss / 1048576.0
        return sizes

    def kill_connected(self, kind=None, timeout=10.0):
        """SIGKILL the workers that have a connection open to the simulator; returns how many."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            victims = []
            for worker in self.workers(kind):
                with contextlib.suppress(psutil.Error):
                    if any(c.raddr and c.raddr.port == self.srv.port for c in worker.connections("tcp")):
                        victims.append(worker)
            if victims:
                for worker in victims:
                    with contextlib.suppress(psutil.Error):
                        worker.send_signal(signal.SIGKILL)
                self.kills += len(victims)
                return len(victims)
            time.sleep(0.05)
        return 0

    def kill_when_writing(self, table, kind="WorkerCron", timeout=120.0):
        """SIGKILL the ``kind`` workers as soon as a transaction has written into ``table`` without
        committing yet (it holds the table's RowExclusiveLock until it ends); returns how many.

        Which worker owns a database connection cannot be told from PostgreSQL (in prefork mode
        the connections carry the master's pid in their name): all workers of the kind go."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = self.query(
                """SELECT 1 FROM pg_locks l
                     JOIN pg_stat_activity a ON a.pid = l.pid
                     JOIN pg_class c ON c.oid = l.relation
                    WHERE a.datname = current_database() AND a.pid != pg_backend_pid()
                      AND c.relname = %s AND l.mode = 'RowExclusiveLock'""",
                (table,),
            )
            if rows:
                return self.kill_workers(kind)
            time.sleep(0.01)
        return 0

    def kill_workers(self, kind):
        victims = self.workers(kind)
        for worker in victims:
            with contextlib.suppress(psutil.Error):
                worker.send_signal(signal.SIGKILL)
        self.kills += len(victims)
        return len(victims)

    def wait_fault_taken(self, fault_id, timeout=120.0):
        """Wait until the simulator applied the fault (a fault of count 1 leaves the list)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(f["id"] != fault_id for f in self.sim.faults.list()):
                return True
            time.sleep(0.05)
        return False

    def trigger(self, xmlid):
        with self.env() as env:
            env.ref(xmlid)._trigger()

    def jsonrpc(self, uid, password, model, method, args, kwargs=None, company_id=None, timeout=120):
        """``execute_kw`` over the server's /jsonrpc, as a client of the API would; returns the answer."""
        kwargs = dict(kwargs or {})
        if company_id:
            kwargs["context"] = {"allowed_company_ids": [company_id]}
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {
                "service": "object",
                "method": "execute_kw",
                "args": [self.registry.db_name, uid, password, model, method, args, kwargs],
            },
        }
        return requests.post("http://127.0.0.1:%d/jsonrpc" % self.http_port, json=payload, timeout=timeout).json()

    # ------------------------------------------------------------------ time

    def next_schedule(self):
        """Seconds to the nearest schedule of the engine (documents, sessions, receiving), or None."""
        parts = " UNION ALL ".join(
            "SELECT min(%s) FROM %s WHERE %s > (now() at time zone 'UTC')" % (col, table, col)
            for table, col in SCHEDULES
        )
        rows = self.query("SELECT EXTRACT(EPOCH FROM min(m) - (now() at time zone 'UTC')) FROM (%s) AS t(m)" % parts)
        return rows[0][0] and float(rows[0][0])

    def warp(self):
        """Let time pass: the engine's schedules that lie ahead are due now (their crons are triggered)."""
        ahead = self.next_schedule()
        if ahead is None:
            return 0.0
        for _attempt in range(10):
            try:
                self._warp()
                break
            except psycopg2.errors.SerializationFailure:  # a worker wrote the same row meanwhile
                time.sleep(0.5)
        self.warped += ahead
        return ahead

    def _warp(self):
        with self.env() as env:
            # never under a run: a company whose import or sending is under way keeps its schedules (a write
            # on its rows would fail that run); its run sets them itself when it ends
            env.cr.execute(
                """SELECT id FROM res_company
                    WHERE NOT pg_try_advisory_xact_lock(%s, id) OR NOT pg_try_advisory_xact_lock(%s, id)""",
                (RECEIVE_LOCK, SEND_LOCK),
            )
            busy = [row[0] for row in env.cr.fetchall()] or [0]
            for table, col in SCHEDULES:
                # a second back, whole seconds: Odoo compares with fields.Datetime.now() (no microseconds)
                env.cr.execute(
                    "UPDATE %s SET %s = date_trunc('second', now() at time zone 'UTC') - interval '1 second'"
                    " WHERE %s > (now() at time zone 'UTC') AND company_id != ALL(%%s)" % (table, col, col),
                    (busy,),
                )
            for xmlid in CRONS:
                env.ref(xmlid)._trigger()

    def settle(self, done, timeout=SETTLE_LIMIT, warp_after=75.0):
        """Wait until ``done()`` is true, letting time pass when nothing is due for a while; returns the
        seconds it took (from the server's restart, when it was restarted meanwhile), or None when not
        settled within ``timeout`` nor within the scenario's limit. A dead server raises at once."""
        started = time.monotonic()
        idle_since = time.monotonic()
        last = None
        while time.monotonic() - started < timeout and time.monotonic() < self.deadline:
            if self.check_server():
                started = idle_since = time.monotonic()
            state = done()
            if state is True:
                return time.monotonic() - started
            if state != last:
                last, idle_since = state, time.monotonic()
            elif self.wake_after is not None and time.monotonic() - idle_since > self.wake_after:
                # only the sleep of an idle worker is cut short: the schedules ahead are brought to now as below
                ahead = self.next_schedule()
                if ahead is not None and ahead > self.wake_after:
                    self.warp()
                else:
                    for xmlid in CRONS:
                        self.trigger(xmlid)
                self.wakes += 1
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since > warp_after:
                ahead = self.next_schedule()
                if ahead is not None and ahead > warp_after:
                    self.warp()
                idle_since = time.monotonic()
            time.sleep(0.5)
        return None

    # ------------------------------------------------------------------ sending: what Odoo and KSeF hold

    def sent_state(self, move_ids):
        """A hashable summary: {state: count} of the documents of these invoices."""
        rows = self.query(
            """SELECT coalesce(d.state, 'none'), count(*) FROM account_move m
                 LEFT JOIN l10n_pl_ksef_document d ON d.move_id = m.id AND d.state != 'cancelled'
                WHERE m.id = ANY(%s) GROUP BY 1""",
            (list(move_ids),),
        )
        return tuple(sorted(rows))

    def sending_done(self, move_ids):
        state = self.sent_state(move_ids)
        if not any(s in PENDING or s == "none" for s, _n in state):
            return True
        return state

    def count_sent(self, move_ids, nip):
        """(duplicates, lost, half-made, detail) of these invoices against the simulator's store.

        The invoices are all valid: each must end accepted. Duplicates count what KSeF holds twice,
        a KSeF number on two invoices in Odoo, and every extra time the same file reached KSeF
        (KSeF's store refuses a second copy with 440, which would hide a double send: its session
        entries, per file hash, do not)."""
        rows = self.query(
            """SELECT m.id, m.name, m.l10n_pl_ksef_number, d.state, d.ksef_number, d.invoice_hash
                 FROM account_move m
                 LEFT JOIN l10n_pl_ksef_document d ON d.move_id = m.id AND d.state != 'cancelled'
                WHERE m.id = ANY(%s)""",
            (list(move_ids),),
        )
        store = self.sim.invoice_store
        with self.sim.state.lock:
            held = collections.defaultdict(list)  # invoice number -> KSeF numbers
            for number, record in store.invoices.items():
                if (record.get("seller") or {}).get("nip") == nip:
                    held[record.get("invoiceNumber")].append(number)
            submitted = collections.Counter(entry.get("invoiceHash") for entry in store.entries.values())
        per_move = collections.Counter(row[0] for row in rows if row[3] == "accepted")
        duplicates = sum(n - 1 for n in per_move.values() if n > 1)
        lost = half = 0
        detail = collections.Counter()
        resent = 0
        for _move_id, name, move_number, state, number, invoice_hash in rows:
            in_ksef = held.get(name, [])
            duplicates += max(0, len(in_ksef) - 1)
            resent += max(0, submitted.get(invoice_hash, 0) - 1) if invoice_hash else 0
            detail[state or "none"] += 1
            if state == "accepted":
                if not number or number not in in_ksef or move_number != number:
                    half += 1
            else:
                lost += 1  # never accepted (a valid invoice: a refusal is a loss too)
                if in_ksef:
                    half += 1  # Odoo does not know KSeF has it
        numbers = collections.Counter(row[4] for row in rows if row[4] and row[3] == "accepted")
        duplicates += sum(n - 1 for n in numbers.values() if n > 1) + resent
        if resent:
            detail["sent again"] = resent
        return duplicates, lost, half, dict(detail)

    # ------------------------------------------------------------------ receiving

    def receive_state(self, numbers):
        rows = self.query(
            """SELECT (SELECT count(*) FROM account_move WHERE l10n_pl_ksef_number = ANY(%s)),
                      (SELECT count(*) FROM l10n_pl_ksef_receive_failure WHERE ksef_number = ANY(%s))""",
            (list(numbers), list(numbers)),
        )
        return rows[0]

    def receiving_done(self, numbers):
        bills, waiting = self.receive_state(numbers)
        return True if bills >= len(numbers) else (bills, waiting)

    def count_received(self, expected_lines, company_id=None, since=None):
        """(duplicates, lost, half-made, detail) of these KSeF numbers ({number: invoice lines}).

        The seeded invoices are all valid: each must end as one bill with all its lines (an entry
        still waiting counts as lost). A bill of the company made since ``since`` without a KSeF
        number is half-made (an import that lost track of its invoice)."""
        numbers = list(expected_lines)
        rows = self.query(
            """SELECT m.l10n_pl_ksef_number, m.id,
                      (SELECT count(*) FROM account_move_line l WHERE l.move_id = m.id AND l.display_type = 'product')
                 FROM account_move m WHERE m.l10n_pl_ksef_number = ANY(%s)""",
            (numbers,),
        )
        waiting = {
            r[0]
            for r in self.query(
                "SELECT ksef_number FROM l10n_pl_ksef_receive_failure WHERE ksef_number = ANY(%s)", (numbers,)
            )
        }
        bills = collections.defaultdict(list)
        for number, move_id, lines in rows:
            bills[number].append((move_id, lines))
        duplicates = sum(len(v) - 1 for v in bills.values() if len(v) > 1)
        lost = sum(1 for n in numbers if n not in bills)
        half = sum(1 for n, made in bills.items() for _m, lines in made if lines != expected_lines[n])
        if company_id and since:
            half += self.query(
                """SELECT count(*) FROM account_move
                    WHERE company_id = %s AND move_type IN ('in_invoice', 'in_refund')
                      AND l10n_pl_ksef_number IS NULL AND create_date >= %s""",
                (company_id, since),
            )[0][0]
        return duplicates, lost, half, {"bills": len(bills), "waiting": len(waiting - set(bills))}

    # ------------------------------------------------------------------ log

    def log_errors(self):
        """The ERROR / CRITICAL lines our addon logged, in order."""
        return [
            line for line in self.log_lines(" odoo.addons.l10n_pl_ksef") if " ERROR " in line or " CRITICAL " in line
        ]

    def log_tracebacks(self):
        """Errors our addon logged (with their traceback) in the server's log; a killed worker logs
        none, Odoo's own modules (VIES without internet) are not counted."""
        return sum(
            1 for line in self.log_lines(" odoo.addons.l10n_pl_ksef") if " ERROR " in line or " CRITICAL " in line
        )

    def log_lines(self, pattern):
        if not os.path.exists(self.log_path):
            return []
        with open(self.log_path, encoding="utf-8", errors="replace") as log:
            return [line.rstrip() for line in log if pattern in line]


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
