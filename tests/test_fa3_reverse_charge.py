"""Reverse charge outside Poland (P_18), the seller's PL prefix (PrefiksPodatnika) and split payment (P_18A)."""

from odoo.fields import Command
from odoo.tests import Form, tagged

from .fa3_common import ISSUED, L10nPlKsefFa3Common


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefFa3ReverseCharge(L10nPlKsefFa3Common):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.eur = cls.setup_other_currency("EUR", rates=[("2000-01-01", 0.25)])  # Odoo's own: 4.00 PLN

    def annotations(self, move):
        root = self.tree(move)
        return {tag: self.value(root, "//f:Adnotacje/f:%s" % tag) for tag in ("P_18", "P_18A")}

    # ------------------------------------------------------------------ reverse charge and the seller's prefix

    def test_eu_services_np2_golden(self):
        """art. 106e ust. 1 pkt 18 and art. 97 ust. 10 pkt 3: services of art. 28b to an EU taxpayer (np II,
        P_13_9) say "odwrotne obciążenie" (P_18=1) and show the seller's PL VAT-UE prefix (PrefiksPodatnika)."""
        move = self.make(
            [self.line(product=self.product_b, name="Wdrożenie systemu ERP", quantity=40, price=150, tax="np II")],
            partner=self.buyer_de,
        )
        root = self.tree(move)
        self.assertEqual(self.value(root, "//f:P_13_9"), "6000.00")
        self.assertEqual(self.value(root, "//f:FaWiersz/f:P_12"), "np II")
        self.assertEqual(self.value(root, "//f:Adnotacje/f:P_18"), "1")
        self.assertEqual(self.value(root, "//f:Podmiot1/f:PrefiksPodatnika"), "PL")
        self.assertEqual(self.value(root, "//f:Podmiot2//f:KodUE"), "DE")
        self.assertEqual(self.value(root, "//f:P_15"), "6000.00")
        self.assertGolden(move, "eu_services_np2")

    def test_np1_says_reverse_charge_only_when_the_tax_says_the_buyer_accounts(self):
        """art. 106e ust. 1 pkt 18: for a supply outside Poland (np I) "odwrotne obciążenie" only when the buyer
        accounts for the VAT or a similar tax of his country (e.g. art. 28b services to a non-EU business), as
        the accountant set on the tax; not when the seller pays the foreign VAT. No PL prefix (art. 97 ust. 10
        names no supply outside the EU)."""

        def lines():
            return [self.line(product=self.product_b, name="Konsulting", quantity=10, price=200, tax="np I")]

        seller_pays = self.make(lines(), partner=self.buyer_us)
        root = self.tree(seller_pays)
        self.assertEqual(self.value(root, "//f:Adnotacje/f:P_18"), "2")
        self.assertEqual(self.value(root, "//f:P_13_8"), "2000.00")
        self.assertIsNone(self.value(root, "//f:Podmiot1/f:PrefiksPodatnika"))
        self.taxes["np I"].with_user(self.accountant).l10n_pl_ksef_reverse_charge = True
        buyer_accounts = self.make(lines(), partner=self.buyer_us)
        root = self.tree(buyer_accounts)
        self.assertEqual(self.value(root, "//f:Adnotacje/f:P_18"), "1")
        self.assertIsNone(self.value(root, "//f:Podmiot1/f:PrefiksPodatnika"))

    def test_the_code_decides_for_oo_and_np2_and_the_setting_only_for_np1(self):
        """art. 106e ust. 1 pkt 18: the buyer always accounts for domestic reverse charge (oo) and for services
        to an EU taxpayer (np II), never for a rate the seller charges; the tax form shows it, fixed."""
        tax = self.taxes["np II"]
        self.assertTrue(tax.l10n_pl_ksef_reverse_charge)
        self.assertTrue(tax.l10n_pl_ksef_reverse_charge_fixed)
        self.assertTrue(self.taxes["oo"].l10n_pl_ksef_reverse_charge)
        self.assertFalse(self.taxes["23"].l10n_pl_ksef_reverse_charge)
        self.assertFalse(self.taxes["np I"].l10n_pl_ksef_reverse_charge_fixed, "np I: the accountant decides")
        tax.l10n_pl_ksef_reverse_charge = False  # written past the form: the code still decides
        move = self.make([self.line(product=self.product_b, price=500, tax="np II")], partner=self.buyer_de)
        self.assertEqual(self.annotations(move)["P_18"], "1")
        self.taxes["23"].l10n_pl_ksef_reverse_charge = True
        self.assertEqual(self.annotations(self.make([self.line()]))["P_18"], "2")

    def test_changing_the_code_proposes_the_setting_again(self):
        """art. 106e ust. 1 pkt 18: a tax moved to "np II" says reverse charge at once; moved to a domestic rate
        it no longer does."""
        tax = self.taxes["np I"]
        with Form(tax) as form:
            form.l10n_pl_ksef_rate_code = "np II"
        self.assertTrue(tax.l10n_pl_ksef_reverse_charge)
        with Form(tax) as form:
            form.l10n_pl_ksef_rate_code = "0 KR"
        self.assertFalse(tax.l10n_pl_ksef_reverse_charge)

    def test_polish_chart_proposes_the_buyer_accounts_for_services_outside_the_eu(self):
        """art. 106e ust. 1 pkt 18: l10n_pl's "0% EX S" (services outside the EU, tag K_11) is proposed as
        settled by the buyer; its goods outside Poland are not; oo and np II follow their code."""
        if self.env["ir.module.module"]._get("l10n_pl").state != "installed":
            self.skipTest("needs the Polish chart (l10n_pl)")
        chart = self.env["account.chart.template"].with_company(self.company)
        expected = {
            "vs_ekspu": True,
            "vs_dostu": True,
            "vs_stal": True,
            "vs_kraj_23": False,
            "vs_unia": False,
            "vs_eksp_tow": False,
        }
        found = {xmlid: chart.ref(xmlid).l10n_pl_ksef_reverse_charge for xmlid in expected}
        self.assertEqual(found, expected)

    def test_intra_eu_goods_keep_the_prefix_without_reverse_charge(self):
        """art. 97 ust. 10 pkt 2: an intra-EU supply of goods (0 WDT) shows the PL prefix; it is taxed 0 % in
        Poland, so it does not say "odwrotne obciążenie" (art. 106e ust. 1 pkt 18)."""
        move = self.make([self.line(quantity=10, price=20, tax="0 WDT")], partner=self.buyer_de)
        root = self.tree(move)
        self.assertEqual(self.value(root, "//f:Podmiot1/f:PrefiksPodatnika"), "PL")
        self.assertEqual(self.value(root, "//f:Adnotacje/f:P_18"), "2")

    # ------------------------------------------------------------------ split payment

    def steel(self, partner, quantity=100, **values):
        """100 x 130 PLN of Annex 15 steel at 23 %: 15 990 PLN gross."""
        return self.make(
            [self.line(product=self.product_steel, name="Pręt stalowy", quantity=quantity, price=130)],
            partner=partner,
            **values,
        )

    def test_consumer_annex15_golden(self):
        """art. 108a ust. 1a and art. 106e ust. 1 pkt 18a: "mechanizm podzielonej płatności" only for a supply
        to a taxpayer. A consumer (no NIP, BrakID) buying Annex 15 goods above 15 000 PLN gross gets P_18A=2;
        the same sale to a Polish business gets P_18A=1."""
        consumer = self.steel(self.consumer)
        self.assertFalse(consumer.l10n_pl_ksef_split_payment)
        root = self.tree(consumer)
        self.assertEqual(self.value(root, "//f:Podmiot2//f:BrakID"), "1")
        self.assertEqual(self.value(root, "//f:P_15"), "15990.00")
        self.assertEqual(self.value(root, "//f:FaWiersz/f:P_12_Zal_15"), "1", "the goods are still Annex 15")
        self.assertEqual(self.value(root, "//f:Adnotacje/f:P_18A"), "2")
        self.assertGolden(consumer, "consumer_annex15")
        business = self.steel(self.buyer_pl)
        self.assertTrue(business.l10n_pl_ksef_split_payment)
        self.assertEqual(self.annotations(business)["P_18A"], "1")

    def test_a_tick_for_a_consumer_is_ignored_without_error(self):
        """art. 108a ust. 1a: a box ticked by hand for a buyer without NIP never reaches the invoice (P_18A=2),
        and the invoice still builds; in the form the box cannot be ticked for such a buyer (nor at or below
        15 000 PLN)."""
        move = self.steel(self.consumer, post=False)
        move.l10n_pl_ksef_split_payment = True
        self.assertEqual(self.annotations(move)["P_18A"], "2")
        move.action_post()
        self.assertEqual(move.state, "posted", "no error: the tick is ignored")
        self.assertEqual(self.annotations(move)["P_18A"], "2")
        self.assertFalse(move.l10n_pl_ksef_split_payment_possible)
        self.assertTrue(self.steel(self.buyer_pl, post=False).l10n_pl_ksef_split_payment_possible)
        self.assertFalse(self.steel(self.buyer_de, post=False).l10n_pl_ksef_split_payment_possible, "no Polish NIP")
        self.assertFalse(self.steel(self.buyer_pl, quantity=50, post=False).l10n_pl_ksef_split_payment_possible)

    def test_changing_the_customer_or_the_amount_updates_the_mark(self):
        """art. 108a ust. 1a: the mark follows the buyer (a taxpayer) and the amount (above 15 000 PLN gross):
        set and reset, not only set."""
        move = self.steel(self.buyer_pl, post=False)
        self.assertTrue(move.l10n_pl_ksef_split_payment)
        with Form(move) as form:
            form.partner_id = self.consumer
        self.assertFalse(move.l10n_pl_ksef_split_payment, "a consumer: never")
        with Form(move) as form:
            form.partner_id = self.buyer_pl
        self.assertTrue(move.l10n_pl_ksef_split_payment)
        with Form(move) as form, form.invoice_line_ids.edit(0) as line:
            line.quantity = 50  # 7 995 PLN gross
        self.assertFalse(move.l10n_pl_ksef_split_payment, "at or below 15 000 PLN: not required")

    def test_a_tick_above_the_threshold_stays_for_a_taxpayer(self):
        """art. 106e ust. 1 pkt 18a: Annex 15 services the products do not mark: the accountant ticks the box
        for a business buyer above 15 000 PLN and it stays when the invoice changes."""
        move = self.make([self.line(product=self.product_b, price=14000)], post=False)  # 17 220 PLN gross
        self.assertFalse(move.l10n_pl_ksef_split_payment)
        move.l10n_pl_ksef_split_payment = True
        with Form(move) as form, form.invoice_line_ids.edit(0) as line:
            line.price_unit = 14500
        self.assertTrue(move.l10n_pl_ksef_split_payment)
        move.action_post()
        self.assertEqual(self.annotations(move)["P_18A"], "1")

    def test_threshold_in_a_foreign_currency_is_weighed_in_pln(self):
        """art. 108a ust. 1a: 15 000 PLN "lub jej równowartość" in a foreign currency, converted as the tax base:
        3 690 EUR gross is 14 760 PLN at 4.00 (no mark) but 15 867 PLN at 4.30 (mark)."""
        move = self.make(
            [self.line(product=self.product_steel, name="Pręt stalowy", quantity=30, price=100)],
            currency_id=self.eur.id,
            post=False,
        )
        self.assertEqual(move.amount_total, 3690.0)
        self.assertFalse(move.l10n_pl_ksef_split_payment)
        move.invoice_currency_rate = 1 / 4.3
        self.assertAlmostEqual(move.amount_total_signed, 15867.0, places=2)
        self.assertTrue(move.l10n_pl_ksef_split_payment)

    def test_a_credit_note_of_a_split_payment_invoice_keeps_the_mark(self):
        """art. 106e ust. 1 pkt 18a: the correction of an invoice marked "mechanizm podzielonej płatności" for
        Annex 15 goods above 15 000 PLN keeps the mark, though it credits less; not for a consumer's invoice."""
        invoice = self.steel(self.buyer_pl)
        refund = self.make(
            [self.line(product=self.product_steel, name="Pręt stalowy", quantity=10, price=130)],
            move_type="out_refund",
            reversed_entry_id=invoice.id,
        )
        self.assertTrue(refund.l10n_pl_ksef_split_payment)
        self.assertEqual(self.annotations(refund)["P_18A"], "1")
        consumer = self.steel(self.consumer)
        refund = self.make(
            [self.line(product=self.product_steel, name="Pręt stalowy", quantity=10, price=130)],
            partner=self.consumer,
            move_type="out_refund",
            reversed_entry_id=consumer.id,
        )
        self.assertEqual(self.annotations(refund)["P_18A"], "2")

    def test_a_credit_note_naming_its_invoice_in_the_ksef_tab_keeps_the_mark(self):
        """art. 106e ust. 1 pkt 18a: the correction of an invoice marked "mechanizm podzielonej płatności" keeps the
        mark also when the corrected invoice is chosen in the KSeF tab ▸ Corrected invoices (not a reversal)."""
        invoice = self.steel(self.buyer_pl)
        refund = self.make(
            [self.line(product=self.product_steel, name="Pręt stalowy", quantity=10, price=130)],
            move_type="out_refund",
            post=False,
            l10n_pl_ksef_correction_reason="zwrot towaru",
            l10n_pl_ksef_corrected_ids=[
                Command.create({"origin_move_id": invoice.id, "number": invoice.name, "issue_date": ISSUED})
            ],
        )
        self.assertFalse(refund.reversed_entry_id)
        self.assertTrue(refund.l10n_pl_ksef_split_payment_possible)
        self.assertTrue(refund.l10n_pl_ksef_split_payment)
        refund.action_post()
        self.assertEqual(self.annotations(refund)["P_18A"], "1")
