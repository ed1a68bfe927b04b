"""Supplier invoices received from KSeF that could not become bills yet, per company.

The KSeF position moves past such an invoice, so it is remembered here by its KSeF number and
downloaded again later: after 30 minutes, then after twice as long at every failed attempt (at
most once a day), a few per run, so that one invoice failing for good never uses up the KSeF
limit of single downloads (64 an hour) that new invoices need.

Accounting managers and administrators see the list (Settings > KSeF > Invoices waiting), can try
an invoice again at once, or drop it: a dropped invoice is archived with who dropped it and when,
never deleted.

Each entry belongs to the KSeF it was read from (``endpoint``: environment, address, NIP). Entries of
another KSeF than the company's current one are kept but hidden and never tried: switching back to
that KSeF shows them and tries them again.
"""

import datetime
import logging

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Domain

from .l10n_pl_ksef_receive_state import doubling_wait
from .res_company_ksef_endpoint import endpoint_domain

_logger = logging.getLogger(__name__)

#: wait before the first new attempt; doubles with every failed attempt ...
RETRY_BACKOFF = datetime.timedelta(minutes=30)
#: ... up to this
MAX_RETRY_BACKOFF = datetime.timedelta(days=1)
#: invoices one click on "Try again now" downloads (single downloads: KSeF allows 16 a minute)
RETRY_NOW_LIMIT = 10


def retry_backoff(attempts):
    """How long to wait before trying again an invoice that failed ``attempts`` times (>= 1)."""
    return doubling_wait(RETRY_BACKOFF, attempts, MAX_RETRY_BACKOFF)


class L10nPlKsefReceiveFailure(models.Model):
    _name = "l10n_pl_ksef.receive.failure"
    _description = "Supplier invoice from KSeF waiting for a new import attempt"
    _rec_name = "ksef_number"
    _order = "company_id, since, id"
    _check_company_auto = True

    company_id = fields.Many2one("res.company", required=True, ondelete="cascade", index=True, readonly=True)
    ksef_number = fields.Char(string="KSeF number", required=True, readonly=True)
    reason = fields.Text(readonly=True)
    attempts = fields.Integer(readonly=True, help="How many times importing this invoice failed.")
    since = fields.Datetime(string="Waiting since", readonly=True)
    last_attempt = fields.Datetime(readonly=True)
    next_try = fields.Datetime(string="Next attempt", readonly=True)
    active = fields.Boolean(default=True, readonly=True)
    dropped_uid = fields.Many2one("res.users", string="Dropped by", readonly=True)
    dropped_on = fields.Datetime(readonly=True)
    endpoint = fields.Char(
        string="KSeF address",
        readonly=True,
        index=True,
        help="Environment, address and NIP of the KSeF the invoice was read from.",
    )
    in_current_ksef = fields.Boolean(
        string="In the KSeF used now",
        compute="_compute_in_current_ksef",
        search="_search_in_current_ksef",
        help="Read from the KSeF (environment, address, NIP) the company uses now; the others are kept for a "
        "switch back.",
    )

    _company_number_uniq = models.Constraint(
        "UNIQUE(company_id, endpoint, ksef_number)", "A KSeF invoice waits once per company and KSeF."
    )

    @api.depends(
        "endpoint",
        "company_id.l10n_pl_ksef_environment",
        "company_id.l10n_pl_ksef_custom_url",
        "company_id.l10n_pl_ksef_nip",
    )
    def _compute_in_current_ksef(self):
        for failure in self:
            endpoint = failure.company_id.sudo()._l10n_pl_ksef_endpoint()
            failure.in_current_ksef = failure.endpoint in (endpoint, False)

    def _search_in_current_ksef(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            return NotImplemented
        companies = self.env["res.company"].sudo().with_context(active_test=False).search([])
        current = Domain.OR(
            Domain("company_id", "=", company.id) & Domain("endpoint", "in", [company._l10n_pl_ksef_endpoint(), False])
            for company in companies
        )
        return current if (operator == "=") == value else ~current

    @api.model
    def _l10n_pl_ksef_of(self, company):
        """The entries of ``company`` in the KSeF it uses now (dropped ones excluded)."""
        return self.sudo().search(self._l10n_pl_ksef_domain(company))

    @api.model
    def _l10n_pl_ksef_domain(self, company):
        return [("company_id", "=", company.id), *endpoint_domain(company._l10n_pl_ksef_endpoint())]

    # ------------------------------------------------------------------ bookkeeping (import runs, sudo)

    @api.model
    def _l10n_pl_ksef_due(self, company, now, limit, ignore_backoff=False):
        """The invoices of ``company`` to try again now, those waiting longest for a try first."""
        domain = self._l10n_pl_ksef_domain(company)
        if not ignore_backoff:
            domain.append(("next_try", "<=", now))
        return self.sudo().search(domain, order="next_try, id", limit=limit)

    @api.model
    def _l10n_pl_ksef_record(self, company, ksef_number, reason):
        """One more failed attempt to import ``ksef_number``: it is tried again after its back-off."""
        now = fields.Datetime.now()
        failure = (
            self.sudo()
            .with_context(active_test=False)
            .search([*self._l10n_pl_ksef_domain(company), ("ksef_number", "=", ksef_number)], limit=1)
        )
        attempts = failure.attempts + 1
        values = {
            "reason": reason,
            "attempts": attempts,
            "last_attempt": now,
            "next_try": now + retry_backoff(attempts),
            "active": True,
            "dropped_uid": False,
            "dropped_on": False,
            "endpoint": company._l10n_pl_ksef_endpoint(),
        }
        if failure:
            failure.write(values)
        else:
            failure = self.sudo().create(dict(values, company_id=company.id, ksef_number=ksef_number, since=now))
        return failure

    @api.model
    def _l10n_pl_ksef_resolve(self, company, ksef_numbers):
        """``ksef_numbers`` (one or a list) are bills now: they wait no more."""
        numbers = [ksef_numbers] if isinstance(ksef_numbers, str) else list(ksef_numbers)
        self.sudo().with_context(active_test=False).search(
            [*self._l10n_pl_ksef_domain(company), ("ksef_number", "in", numbers)]
        ).unlink()

    # ------------------------------------------------------------------ buttons

    def _l10n_pl_ksef_check_manager(self):
        if not (self.env.user.has_group("account.group_account_manager") or self.env.is_admin()):
            raise AccessError(_("Only accounting managers and administrators can handle invoices waiting for KSeF."))
        self.check_access("read")

    def action_l10n_pl_ksef_retry_now(self):
        """Download the selected invoices again and import them now."""
        self._l10n_pl_ksef_check_manager()
        waiting = self.filtered("active")
        if not waiting:
            raise UserError(_("Select invoices that are still waiting (dropped ones are not imported again)."))
        if not all(waiting.mapped("in_current_ksef")):
            raise UserError(
                _(
                    "Some selected invoices were read from another KSeF (environment, address or NIP) than the one "
                    "the company uses now: switch back to it in Settings > KSeF to import them."
                )
            )
        if len(waiting) > RETRY_NOW_LIMIT:
            raise UserError(
                _(
                    "Select at most %(count)s invoices at a time: KSeF limits how many single invoices can be "
                    "downloaded per minute.",
                    count=RETRY_NOW_LIMIT,
                )
            )
        companies = waiting.company_id
        texts, problem = [], False
        for company in companies:
            result = company._l10n_pl_ksef_retry_now(waiting.filtered(lambda f, c=company: f.company_id == c))
            problem = problem or bool(result["error"] or result["failed"])
            texts.append(result["text"] if len(companies) == 1 else "%s: %s" % (company.name, result["text"]))
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Invoices waiting for KSeF"),
                "message": "\n".join(texts),
                "type": "warning" if problem else "success",
                "sticky": problem,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def action_l10n_pl_ksef_drop(self):
        """Stop trying to import the selected invoices (kept archived with who dropped them and when)."""
        self._l10n_pl_ksef_check_manager()
        waiting = self.filtered("active")
        for failure in waiting:
            _logger.info(
                "KSeF: user %s dropped invoice %s of company %s from the import retries (%s failed attempt(s))",
                self.env.uid,
                failure.ksef_number,
                failure.company_id.id,
                failure.attempts,
            )
        waiting.sudo().write({"active": False, "dropped_uid": self.env.uid, "dropped_on": fields.Datetime.now()})
        return {"type": "ir.actions.client", "tag": "soft_reload"}
