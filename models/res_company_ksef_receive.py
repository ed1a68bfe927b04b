"""Receiving supplier invoices from KSeF: the cron, the "Import now" button, and the sync state.

Each company keeps a :class:`~ksef_core.client.SyncState` (where the next KSeF window starts and
which numbers at its edge were handed out).  The state is written in the same transaction as the
bills it produced, so a rollback undoes both.

An invoice that cannot become a bill (a file Odoo cannot read, an inactive currency, ...) must not
be lost although the sync state moves past it: its KSeF number goes to
``l10n_pl_ksef_receive_failed`` and every later run (cron or button) downloads it again by number
and retries it, until it is imported.  The last result tells the accountant which numbers wait.
"""

import datetime
import logging
import traceback

import pytz

from odoo import _, api, fields, models, modules
from odoo.exceptions import AccessError, UserError, ValidationError

from ..ksef_core.client import (
    KsefAuthError,
    KsefPermissionError,
    KsefRateLimited,
    KsefTimeout,
    KsefUnavailable,
    PollPolicy,
    SyncState,
)
from ..ksef_core.client.tokens import format_datetime
from ..ksef_core.errors import KsefError

_logger = logging.getLogger(__name__)

CRON_XMLID = "l10n_pl_ksef.ir_cron_l10n_pl_ksef_receive"
#: invoices turned into bills per company and run; the cron is triggered again for the rest
RECEIVE_LIMIT = 500
#: failed invoices downloaded again per run (single downloads: KSeF allows 64 an hour)
RETRY_LIMIT = 10
#: first run without a start date: this many days back
DEFAULT_DAYS_BACK = 30
WARSAW = pytz.timezone("Europe/Warsaw")
#: a company is due when its interval has passed, minus this slack (the cron itself runs hourly)
SLACK = datetime.timedelta(minutes=5)
#: the button waits for KSeF at most this long (the cron uses the client's default)
INTERACTIVE_POLL = PollPolicy(initial=0.5, factor=1.6, max_delay=2.0, timeout=30.0)
#: errors that concern KSeF as a whole, not one invoice: the run stops
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

    l10n_pl_ksef_receive_sync_state = fields.Json(
        string="KSeF receiving position",
        copy=False,
        readonly=True,
        groups="base.group_system",
        help="Where the next download from KSeF starts (technical).",
    )
    l10n_pl_ksef_receive_failed = fields.Json(
        string="KSeF invoices waiting for a new import attempt",
        copy=False,
        readonly=True,
        groups="base.group_system",
    )
    l10n_pl_ksef_receive_retry = fields.Boolean(
        string="Check KSeF again at the next cron run",
        copy=False,
        readonly=True,
        help="Set when more invoices wait or the last check failed: the hourly cron then does not wait for "
        "the interval.",
    )
    l10n_pl_ksef_receive_last_result = fields.Text(string="Last import of supplier invoices", copy=False, readonly=True)

    # ------------------------------------------------------------------ cron

    @api.model
    def _cron_l10n_pl_ksef_receive(self):
        """Import supplier invoices for every company whose interval has passed.

        Errors are data: each company's outcome goes to its last result; nothing is raised.
        Returns ``{company id: result dict}`` of the companies processed.
        """
        now = fields.Datetime.now()
        companies = self.sudo().search(
            [
                ("l10n_pl_ksef_active", "=", True),
                ("l10n_pl_ksef_receive", "=", True),
                ("l10n_pl_ksef_receive_journal_id", "!=", False),
            ]
        )
        due = companies.filtered(lambda c: c._l10n_pl_ksef_receive_due(now))
        results = {}
        again_at = None
        for index, company in enumerate(due):
            result = company._l10n_pl_ksef_receive_run()
            results[company.id] = result
            if result["more"]:
                again_at = now
            elif result.get("retry_after"):
                at = now + datetime.timedelta(seconds=result["retry_after"])
                again_at = min(again_at, at) if again_at else at
            if not modules.module.current_test:
                remaining_time = self.env["ir.cron"]._commit_progress(1, remaining=len(due) - index - 1)
                if remaining_time < 60 and index + 1 < len(due):
                    again_at = now
                    break
        if again_at:
            self.env.ref(CRON_XMLID)._trigger(at=again_at)
        return results

    def _l10n_pl_ksef_receive_due(self, now):
        self.ensure_one()
        last = self.l10n_pl_ksef_receive_last_run
        if not last or self.l10n_pl_ksef_receive_retry:
            return True
        hours = int(self.l10n_pl_ksef_receive_interval or 1)
        return last + datetime.timedelta(hours=hours) - SLACK <= now

    def _l10n_pl_ksef_receive_run(self, interactive=False):
        """Receive for this company and record the outcome (last run, last result); never raises."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                result = self._l10n_pl_ksef_receive_invoices(interactive=interactive)
        except Exception as exc:  # a bug or a database error must not stop the other companies
            # the message of a database error may quote invoice data: log where, not what
            _logger.error("KSeF: receiving supplier invoices failed for company %s: %s", self.id, _where(exc))
            result = self._l10n_pl_ksef_empty_result()
            result["error"] = _("Unexpected error while importing supplier invoices (see the server log).")
        result["text"] = self._l10n_pl_ksef_receive_result_text(result)
        self.sudo().write(
            {
                "l10n_pl_ksef_receive_last_run": fields.Datetime.now(),
                "l10n_pl_ksef_receive_last_result": result["text"],
                "l10n_pl_ksef_receive_retry": bool(result["more"] or result["error"]),
            }
        )
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

    # ------------------------------------------------------------------ button

    def action_l10n_pl_ksef_receive_now(self):
        """Import supplier invoices of this company now (accountants and administrators)."""
        self.ensure_one()
        if not (self.env.user.has_group("account.group_account_manager") or self.env.is_admin()):
            raise AccessError(_("Only accounting managers and administrators can import invoices from KSeF."))
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
        result = self._l10n_pl_ksef_receive_run(interactive=True)
        if result["more"]:
            self.env.ref(CRON_XMLID)._trigger()
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
        }

    def _l10n_pl_ksef_receive_start(self):
        """ISO date-time of the first window: the KSeF start date, else 30 days back (never in the future)."""
        now = datetime.datetime.now(datetime.timezone.utc)
        start = now - datetime.timedelta(days=DEFAULT_DAYS_BACK)
        if self.l10n_pl_ksef_start_date:
            midnight = datetime.datetime.combine(self.l10n_pl_ksef_start_date, datetime.time.min)
            start = min(now, WARSAW.localize(midnight).astimezone(datetime.timezone.utc))
        return format_datetime(start)

    def _l10n_pl_ksef_receive_invoices(self, limit=RECEIVE_LIMIT, interactive=False):
        """Download new invoices issued to this company (Subject2) and make draft vendor bills.

        Returns a dict: ``created`` / ``linked`` (bill ids), ``duplicates`` (count), ``failed``
        (``{KSeF number: reason}`` of this run), ``waiting`` (every number still to retry), ``error``
        (bilingual KSeF or configuration message), ``more`` (the limit stopped the run).
        """
        self.ensure_one()
        company = self.sudo()
        result = self._l10n_pl_ksef_empty_result()
        if not company.try_lock_for_update(allow_referencing=True):
            result.update(
                error=_("Another import from KSeF is running for this company; this one was skipped."),
                error_code="busy",
            )
            return result
        options = {"max_wait_seconds": 5 if interactive else 0}
        if interactive:
            options["poll_policy"] = INTERACTIVE_POLL
        try:
            # the company's own credentials, never a user's named token (they may only send)
            client = self._l10n_pl_ksef_client(ksef_user=self.env["res.users"], **options)
        except UserError as exc:
            result.update(error=exc.args[0], error_code="configuration")
            return result
        stored = company.l10n_pl_ksef_receive_sync_state
        state = SyncState.from_dict(stored) if stored else SyncState("Subject2", self._l10n_pl_ksef_receive_start())

        def persist(current):
            company.l10n_pl_ksef_receive_sync_state = current.to_dict()

        with client:
            try:
                self._l10n_pl_ksef_retry_failed(client, result)
                items = client.sync(state, mode="export", on_progress=persist).run()
                try:
                    for count, item in enumerate(items, 1):
                        self._l10n_pl_ksef_receive_one(item.ksef_number, item.xml, result)
                        if count >= limit:
                            result["more"] = True
                            break
                finally:
                    items.close()
            except KsefError as exc:
                result.update(error=exc.bilingual(), error_code=exc.code)
                if isinstance(exc, KsefRateLimited):
                    result["retry_after"] = exc.details.get("retry_after") or 60
            finally:
                persist(state)
        result["waiting"] = dict(company.l10n_pl_ksef_receive_failed or {})
        return result

    def _l10n_pl_ksef_retry_failed(self, client, result):
        """Download again, by number, the invoices earlier runs could not import."""
        failed = self.sudo().l10n_pl_ksef_receive_failed or {}
        # the least tried first: an invoice that keeps failing does not hold back newer ones
        for number in sorted(failed, key=lambda n: failed[n].get("attempts", 0))[:RETRY_LIMIT]:
            try:
                xml = client.download_invoice(number)
            except _RUN_ERRORS:
                raise
            except KsefError as exc:
                self._l10n_pl_ksef_record_failure(number, exc.bilingual(), result)
                continue
            self._l10n_pl_ksef_receive_one(number, xml, result)

    def _l10n_pl_ksef_receive_one(self, ksef_number, xml, result):
        """Make the bill of one received invoice in a savepoint; a failure is recorded for a retry."""
        try:
            if xml is None:
                raise UserError(_("KSeF delivered no file for this invoice; it is downloaded again later."))
            with self.env.cr.savepoint():
                bill, status = (
                    self.env["account.move"].with_company(self)._l10n_pl_ksef_import_received(self, ksef_number, xml)
                )
        except (KsefError, UserError, ValidationError) as exc:
            reason = exc.bilingual() if isinstance(exc, KsefError) else exc.args[0]
            self._l10n_pl_ksef_record_failure(ksef_number, reason, result)
            _logger.warning(
                "KSeF: invoice %s of company %s could not be imported (%s)", ksef_number, self.id, type(exc).__name__
            )
            return
        except Exception as exc:  # constraint or database error of one invoice: the others go on
            reason = _("Odoo could not save the bill (see the server log).")
            self._l10n_pl_ksef_record_failure(ksef_number, reason, result)
            _logger.error("KSeF: invoice %s of company %s could not be saved: %s", ksef_number, self.id, _where(exc))
            return
        failed = dict(self.sudo().l10n_pl_ksef_receive_failed or {})
        if failed.pop(ksef_number, None):
            self.sudo().l10n_pl_ksef_receive_failed = failed
        if status == "created":
            result["created"].append(bill.id)
        elif status == "linked":
            result["linked"].append(bill.id)
        else:
            result["duplicates"] += 1

    def _l10n_pl_ksef_record_failure(self, ksef_number, reason, result):
        failed = dict(self.sudo().l10n_pl_ksef_receive_failed or {})
        entry = failed.get(ksef_number) or {"since": fields.Datetime.to_string(fields.Datetime.now()), "attempts": 0}
        failed[ksef_number] = dict(entry, reason=reason, attempts=entry["attempts"] + 1)
        self.sudo().l10n_pl_ksef_receive_failed = failed
        result["failed"][ksef_number] = reason

    # ------------------------------------------------------------------ wording

    def _l10n_pl_ksef_receive_result_text(self, result):
        """The outcome in plain words (stored on the company, shown in Settings and by the button)."""
        created = len(result["created"])
        parts = []
        if created == 1:
            parts.append(_("1 new bill."))
        elif created:
            parts.append(_("%(count)s new bills.", count=created))
        elif not result["error"]:
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
        waiting = result.get("waiting") or {}
        if waiting:
            lines.append(
                _(
                    "%(count)s invoice(s) could not be imported; they are tried again at every import:",
                    count=len(waiting),
                )
            )
            lines.extend("%s: %s" % (number, entry.get("reason") or "") for number, entry in waiting.items())
        return "\n".join(lines)
