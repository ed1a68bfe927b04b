"""The KSeF treatment of a tax: its FA(3) rate code (P_12 and the P_13_x/P_14_x bucket) and exemption basis."""

from odoo import api, fields, models

from ..ksef_core.fa3 import rates as ksef_rates

EXEMPTION_KINDS = [
    ("law", "Polish VAT act or its regulation (P_19A)"),
    ("directive", "Directive 2006/112/EC (P_19B)"),
    ("other", "Other legal basis (P_19C)"),
]


class AccountTax(models.Model):
    _inherit = "account.tax"

    l10n_pl_ksef_rate_code = fields.Selection(
        ksef_rates.selection(),
        string="KSeF rate code",
        compute="_compute_l10n_pl_ksef_rate_code",
        store=True,
        readonly=False,
        help="How KSeF invoices show this tax: the FA(3) rate code (P_12) and the summary bucket (P_13_x/P_14_x). "
        "Proposed from the Polish chart's tax-report tags, otherwise from the rate; check it once and correct "
        "it when the tax is for exempt (zw), reverse-charge (oo), intra-EU (0 WDT), export (0 EX), out-of-scope "
        "(np I/np II), OSS or margin-scheme sales. A customer invoice with a tax that has no code cannot be sent.",
    )
    l10n_pl_ksef_reverse_charge = fields.Boolean(
        string="Buyer accounts for the VAT (reverse charge)",
        compute="_compute_l10n_pl_ksef_reverse_charge",
        store=True,
        readonly=False,
        help="The buyer settles the VAT (or a similar tax of his country) on sales with this tax: KSeF invoices "
        "then say 'odwrotne obciążenie' (P_18, art. 106e ust. 1 pkt 18 ustawy o VAT). Set by the KSeF rate code for "
        "domestic reverse charge (oo) and for services to EU businesses (np II). For supplies outside Poland (np I) "
        "decide per tax: tick it e.g. for services to a business outside the EU that settles the tax under its own "
        "law; leave it unticked when you pay the foreign VAT yourself or the buyer's country has no such tax.",
    )
    l10n_pl_ksef_reverse_charge_fixed = fields.Boolean(
        string="Reverse charge set by the KSeF rate code",
        compute="_compute_l10n_pl_ksef_reverse_charge_fixed",
    )
    l10n_pl_ksef_exemption_kind = fields.Selection(
        EXEMPTION_KINDS,
        string="Exemption basis",
        help="For an exempt (zw) tax: where the exemption comes from. Every KSeF invoice with exempt sales must "
        "name it (P_19A, P_19B or P_19C).",
    )
    l10n_pl_ksef_exemption_text = fields.Char(
        string="Exemption provision",
        help="The provision exempting the supply, as printed on the invoice, e.g. 'art. 43 ust. 1 pkt 37 ustawy "
        "o VAT' or 'art. 135 ust. 1 lit. d dyrektywy 2006/112/WE'.",
    )

    @api.depends(
        "amount",
        "amount_type",
        "type_tax_use",
        "name",
        "invoice_repartition_line_ids.tag_ids",
        "invoice_repartition_line_ids.factor_percent",
    )
    def _compute_l10n_pl_ksef_rate_code(self):
        for tax in self:
            if tax.l10n_pl_ksef_rate_code:
                continue  # proposed once; what the accountant set is never overwritten
            tags = tax.invoice_repartition_line_ids.tag_ids.with_context(lang="en_US")
            tax_lines = tax.invoice_repartition_line_ids.filtered(lambda r: r.repartition_type == "tax")
            self_assessed = any(line.factor_percent < 0 for line in tax_lines)
            tax.l10n_pl_ksef_rate_code = ksef_rates.propose_code(
                tax.type_tax_use,
                tax.amount_type,
                tax.amount,
                tags=[name for name in tags.mapped("name") if name],
                name=tax.with_context(lang="en_US").name,
                self_assessed=self_assessed,
            )

    @api.depends("l10n_pl_ksef_rate_code")
    def _compute_l10n_pl_ksef_reverse_charge(self):
        for tax in self:
            tags = tax.invoice_repartition_line_ids.tag_ids.with_context(lang="en_US")
            tax.l10n_pl_ksef_reverse_charge = ksef_rates.propose_buyer_accounts(
                tax.l10n_pl_ksef_rate_code,
                tags=[name for name in tags.mapped("name") if name],
                scope=tax.tax_scope,
                name=tax.with_context(lang="en_US").name,
            )

    @api.depends("l10n_pl_ksef_rate_code")
    def _compute_l10n_pl_ksef_reverse_charge_fixed(self):
        for tax in self:
            tax.l10n_pl_ksef_reverse_charge_fixed = ksef_rates.buyer_accounts_is_fixed(tax.l10n_pl_ksef_rate_code)

    def _l10n_pl_ksef_buyer_accounts(self):
        """True when the buyer accounts for the VAT of a sale with this tax (FA(3) ``P_18=1``)."""
        self.ensure_one()
        return ksef_rates.buyer_accounts(self.l10n_pl_ksef_rate_code, self.l10n_pl_ksef_reverse_charge)

    def _l10n_pl_ksef_rate(self):
        """The :class:`~ksef_core.fa3.rates.RateCode` of this tax (``None`` without a code)."""
        self.ensure_one()
        return ksef_rates.get(self.l10n_pl_ksef_rate_code)
