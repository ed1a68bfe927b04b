"""Customer data for KSeF invoices: local-government (JST) and VAT-group (GV) buyers, payment form."""

from odoo import fields, models

PAYMENT_FORMS = [
    ("1", "Cash"),
    ("2", "Card"),
    ("3", "Voucher"),
    ("4", "Cheque"),
    ("5", "Credit"),
    ("6", "Bank transfer"),
    ("7", "Mobile payment"),
]


class ResPartner(models.Model):
    _inherit = "res.partner"

    l10n_pl_ksef_jst = fields.Boolean(
        string="Local government unit (JST)",
        help="The customer is a local government (gmina, powiat, województwo) buying for one of its subordinate "
        "units (a school, an office...). KSeF invoices then carry the JST mark, and the unit must be added on the "
        "invoice as a third party with the role 'Local government unit – recipient'.",
    )
    l10n_pl_ksef_gv = fields.Boolean(
        string="VAT group (GV)",
        help="The customer is a VAT group and the invoice concerns one of its members. KSeF invoices then carry the "
        "GV mark, and the member must be added on the invoice as a third party with the role 'VAT group member – "
        "recipient'.",
    )
    l10n_pl_ksef_payment_form = fields.Selection(
        PAYMENT_FORMS,
        string="Payment form (KSeF)",
        help="How this customer usually pays; printed on KSeF invoices (FormaPlatnosci). Empty: bank transfer when "
        "the invoice shows a bank account.",
    )
