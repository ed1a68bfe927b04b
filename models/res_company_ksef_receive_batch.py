"""The import cron's step from received invoices to bills, a batch at a time."""

import logging

from odoo import _, models

from ..ksef_core.errors import KsefError
from .account_move_ksef_import_batch import EXPLAINED_ERRORS
from .res_company_ksef_receive import _where

_logger = logging.getLogger(__name__)


class ResCompany(models.Model):
    _inherit = "res.company"

    def _l10n_pl_ksef_receive_batch(self, items, result, cache=None):
        """Make the bills of received invoices ``items`` = ``[(ksef_number, xml or None)]`` into ``result``.

        An invoice without its file, or one that cannot be imported, goes to the waiting list with
        its reason (tried again later); the others become bills, many per ``create``.
        """
        self.ensure_one()
        ready = []
        for number, xml in items:
            if xml is None:
                reason = _("KSeF delivered no file for this invoice; it is downloaded again later.")
                self._l10n_pl_ksef_record_failure(number, reason, result)
            else:
                ready.append((number, xml))
        if not ready:
            return
        Move = self.env["account.move"].with_company(self)
        try:
            with self.env.cr.savepoint():
                outcome = Move._l10n_pl_ksef_import_batch(self, ready, cache=cache)
        except Exception as exc:  # e.g. a supplier that cannot be saved: one by one
            # where, not what: a database error's text quotes the invoice's data (names, amounts)
            _logger.info(
                "KSeF: a batch of company %s failed as a whole (%s); one invoice at a time", self.id, _where(exc)
            )
            if cache is not None:  # what the rolled-back batch created is gone
                cache.forget_created()
            outcome = {}
            for number, xml in ready:
                try:
                    with self.env.cr.savepoint():
                        outcome.update(Move._l10n_pl_ksef_import_batch(self, [(number, xml)]))
                except Exception as error:  # this invoice waits with its reason
                    outcome[number] = error
        resolved = []
        for number, _xml in ready:
            found = outcome.get(number)
            if isinstance(found, Exception) or found is None:
                self._l10n_pl_ksef_record_failure(number, self._l10n_pl_ksef_failure_reason(number, found), result)
                continue
            bill, status = found
            resolved.append(number)
            if status == "created":
                result["created"].append(bill.id)
            elif status == "linked":
                result["linked"].append(bill.id)
            else:
                result["duplicates"] += 1
        if resolved:
            self.env["l10n_pl_ksef.receive.failure"]._l10n_pl_ksef_resolve(self, resolved)

    def _l10n_pl_ksef_failure_reason(self, number, exc):
        if isinstance(exc, KsefError):
            return exc.bilingual()
        if isinstance(exc, EXPLAINED_ERRORS):
            return exc.args[0]
        _logger.error("KSeF: invoice %s of company %s could not be saved: %s", number, self.id, _where(exc))
        return _("Odoo could not save the bill (see the server log).")
