"""The KSeF session tokens of a company's own credentials (access and refresh token, encrypted).

They change while a run is under way (a login, a refresh) and are shared by every user and cron
worker of the company. Kept off the ``res.company`` row on purpose: writing them there would lock
the company for the whole run (Settings, every user's KSeF button and the other crons need it).
"""

from odoo import api, fields, models


class L10nPlKsefTokenState(models.Model):
    _name = "l10n_pl_ksef.token.state"
    _inherit = ["l10n_pl_ksef.secret.mixin"]
    _description = "KSeF session tokens of a company"

    company_id = fields.Many2one("res.company", required=True, ondelete="cascade", index=True, readonly=True)
    state = fields.Char(string="KSeF session (encrypted)", groups="base.group_system", copy=False)

    _l10n_pl_ksef_session_field = "state"

    _company_unique = models.UniqueIndex("(company_id)", "One KSeF session record per company.")

    @api.model
    def _l10n_pl_ksef_for(self, company):
        """The record of ``company`` (sudo), made at first use."""
        record = self.sudo().search([("company_id", "=", company.id)], limit=1)
        return record or self.sudo().create({"company_id": company.id})
