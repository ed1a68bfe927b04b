"""The KSeF set-up refuses another environment, address or NIP while invoices are on their way to the current
one: it lists them and offers to withdraw those not sent yet (see ``models/res_company_ksef_endpoint.py``)."""

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..models.res_company_ksef_endpoint import LISTED, endpoint_key


class L10nPlKsefSetupWizard(models.TransientModel):
    _inherit = "l10n_pl_ksef.setup.wizard"

    pending_warning = fields.Text(string="Invoices on their way to KSeF", compute="_compute_pending_warning")
    can_withdraw = fields.Boolean(string="Unsent invoices can be withdrawn", compute="_compute_pending_warning")
    withdraw_result = fields.Text(string="Withdrawn invoices", readonly=True)

    def _chosen_endpoint(self):
        self.ensure_one()
        custom_url = self.custom_url if self.environment == "custom" else False
        return endpoint_key(self.environment, custom_url, self.company_id.l10n_pl_ksef_nip)

    @api.depends("company_id", "environment", "custom_url")
    def _compute_pending_warning(self):
        for wizard in self:
            company = wizard.company_id.sudo()
            changes = bool(company) and wizard._chosen_endpoint() != company._l10n_pl_ksef_endpoint()
            wizard.pending_warning = (changes and company._l10n_pl_ksef_endpoint_refusal()) or False
            withdrawable = changes and company._l10n_pl_ksef_pending_documents()._l10n_pl_ksef_withdrawable()
            wizard.can_withdraw = bool(withdrawable)

    def _check_pending(self):
        """Refuse going on to another KSeF while invoices are on their way to the current one."""
        self.ensure_one()
        self.invalidate_recordset(["pending_warning", "can_withdraw"])
        if self.pending_warning:
            raise UserError(self.pending_warning)

    def action_next(self):
        self.ensure_one()
        self._check_admin()
        self._check_pending()
        return super().action_next()

    def action_save_credentials(self):
        self.ensure_one()
        self._check_admin()
        self._check_pending()
        return super().action_save_credentials()

    def action_withdraw_unsent(self):
        """Withdraw the invoices queued for the current KSeF and not sent yet (they can be sent again later)."""
        self.ensure_one()
        self._check_admin()
        withdrawn = self.company_id.sudo()._l10n_pl_ksef_withdraw_unsent()
        if not withdrawn:
            raise UserError(
                _("No invoice can be withdrawn now: those left are with KSeF (or issued offline), wait for its answer.")
            )
        names = ", ".join(withdrawn[:LISTED].mapped(lambda d: d.move_id.name or str(d.move_id.id)))
        if len(withdrawn) > LISTED:
            names = _("%(invoices)s and %(count)s more", invoices=names, count=len(withdrawn) - LISTED)
        self.withdraw_result = _(
            "Withdrawn from KSeF, not sent: %(invoices)s. They stay confirmed: send them again (Send to KSeF) once "
            "the new KSeF settings are saved.",
            invoices=names,
        )
        return self._reopen()
