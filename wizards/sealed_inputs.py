import json

from odoo import fields, models


def sealed(field_class, **kwargs):
    """Declare a secret input of a wizard inheriting ``l10n_pl_ksef.sealed.inputs``."""
    return field_class(compute="_compute_sealed_inputs", inverse="_inverse_sealed_inputs", store=False, **kwargs)


class L10nPlKsefSealedInputs(models.AbstractModel):
    """Secret inputs of a wizard (pasted token, passwords, key files) that never reach the database in clear.

    The web client saves a dialog's record before it calls a button, in a separate request; a
    plain field would leave the secret in the transient table, readable until the vacuum even when
    the button then refuses it. Here each secret input is a non-stored field whose inverse encrypts
    it into one sealed column; the field always reads back empty, and the button unseals.
    """

    _name = "l10n_pl_ksef.sealed.inputs"
    _inherit = ["l10n_pl_ksef.secret.mixin"]
    _description = "KSeF wizard secret inputs"

    #: names of the secret input fields of the inheriting wizard
    _l10n_pl_ksef_sealed_fields = ()

    sealed_inputs = fields.Char(groups="base.group_system", copy=False)

    def _compute_sealed_inputs(self):
        for wizard in self:
            for name in self._l10n_pl_ksef_sealed_fields:
                wizard[name] = False

    def _inverse_sealed_inputs(self):
        for wizard in self:
            values = wizard._l10n_pl_ksef_unseal_all()
            for name in self._l10n_pl_ksef_sealed_fields:
                value = wizard[name]
                if value:
                    values[name] = value.decode("ascii") if isinstance(value, bytes) else value
            wizard.sudo().sealed_inputs = self._l10n_pl_ksef_encrypt(json.dumps(values)) if values else False

    def _l10n_pl_ksef_unseal_all(self):
        self.ensure_one()
        sealed = self.sudo().sealed_inputs
        return json.loads(self._l10n_pl_ksef_decrypt(sealed)) if sealed else {}

    def _l10n_pl_ksef_unseal(self, name):
        """The clear value of one secret input (for a Binary field: its Base64 text), or None."""
        return self._l10n_pl_ksef_unseal_all().get(name) or None

    def _l10n_pl_ksef_forget_inputs(self):
        self.sudo().sealed_inputs = False
        self.invalidate_recordset(list(self._l10n_pl_ksef_sealed_fields))  # no clear value left in the cache
