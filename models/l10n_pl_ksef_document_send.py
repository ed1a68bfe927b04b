"""The sending engine: one company's queue goes to KSeF, exactly once.

* One engine for everything: the cron, the Send to KSeF button, the list action and Send & Print all
  queue documents and run :meth:`_l10n_pl_ksef_run` for the company.
* One run per company at a time: a PostgreSQL advisory lock held for the run (it survives the
  commits of the run; a crashed worker's connection releases it). A second worker finds it taken and
  does nothing; the documents themselves are claimed with row locks that skip rows another has.
* The state is committed before each KSeF call (``sending``) and, with the next one, after its answer
  (``processing``: online, the answers of a few sends are recorded together). A document left in ``sending``
  (a crash, a lost answer) is resolved at the next run from its session reference and hash: KSeF's
  list of the session's invoices says whether it got it. Only then may it be sent again, and a
  resend KSeF already has ends as 440, whose original number is taken over only when its hash matches.
* Pacing: the online path sends one invoice per request (KSeF allows 10/s, 30/min, 180/h); from
  ``l10n_pl_ksef.batch_threshold`` queued invoices on, a batch session (ZIP in parts) carries up to
  10,000 invoices in a handful of requests. A 429 never fails an invoice: the run stops and the cron
  is triggered at the Retry-After moment.
* Errors are data: a run returns a dict and writes what happened on the documents; nothing raises.
* Time: a run stops before its next KSeF call once the deadline in its context has passed (a cron job's
  budget from Odoo's real-time limit, a click's 30 s: ``l10n_pl_ksef_document_click.py``); a click runs
  only the documents clicked (``only``) and never rolls back the request's cursor.
* Many companies: the cron serves them least recently served first, each for a share of the run, and
  a company whose KSeF fails backs off as a whole (``l10n_pl_ksef_send_turn.py``).
"""

import datetime
import logging
import math

from odoo import api, fields, models
from odoo.tools import SQL

from ..ksef_core.client import (
    KsefAuthError,
    KsefPermissionError,
    KsefRateLimited,
    KsefUnknownOutcome,
    PollPolicy,
)
from ..ksef_core.client.errors import KsefApiError, KsefUnavailable
from ..ksef_core.client.tokens import parse_datetime
from ..ksef_core.errors import KsefError
from .l10n_pl_ksef_budget import cron_budget, deadline_in
from .l10n_pl_ksef_cron_lanes import SEND_LANES, call_other_lanes
from .l10n_pl_ksef_document import OFFLINE_MODES
from .l10n_pl_ksef_send_turn import PROBE_KEY, PROBE_SECONDS, SHARE_KEY, SHARE_SECONDS, precise_now

_logger = logging.getLogger(__name__)

CRON_XMLID = "l10n_pl_ksef.ir_cron_l10n_pl_ksef_send"
#: first key of the advisory lock "sending for company <id>" ("KSND" in ASCII)
SEND_LOCK = 0x4B534E44
#: from this many invoices waiting, a batch session is used (System Parameter l10n_pl_ksef.batch_threshold)
DEFAULT_BATCH_THRESHOLD = 50
#: KSeF accepts at most this many invoices in one batch session
BATCH_MAX = 10000
#: the invoice is in a session KSeF no longer accepts invoices into (expired or closed)
SESSION_GONE = {21173, 21180}
#: after an error that is not the invoice's fault, try again after this long
RETRY_DELAY = datetime.timedelta(minutes=5)
#: after a credential error (revoked token, missing permission)
AUTH_RETRY_DELAY = datetime.timedelta(minutes=30)
#: accepted documents whose UPO is still to be downloaded (SQL condition on alias ``d``)
UPO_MISSING = SQL(
    "(d.state = 'accepted' AND d.upo_attachment_id IS NULL AND d.session_id IS NOT NULL"
    " AND d.invoicing_mode != 'manual')"
)
#: the longest Retry-After (seconds) the cron waits for within the last company's turn: KSeF's per-second limit
CRON_RATE_WAIT = 2.0
#: context key: other companies wait after this one in the cron's list
OTHERS_KEY = "l10n_pl_ksef_others_waiting"
#: the cron found another worker sending for a company: it looks again after this long
BUSY_RETRY = datetime.timedelta(seconds=10)
#: a send whose outcome is unknown is looked up in KSeF after this long
LOOKUP_DELAY = datetime.timedelta(seconds=30)
#: first status check this long after sending, then every POLL_LATER while something is pending
POLL_SOON = datetime.timedelta(seconds=10)
POLL_LATER = datetime.timedelta(minutes=2)
#: the button waits for KSeF (login) at most this long; the cron longer
INTERACTIVE_POLL = PollPolicy(initial=0.3, factor=1.6, max_delay=2.0, timeout=20.0)
CRON_POLL = PollPolicy(initial=0.5, factor=1.6, max_delay=5.0, timeout=45.0)
#: documents whose XML is read at once while building a batch
XML_CHUNK = 500
#: KSeF's answers to online sends recorded (as processing, with their chatter lines) together
ANSWERS_PER_RECORD = 10


def _naive(value):
    """An aware datetime (or ISO text) from KSeF as the naive UTC value Odoo stores."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is None:
        return False
    if value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return value


class _Stop(Exception):
    """Stop this sender's run: the reason is already written on the documents."""


class _Answered:
    """KSeF's answers to the online sends of a run, recorded (``sending`` -> ``processing``, the element
    reference, the "sent" line of the chatter) ``ANSWERS_PER_RECORD`` at a time: one claim, one UPDATE per table
    and one batch of chatter lines for them all, in the transaction the next send commits anyway."""

    def __init__(self, documents, result):
        self.documents = documents.browse()
        self.each = {}
        self.result = result

    def add(self, document, sent):
        self.documents |= document
        self.each[document.id] = {"reference_number": sent.reference_number, "invoice_hash": sent.invoice_hash}

    def record(self, full_only=False):
        """Record the answers kept (``full_only``: only once there are ``ANSWERS_PER_RECORD`` of them)."""
        if not self.documents or (full_only and len(self.documents) < ANSWERS_PER_RECORD):
            return
        documents, each = self.documents, self.each
        self.documents, self.each = documents.browse(), {}
        recorded = documents._l10n_pl_ksef_claim(
            "sending", "processing", {"last_error": False, "next_try": False}, each=each
        )
        self.result["sent"] += len(recorded)


class L10nPlKsefDocument(models.Model):
    _inherit = "l10n_pl_ksef.document"

    # ------------------------------------------------------------------ plumbing

    def _l10n_pl_ksef_commit(self):
        """Make the state durable before and after a KSeF call (the exactly-once protocol)."""
        self.env.cr.commit()  # pylint: disable=invalid-commit

    @api.model
    def _l10n_pl_ksef_lock(self, company):
        """Take "company <id> is sending" on a connection of its own, so that neither a commit nor a
        failed transaction of the run releases or leaks it; returns that cursor, or None when another
        worker has the lock. Closing the cursor releases it (so does a crashed worker's connection)."""
        lock_cr = self.env.registry.cursor()
        try:
            lock_cr.execute(SQL("SELECT pg_try_advisory_lock(%s, %s)", SEND_LOCK, company.id))
            taken = lock_cr.fetchone()[0]
            # nothing else happens on this cursor; ending its transaction keeps the (session) lock, and
            # under Odoo's test cursors (one connection) closing it later rolls back nothing of the run
            lock_cr.commit()
            if taken:
                return lock_cr
        except Exception:
            lock_cr.close()
            raise
        lock_cr.close()
        return None

    @api.model
    def _l10n_pl_ksef_unlock(self, company, lock_cr):
        try:
            lock_cr.execute(SQL("SELECT pg_advisory_unlock(%s, %s)", SEND_LOCK, company.id))
            lock_cr.commit()
        finally:
            lock_cr.close()

    @api.model
    def _l10n_pl_ksef_batch_threshold(self):
        value = self.env["ir.config_parameter"].sudo().get_param("l10n_pl_ksef.batch_threshold")
        try:
            return max(1, int(value)) if value else DEFAULT_BATCH_THRESHOLD
        except ValueError:
            return DEFAULT_BATCH_THRESHOLD

    def _l10n_pl_ksef_xml_bytes(self):
        self.ensure_one()
        return self.sudo().xml.encode("utf-8")

    # ------------------------------------------------------------------ cron

    @api.model
    def _cron_l10n_pl_ksef_send(self):
        """Send the queues and check what KSeF is processing, company by company, least recently served
        first, each for its share of the run (``l10n_pl_ksef_send_turn.py``); errors are data."""
        # the job's time comes from the cron worker's real-time limit (l10n_pl_ksef_budget.py)
        Document = self._l10n_pl_ksef_with_budget(cron_budget(self.env))
        results = {}
        listed_at = precise_now()
        turns = self._l10n_pl_ksef_due_turns(listed_at)
        if len(turns) > 1:
            call_other_lanes(self.env, SEND_LANES)  # another cron worker takes companies too
        for index, (company, failures) in enumerate(turns):
            if Document._l10n_pl_ksef_time_up():
                self._l10n_pl_ksef_progress(index, len(turns) - index)
                break
            # a company's share: what is left of its queue waits until every other company had its turn
            share = PROBE_SECONDS if failures else SHARE_SECONDS
            runner = Document.with_context(
                **{SHARE_KEY: deadline_in(share), PROBE_KEY: bool(failures), OTHERS_KEY: index < len(turns) - 1}
            )
            result = runner._l10n_pl_ksef_run(company, turn=listed_at)
            if not result.get("skipped"):
                results[company.id] = result
        # a company another worker is sending for: looked at again in a while, not at once (a loop); the
        # others' work is not held back by it
        busy = self.env["res.company"].browse([company_id for company_id, r in results.items() if r["busy"]])
        self._l10n_pl_ksef_wake_up(busy=busy)
        return results

    @api.model
    def _l10n_pl_ksef_progress(self, processed, remaining):
        return self.env["ir.cron"]._commit_progress(processed, remaining=remaining)

    @api.model
    def _l10n_pl_ksef_companies_with_work(self, now=None):
        """The companies with something due at ``now``, in the order the cron serves them."""
        return self.env["res.company"].sudo().browse([company.id for company, _f in self._l10n_pl_ksef_due_turns(now)])

    @api.model
    def _l10n_pl_ksef_due_turns(self, now=None):
        """``[(company, failed runs in a row)]`` of the companies with something due at ``now`` and not
        paused after failures, least recently served first: one query, whatever the number of companies."""
        now = now or fields.Datetime.now()
        self.flush_model(["state", "next_try", "company_id", "upo_attachment_id", "session_id", "invoicing_mode"])
        self.env["l10n_pl_ksef.session"].flush_model(["next_try", "company_id"])
        self.env["l10n_pl_ksef.send.turn"].flush_model()
        self.env["res.company"].flush_model(["l10n_pl_ksef_active"])
        self.env.cr.execute(
            SQL(
                """SELECT c.id, COALESCE(t.failures, 0) FROM res_company c
                     LEFT JOIN l10n_pl_ksef_send_turn t ON t.company_id = c.id
                    WHERE c.l10n_pl_ksef_active
                      AND (t.not_before IS NULL OR t.not_before <= %(now)s)
                      AND (EXISTS (SELECT 1 FROM l10n_pl_ksef_document d
                                    WHERE d.company_id = c.id
                                      AND (d.next_try IS NULL OR d.next_try <= %(now)s)
                                      AND (d.state IN ('to_send', 'sending', 'processing') OR %(upo)s))
                           OR EXISTS (SELECT 1 FROM l10n_pl_ksef_session s
                                       WHERE s.company_id = c.id AND s.next_try <= %(now)s))
                    ORDER BY t.last_served ASC NULLS FIRST, c.id""",
                now=now,
                upo=UPO_MISSING,
            )
        )
        Company = self.env["res.company"].sudo()
        return [(Company.browse(company_id), failures) for company_id, failures in self.env.cr.fetchall()]

    @api.model
    def _l10n_pl_ksef_wake_up(self, now=None, busy=None):
        """Trigger the cron when there is something to do: a due retry, a status to check. The work of the
        ``busy`` companies (another worker is sending for them) is left out: they are looked at again after
        ``BUSY_RETRY``, the others' as soon as it is due. Called from a lane of the sending cron, the lane
        triggers itself too, so that it does not stay idle while its companies wait for the first lane.

        Returns the moment it was triggered for, or None when nothing is pending.
        """
        now = now or fields.Datetime.now()
        busy_ids = tuple(busy.ids) if busy else (0,)
        self.flush_model(["state", "next_try", "sent_date", "upo_attachment_id", "session_id", "invoicing_mode"])
        self.env["l10n_pl_ksef.session"].flush_model(["next_try", "company_id"])
        self.env["l10n_pl_ksef.send.turn"].flush_model()
        self.env["res.company"].flush_model(["l10n_pl_ksef_active"])
        self.env.cr.execute(
            SQL(
                """SELECT LEAST(
                       (SELECT MIN(GREATEST(
                                   CASE WHEN d.state = 'processing' THEN COALESCE(d.next_try, d.sent_date + %(soon)s)
                                        ELSE COALESCE(d.next_try, %(now)s) END,
                                   t.not_before))
                          FROM l10n_pl_ksef_document d
                          JOIN res_company c ON c.id = d.company_id AND c.l10n_pl_ksef_active
                          LEFT JOIN l10n_pl_ksef_send_turn t ON t.company_id = d.company_id
                         WHERE (d.state IN ('to_send', 'sending', 'processing') OR %(upo)s)
                           AND d.company_id NOT IN %(busy)s),
                       (SELECT MIN(GREATEST(s.next_try, t.not_before)) FROM l10n_pl_ksef_session s
                          JOIN res_company c ON c.id = s.company_id AND c.l10n_pl_ksef_active
                          LEFT JOIN l10n_pl_ksef_send_turn t ON t.company_id = s.company_id
                         WHERE s.next_try IS NOT NULL AND s.company_id NOT IN %(busy)s))""",
                now=now,
                soon=POLL_SOON,
                upo=UPO_MISSING,
                busy=busy_ids,
            )
        )
        when = self.env.cr.fetchone()[0]
        crons = self._l10n_pl_ksef_lanes_to_wake()
        if not crons:
            return None
        if busy:
            for cron in crons:
                cron._trigger(at=now + BUSY_RETRY)
        if not when:
            return None
        when = max(when, now)
        for cron in crons:
            cron._trigger(at=when)
        return when

    @api.model
    def _l10n_pl_ksef_lanes_to_wake(self):
        """The first lane of the sending cron, and the lane running now if it is another one."""
        main = self.env.ref(CRON_XMLID, raise_if_not_found=False)
        crons = main.sudo() if main else self.env["ir.cron"].sudo()
        running = self.env.context.get("cron_id")
        if running and running != (main.id if main else None):
            for xmlid in SEND_LANES:
                cron = self.env.ref(xmlid, raise_if_not_found=False)
                if cron and cron.id == running and cron.sudo().active:
                    crons |= cron.sudo()
        return crons

    # ------------------------------------------------------------------ one company

    @api.model
    def _l10n_pl_ksef_empty_result(self):
        return {
            "sent": 0,
            "accepted": 0,
            "rejected": 0,
            "recovered": 0,
            "error": None,
            "error_code": None,
            "retry_at": None,
            "busy": False,
            "time_up": False,
        }

    @api.model
    def _l10n_pl_ksef_run(self, company, interactive=False, only=None, turn=False):
        """Recover, send the due queue and check statuses for ``company``; returns a result dict.

        ``only``: these documents only (a click), without the company's sessions or other UPOs.
        ``turn``: the cron's turn of the company, from its list made at that moment (stamped as served; a
        failure backs the company off; a company another lane served after that moment is skipped)."""
        result = self._l10n_pl_ksef_empty_result()
        lock_cr = self._l10n_pl_ksef_lock(company)
        if lock_cr is None:
            result["busy"] = True
            _logger.info("KSeF: company %s is already sending in another worker; skipped", company.id)
            return result
        Turn = self.env["l10n_pl_ksef.send.turn"].sudo()
        try:
            # what another worker committed before we got the lock must be seen: a fresh snapshot
            self._l10n_pl_ksef_commit()
            if turn and Turn._l10n_pl_ksef_served_since(company, turn):
                # another cron lane has served it since our list was made
                result["skipped"], turn = True, False
                return result
            if turn:  # stamped first: a run that crashes still moves the company to the back of the queue
                Turn._l10n_pl_ksef_serve(company, precise_now())
                self._l10n_pl_ksef_commit()
            # documents of another KSeF (environment, address, NIP) are never sent, recovered or polled here
            self._l10n_pl_ksef_park_other_endpoints(company)
            pending = self._l10n_pl_ksef_pending_of(company)
            if only is not None:
                pending &= only
            # nothing pending: the company's own credentials still fetch the UPOs KSeF owes
            senders = pending._l10n_pl_ksef_by_sender(company) or {
                self.env["res.users"]: pending if only is None else only
            }
            sessions = {} if only is not None else self._l10n_pl_ksef_sessions_by_sender(company)
            for user in sessions:
                senders.setdefault(user, self.browse())
            for user, documents in senders.items():
                documents._l10n_pl_ksef_run_sender(
                    company, user, result, interactive, sessions.get(user, self.env["l10n_pl_ksef.session"])
                )
        except Exception as exc:
            if interactive:
                raise  # a click never rolls back its request: Odoo does, as for any failed request
            # a database conflict or a bug: nothing half-done is kept, the next run starts from the state
            self.env.cr.rollback()
            _logger.exception("KSeF: sending failed for company %s", company.id)
            result.update(error=str(exc.__class__.__name__), error_code="bug")
        finally:
            try:
                if turn:
                    self._l10n_pl_ksef_end_turn(Turn, company, result)
            finally:
                self._l10n_pl_ksef_unlock(company, lock_cr)
        _logger.info(
            "KSeF: company %s sent %d invoice(s), %d accepted, %d rejected, %d resolved after a lost answer%s",
            company.id,
            result["sent"],
            result["accepted"],
            result["rejected"],
            result["recovered"],
            ", error %s" % result["error_code"] if result["error_code"] else "",
        )
        return result

    @api.model
    def _l10n_pl_ksef_end_turn(self, Turn, company, result):
        """Record the end of ``company``'s turn (a back-off after a failure); never raises: a conflict here
        only leaves the company's last back-off as it was."""
        try:
            Turn._l10n_pl_ksef_served(company, result, fields.Datetime.now())
            self._l10n_pl_ksef_commit()
        except Exception:
            self.env.cr.rollback()
            _logger.warning("KSeF: the end of company %s's sending turn could not be recorded", company.id)

    def _l10n_pl_ksef_by_sender(self, company):
        """``{user: documents}``: the documents of users with a named token go under that token;
        all others under the company's own credentials (key: the empty user)."""
        tokens = self.env["l10n_pl_ksef.user.token"].sudo()
        no_user = self.env["res.users"]
        groups = {}
        for user in self.ksef_user_id:
            if tokens._l10n_pl_ksef_for(user, company):
                groups[user] = self.filtered(lambda d, u=user: d.ksef_user_id == u)
        named = self.browse([doc.id for docs in groups.values() for doc in docs])
        rest = self - named
        if rest:
            groups[no_user] = rest
        return groups

    @api.model
    def _l10n_pl_ksef_sessions_by_sender(self, company):
        """``{user: sessions}`` of ``company`` with a step due, keyed like :meth:`_l10n_pl_ksef_by_sender`."""
        tokens = self.env["l10n_pl_ksef.user.token"].sudo()
        groups = {}
        for session in self.env["l10n_pl_ksef.session"]._l10n_pl_ksef_due(company):
            user = session.user_token_id.user_id
            if not user or not tokens._l10n_pl_ksef_for(user, company):
                user = self.env["res.users"]
            groups[user] = groups.get(user, session.browse()) | session
        return groups

    @api.model
    def _l10n_pl_ksef_rate_wait(self, interactive=False):
        """The longest Retry-After (429) a run waits for before going on: a click a few seconds. The cron waits
        the moment KSeF's per-second limit needs (10 invoices a second) only for the last company of its list:
        with other companies after it, the turn ends there and they go first (the company comes back after
        them, its limit renewed meanwhile); never the per-minute or hourly ones (the company comes back at the
        Retry-After), and nothing in a probe after failures."""
        if interactive:
            return 5
        context = self.env.context
        return 0 if context.get(PROBE_KEY) or context.get(OTHERS_KEY) else CRON_RATE_WAIT

    def _l10n_pl_ksef_run_sender(self, company, user, result, interactive, sessions):
        """Work on these documents and ``sessions`` (due steps) of ``company`` with ``user``'s
        credentials (empty user: the company's)."""
        now = fields.Datetime.now()
        try:
            client = company.sudo()._l10n_pl_ksef_client(
                ksef_user=user,
                max_wait_seconds=self._l10n_pl_ksef_rate_wait(interactive),
                poll_policy=INTERACTIVE_POLL if interactive else CRON_POLL,
                deadline_seconds=self._l10n_pl_ksef_time_left(interactive),
            )
        except Exception as exc:
            message = exc.args[0] if exc.args else str(exc)
            self.filtered(lambda d: d.state == "to_send")._l10n_pl_ksef_set(
                {"last_error": message, "next_try": now + AUTH_RETRY_DELAY}
            )
            sessions.write({"next_try": now + AUTH_RETRY_DELAY})
            result.update(error=message, error_code="configuration")
            return
        user_token = self.env["l10n_pl_ksef.user.token"].sudo()._l10n_pl_ksef_for(user, company) if user else None
        user_token = user_token or self.env["l10n_pl_ksef.user.token"]
        with client:
            try:
                self._l10n_pl_ksef_recover(client, result)
                self._l10n_pl_ksef_refresh_deadlines(client)
                due = self.filtered(lambda d: d.state == "to_send" and (not d.next_try or d.next_try <= now))
                due = due._l10n_pl_ksef_ready(now)
                if due and due._l10n_pl_ksef_announced_outage(company, client, result, now):
                    due = due.browse()  # nothing goes out during an announced outage: tried again later
                # technical corrections go in an online (interactive) session only, as KSeF requires
                online = due.filtered(lambda d: d.hash_of_corrected)
                if len(due - online) >= self._l10n_pl_ksef_batch_threshold():
                    (due - online)._l10n_pl_ksef_send_batch(client, company, user_token, result)
                else:
                    online = due
                if online:
                    online._l10n_pl_ksef_send_online(client, company, user_token, result)
                self._l10n_pl_ksef_poll(client, result, sent_since=now)
                if interactive or not result["sent"]:
                    # a cron turn that sent invoices leaves their UPOs (receipts KSeF keeps) to the company's next
                    # turn: the other companies' queues go first (a company alone: its next run comes at once)
                    self._l10n_pl_ksef_missing_upos(company, client, only=self if interactive else None)
                sessions._l10n_pl_ksef_wrap_up(client)
                result["time_up"] |= self._l10n_pl_ksef_time_up()
            except _Stop:
                _logger.info("KSeF: company %s stops sending until the outcome of a send is known", company.id)
                self.filtered(lambda d: d.state == "sending")._l10n_pl_ksef_set(
                    {"next_try": fields.Datetime.now() + LOOKUP_DELAY}
                )
            except KsefRateLimited as exc:
                # rounded up, plus a second: never before KSeF admits the next request
                wait = math.ceil(float(exc.retry_after or 1)) + 1
                retry_at = fields.Datetime.now() + datetime.timedelta(seconds=wait)
                self.filtered(lambda d: d.state in ("to_send", "processing"))._l10n_pl_ksef_set({"next_try": retry_at})
                result.update(retry_at=retry_at, error_code="rate_limited")
            except KsefUnavailable as exc:
                # nothing answers: per the company's setting, what waits is issued offline or keeps waiting
                self._l10n_pl_ksef_unreachable(company, client, exc, result, now)
            except (KsefAuthError, KsefPermissionError) as exc:
                self.filtered(lambda d: d.state == "to_send")._l10n_pl_ksef_set(
                    self._l10n_pl_ksef_error_values(exc, next_try=now + AUTH_RETRY_DELAY)
                )
                result.update(error=exc.message_en, error_code=exc.code)
            except KsefError as exc:
                if exc.code == "run_deadline":  # the run's time is up: the rest at the next run, not an error
                    result["time_up"] = True
                else:
                    self.filtered(lambda d: d.state == "to_send")._l10n_pl_ksef_set(
                        self._l10n_pl_ksef_error_values(exc, next_try=now + RETRY_DELAY)
                    )
                    result.update(error=exc.message_en, error_code=exc.code)
        self._l10n_pl_ksef_commit()

    # ------------------------------------------------------------------ recovery

    def _l10n_pl_ksef_recover(self, client, result):
        """Resolve the documents left in ``sending``: KSeF has them (then they go on as processing)
        or it has not (then they go back to the queue). Nothing is sent before this is known."""
        now = fields.Datetime.now()
        sending = self.filtered(lambda d: d.state == "sending" and (not d.next_try or d.next_try <= now))
        for session, documents in sending.grouped("session_id").items():
            if not session or not session.reference:
                # the batch never got a reference: KSeF cannot have processed it
                documents._l10n_pl_ksef_claim("sending", "to_send", {"session_id": False})
                session.sudo().write({"state": "failed"})
                continue
            if session.kind == "batch":
                status = client.online.status(session.reference)
                code = ((status or {}).get("status") or {}).get("code")
                if code == 100:  # opened, never closed: KSeF will not process it
                    documents._l10n_pl_ksef_claim("sending", "to_send", {"session_id": False, "next_try": False})
                    session.sudo().write({"state": "failed"})
                else:
                    documents._l10n_pl_ksef_claim("sending", "processing", {"next_try": False})
                    session.sudo().write({"state": "closed"})
                result["recovered"] += len(documents)
                continue
            by_hash = {}
            for item in client.online.list_invoices(session.reference, page_size=1000):
                by_hash[item.get("invoiceHash")] = item
            for document in documents:
                item = by_hash.get(document.invoice_hash)
                if item is None:
                    document._l10n_pl_ksef_claim(
                        "sending", "to_send", {"session_id": False, "reference_number": False, "next_try": False}
                    )
                else:
                    document._l10n_pl_ksef_claim(
                        "sending", "processing", {"reference_number": item.get("referenceNumber")}
                    )
                    result["recovered"] += 1
        if sending:
            self._l10n_pl_ksef_commit()

    # ------------------------------------------------------------------ online

    def _l10n_pl_ksef_online_session(self, client, company, user_token, force_new=False):
        Session = self.env["l10n_pl_ksef.session"].sudo()
        environment = client.environment.name
        record = (
            Session.browse()
            if force_new
            else Session._l10n_pl_ksef_online_for(company, user_token, environment, client.clock())
        )
        if record:
            client_session = record._l10n_pl_ksef_client_session()
        else:
            client_session = client.online.open()
            record = Session._l10n_pl_ksef_store_online(company, user_token, environment, client_session)
            self._l10n_pl_ksef_commit()
        client.online.current = client_session
        record._l10n_pl_ksef_used(fields.Datetime.now())
        return record, client_session

    def _l10n_pl_ksef_send_online(self, client, company, user_token, result, reopened=False):
        """Send these queued documents one by one in an online session.

        Each document is claimed (``to_send`` -> ``sending``) and committed before its request: that commit is what
        makes the sending exactly-once. KSeF's answers (the element references) are recorded as ``processing``
        a few at a time (:class:`_Answered`), each record with the next commit; until then the document is
        ``sending`` in the database, and a run that dies meanwhile leaves it to the next run's recovery, which
        asks KSeF by hash, as after any lost answer."""
        record, client_session = self._l10n_pl_ksef_online_session(client, company, user_token, force_new=reopened)
        answered = _Answered(self, result)
        queue = self.sorted("id")
        for queued in queue:
            if self._l10n_pl_ksef_time_up():
                result["time_up"] = True  # the rest stays queued for the next run
                answered.record()
                return
            now = fields.Datetime.now()
            # claimed from the queue in the database: a document withdrawn (invoice reset to draft), issued
            # offline meanwhile or taken by another worker since this run read the queue is not sent here
            document = queued._l10n_pl_ksef_claim(
                "to_send",
                "sending",
                {
                    "session_id": record.id,
                    "environment": client.environment.name,
                    "sent_date": now,
                    # only the sender (under the company's sending lock) writes the attempts
                    "attempts": queued.attempts + 1,
                },
            )
            if not document:
                continue
            answered.record(full_only=True)
            self._l10n_pl_ksef_commit()
            try:
                sent = client.online.send(
                    client_session,
                    document._l10n_pl_ksef_xml_bytes(),
                    own_id=document.id,
                    offline_mode=document.invoicing_mode in OFFLINE_MODES,
                    hash_of_corrected=document.hash_of_corrected or None,
                )
            except KsefRateLimited:
                answered.record()
                document._l10n_pl_ksef_claim("sending", "to_send", {"session_id": False})
                self._l10n_pl_ksef_commit()
                raise
            except KsefUnknownOutcome as exc:
                answered.record()
                # stays in "sending": the next run asks KSeF by hash before anything else
                document._l10n_pl_ksef_set({"last_error": exc.message_en})
                result.update(error=exc.message_en, error_code=exc.code, retry_at=now)
                self._l10n_pl_ksef_commit()
                raise _Stop() from None
            except KsefApiError as exc:
                answered.record()
                if set(exc.exception_codes) & SESSION_GONE and not reopened:
                    record._l10n_pl_ksef_mark_closed(now)
                    document._l10n_pl_ksef_claim("sending", "to_send", {"session_id": False})
                    self._l10n_pl_ksef_commit()
                    self.filtered(lambda d: d.state == "to_send")._l10n_pl_ksef_send_online(
                        client, company, user_token, result, reopened=True
                    )
                    return
                if exc.http_status == 400 and exc.exception_codes:
                    # KSeF refused this invoice itself (schema, encryption, content): it waits for a fix
                    document._l10n_pl_ksef_reject(exc.message_en, exc.message_pl, code=exc.exception_codes[0])
                    result["rejected"] += 1
                    self._l10n_pl_ksef_commit()
                    continue
                document._l10n_pl_ksef_claim("sending", "to_send", {"session_id": False})
                self._l10n_pl_ksef_commit()
                raise
            except KsefError:
                answered.record()
                # nothing reached KSeF (refused before sending, or the request failed without doubt)
                document._l10n_pl_ksef_claim("sending", "to_send", {"session_id": False})
                self._l10n_pl_ksef_commit()
                raise
            answered.add(document, sent)
            if sent.final:  # a lost answer resolved inside the client: KSeF had it already
                answered.record()
                document._l10n_pl_ksef_apply(client, sent, result)
        answered.record()
        self._l10n_pl_ksef_commit()

    # ------------------------------------------------------------------ batch

    def _l10n_pl_ksef_send_batch(self, client, company, user_token, result):
        # one batch session carries one offlineMode: offline invoices (issued first) in their own sessions
        offline = self.filtered(lambda d: d.invoicing_mode in OFFLINE_MODES)
        for group, offline_mode in ((offline, True), (self - offline, False)):
            group._l10n_pl_ksef_send_batch_group(client, company, user_token, result, offline_mode)

    def _l10n_pl_ksef_send_batch_group(self, client, company, user_token, result, offline_mode):
        Session = self.env["l10n_pl_ksef.session"].sudo()
        ordered = self.sorted("id")
        for start in range(0, len(ordered), BATCH_MAX):
            if self._l10n_pl_ksef_time_up():
                result["time_up"] = True
                return
            # claimed from the queue first (withdrawn or taken meanwhile: not in this batch)
            chunk = ordered[start : start + BATCH_MAX]._l10n_pl_ksef_claim(
                "to_send", "sending", {"environment": client.environment.name, "sent_date": fields.Datetime.now()}
            )
            if not chunk:
                continue
            record = Session.create(
                {
                    "company_id": company.id,
                    "kind": "batch",
                    "environment": client.environment.name,
                    "user_token_id": user_token.id or False,
                }
            )
            chunk._l10n_pl_ksef_set({"session_id": record.id})
            self.env.cr.execute(
                SQL("UPDATE l10n_pl_ksef_document SET attempts = attempts + 1 WHERE id IN %s", tuple(chunk.ids))
            )
            chunk.invalidate_recordset(["attempts"])
            self._l10n_pl_ksef_commit()

            def on_opened(reference, record=record):
                record.write({"reference": reference, "state": "open"})
                self._l10n_pl_ksef_commit()

            try:
                batch = client.send_batch(
                    chunk._l10n_pl_ksef_iter_xml(), offline_mode=offline_mode, wait=False, on_opened=on_opened
                )
            except KsefError as exc:
                if record.reference:
                    # KSeF opened the session: whether the parts and the close arrived, only the session's
                    # status says (the next run asks it before anything is sent again)
                    result.update(error=exc.message_en, error_code=exc.code)
                    self._l10n_pl_ksef_commit()
                    raise _Stop() from None
                record.write({"state": "failed"})
                chunk._l10n_pl_ksef_claim("sending", "to_send", {"session_id": False})
                self._l10n_pl_ksef_commit()
                raise
            record.write({"state": "closed", "closed_date": fields.Datetime.now()})
            chunk._l10n_pl_ksef_claim("sending", "processing")
            result["sent"] += len(batch.results)
            self._l10n_pl_ksef_commit()

    def _l10n_pl_ksef_iter_xml(self):
        """``(document id, XML bytes)``, read from the database a chunk at a time (memory stays flat)."""
        for start in range(0, len(self), XML_CHUNK):
            ids = tuple(self.ids[start : start + XML_CHUNK])
            self.env.cr.execute(SQL("SELECT id, xml FROM l10n_pl_ksef_document WHERE id IN %s ORDER BY id", ids))
            for doc_id, xml in self.env.cr.fetchall():
                yield doc_id, xml.encode("utf-8")
