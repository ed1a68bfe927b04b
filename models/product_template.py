"""Product data for KSeF invoice lines: GTU group and Annex 15 (split payment)."""

from odoo import fields, models

GTU_CODES = [("GTU_%02d" % number, "GTU_%02d" % number) for number in range(1, 14)]


class ProductTemplate(models.Model):
    _inherit = "product.template"

    l10n_pl_ksef_gtu = fields.Selection(
        GTU_CODES,
        string="GTU group (KSeF)",
        help="Goods and services group (GTU_01 to GTU_13) printed on KSeF invoice lines. When the Polish chart's "
        "own GTU field is filled, that one is used.",
    )
    l10n_pl_ksef_annex15 = fields.Boolean(
        string="Annex 15 (split payment)",
        help="Goods or services listed in Annex 15 to the VAT act (e.g. steel, electronics, fuel, scrap). An invoice "
        "with such lines above 15,000 PLN gross must be paid by split payment (MPP): Odoo marks it so.",
    )
