from odoo import api, fields, models

from ..ksef_core.errors import KsefError

ENVIRONMENTS = [
    ("test", "TEST (integration tests, fictitious data)"),
    ("demo", "DEMO (pre-production, real data)"),
    ("prod", "PRODUCTION"),
    ("custom", "Custom address (KSeF simulator)"),
]


class ResCompany(models.Model):
    _name = "res.company"
    _inherit = ["res.company", "l10n_pl_ksef.secret.mixin"]

    l10n_pl_ksef_active = fields.Boolean(string="KSeF enabled")
    l10n_pl_ksef_environment = fields.Selection(
        ENVIRONMENTS,
        string="KSeF environment",
        default="test",
        required=True,
    )
    l10n_pl_ksef_custom_url = fields.Char(
        string="KSeF API address",
        help="Base address of a KSeF-compatible API, e.g. the bundled simulator: http://127.0.0.1:8765/v2",
    )
    l10n_pl_ksef_token_encrypted = fields.Char(
        string="KSeF token (encrypted)",
        groups="base.group_system",
        copy=False,
    )
    l10n_pl_ksef_token_set = fields.Boolean(
        string="KSeF token stored",
        compute="_compute_l10n_pl_ksef_token_set",
        compute_sudo=True,
    )

    @api.depends("l10n_pl_ksef_token_encrypted")
    def _compute_l10n_pl_ksef_token_set(self):
        for company in self:
            company.l10n_pl_ksef_token_set = bool(company.l10n_pl_ksef_token_encrypted)

    def _l10n_pl_ksef_set_token(self, token):
        """Store (or with a falsy value, remove) the company's KSeF token, encrypted."""
        self.ensure_one()
        self.sudo().l10n_pl_ksef_token_encrypted = self._l10n_pl_ksef_encrypt(token)

    def _l10n_pl_ksef_get_token(self):
        """The company's KSeF token in clear text, for server-side use only."""
        self.ensure_one()
        return self._l10n_pl_ksef_decrypt(self.sudo().l10n_pl_ksef_token_encrypted)

    def _l10n_pl_ksef_get_environment(self):
        """The ``ksef_core`` environment name and custom API URL of this company."""
        self.ensure_one()
        return self.l10n_pl_ksef_environment.upper(), self.l10n_pl_ksef_custom_url or None

    @staticmethod
    def _l10n_pl_ksef_error_text(error):
        """Text of a ``ksef_core`` error for a user message (both languages)."""
        if isinstance(error, KsefError):
            return error.bilingual()
        return str(error)
