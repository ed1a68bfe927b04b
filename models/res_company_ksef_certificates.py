"""The way to a KSeF certificate from the company: the end of tokens, the wizard, KSeF's list of certificates."""

import datetime

from odoo import _, fields, models
from odoo.exceptions import RedirectWarning

from ..ksef_core.token_end import tokens_ended


class ResCompany(models.Model):
    _inherit = "res.company"

    l10n_pl_ksef_tokens_ended = fields.Boolean(
        string="KSeF tokens ended",
        compute="_compute_l10n_pl_ksef_tokens_ended",
        help="KSeF accepts tokens until 31 December 2026 (Dz.U. 2025 poz. 1815); after that only certificates.",
    )

    def _compute_l10n_pl_ksef_tokens_ended(self):
        ended = tokens_ended(fields.Datetime.now().replace(tzinfo=datetime.timezone.utc))
        for company in self:
            company.l10n_pl_ksef_tokens_ended = ended

    def action_l10n_pl_ksef_get_certificate(self):
        """The Get a KSeF certificate wizard of this company."""
        self.ensure_one()
        self.env["l10n_pl_ksef.cert.wizard"]._l10n_pl_ksef_check_admin(self)
        return {
            "type": "ir.actions.act_window",
            "name": _("Get a KSeF certificate"),
            "res_model": "l10n_pl_ksef.cert.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_company_id": self.id},
        }

    def _l10n_pl_ksef_check_connection(self, ksef_user=None):
        # EXTENDS: when KSeF refuses the token because tokens have ended, Test connection opens the way out
        report = super()._l10n_pl_ksef_check_connection(ksef_user=ksef_user)
        if report.get("code") == "tokens_ended" and self.env.context.get("l10n_pl_ksef_redirect_tokens_ended"):
            action = self.env.ref("l10n_pl_ksef.l10n_pl_ksef_cert_wizard_action")
            raise RedirectWarning(report["error"], action.id, _("Get a KSeF certificate"))
        return report

    def action_l10n_pl_ksef_ksef_certificates(self):
        """The company's certificates as KSeF lists them."""
        self.ensure_one()
        rows = self.env["l10n_pl_ksef.ksef.certificate"]._l10n_pl_ksef_load(self)
        return {
            "type": "ir.actions.act_window",
            "name": _("Certificates in KSeF"),
            "res_model": "l10n_pl_ksef.ksef.certificate",
            "view_mode": "list",
            "views": [(self.env.ref("l10n_pl_ksef.l10n_pl_ksef_ksef_certificate_view_list").id, "list")],
            "domain": [("id", "in", rows.ids)],
            "target": "current",
        }
