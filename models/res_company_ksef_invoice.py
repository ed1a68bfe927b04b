"""Company data printed on KSeF invoices: registers (Stopka), cash accounting (P_16), place of issue (P_1M)."""

import re

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    l10n_pl_ksef_krs = fields.Char(
        string="KRS number",
        help="Entry in the National Court Register (10 digits), printed in the invoice footer (Stopka/Rejestry).",
    )
    l10n_pl_ksef_regon = fields.Char(
        string="REGON",
        help="Statistical number (9 or 14 digits), printed in the invoice footer (Stopka/Rejestry).",
    )
    l10n_pl_ksef_bdo = fields.Char(
        string="BDO number",
        help="Number in the waste register BDO (up to 9 characters), printed in the invoice footer when the company "
        "has one.",
    )
    l10n_pl_ksef_cash_accounting = fields.Boolean(
        string="Cash accounting (metoda kasowa)",
        help="The company settles VAT by the cash method (art. 21 of the VAT act): every KSeF invoice then carries "
        "the mark 'metoda kasowa' (P_16).",
    )
    l10n_pl_ksef_place_of_issue = fields.Char(
        string="Place of issue",
        help="Town printed as the place of issue (P_1M). Empty: the company's city.",
    )

    @api.constrains("l10n_pl_ksef_krs", "l10n_pl_ksef_regon", "l10n_pl_ksef_bdo")
    def _check_l10n_pl_ksef_registers(self):
        for company in self:
            if company.l10n_pl_ksef_krs and not re.fullmatch(r"\d{10}", company.l10n_pl_ksef_krs):
                raise ValidationError(_("The KRS number has 10 digits (e.g. 0000123456)."))
            if company.l10n_pl_ksef_regon and not re.fullmatch(r"\d{9}|\d{14}", company.l10n_pl_ksef_regon):
                raise ValidationError(_("A REGON has 9 or 14 digits."))
            if company.l10n_pl_ksef_bdo and len(company.l10n_pl_ksef_bdo) > 9:
                raise ValidationError(_("A BDO number has at most 9 characters."))
