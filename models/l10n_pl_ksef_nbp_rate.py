"""NBP average rates (table A) for the VAT in PLN of invoices in another currency (art. 31a of the VAT act).

Rates are fetched from NBP's public API once and kept here: a past rate never changes.
"""

import datetime
import logging

from psycopg2 import IntegrityError

from odoo import api, fields, models

from ..ksef_core.nbp import DEFAULT_NBP_URL, NbpClient

_logger = logging.getLogger(__name__)

NBP_URL_PARAM = "l10n_pl_ksef.nbp_url"


class L10nPlKsefNbpRate(models.Model):
    _name = "l10n_pl_ksef.nbp.rate"
    _description = "NBP exchange rate (table A) for KSeF invoices"
    _order = "day_before desc, currency_code"

    currency_code = fields.Char(required=True, index=True)
    day_before = fields.Date(
        string="Day before the tax point",
        required=True,
        index=True,
        help="The rate applies to tax points on the day after this one.",
    )
    effective_date = fields.Date(string="Rate of", required=True)
    rate_text = fields.Char(string="PLN per unit (as published)", required=True)
    table_number = fields.Char(string="NBP table")

    _currency_day_uniq = models.Constraint("UNIQUE(currency_code, day_before)", "One NBP rate per currency and day.")

    @api.model
    def _l10n_pl_ksef_rate(self, currency_code, tax_point):
        """``(rate text, effective date, table number)`` of the NBP rate for ``tax_point``.

        :raises KsefError: NBP has no rate or cannot be reached (bilingual message).
        """
        day_before = tax_point - datetime.timedelta(days=1)
        found = self.sudo().search([("currency_code", "=", currency_code), ("day_before", "=", day_before)], limit=1)
        if found:
            return found.rate_text, found.effective_date, found.table_number
        url = self.env["ir.config_parameter"].sudo().get_param(NBP_URL_PARAM) or DEFAULT_NBP_URL
        rate = NbpClient(base_url=url, timeout=10).rate_before(currency_code, tax_point)
        values = {
            "currency_code": currency_code,
            "day_before": day_before,
            "effective_date": rate.effective_date,
            "rate_text": str(rate.mid),
            "table_number": rate.table_no,
        }
        try:
            with self.env.cr.savepoint():
                self.sudo().create(values)
        except IntegrityError:  # a concurrent fetch stored it first: the rate is the same
            _logger.debug("NBP rate %s for %s already stored", currency_code, day_before)
        return str(rate.mid), rate.effective_date, rate.table_no
