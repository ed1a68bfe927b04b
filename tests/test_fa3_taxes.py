"""The KSeF rate code of a tax: proposed for the Polish chart and without it, editable, required to post."""

from odoo.exceptions import UserError
from odoo.tests import tagged

from .fa3_common import L10nPlKsefFa3Common


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefFa3Taxes(L10nPlKsefFa3Common):
    def test_polish_chart_taxes_get_their_codes_from_the_tax_report_tags(self):
        if self.env["ir.module.module"]._get("l10n_pl").state != "installed":
            self.skipTest("needs the Polish chart (l10n_pl)")
        chart = self.env["account.chart.template"].with_company(self.company)
        expected = {
            "vs_kraj_23": "23",
            "vs_kraj_8": "8",
            "vs_kraj_5": "5",
            "vs_kraj_0": "0 KR",
            "vs_kraj_zw": "zw",
            "vs_unia": "0 WDT",
            "vs_eksp_tow": "0 EX",
            "vs_dostu": "np II",
            "vs_ekspu": "np I",
            "vs_stal": "oo",
            "vz_kraj_23": "23",
            "vz_kraj_zw": "zw",
            "vz_stal": "oo",
            "vz_unia": False,  # intra-EU acquisition: the buyer self-assesses, never on a Polish invoice
        }
        found = {xmlid: chart.ref(xmlid).l10n_pl_ksef_rate_code for xmlid in expected}
        self.assertEqual(found, expected)

    def test_without_the_polish_chart_codes_are_proposed_from_rate_and_name(self):
        group = self.taxes["23"].tax_group_id
        Tax = self.env["account.tax"]

        def make(name, amount, use="sale"):
            return Tax.create(
                {"name": name, "amount": amount, "type_tax_use": use, "tax_group_id": group.id}
            ).l10n_pl_ksef_rate_code

        self.assertEqual(make("Sales 23", 23), "23")
        self.assertEqual(make("Sales 8", 8.0), "8")
        self.assertEqual(make("Exempt sales", 0), "zw")
        self.assertEqual(make("Zero", 0), "0 KR")
        self.assertFalse(make("Sales 15", 15), "15 % is no Polish rate: nothing is guessed")

    def test_an_accountant_corrects_the_code_and_it_stays(self):
        tax = self.taxes["0 KR"].with_user(self.accountant)
        tax.l10n_pl_ksef_rate_code = "0 EX"
        tax.name = "Eksport towarów 0%"
        self.assertEqual(tax.l10n_pl_ksef_rate_code, "0 EX")

    def test_a_tax_without_code_blocks_posting_and_says_where_to_set_it(self):
        self.taxes["23"].l10n_pl_ksef_rate_code = False
        move = self.make([self.line()], post=False)
        with self.assertRaises(UserError) as caught:
            move.action_post()
        message = str(caught.exception)
        self.assertIn("VAT 23% (test)", message)
        self.assertIn("KSeF rate code", message)
        self.assertIn("kod stawki KSeF", message, "the message is in Polish too")
        self.assertEqual(move.state, "draft")

    def test_a_line_without_tax_blocks_posting(self):
        move = self.make([self.line(), self.line(product=self.product_b, tax=None, name="Transport")], post=False)
        with self.assertRaises(UserError) as caught:
            move.action_post()
        self.assertIn("'Transport' has no tax", str(caught.exception))

    def test_invoices_before_the_start_date_are_not_checked(self):
        self.company.l10n_pl_ksef_start_date = "2026-12-01"
        self.taxes["23"].l10n_pl_ksef_rate_code = False
        move = self.make([self.line()])
        self.assertEqual(move.state, "posted")
