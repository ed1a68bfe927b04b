"""Receiving supplier invoices from KSeF: the cron, the "Import now" button and one company's run.

Where a company stands (its KSeF position, last result, next check) is an
``l10n_pl_ksef.receive.state`` record, the invoices that could not become bills are
``l10n_pl_ksef.receive.failure`` records: never the ``res.company`` row, which Settings and the
users' KSeF session tokens need while a run is going.  Both are written in the transaction of the
bills they describe, so a rollback undoes all of it.

One import per company at a time: a run takes a PostgreSQL advisory transaction lock on the
company; a run that finds it taken (another worker, the button) writes nothing and reports "busy".

One run is one transaction, and a cron worker is killed after its real-time limit
(``limit_time_real_cron``, else ``limit_time_real``: 120 s by default), which rolls it back; so a run
is bounded, and the job's time comes from that limit (``cron_budget``, ``l10n_pl_ksef_budget.py``):

* the sync comes first and turns invoices into bills, 50 at a time, until ``RECEIVE_SECONDS``
  (30 s) have passed since the run started, the job's budget is spent, or ``RECEIVE_LIMIT`` (1000)
  are bills (about 500 on a 2-core server); when more are waiting the company is due again at once and the cron
  continues in its next call, from the last invoice finished and in the same export package
  while KSeF keeps it (no new export: KSeF allows 20 an hour); see
  ``res_company_ksef_receive_sync.py``;
* the cron waits at most ``CRON_POLL.timeout`` (45 s) for KSeF to log in or to prepare an export
  (the button 30 s), never past the job's budget, and never sleeps on a 429: the company is due again
  at its ``Retry-After``;
* then at most ``RETRY_LIMIT`` (3) invoices of the waiting list are downloaded again, each after its
  own back-off (single downloads: 64 an hour); a 429 there stops the retries, not the run;
* the cron starts no company once the job's budget is spent: it reports the companies still due and
  Odoo runs the job again at once, in a fresh worker turn.

A company whose last check failed (KSeF down, a revoked token) gets a probe: short HTTP timeouts, one
retry and ``PROBE_SECONDS`` (``l10n_pl_ksef_send_turn.py``), so that it never holds up the others.

The cron takes the due companies least recently checked first, commits after each one and reports
as remaining only the companies due now, so Odoo calls it again only for a real backlog; it wakes
itself for the earliest next check that comes before its next hourly run.
"""

import datetime
import logging
import time
import traceback

import pytz

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from odoo.addons.base.models.ir_cron import _intervalTypes

from ..ksef_core import nip as ksef_nip
from ..ksef_core.client import (
    KsefAuthError,
    KsefPermissionError,
    KsefRateLimited,
    KsefTimeout,
    KsefUnavailable,
    PollPolicy,
)
from ..ksef_core.errors import KsefError
from .l10n_pl_ksef_budget import cron_budget, deadline_in
from .l10n_pl_ksef_cron_lanes import RECEIVE_LANES, call_other_lanes
from .l10n_pl_ksef_document import CONCURRENT_ERRORS
from .l10n_pl_ksef_document_click import DEADLINE_KEY
from .l10n_pl_ksef_send_turn import PROBE_KEY, PROBE_SECONDS, SHARE_KEY

_logger = logging.getLogger(__name__)

CRON_XMLID = "l10n_pl_ksef.ir_cron_l10n_pl_ksef_receive"
#: invoices turned into bills per company and run at most; the company is due again at once for the rest
RECEIVE_LIMIT = 1000
#: no new batch of invoices is started this many seconds after the run started (one batch at least)
RECEIVE_SECONDS = 30.0
#: waiting invoices downloaded again per run (single downloads: KSeF allows 64 an hour)
RETRY_LIMIT = 3
#: first run without a start date: this many days back
DEFAULT_DAYS_BACK = 30
WARSAW = pytz.timezone("Europe/Warsaw")
#: the cron waits for KSeF (login, export) at most this long: a run stays well under limit_time_real
CRON_POLL = PollPolicy(initial=0.5, factor=1.6, max_delay=5.0, timeout=45.0)
#: no wait of the button's run (retry, Retry-After, poll) ends later than this many seconds after it started
INTERACTIVE_DEADLINE = 90
#: the button waits for KSeF at most this long
INTERACTIVE_POLL = PollPolicy(initial=0.5, factor=1.6, max_delay=2.0, timeout=30.0)
#: first key of the advisory lock "importing supplier invoices of company <id>" ("KSeF" in ASCII)
LOCK_NAMESPACE = 0x4B536546
#: errors that concern KSeF as a whole, not one invoice
_RUN_ERRORS = (KsefAuthError, KsefPermissionError, KsefRateLimited, KsefTimeout, KsefUnavailable)


def _where(exc):
    """``file:line in function`` where ``exc`` was raised: enough to find a bug, no data in it."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return type(exc).__name__
    frame = frames[-1]
    return "%s at %s:%s in %s" % (type(exc).__name__, frame.filename.rsplit("/", 1)[-1], frame.lineno, frame.name)


class ResCompany(models.Model):
    _inherit = "res.company"

    l10n_pl_ksef_receive_state_ids = fields.One2many(
        "l10n_pl_ksef.receive.state",
        "company_id",
        string="KSeF import state",
        groups="base.group_system,account.group_account_manager",
    )
    l10n_pl_ksef_receive_failure_ids = fields.One2many(
        "l10n_pl_ksef.receive.failure",
        "company_id",
        string="KSeF invoices waiting",
        groups="base.group_system,account.group_account_manager",
    )
    # shown in Settings; kept on l10n_pl_ksef.receive.state
    l10n_pl_ksef_receive_last_run = fields.Datetime(
        string="Last check for supplier invoices", compute="_compute_l10n_pl_ksef_receive_status", compute_sudo=True
    )
    l10n_pl_ksef_receive_last_result = fields.Text(
        string="Last import of supplier invoices", compute="_compute_l10n_pl_ksef_receive_status", compute_sudo=True
    )
    l10n_pl_ksef_receive_next_attempt = fields.Datetime(
        string="Next check for supplier invoices", compute="_compute_l10n_pl_ksef_receive_status", compute_sudo=True
    )
    l10n_pl_ksef_receive_waiting_count = fields.Integer(
        string="Supplier invoices waiting for a new import attempt",
        compute="_compute_l10n_pl_ksef_receive_status",
        compute_sudo=True,
    )

    @api.depends(
        "l10n_pl_ksef_receive_state_ids.last_run",
        "l10n_pl_ksef_receive_state_ids.last_result",
        "l10n_pl_ksef_receive_state_ids.next_attempt",
        "l10n_pl_ksef_receive_failure_ids.in_current_ksef",
    )
    def _compute_l10n_pl_ksef_receive_status(self):
        for company in self:
            state = company.l10n_pl_ksef_receive_state_ids[:1]
            company.l10n_pl_ksef_receive_last_run = state.last_run
            company.l10n_pl_ksef_receive_last_result = state.last_result
            company.l10n_pl_ksef_receive_next_attempt = state.next_attempt
            company.l10n_pl_ksef_receive_waiting_count = len(
                company.l10n_pl_ksef_receive_failure_ids.filtered("in_current_ksef")
            )

    @api.constrains(
        "l10n_pl_ksef_active",
        "l10n_pl_ksef_receive",
        "l10n_pl_ksef_nip",
        "l10n_pl_ksef_environment",
        "l10n_pl_ksef_custom_url",
    )
    def _check_l10n_pl_ksef_receive_nip(self):
        """Two companies importing the same NIP from the same KSeF would each import every invoice."""
        receiving = self.sudo().search([("l10n_pl_ksef_active", "=", True), ("l10n_pl_ksef_receive", "=", True)])
        for company in self.sudo() & receiving:
            endpoint = company._l10n_pl_ksef_receive_endpoint()
            other = (receiving - company).filtered(lambda c, e=endpoint: c._l10n_pl_ksef_receive_endpoint() == e)[:1]
            if other and ksef_nip.normalize_nip(company.l10n_pl_ksef_nip):
                raise ValidationError(
                    _(
                        "%(company)s cannot import supplier invoices from KSeF: %(other)s already imports the "
                        "invoices of NIP %(nip)s from the same KSeF, and every invoice would be imported twice. "
                        "Turn importing off in one of the two companies.",
                        company=company.name,
                        other=other.name,
                        nip=company.l10n_pl_ksef_nip,
                    )
                )

    def _l10n_pl_ksef_receive_endpoint(self):
        """The KSeF this company reads (environment, address, NIP): a position belongs to one."""
        return self._l10n_pl_ksef_endpoint()

    def _l10n_pl_ksef_receive_reset(self):
        """Another KSeF (environment, address or NIP): its own position and invoices waiting (if it was read
        before), those of the one left kept aside for a switch back."""
        states = self.env["l10n_pl_ksef.receive.state"].sudo().search([("company_id", "in", self.ids)])
        for state in states:
            state._l10n_pl_ksef_switch(
                state.company_id._l10n_pl_ksef_endpoint(),
                note=_(
                    "The KSeF environment, address or NIP changed: the import continues where it stopped in that "
                    "KSeF, or from the KSeF start date if it was never read (invoices imported before are not "
                    "imported twice). The position and the invoices waiting of the KSeF left are kept for a "
                    "switch back."
                ),
            )

    def _l10n_pl_ksef_receive_reschedule(self):
        """The interval changed: the next check is planned from the last one again."""
        self.env["l10n_pl_ksef.receive.state"].sudo().search(
            [("company_id", "in", self.ids)]
        )._l10n_pl_ksef_reschedule()

    # ------------------------------------------------------------------ cron

    @api.model
    def _cron_l10n_pl_ksef_receive(self):
        """Import supplier invoices for the companies that are due, least recently checked first.

        Errors are data: each company's outcome goes to its state; nothing is raised.
        Returns ``{company id: result dict}`` of the companies processed in this call.
        """
        results = {}
        budget = cron_budget(self.env)  # from the cron worker's real-time limit, counted from the job's start
        if budget <= 0:
            self._l10n_pl_ksef_receive_progress(0, len(self._l10n_pl_ksef_receive_queue()))
            return results
        Company = self.with_context(**{DEADLINE_KEY: deadline_in(budget)})
        queue = Company._l10n_pl_ksef_receive_queue()
        if len(queue) > 1:
            call_other_lanes(self.env, RECEIVE_LANES)  # another cron worker takes companies too
        again = 0  # companies with more invoices waiting: due again at once
        for index, company in enumerate(queue):
            if index and Company.env["l10n_pl_ksef.document"]._l10n_pl_ksef_time_up():
                self._l10n_pl_ksef_receive_progress(0, len(queue) - index + again)
                break
            due, errors = company._l10n_pl_ksef_receive_turn_info()
            # the run starts in a fresh transaction with the company's lock: its snapshot then sees what another
            # lane committed on the company until that lock was free (a write on a state read before would fail)
            self._l10n_pl_ksef_receive_commit()
            if index and not due:
                continue  # another lane has checked it meanwhile
            if errors:
                # KSeF failed for it last time: a short probe, never the other companies' time
                company = company.with_context(**{PROBE_KEY: True, SHARE_KEY: deadline_in(PROBE_SECONDS)})
            result = company._l10n_pl_ksef_receive_run(durable_backoff=True)
            results[company.id] = result
            again += bool(result["more"])
            # a busy company (another worker has it) is not a backlog of ours: not counted
            if self._l10n_pl_ksef_receive_progress(1, len(queue) - index - 1 + again) <= 0:
                break
        self._l10n_pl_ksef_receive_wake_up()
        return results

    def _l10n_pl_ksef_receive_turn_info(self):
        """``(due, failed checks in a row)`` of this company now (the queue was read a while ago; another lane
        may have checked it since)."""
        self.env.cr.execute(
            "SELECT next_attempt, consecutive_errors FROM l10n_pl_ksef_receive_state WHERE company_id = %s",
            (self.id,),
        )
        row = self.env.cr.fetchone()
        if not row:
            return True, 0
        return not row[0] or row[0] <= fields.Datetime.now(), row[1] or 0

    @api.model
    def _l10n_pl_ksef_receive_candidates(self):
        return self.sudo().search(
            [
                ("l10n_pl_ksef_active", "=", True),
                ("l10n_pl_ksef_receive", "=", True),
                ("l10n_pl_ksef_receive_journal_id", "!=", False),
            ]
        )

    @api.model
    def _l10n_pl_ksef_receive_queue(self, now=None):
        """The companies due for a check at ``now`` (default: now), least recently checked first."""
        now = now or fields.Datetime.now()
        companies = self._l10n_pl_ksef_receive_candidates()
        states = self.env["l10n_pl_ksef.receive.state"].sudo().search([("company_id", "in", companies.ids)])
        by_company = {state.company_id.id: state for state in states}
        due = companies.filtered(lambda c: c.id not in by_company or by_company[c.id]._l10n_pl_ksef_is_due(now))
        never = datetime.datetime.min
        return due.sorted(lambda c: (by_company[c.id].last_run or never if c.id in by_company else never, c.id))

    @api.model
    def _l10n_pl_ksef_receive_wake_up(self, now=None):
        """Trigger the cron at the earliest next check when it comes before the next hourly run.

        Returns that moment, or ``None`` when the hourly run comes first.
        """
        now = now or fields.Datetime.now()
        state = (
            self.env["l10n_pl_ksef.receive.state"]
            .sudo()
            .search(
                [("company_id", "in", self._l10n_pl_ksef_receive_candidates().ids), ("next_attempt", ">", now)],
                order="next_attempt",
                limit=1,
            )
        )
        cron = self.env.ref(CRON_XMLID, raise_if_not_found=False)
        if not state or not cron:
            return None
        hourly = cron.nextcall
        if not hourly or hourly <= now:  # this very run: Odoo moves nextcall after it
            hourly = now + _intervalTypes[cron.interval_type](cron.interval_number)
        if state.next_attempt >= hourly:
            return None
        cron.sudo()._trigger(at=state.next_attempt)
        return state.next_attempt

    def _l10n_pl_ksef_receive_time_up(self, started):
        """Whether a run that started at ``started`` (``time.monotonic()``) starts no further batch: after
        ``RECEIVE_SECONDS``, or once the cron job's budget is spent."""
        return (
            time.monotonic() - started >= RECEIVE_SECONDS or self.env["l10n_pl_ksef.document"]._l10n_pl_ksef_time_up()
        )

    def _l10n_pl_ksef_receive_commit(self):
        self.env.cr.commit()  # pylint: disable=invalid-commit

    def _l10n_pl_ksef_receive_progress(self, processed, remaining):
        """Commit and tell Odoo how many companies are still due; returns the seconds left to this call."""
        return self.env["ir.cron"]._commit_progress(processed, remaining=remaining)

    def _l10n_pl_ksef_receive_lock(self):
        """Take "this company is importing" until the end of the transaction; False when another has it."""
        self.env.cr.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", (LOCK_NAMESPACE, self.id))
        return self.env.cr.fetchone()[0]

    def _l10n_pl_ksef_receive_running(self):
        """Whether another worker is importing for this company right now (a probe: no lock is kept)."""
        self.env.cr.execute("SELECT pg_try_advisory_lock(%s, %s)", (LOCK_NAMESPACE, self.id))
        if not self.env.cr.fetchone()[0]:
            return True
        self.env.cr.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_NAMESPACE, self.id))
        return False

    def _l10n_pl_ksef_receive_run(self, interactive=False, durable_backoff=False):
        """Receive for this company and record the outcome on its state; never raises.

        ``durable_backoff`` (the cron): before KSeF is called, a back-off is committed as if the run
        failed; the end of the run replaces it. A worker killed in the middle thus leaves the company
        backed off instead of first in the queue again.
        """
        self.ensure_one()
        busy = not self._l10n_pl_ksef_receive_lock()
        if not busy and durable_backoff:
            try:
                with self.env.cr.savepoint():
                    self.env["l10n_pl_ksef.receive.state"]._l10n_pl_ksef_for(self)._l10n_pl_ksef_before_run(
                        fields.Datetime.now()
                    )
            except CONCURRENT_ERRORS:
                # another worker has just written the company's state (it ran the company meanwhile)
                self.env.cr.rollback()
                busy = True
            else:
                self._l10n_pl_ksef_receive_commit()  # ends the transaction, and so the lock: taken again
                busy = not self._l10n_pl_ksef_receive_lock()
        if busy:
            result = self._l10n_pl_ksef_busy_result()
            result["text"] = result["error"]
            _logger.info("KSeF: company %s is busy importing supplier invoices; skipped", self.id)
            return result
        exports = {}  # exports the run started: remembered again if it is rolled back
        try:
            with self.env.cr.savepoint():
                result = self._l10n_pl_ksef_receive_invoices(interactive=interactive, exports=exports)
        except Exception as exc:  # a bug or a database error must not stop the other companies
            # the message of a database error may quote invoice data: log where, not what
            _logger.error("KSeF: receiving supplier invoices failed for company %s: %s", self.id, _where(exc))
            result = self._l10n_pl_ksef_empty_result()
            result.update(
                error=_("Unexpected error while importing supplier invoices (see the server log)."), error_code="bug"
            )
            self._l10n_pl_ksef_remember_exports(exports)
        failures = self.env["l10n_pl_ksef.receive.failure"].sudo()._l10n_pl_ksef_of(self)
        result["waiting"] = {failure.ksef_number: failure.reason for failure in failures}
        result["text"] = self._l10n_pl_ksef_receive_result_text(result)
        state = self.env["l10n_pl_ksef.receive.state"]._l10n_pl_ksef_for(self)
        state._l10n_pl_ksef_record_run(result, fields.Datetime.now())
        if result["created"] or result["linked"]:
            # the readable PDF of each new bill is made in the background (rendering is slow)
            visualize = self.env.ref("l10n_pl_ksef.ir_cron_l10n_pl_ksef_visualize", raise_if_not_found=False)
            if visualize:
                visualize.sudo()._trigger()
        _logger.info(
            "KSeF: company %s received %d new bill(s), %d linked, %d already imported, %d failed%s",
            self.id,
            len(result["created"]),
            len(result["linked"]),
            result["duplicates"],
            len(result["failed"]),
            ", error %s" % result["error_code"] if result["error"] else "",
        )
        return result

    # ------------------------------------------------------------------ buttons

    def _l10n_pl_ksef_receive_check_access(self):
        if not (self.env.user.has_group("account.group_account_manager") or self.env.is_admin()):
            raise AccessError(_("Only accounting managers and administrators can import invoices from KSeF."))

    def action_l10n_pl_ksef_receive_now(self):
        """Import supplier invoices of this company now (accountants and administrators)."""
        self.ensure_one()
        self._l10n_pl_ksef_receive_check_access()
        if not self.l10n_pl_ksef_active:
            raise UserError(
                _("KSeF is not enabled for %(company)s: turn it on in Settings > Accounting > KSeF.", company=self.name)
            )
        if not self.l10n_pl_ksef_receive or not self.l10n_pl_ksef_receive_journal_id:
            raise UserError(
                _(
                    "Importing supplier invoices is off for %(company)s: tick 'Import supplier invoices from KSeF', "
                    "choose the journal for imported bills and save the settings first.",
                    company=self.name,
                )
            )
        result = self.sudo()._l10n_pl_ksef_receive_run(interactive=True)
        if result.get("error_code") == "tokens_ended":
            self._l10n_pl_ksef_redirect_tokens_ended()
        if result["more"]:
            self.env.ref(CRON_XMLID).sudo()._trigger()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Supplier invoices from KSeF"),
                "message": result["text"],
                "type": "warning" if result["error"] or result["failed"] else "success",
                "sticky": bool(result["error"] or result["failed"]),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def _l10n_pl_ksef_retry_now(self, failures):
        """Download ``failures`` of this company again and import them now; returns the result."""
        self.ensure_one()
        self._l10n_pl_ksef_receive_check_access()
        company = self.sudo()
        if not company._l10n_pl_ksef_receive_lock():
            result = self._l10n_pl_ksef_busy_result()
        else:
            result = self._l10n_pl_ksef_empty_result()
            try:
                client = company._l10n_pl_ksef_receive_client(interactive=True)
            except UserError as exc:
                result.update(error=exc.args[0], error_code="configuration")
            else:
                with client:
                    company._l10n_pl_ksef_retry_failed(client, result, failures.sudo())
        result["text"] = self._l10n_pl_ksef_receive_result_text(result, waiting_list=False)
        return result

    # ------------------------------------------------------------------ receiving

    @api.model
    def _l10n_pl_ksef_empty_result(self):
        return {
            "created": [],
            "linked": [],
            "duplicates": 0,
            "failed": {},
            "waiting": {},
            "error": None,
            "error_code": None,
            "more": False,
            "retry_after": None,
            "retry_error": None,
        }

    @api.model
    def _l10n_pl_ksef_busy_result(self):
        result = self._l10n_pl_ksef_empty_result()
        result.update(error=_("Another import from KSeF is running for this company (busy)."), error_code="busy")
        return result

    def _l10n_pl_ksef_receive_client(self, interactive=False):
        # the company's own credentials, never a user's named token (they may only send)
        if interactive:
            return self._l10n_pl_ksef_client(
                ksef_user=self.env["res.users"],
                max_wait_seconds=5,
                poll_policy=INTERACTIVE_POLL,
                deadline_seconds=INTERACTIVE_DEADLINE,
            )
        return self._l10n_pl_ksef_client(
            ksef_user=self.env["res.users"],
            max_wait_seconds=0,
            poll_policy=CRON_POLL,
            deadline_seconds=self.env["l10n_pl_ksef.document"]._l10n_pl_ksef_time_left(),
        )

    def _l10n_pl_ksef_retry_failed(self, client, result, failures):
        """Download ``failures`` again by number and import them; a KSeF-wide error stops the retries only."""
        for failure in failures:
            number = failure.ksef_number
            try:
                xml = client.download_invoice(number)
            except _RUN_ERRORS as exc:
                result["retry_error"] = exc.bilingual()
                _logger.info("KSeF: retries of company %s stopped (%s)", self.id, exc.code)
                return
            except KsefError as exc:
                self._l10n_pl_ksef_record_failure(number, exc.bilingual(), result)
                continue
            self._l10n_pl_ksef_receive_one(number, xml, result)

    def _l10n_pl_ksef_receive_one(self, ksef_number, xml, result):
        """Make the bill of one received invoice; a failure is recorded for a retry."""
        self._l10n_pl_ksef_receive_batch([(ksef_number, xml)], result)

    def _l10n_pl_ksef_record_failure(self, ksef_number, reason, result):
        self.env["l10n_pl_ksef.receive.failure"]._l10n_pl_ksef_record(self, ksef_number, reason)
        result["failed"][ksef_number] = reason

    # ------------------------------------------------------------------ wording

    def _l10n_pl_ksef_receive_result_text(self, result, waiting_list=True):
        """The outcome in plain words (kept on the state, shown in Settings and by the buttons)."""
        if result["error_code"] == "busy":
            return result["error"]
        created = len(result["created"])
        parts = []
        if created == 1:
            parts.append(_("1 new bill."))
        elif created:
            parts.append(_("%(count)s new bills.", count=created))
        elif not result["error"] and waiting_list:
            parts.append(_("No new supplier invoices."))
        if result["linked"]:
            parts.append(_("%(count)s matched with bills uploaded by hand.", count=len(result["linked"])))
        if result["duplicates"]:
            parts.append(_("%(count)s already imported earlier.", count=result["duplicates"]))
        if result["more"]:
            parts.append(_("More invoices are waiting in KSeF: the import continues in a moment."))
        lines = [" ".join(parts)] if parts else []
        if result["error"]:
            lines.append(_("KSeF could not be read: %(error)s", error=result["error"]))
        if result.get("retry_error"):
            lines.append(_("Invoices waiting were not downloaded again: %(error)s", error=result["retry_error"]))
        waiting = result.get("waiting") if waiting_list else result["failed"]
        if waiting:
            lines.append(
                _(
                    "%(count)s invoice(s) could not be imported yet; they are tried again automatically "
                    "(Settings > KSeF > Invoices waiting):",
                    count=len(waiting),
                )
            )
            lines.extend("%s: %s" % (number, reason or "") for number, reason in list(waiting.items())[:10])
            if len(waiting) > 10:
                lines.append("…")
        return "\n".join(lines)
