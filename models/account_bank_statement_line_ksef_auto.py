"""Being paid without a click: bank statement lines are matched by KSeF number as they are imported.

When statement lines are created (a CAMT or CSV import, a bank synchronisation, a line typed in), those quoting
a customer invoice's KSeF number are reconciled with it at once: a look-up in the database, no KSeF call inside
the import's transaction. Those quoting a collective identifier that KSeF has not resolved for the company yet
are marked (``l10n_pl_ksef_match_pending``) and left to the scheduled action "KSeF: match bank transactions",
triggered at once (``ir.cron._trigger``), as Odoo's own bank matching defers its work to a cron job: it asks KSeF
for their invoices (10 identifiers a request, kept in ``l10n_pl_ksef.collective.cache``) and matches them,
``MATCH_BATCH`` lines at a time, committing its progress. When KSeF does not answer, the lines stay marked and
the job tries again ``RETRY_AFTER`` later; what went wrong is returned as data and logged, never raised.
"""

import datetime
import logging

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from .account_bank_statement_line_ksef import MATCH_BATCH
from .l10n_pl_ksef_budget import cron_budget, deadline_in, seconds_to

_logger = logging.getLogger(__name__)

CRON_XMLID = "l10n_pl_ksef.ir_cron_l10n_pl_ksef_match"
#: when KSeF did not answer for a company's collective identifiers, they are asked again this much later
RETRY_AFTER = datetime.timedelta(minutes=15)
#: context key: create statement lines without matching them (a data migration, a benchmark's seeding)
NO_MATCH_KEY = "l10n_pl_ksef_no_match"


class AccountBankStatementLine(models.Model):
    _inherit = "account.bank.statement.line"

    l10n_pl_ksef_match_pending = fields.Boolean(
        string="Waiting for KSeF",
        copy=False,
        index=True,
        readonly=True,
        help="The label quotes a collective identifier: the scheduled action 'KSeF: match bank transactions' asks "
        "KSeF for its invoices and matches the transaction with them.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        st_lines = super().create(vals_list)
        if not self.env.context.get(NO_MATCH_KEY):
            st_lines._l10n_pl_ksef_match_on_create()
        return st_lines

    def _l10n_pl_ksef_match_on_create(self):
        """Match these new lines by the KSeF numbers they quote (and the collective identifiers KSeF resolved
        before); mark those waiting for KSeF and trigger the scheduled action for them. A line that cannot be
        reconciled (a lock date, ...) stays as it was imported: the import itself never fails for it."""
        try:
            with self.env.cr.savepoint():
                waiting = self._l10n_pl_ksef_match_run(remote=False)["waiting"]
        except (UserError, ValidationError) as exc:
            self.env.invalidate_all()
            _logger.info("KSeF: imported bank transactions %s not matched (%s)", self.ids, exc)
            waiting = self.filtered(lambda line: line._l10n_pl_ksef_label_references()[1])
        if waiting:
            waiting.write({"l10n_pl_ksef_match_pending": True})
            self.env.ref(CRON_XMLID).sudo()._trigger()

    @api.model
    def _cron_l10n_pl_ksef_match(self):
        """Match the bank transactions waiting for KSeF (collective identifiers), ``MATCH_BATCH`` at a time
        within the job's budget, committing after each batch. Returns ``{"matched", "done", "waiting",
        "errors": {company id: why KSeF did not answer}}``: errors are data, the lines concerned wait for the
        next try (the job triggers itself ``RETRY_AFTER`` later)."""
        deadline = deadline_in(cron_budget(self.env))
        result = {"matched": 0, "done": 0, "waiting": 0, "errors": {}}
        while True:
            domain = [("l10n_pl_ksef_match_pending", "=", True), ("company_id", "not in", list(result["errors"]))]
            st_lines = self.search(domain, order="id", limit=MATCH_BATCH)
            if not st_lines:
                break
            run = st_lines._l10n_pl_ksef_match_run()
            (st_lines - run["waiting"]).write({"l10n_pl_ksef_match_pending": False})
            for company in run["waiting"].company_id:
                error = run["errors"].get(company.id) or "collective identifiers not resolved"
                _logger.warning("KSeF: bank transactions of company %s wait for KSeF: %s", company.id, error)
                result["errors"][company.id] = error
            result["matched"] += len(run["matched"])
            result["done"] += len(st_lines - run["waiting"])
            # the companies KSeF did not answer for are left for the next try
            domain[1] = ("company_id", "not in", list(result["errors"]))
            remaining = self.search_count(domain)
            self.env["ir.cron"]._commit_progress(len(st_lines), remaining=remaining)
            if not remaining or not seconds_to(deadline):
                break
        result["waiting"] = self.search_count([("l10n_pl_ksef_match_pending", "=", True)])
        cron = self.env.ref(CRON_XMLID).sudo()
        if result["waiting"] and not result["errors"]:
            cron._trigger()  # the budget ran out: the rest at once
        elif result["waiting"]:
            cron._trigger(at=fields.Datetime.now() + RETRY_AFTER)
        return result
