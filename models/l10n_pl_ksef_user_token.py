from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Domain

from ..ksef_core import nip as ksef_nip
from ..ksef_core.client.tokens import check_ksef_token


class L10nPlKsefUserToken(models.Model):
    """A named KSeF token: one user's own token for one company ("tokeny imienne").

    What the user sends to KSeF goes out under this token instead of the company's,
    so KSeF records who sent each invoice. The token is set by the user himself or by
    a Settings administrator; nobody can read it back (the encrypted value is limited
    to administrators and is only decrypted on the server to log in to KSeF).
    """

    _name = "l10n_pl_ksef.user.token"
    _inherit = ["l10n_pl_ksef.secret.mixin"]
    _description = "KSeF named user token"
    _order = "company_id, user_id"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", search="_search_name")
    user_id = fields.Many2one("res.users", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one("res.company", required=True, ondelete="cascade", index=True)
    reference = fields.Char(
        string="Token reference number",
        readonly=True,
        help="The token's reference number as shown in the KSeF application (not secret): "
        "use it to find or revoke the token there.",
    )
    token_encrypted = fields.Char(string="Token (encrypted)", groups="base.group_system", copy=False)
    session_state = fields.Char(string="KSeF session (encrypted)", groups="base.group_system", copy=False)
    last_check = fields.Text(string="Last connection test", readonly=True, copy=False)

    _l10n_pl_ksef_session_field = "session_state"

    _user_company_uniq = models.Constraint(
        "UNIQUE(user_id, company_id)",
        "A user has one KSeF token per company: replace it instead of adding another.",
    )

    @api.depends("user_id", "company_id", "reference")
    def _compute_name(self):
        for record in self:
            record.name = "%s — %s (%s)" % (record.user_id.name or "", record.company_id.name or "", record.reference)

    def _search_name(self, operator, value):
        """The name is made of the user, the company and the reference: searching it (the list's search box,
        a many2one) searches those."""
        if operator not in ("ilike", "like", "=ilike", "=like"):
            return NotImplemented
        return Domain.OR(Domain(name, operator, value) for name in ("user_id.name", "company_id.name", "reference"))

    # ------------------------------------------------------------------ actions

    def action_l10n_pl_ksef_new(self):
        return self.env["res.users"].browse(self.env.uid).action_l10n_pl_ksef_user_token()

    def action_l10n_pl_ksef_open_wizard(self):
        self.ensure_one()
        action = self.user_id.action_l10n_pl_ksef_user_token()
        action["context"] = {"default_user_id": self.user_id.id, "default_company_id": self.company_id.id}
        return action

    # ------------------------------------------------------------------ access

    @api.model
    def _l10n_pl_ksef_check_may_manage(self, ksef_user, company):
        """Only the user himself or a Settings administrator manage a user's token."""
        if self.env.user != ksef_user and not self.env.user.has_group("base.group_system"):
            raise AccessError(
                _(
                    "Only %(user)s or an administrator can change %(user)s's KSeF token.",
                    user=ksef_user.name,
                )
            )
        if company not in ksef_user.company_ids:
            raise UserError(
                _(
                    "%(user)s does not work in %(company)s: a KSeF token can only be set for a company the user "
                    "has access to.",
                    user=ksef_user.name,
                    company=company.name,
                )
            )

    @api.model
    def _l10n_pl_ksef_for(self, ksef_user, company):
        """The named token of ``user`` in ``company`` (sudo), or an empty recordset."""
        if not ksef_user or ksef_user._is_public() or ksef_user._is_superuser():
            return self.sudo().browse()
        return self.sudo().search([("user_id", "=", ksef_user.id), ("company_id", "=", company.id)], limit=1)

    # ------------------------------------------------------------------ storage

    @api.model
    def _l10n_pl_ksef_set(self, ksef_user, company, token):
        """Check ``token`` (shape, NIP of ``company``) and store it as ``ksef_user``'s token; returns the record.

        :raises AccessError: the caller is neither ``ksef_user`` nor an administrator
        :raises ValidationError: the token is malformed or belongs to another NIP
        """
        self._l10n_pl_ksef_check_may_manage(ksef_user, company)
        if not ksef_nip.is_valid_nip(company.l10n_pl_ksef_nip):
            raise UserError(
                _(
                    "%(company)s has no valid NIP for KSeF yet, so the token cannot be checked: an administrator "
                    "sets it in Settings > Accounting > KSeF first.",
                    company=company.name,
                )
            )
        token = company._l10n_pl_ksef_check_token(token)
        reference = check_ksef_token(token).reference
        values = {"token_encrypted": self._l10n_pl_ksef_encrypt(token), "reference": reference}
        # a new token must never reuse the KSeF session of the previous one
        values.update(session_state=False, last_check=False)
        record = self._l10n_pl_ksef_for(ksef_user, company)
        if record:
            record.write(values)
        else:
            record = self.sudo().create(dict(values, user_id=ksef_user.id, company_id=company.id))
        company._l10n_pl_ksef_credentials_changed(ksef_user)
        return record

    def _l10n_pl_ksef_remove(self):
        for record in self:
            self._l10n_pl_ksef_check_may_manage(record.user_id, record.company_id)
        self.sudo().unlink()

    def _l10n_pl_ksef_get_token(self):
        """The token in clear text, for server-side use only."""
        self.ensure_one()
        return self._l10n_pl_ksef_decrypt(self.sudo().token_encrypted)
