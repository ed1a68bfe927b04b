"""Customer data for KSeF invoices: local-government (JST) and VAT-group (GV) buyers, payment form;
the partner's Polish NIP, normalised and indexed (suppliers of received invoices are found by it)."""

from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.sql import column_exists, create_column

from ..ksef_core import nip as ksef_nip

#: the normalised NIP of every partner in one statement (what ``ksef_nip.indexed_nip`` computes), for
#: the Tax IDs in printable ASCII; the few others are computed in Python
_FILL_NIP_SQL = """
    UPDATE res_partner p
       SET l10n_pl_ksef_nip_normalized = CASE
               WHEN clean.vat ~ '^PL[0-9]{10}$' THEN substr(clean.vat, 3)
               WHEN clean.vat ~ '^[0-9]{10}$' AND COALESCE(country.code, 'PL') = 'PL' THEN clean.vat
           END
      FROM (SELECT id, country_id, upper(regexp_replace(vat, '[[:space:]./-]', '', 'g')) AS vat
              FROM res_partner
             WHERE vat ~ '^[ -~]*$') clean
      LEFT JOIN res_country country ON country.id = clean.country_id
     WHERE p.id = clean.id
       AND (clean.vat ~ '^PL[0-9]{10}$' OR clean.vat ~ '^[0-9]{10}$')
"""

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
    l10n_pl_ksef_vat_exempt = fields.Boolean(
        string="VAT-exempt seller (art. 113)",
        help="This supplier is exempt from VAT by its turnover (art. 113 ustawy o VAT): its invoices do not go "
        "through KSeF as structured invoices, so from 1 January 2027 transfers paying its bills say why they quote "
        "no KSeF number. A bill with a KSeF number is always paid with that number.",
    )
    l10n_pl_ksef_nip_normalized = fields.Char(
        string="Polish NIP (digits)",
        compute="_compute_l10n_pl_ksef_nip_normalized",
        store=True,
        precompute=True,
        index="btree_not_null",
        help="The 10 digits of the Polish NIP in the Tax ID, without the PL prefix, dashes or spaces; empty when "
        "the Tax ID is not a Polish NIP. Suppliers of invoices received from KSeF are found by it.",
    )

    @api.depends("vat", "country_id.code")
    def _compute_l10n_pl_ksef_nip_normalized(self):
        for partner in self:
            partner.l10n_pl_ksef_nip_normalized = ksef_nip.indexed_nip(partner.vat, partner.country_id.code) or False

    def _auto_init(self):
        # Installed on a database with many partners, the ORM would compute the column record by record
        # (minutes for 100,000 partners): the column is made and filled here in SQL first, so the ORM
        # finds it made and computes nothing.
        if not column_exists(self.env.cr, self._table, "l10n_pl_ksef_nip_normalized"):
            create_column(self.env.cr, self._table, "l10n_pl_ksef_nip_normalized", "varchar")
            self._l10n_pl_ksef_fill_nip()
        return super()._auto_init()

    @api.model
    def _l10n_pl_ksef_fill_nip(self):
        """Fill the normalised NIP of every partner (one UPDATE; Tax IDs with other characters in Python)."""
        cr = self.env.cr
        cr.execute(_FILL_NIP_SQL)
        cr.execute(
            """SELECT p.id, p.vat, c.code FROM res_partner p LEFT JOIN res_country c ON c.id = p.country_id
                WHERE p.vat !~ '^[ -~]*$'"""
        )
        for partner_id, vat, code in cr.fetchall():
            nip = ksef_nip.indexed_nip(vat, code)
            if nip:
                cr.execute(
                    SQL("UPDATE res_partner SET l10n_pl_ksef_nip_normalized = %s WHERE id = %s", nip, partner_id)
                )
