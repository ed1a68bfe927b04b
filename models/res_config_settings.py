from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    l10n_pl_ksef_active = fields.Boolean(related="company_id.l10n_pl_ksef_active", readonly=False)
    l10n_pl_ksef_environment = fields.Selection(
        related="company_id.l10n_pl_ksef_environment", readonly=False
    )
    l10n_pl_ksef_custom_url = fields.Char(related="company_id.l10n_pl_ksef_custom_url", readonly=False)
    l10n_pl_ksef_token_set = fields.Boolean(related="company_id.l10n_pl_ksef_token_set")
    # Write-only: the stored token is never sent back to the browser.
    l10n_pl_ksef_token_input = fields.Char(
        string="New KSeF token",
        groups="base.group_system",
        help="Paste the token generated in the KSeF taxpayer application (Aplikacja Podatnika KSeF). "
        "It is stored encrypted and never shown again.",
    )

    def set_values(self):
        result = super().set_values()
        for settings in self:
            if settings.l10n_pl_ksef_token_input:
                settings.company_id._l10n_pl_ksef_set_token(settings.l10n_pl_ksef_token_input.strip())
                settings.l10n_pl_ksef_token_input = False
        return result
