"""Records an invoice points to in its FA(3) document: third parties (Podmiot3) and corrected invoices."""

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..ksef_core.ksef_number import is_valid_ksef_number

#: FA(3) ``Rola`` of a third party (TRolaPodmiotu3)
THIRD_PARTY_ROLES = [
    ("1", "Factor"),
    ("2", "Recipient (unit or branch of the buyer)"),
    ("3", "Original entity (taken over or transformed)"),
    ("4", "Additional buyer"),
    ("5", "Invoice issuer on behalf of the seller"),
    ("6", "Payer"),
    ("7", "Local government unit – issuer"),
    ("8", "Local government unit – recipient"),
    ("9", "VAT group member – issuer"),
    ("10", "VAT group member – recipient"),
    ("11", "Employee"),
]


class L10nPlKsefThirdParty(models.Model):
    _name = "l10n_pl_ksef.third.party"
    _description = "KSeF invoice third party (Podmiot3)"
    _order = "sequence, id"

    move_id = fields.Many2one("account.move", string="Invoice", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="move_id.company_id", store=True)
    sequence = fields.Integer(default=10)
    partner_id = fields.Many2one("res.partner", required=True)
    role = fields.Selection(THIRD_PARTY_ROLES, required=True, default="2")
    share = fields.Float(
        string="Share (%)",
        digits=(5, 2),
        help="For an additional buyer: his share in the purchase, in percent.",
    )

    @api.constrains("share")
    def _check_share(self):
        for party in self:
            if party.share and not 0 < party.share <= 100:
                raise ValidationError(_("A buyer's share is a percentage between 0 and 100."))


class L10nPlKsefCorrectedInvoice(models.Model):
    _name = "l10n_pl_ksef.corrected.invoice"
    _description = "Invoice corrected by a KSeF correction invoice"
    _order = "id"

    move_id = fields.Many2one("account.move", string="Invoice", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="move_id.company_id", store=True)
    origin_move_id = fields.Many2one(
        "account.move",
        string="Invoice in Odoo",
        domain="[('move_type', '=', 'out_invoice'), ('state', '=', 'posted'), ('company_id', '=', company_id)]",
        help="The corrected invoice when it is in Odoo; leave empty for an invoice issued elsewhere.",
    )
    number = fields.Char(string="Invoice number", help="Number of the corrected invoice.")
    issue_date = fields.Date(string="Issue date")
    ksef_number = fields.Char(
        string="KSeF number",
        help="KSeF number of the corrected invoice; leave empty when it was issued outside KSeF.",
    )

    @api.onchange("origin_move_id")
    def _onchange_origin_move_id(self):
        for line in self.filtered("origin_move_id"):
            line.number = line.origin_move_id.name
            line.issue_date = line.origin_move_id.invoice_date
            line.ksef_number = line.origin_move_id.l10n_pl_ksef_number

    @api.constrains("ksef_number")
    def _check_ksef_number(self):
        for line in self:
            number = (line.ksef_number or "").strip()
            if number and not is_valid_ksef_number(number):
                raise ValidationError(
                    _(
                        "'%(number)s' is not a KSeF number (NIP-YYYYMMDD-XXXXXX-XXXXXX-XX with a valid checksum).",
                        number=number,
                    )
                )

    def _l10n_pl_ksef_values(self):
        """``(number, issue date, KSeF number or None)`` of each line, the Odoo invoice's data first."""
        result = []
        for line in self:
            origin = line.origin_move_id
            number = line.number or origin.name
            when = line.issue_date or origin.invoice_date
            ksef = (line.ksef_number or origin.l10n_pl_ksef_number or "").strip() or None
            result.append((number, when, ksef))
        return result
