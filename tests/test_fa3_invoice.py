"""FA(3) documents of Odoo invoices: golden files of every kind and the sums against Odoo's own totals."""

from decimal import Decimal as D

from odoo import Command
from odoo.tests import tagged

from .fa3_common import NS, L10nPlKsefFa3Common


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefFa3Invoice(L10nPlKsefFa3Common):
    def assertLinesAddUp(self, root):
        """Every line: P_11 = P_8B x P_9A - P_10, to the grosz."""
        for line in root.xpath("//f:FaWiersz", namespaces=NS):
            qty = D(line.findtext("f:P_8B", namespaces=NS))
            price = D(line.findtext("f:P_9A", namespaces=NS))
            discount = D(line.findtext("f:P_10", default="0", namespaces=NS))
            net = D(line.findtext("f:P_11", namespaces=NS))
            self.assertEqual((qty * price - discount).quantize(D("0.01")), net, line.findtext("f:P_7", namespaces=NS))

    def assertSumsAreOdoos(self, move, root):
        sign = -1 if move.move_type == "out_refund" else 1
        nets = [D(v) for v in self.values(root, "//f:Fa/*[starts-with(local-name(), 'P_13_')]")]
        vats = [
            D(v)
            for v in self.values(
                root, "//f:Fa/*[starts-with(local-name(), 'P_14_') and not(contains(local-name(), 'W'))]"
            )
        ]
        self.assertEqual(sum(nets), sign * D(str(move.amount_untaxed)))
        self.assertEqual(sum(vats), sign * D(str(move.amount_tax)))
        self.assertEqual(D(self.value(root, "//f:P_15")), sign * D(str(move.amount_total)))

    # ------------------------------------------------------------------ VAT

    def test_vat_invoice_golden(self):
        self.env.ref("product.decimal_price").digits = 4  # prices to 4 decimals, as many Polish sellers use
        term = self.env["account.payment.term"].create(
            {
                "name": "30% now, 70% in 30 days",
                "line_ids": [
                    Command.create({"value": "percent", "value_amount": 30, "nb_days": 0}),
                    Command.create({"value": "percent", "value_amount": 70, "nb_days": 30}),
                ],
            }
        )
        move = self.make(
            [
                self.line(quantity=3, price=12.3456, discount=10),
                self.line(product=self.product_b, name="Wdrożenie systemu", quantity=1.5, price=1000, tax="8"),
                self.line(name="Książka", quantity=2, price=39.99, tax="5"),
            ],
            partner_bank_id=self.bank.id,
            invoice_payment_term_id=term.id,
            ref="ZAM/2026/77",
            taxable_supply_date="2026-11-18",
        )
        root = self.tree(move)
        self.assertLinesAddUp(root)
        self.assertSumsAreOdoos(move, root)
        self.assertEqual(self.values(root, "//f:TerminPlatnosci/f:Termin"), ["2026-11-20", "2026-12-20"], "instalments")
        self.assertEqual(self.value(root, "//f:FaWiersz[1]/f:P_9A"), "12.3456", "full precision, not 12.35")
        self.assertEqual(self.value(root, "//f:FaWiersz[1]/f:GTIN"), "5901234123457")
        self.assertEqual(self.value(root, "//f:FaWiersz[1]/f:GTU"), "GTU_06")
        self.assertEqual(self.value(root, "//f:P_6"), "2026-11-18")
        self.assertEqual(self.value(root, "//f:NrRB"), "61109010140000071219812874")
        self.assertEqual(self.value(root, "//f:Rejestry/f:KRS"), "0000123456")
        self.assertGolden(move, "vat_invoice")

    def test_sums_equal_odoo_under_both_rounding_methods(self):
        for method, expected_vat in (("round_per_line", "0.24"), ("round_globally", "0.23")):
            with self.subTest(method=method):
                self.company.tax_calculation_rounding_method = method
                move = self.make([self.line(price=0.33) for _ in range(3)])
                self.assertEqual("%.2f" % move.amount_tax, expected_vat, "the case differs between the methods")
                root = self.tree(move)
                self.assertEqual(self.value(root, "//f:P_14_1"), expected_vat)
                self.assertSumsAreOdoos(move, root)

    def test_domestic_rate_buckets_golden(self):
        codes = ("23", "8", "5", "0 KR", "zw", "np I", "np II", "oo")
        move = self.make([self.line(name="Pozycja %s" % code, price=100 + i, tax=code) for i, code in enumerate(codes)])
        root = self.tree(move)
        self.assertEqual(self.values(root, "//f:FaWiersz/f:P_12"), list(codes))
        for field in ("P_13_1", "P_13_2", "P_13_3", "P_13_6_1", "P_13_7", "P_13_8", "P_13_9", "P_13_10"):
            self.assertIsNotNone(self.value(root, "//f:Fa/f:%s" % field), field)
        self.assertEqual(self.value(root, "//f:Adnotacje/f:P_18"), "1", "an 'oo' line: reverse charge")
        self.assertSumsAreOdoos(move, root)
        self.assertGolden(move, "domestic_rate_buckets")

    def test_every_line_appears_also_not_subject_ones(self):
        move = self.make(
            [self.line(), self.line(product=self.product_b, name="Usługa za granicą", price=50, tax="np II")]
        )
        root = self.tree(move)
        self.assertEqual(len(root.xpath("//f:FaWiersz", namespaces=NS)), 2)
        self.assertEqual(self.value(root, "//f:P_13_9"), "50.00")
        self.assertSumsAreOdoos(move, root)

    # ------------------------------------------------------------------ buyers

    def test_eu_buyer_intra_community_supply_golden(self):
        move = self.make([self.line(quantity=10, price=20, tax="0 WDT")], partner=self.buyer_de)
        root = self.tree(move)
        self.assertEqual(self.value(root, "//f:Podmiot2//f:KodUE"), "DE")
        self.assertEqual(self.value(root, "//f:Podmiot2//f:NrVatUE"), "136695976")
        self.assertIsNone(self.value(root, "//f:Podmiot2//f:NrID"), "not KodKraju + NrID")
        self.assertEqual(self.value(root, "//f:Podmiot1/f:PrefiksPodatnika"), "PL")
        self.assertGolden(move, "eu_buyer_wdt")

    def test_foreign_buyer_export_golden(self):
        move = self.make([self.line(quantity=5, price=80, tax="0 EX")], partner=self.buyer_us)
        root = self.tree(move)
        self.assertEqual(self.value(root, "//f:Podmiot2//f:KodKraju"), "US")
        self.assertEqual(self.value(root, "//f:Podmiot2//f:NrID"), "12-3456789")
        self.assertEqual(self.value(root, "//f:P_13_6_3"), "400.00")
        self.assertGolden(move, "foreign_buyer_export")

    def test_consumer_without_tax_id(self):
        move = self.make([self.line()], partner=self.consumer)
        root = self.tree(move)
        self.assertEqual(self.value(root, "//f:Podmiot2//f:BrakID"), "1")
        self.assertGolden(move, "consumer")

    # ------------------------------------------------------------------ annotations

    def test_exempt_sale_names_its_legal_basis(self):
        move = self.make([self.line(product=self.product_b, name="Szkolenie", price=500, tax="zw")])
        root = self.tree(move)
        self.assertEqual(self.value(root, "//f:Zwolnienie/f:P_19"), "1")
        self.assertEqual(self.value(root, "//f:Zwolnienie/f:P_19A"), "art. 43 ust. 1 pkt 37 ustawy o VAT")
        self.assertIsNone(self.value(root, "//f:Zwolnienie/f:P_19N"))
        self.assertEqual(self.value(root, "//f:P_13_7"), "500.00")
        self.assertGolden(move, "exempt")

    def test_exempt_tax_without_basis_is_a_problem_naming_the_tax(self):
        self.taxes["zw"].l10n_pl_ksef_exemption_text = False
        move = self.make([self.line(price=500, tax="zw")], post=False)
        problems = self.problems(move)
        self.assertIn("VAT zw (test)", problems)
        self.assertIn("Exemption basis", problems)

    def test_split_payment_for_annex_15_above_15000(self):
        big = self.make([self.line(product=self.product_steel, name="Pręt", quantity=100, price=130)])
        self.assertTrue(big.l10n_pl_ksef_split_payment, "15,990 PLN gross of Annex 15 goods")
        self.assertEqual(self.value(self.tree(big), "//f:P_18A"), "1")
        self.assertGolden(big, "split_payment")
        small = self.make([self.line(product=self.product_steel, name="Pręt", quantity=10, price=130)])
        self.assertEqual(self.value(self.tree(small), "//f:P_18A"), "2")
        # art. 106e ust. 1 pkt 18a: a tick by hand counts above 15 000 PLN (Annex 15 services the products do not
        # mark), not at 123 PLN, where the invoice may not say "mechanizm podzielonej płatności"
        by_hand = self.make([self.line(price=13000)], l10n_pl_ksef_split_payment=True)
        self.assertEqual(self.value(self.tree(by_hand), "//f:P_18A"), "1")
        small_by_hand = self.make([self.line()], l10n_pl_ksef_split_payment=True)
        self.assertEqual(self.value(self.tree(small_by_hand), "//f:P_18A"), "2")
        self.assertEqual(self.value(self.tree(small), "//f:FaWiersz/f:P_12_Zal_15"), "1")

    def test_reverse_charge_cash_accounting_and_self_billing_come_from_data(self):
        self.company.l10n_pl_ksef_cash_accounting = True
        move = self.make([self.line(price=300, tax="oo")], l10n_pl_ksef_self_billing=True)
        root = self.tree(move)
        self.assertEqual(
            [self.value(root, "//f:Adnotacje/f:%s" % tag) for tag in ("P_16", "P_17", "P_18")], ["1", "1", "1"]
        )
        plain = self.make([self.line()])
        self.company.l10n_pl_ksef_cash_accounting = False
        root = self.tree(plain)
        self.assertEqual(
            [self.value(root, "//f:Adnotacje/f:%s" % tag) for tag in ("P_16", "P_17", "P_18")], ["2", "2", "2"]
        )

    def test_jst_buyer_needs_its_unit_as_third_party(self):
        self.buyer_pl.l10n_pl_ksef_jst = True
        move = self.make([self.line()], post=False)
        self.assertIn("local government unit", self.problems(move))
        school = self.env["res.partner"].create(
            {"name": "Szkoła Podstawowa nr 1", "city": "Kraków", "street": "ul. Szkolna 1"}
        )
        move.l10n_pl_ksef_third_party_ids = [Command.create({"partner_id": school.id, "role": "8"})]
        move.action_post()
        root = self.tree(move)
        self.assertEqual(self.value(root, "//f:Podmiot2/f:JST"), "1")
        self.assertEqual(self.value(root, "//f:Podmiot3/f:Rola"), "8")
        self.assertEqual(self.value(root, "//f:Podmiot3//f:Nazwa"), "Szkoła Podstawowa nr 1")
        self.assertGolden(move, "jst_third_party")

    # ------------------------------------------------------------------ payment

    def test_paid_and_partly_paid_invoices(self):
        move = self.make([self.line(price=1000)], partner_bank_id=self.bank.id)
        self.env["account.payment.register"].with_context(active_model="account.move", active_ids=move.ids).create(
            {"amount": 500.0, "payment_date": "2026-11-21"}
        )._create_payments()
        root = self.tree(move)
        self.assertEqual(self.value(root, "//f:ZnacznikZaplatyCzesciowej"), "1")
        self.assertEqual(self.value(root, "//f:ZaplataCzesciowa/f:KwotaZaplatyCzesciowej"), "500.00")
        self.assertEqual(self.value(root, "//f:ZaplataCzesciowa/f:DataZaplatyCzesciowej"), "2026-11-21")
        self.assertGolden(move, "partly_paid")
        self.env["account.payment.register"].with_context(active_model="account.move", active_ids=move.ids).create(
            {"payment_date": "2026-11-25"}
        )._create_payments()
        root = self.tree(move)
        self.assertEqual(self.value(root, "//f:Platnosc/f:Zaplacono"), "1")
        self.assertEqual(self.value(root, "//f:Platnosc/f:DataZaplaty"), "2026-11-25")

    # ------------------------------------------------------------------ kinds

    def test_credit_note_names_the_ksef_number_of_the_corrected_invoice(self):
        invoice = self.make([self.line(quantity=5)])
        from odoo.addons.l10n_pl_ksef.ksef_core.ksef_number import make_ksef_number

        invoice.l10n_pl_ksef_number = make_ksef_number(
            self.company.l10n_pl_ksef_nip, invoice.invoice_date, "0123456789AB"
        )
        wizard = self.env["account.move.reversal"].with_context(active_model="account.move", active_ids=invoice.ids)
        reversal = wizard.create({"reason": "zwrot 2 szt.", "journal_id": invoice.journal_id.id})
        refund = self.env["account.move"].browse(reversal.refund_moves()["res_id"])
        refund.invoice_line_ids.quantity = 2
        refund.invoice_date = "2026-11-25"
        refund.action_post()
        self.assertEqual(refund.l10n_pl_ksef_kind, "KOR")
        root = self.tree(refund)
        self.assertEqual(self.value(root, "//f:NrKSeFFaKorygowanej"), invoice.l10n_pl_ksef_number)
        self.assertIsNone(self.value(root, "//f:NrKSeFN"), "NrKSeFN only without a KSeF number")
        self.assertEqual(self.value(root, "//f:PrzyczynaKorekty"), "zwrot 2 szt.")
        self.assertEqual(self.value(root, "//f:FaWiersz/f:P_8B"), "-2")
        self.assertSumsAreOdoos(refund, root)
        self.assertGolden(refund, "correction_ksef")

    def test_credit_note_of_an_invoice_outside_ksef_and_of_several_invoices(self):
        refund = self.make(
            [self.line(price=100)],
            move_type="out_refund",
            post=False,
            l10n_pl_ksef_correction_reason="rabat roczny",
            l10n_pl_ksef_correction_type="2",
        )
        self.assertIn("does not say which invoice it corrects", self.problems(refund))
        refund.l10n_pl_ksef_corrected_ids = [
            Command.create({"number": "FV/1/2025", "issue_date": "2025-12-01"}),
            Command.create({"number": "FV/9/2025", "issue_date": "2025-12-20"}),
        ]
        refund.action_post()
        root = self.tree(refund)
        self.assertEqual(self.values(root, "//f:DaneFaKorygowanej/f:NrFaKorygowanej"), ["FV/1/2025", "FV/9/2025"])
        self.assertEqual(self.values(root, "//f:DaneFaKorygowanej/f:NrKSeFN"), ["1", "1"])
        self.assertEqual(self.value(root, "//f:TypKorekty"), "2")
        self.assertEqual(self.value(root, "//f:P_15"), "-123.00")

    def test_advance_final_and_their_corrections(self):
        """An advance invoice (art. 106f ust. 1) names the order it is paid on (pkt 4): here 4 x 1000 + 23 % =
        4920.00, not the 1230.00 of the advance itself; the final invoice (art. 106f ust. 3) names the advance."""
        advance = self.make(
            [self.line(name="Zaliczka na dostawę", price=1000)],
            l10n_pl_ksef_kind="ZAL",
            l10n_pl_ksef_order_value=4920.0,
            l10n_pl_ksef_order_line_ids=[
                Command.create(
                    {
                        "product_id": self.product_a.id,
                        "name": "Papier A4",
                        "quantity": 4,
                        "price_unit": 1000,
                        "tax_id": self.taxes["23"].id,
                    }
                )
            ],
        )
        self.assertEqual(advance.l10n_pl_ksef_kind, "ZAL")
        root = self.tree(advance)
        self.assertEqual(self.value(root, "//f:RodzajFaktury"), "ZAL")
        self.assertEqual(self.value(root, "//f:Zamowienie/f:WartoscZamowienia"), "4920.00")
        self.assertEqual(self.values(root, "//f:ZamowienieWiersz/f:P_8BZ"), ["4"])
        self.assertEqual(self.value(root, "//f:P_15"), "1230.00")
        self.assertGolden(advance, "advance")
        from odoo.addons.l10n_pl_ksef.ksef_core.ksef_number import make_ksef_number

        advance.l10n_pl_ksef_number = make_ksef_number(
            self.company.l10n_pl_ksef_nip, advance.invoice_date, "00000000A0A0"
        )
        final = self.make(
            [self.line(quantity=4, price=1000), self.line(name="Zaliczka", price=-1000)],
            l10n_pl_ksef_kind="ROZ",
            l10n_pl_ksef_advance_ids=[Command.set(advance.ids)],
        )
        root = self.tree(final)
        self.assertEqual(self.value(root, "//f:RodzajFaktury"), "ROZ")
        self.assertEqual(self.value(root, "//f:FakturaZaliczkowa/f:NrKSeFFaZaliczkowej"), advance.l10n_pl_ksef_number)
        self.assertEqual(self.value(root, "//f:P_15"), "3690.00", "what remains to pay")
        self.assertGolden(final, "final_settlement")
        refund = advance._reverse_moves([{"invoice_date": "2026-11-22", "ref": "Reversal of: x, anulowanie"}])
        self.assertEqual(refund.l10n_pl_ksef_kind, "KOR_ZAL")
        refund.action_post()
        self.assertEqual(self.value(self.tree(refund), "//f:RodzajFaktury"), "KOR_ZAL")
        self.assertGolden(refund, "advance_correction")
        final_refund = final._reverse_moves([{"invoice_date": "2026-11-22"}])
        self.assertEqual(final_refund.l10n_pl_ksef_kind, "KOR_ROZ")

    def test_simplified_invoice(self):
        move = self.make([self.line(price=100)], l10n_pl_ksef_simplified=True)
        root = self.tree(move)
        self.assertEqual(self.value(root, "//f:RodzajFaktury"), "UPR")
        self.assertIsNone(self.value(root, "//f:Podmiot2//f:Nazwa"), "the buyer by his NIP only")
        self.assertGolden(move, "simplified")
        too_big = self.make([self.line(price=400)], l10n_pl_ksef_simplified=True, post=False)
        self.assertIn("450 PLN", self.problems(too_big))

    # ------------------------------------------------------------------ preview

    def test_preview_shows_the_document_and_offers_the_xml(self):
        move = self.make([self.line()])
        action = move.with_user(self.accountant).action_l10n_pl_ksef_preview_fa3()
        wizard = self.env[action["res_model"]].with_user(self.accountant).browse(action["res_id"])
        self.assertTrue(wizard.valid)
        self.assertIn("Odbiorca Hurtowy S.A.", wizard.document_html)
        self.assertIn("P_13_1", wizard.document_html)
        self.assertTrue(wizard.xml_file)
        self.assertTrue(wizard.xml_filename.endswith(".xml"))
        draft = self.make([self.line(tax="zw")], post=False)
        self.taxes["zw"].l10n_pl_ksef_exemption_text = False
        wizard = self.env["l10n_pl_ksef.fa3.preview"].create({"move_id": draft.id})
        self.assertFalse(wizard.valid)
        self.assertFalse(wizard.xml_file, "a document that fails validation is never offered")
        self.assertIn("Exemption provision", wizard.problems)
