from odoo import _, api, fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    l10n_pl_ksef_active = fields.Boolean(related="company_id.l10n_pl_ksef_active", readonly=False)
    l10n_pl_ksef_environment = fields.Selection(related="company_id.l10n_pl_ksef_environment", readonly=False)
    l10n_pl_ksef_custom_url = fields.Char(related="company_id.l10n_pl_ksef_custom_url", readonly=False)
    l10n_pl_ksef_nip = fields.Char(related="company_id.l10n_pl_ksef_nip", readonly=False)
    l10n_pl_ksef_start_date = fields.Date(related="company_id.l10n_pl_ksef_start_date", readonly=False)
    l10n_pl_ksef_send_mode = fields.Selection(related="company_id.l10n_pl_ksef_send_mode", readonly=False)
    l10n_pl_ksef_payment_reference = fields.Boolean(related="company_id.l10n_pl_ksef_payment_reference", readonly=False)
    l10n_pl_ksef_receive = fields.Boolean(related="company_id.l10n_pl_ksef_receive", readonly=False)
    l10n_pl_ksef_receive_interval = fields.Selection(related="company_id.l10n_pl_ksef_receive_interval", readonly=False)
    l10n_pl_ksef_receive_last_run = fields.Datetime(related="company_id.l10n_pl_ksef_receive_last_run")
    l10n_pl_ksef_receive_last_result = fields.Text(related="company_id.l10n_pl_ksef_receive_last_result")
    l10n_pl_ksef_receive_next_attempt = fields.Datetime(related="company_id.l10n_pl_ksef_receive_next_attempt")
    l10n_pl_ksef_receive_waiting_count = fields.Integer(related="company_id.l10n_pl_ksef_receive_waiting_count")
    l10n_pl_ksef_receive_journal_id = fields.Many2one(
        related="company_id.l10n_pl_ksef_receive_journal_id",
        readonly=False,
        domain="[('type', '=', 'purchase'), ('company_id', '=', company_id)]",
    )
    l10n_pl_ksef_receive_subject3 = fields.Boolean(related="company_id.l10n_pl_ksef_receive_subject3", readonly=False)
    l10n_pl_ksef_unavailable_mode = fields.Selection(related="company_id.l10n_pl_ksef_unavailable_mode", readonly=False)
    l10n_pl_ksef_auth_method = fields.Selection(related="company_id.l10n_pl_ksef_auth_method")
    l10n_pl_ksef_token_set = fields.Boolean(related="company_id.l10n_pl_ksef_token_set")
    l10n_pl_ksef_tokens_ended = fields.Boolean(related="company_id.l10n_pl_ksef_tokens_ended")
    l10n_pl_ksef_certificate_id = fields.Many2one(related="company_id.l10n_pl_ksef_certificate_id")
    l10n_pl_ksef_offline_certificate_id = fields.Many2one(related="company_id.l10n_pl_ksef_offline_certificate_id")
    l10n_pl_ksef_last_check = fields.Text(related="company_id.l10n_pl_ksef_last_check")
    l10n_pl_ksef_krs = fields.Char(related="company_id.l10n_pl_ksef_krs", readonly=False)
    l10n_pl_ksef_regon = fields.Char(related="company_id.l10n_pl_ksef_regon", readonly=False)
    l10n_pl_ksef_bdo = fields.Char(related="company_id.l10n_pl_ksef_bdo", readonly=False)
    l10n_pl_ksef_place_of_issue = fields.Char(related="company_id.l10n_pl_ksef_place_of_issue", readonly=False)
    l10n_pl_ksef_cash_accounting = fields.Boolean(related="company_id.l10n_pl_ksef_cash_accounting", readonly=False)

    @api.model
    def _get_view(self, view_id=None, view_type="form", **options):
        """One KSeF choice in Settings: Odoo's own l10n_pl_edi block is hidden for a company using this addon."""
        arch, view = super()._get_view(view_id, view_type, **options)
        if view_type == "form":
            for node in arch.xpath("//setting[@id='l10n_pl_edi_register']"):
                shown = node.get("invisible")
                node.set("invisible", "(%s) or l10n_pl_ksef_active" % shown if shown else "l10n_pl_ksef_active")
        return arch, view

    def action_l10n_pl_ksef_open_setup(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("KSeF set-up"),
            "res_model": "l10n_pl_ksef.setup.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_company_id": self.company_id.id},
        }

    def action_l10n_pl_ksef_get_certificate(self):
        self.ensure_one()
        return self.company_id.action_l10n_pl_ksef_get_certificate()

    def action_l10n_pl_ksef_ksef_certificates(self):
        self.ensure_one()
        return self.company_id.action_l10n_pl_ksef_ksef_certificates()

    def action_l10n_pl_ksef_user_tokens(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("l10n_pl_ksef.l10n_pl_ksef_user_token_action")
        action["domain"] = [("company_id", "=", self.company_id.id)]
        return action

    def action_l10n_pl_ksef_receive_now(self):
        self.ensure_one()
        return self.company_id.action_l10n_pl_ksef_receive_now()

    def action_l10n_pl_ksef_receive_failures(self):
        self.ensure_one()
        self.company_id._l10n_pl_ksef_receive_check_access()
        action = self.env["ir.actions.act_window"]._for_xml_id("l10n_pl_ksef.l10n_pl_ksef_receive_failure_action")
        # the invoices waiting in another KSeF (environment, address, NIP) are kept, hidden until switching back
        action["domain"] = [("company_id", "=", self.company_id.id), ("in_current_ksef", "=", True)]
        return action

    def action_l10n_pl_ksef_test_connection(self):
        self.ensure_one()
        wizard = self.env["l10n_pl_ksef.setup.wizard"].create({"company_id": self.company_id.id, "step": "done"})
        company = self.company_id.with_context(l10n_pl_ksef_redirect_tokens_ended=True)
        wizard.result = company._l10n_pl_ksef_connection_report_html()
        return wizard._reopen()
