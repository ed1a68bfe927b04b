from odoo import _, fields, models


class ResUsers(models.Model):
    _inherit = "res.users"

    l10n_pl_ksef_has_token = fields.Boolean(
        string="Has a named KSeF token",
        compute="_compute_l10n_pl_ksef_has_token",
        compute_sudo=True,
        help="The user has his own KSeF token for the current company.",
    )

    l10n_pl_ksef_available = fields.Boolean(
        string="KSeF in use", compute="_compute_l10n_pl_ksef_has_token", compute_sudo=True
    )

    @property
    def SELF_READABLE_FIELDS(self):
        return [*super().SELF_READABLE_FIELDS, "l10n_pl_ksef_has_token", "l10n_pl_ksef_available"]

    def _compute_l10n_pl_ksef_has_token(self):
        company = self.env.company
        tokens = (
            self.env["l10n_pl_ksef.user.token"]
            .sudo()
            .search([("user_id", "in", self.ids), ("company_id", "=", company.id)])
        )
        for user in self:
            user.l10n_pl_ksef_has_token = user in tokens.user_id
            user.l10n_pl_ksef_available = company.l10n_pl_ksef_active

    def action_l10n_pl_ksef_user_token(self):
        """Open the named-token wizard for this user (the user himself or an administrator)."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("My KSeF token"),
            "res_model": "l10n_pl_ksef.user.token.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_user_id": self.id, "default_company_id": self.env.company.id},
        }
