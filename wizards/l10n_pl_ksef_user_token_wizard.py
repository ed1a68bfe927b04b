from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .reopen import reopen_wizard
from .sealed_inputs import sealed


class L10nPlKsefUserTokenWizard(models.TransientModel):
    """Set, test or remove one user's own (named) KSeF token for one company.

    Open to every internal user for his own token; administrators may pick any user.
    The token is checked (shape, NIP of the company) before it is stored, then the
    connection is tested with it; the pasted value never stays in this record.
    """

    _name = "l10n_pl_ksef.user.token.wizard"
    _inherit = ["l10n_pl_ksef.sealed.inputs"]
    _description = "KSeF named user token"
    _l10n_pl_ksef_sealed_fields = ("token",)

    user_id = fields.Many2one("res.users", required=True, default=lambda self: self.env.user)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        default=lambda self: self.env.company,
        domain="[('id', 'in', allowed_company_ids)]",
    )
    allowed_company_ids = fields.Many2many("res.company", compute="_compute_allowed_company_ids")
    is_admin = fields.Boolean(compute="_compute_is_admin")
    token = sealed(fields.Char, string="KSeF token")
    has_token = fields.Boolean(compute="_compute_token_info")
    reference = fields.Char(string="Stored token", compute="_compute_token_info")
    result = fields.Html(string="Connection test result", readonly=True, sanitize=True)

    @api.depends("user_id")
    def _compute_allowed_company_ids(self):
        for wizard in self:
            wizard.allowed_company_ids = wizard.user_id.company_ids & self.env.user.company_ids

    def _compute_is_admin(self):
        is_admin = self.env.user.has_group("base.group_system")
        for wizard in self:
            wizard.is_admin = is_admin

    @api.depends("user_id", "company_id")
    def _compute_token_info(self):
        for wizard in self:
            # without sudo: record rules show a user his own token only (administrators: their companies')
            named = self.env["l10n_pl_ksef.user.token"].search(
                [("user_id", "=", wizard.user_id.id), ("company_id", "=", wizard.company_id.id)], limit=1
            )
            wizard.has_token = bool(named)
            wizard.reference = named.reference

    def _reopen(self):
        return reopen_wizard(self, _("KSeF token of %(user)s", user=self.user_id.name))

    def action_save(self):
        """Check and store the token, then test the connection with it."""
        self.ensure_one()
        token = self._l10n_pl_ksef_unseal("token")
        self._l10n_pl_ksef_forget_inputs()
        if not token:
            self.env["l10n_pl_ksef.user.token"]._l10n_pl_ksef_check_may_manage(self.user_id, self.company_id)
            self.result = False
            return self._reopen()
        self.env["l10n_pl_ksef.user.token"]._l10n_pl_ksef_set(self.user_id, self.company_id, token)
        return self.action_test()

    def action_test(self):
        self.ensure_one()
        tokens = self.env["l10n_pl_ksef.user.token"]
        tokens._l10n_pl_ksef_check_may_manage(self.user_id, self.company_id)
        if not tokens._l10n_pl_ksef_for(self.user_id, self.company_id):
            raise UserError(
                _(
                    "%(user)s has no KSeF token of his own in %(company)s yet: paste one and save. Until then, "
                    "what %(user)s sends goes out under the company's credentials.",
                    user=self.user_id.name,
                    company=self.company_id.name,
                )
            )
        self.result = self.company_id.sudo()._l10n_pl_ksef_connection_report_html(ksef_user=self.user_id)
        return self._reopen()

    def action_remove(self):
        self.ensure_one()
        self.env["l10n_pl_ksef.user.token"]._l10n_pl_ksef_for(self.user_id, self.company_id)._l10n_pl_ksef_remove()
        self.result = False
        return self._reopen()
