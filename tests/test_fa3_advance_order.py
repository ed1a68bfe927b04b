"""Advance invoices (ZAL) name the order they are paid on; final invoices (ROZ) name the advances they settle."""

from decimal import Decimal as D

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from odoo.addons.l10n_pl_ksef.ksef_core.ksef_number import make_ksef_number

from .fa3_common import ISSUED, NS, L10nPlKsefFa3Common


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefFa3AdvanceOrder(L10nPlKsefFa3Common):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Product = cls.env["product.product"]
        cls.rack = Product.create(
            {
                "name": "Regał magazynowy",
                "default_code": "REG-1",
                "list_price": 1500.0,
                "taxes_id": [Command.set(cls.taxes["23"].ids)],
            }
        )
        cls.fitting = Product.create(
            {
                "name": "Montaż w budynku mieszkalnym",
                "type": "service",
                "uom_id": cls.env.ref("uom.product_uom_hour").id,
            }
        )

    # ------------------------------------------------------------------ helpers

    def ordered(self, product, quantity, price, tax, **values):
        vals = {
            "product_id": product.id,
            "name": product.name,
            "quantity": quantity,
            "product_uom_id": product.uom_id.id,
            "price_unit": price,
            "tax_id": self.taxes[tax].id,
        }
        vals.update(values)
        return Command.create(vals)

    def order(self):
        """10 racks x 1500 + 23 % = 18450.00 and 40 h of fitting x 125 + 8 % = 5400.00: 23850.00 gross."""
        return [self.ordered(self.rack, 10, 1500, "23"), self.ordered(self.fitting, 40, 125, "8")]

    def advance(self, post=True, **values):
        """30 % of the order paid in advance: 5535.00 at 23 % and 1620.00 at 8 % (7155.00)."""
        vals = {
            "l10n_pl_ksef_kind": "ZAL",
            "l10n_pl_ksef_order_value": 23850.0,
            "l10n_pl_ksef_order_line_ids": self.order(),
        }
        vals.update(values)
        return self.make(
            [
                self.line(self.rack, name="Zaliczka 30% – regały magazynowe", price=4500),
                self.line(self.fitting, name="Zaliczka 30% – montaż", price=1500, tax="8"),
            ],
            post=post,
            **vals,
        )

    def post_error(self, move):
        with self.assertRaises(UserError) as caught:
            move.action_post()
        self.assertEqual(move.state, "draft")
        return str(caught.exception)

    # ------------------------------------------------------------------ entered order

    def test_advance_names_the_whole_order_and_the_final_invoice_names_the_advance(self):
        """Art. 106f ust. 1 pkt 4: the advance invoice gives the order's gross value (WartoscZamowienia) and the
        ordered goods and services with their quantities, net values, VAT and rates, not its own down payment.
        Art. 106f ust. 3: the final invoice lists all that was supplied, deducts the advances from the sums and
        names the advance invoice by its KSeF number."""
        advance = self.advance()
        self.assertEqual(advance.amount_total, 7155.0)
        root = self.tree(advance)
        self.assertEqual(self.value(root, "//f:RodzajFaktury"), "ZAL")
        self.assertEqual(self.value(root, "//f:P_15"), "7155.00", "the amount received")
        self.assertEqual(self.value(root, "//f:Zamowienie/f:WartoscZamowienia"), "23850.00", "the order's gross")
        self.assertEqual(self.values(root, "//f:ZamowienieWiersz/f:P_7Z"), ["Regał magazynowy", self.fitting.name])
        self.assertEqual(self.values(root, "//f:ZamowienieWiersz/f:P_8BZ"), ["10", "40"])
        self.assertEqual(self.values(root, "//f:ZamowienieWiersz/f:P_8AZ"), ["szt.", "godz."])
        self.assertEqual(self.values(root, "//f:ZamowienieWiersz/f:P_11NettoZ"), ["15000.00", "5000.00"])
        self.assertEqual(self.values(root, "//f:ZamowienieWiersz/f:P_11VatZ"), ["3450.00", "400.00"])
        self.assertEqual(self.values(root, "//f:ZamowienieWiersz/f:P_12Z"), ["23", "8"])
        self.assertFalse(root.xpath("//f:FaWiersz", namespaces=NS), "the advance's own lines are not the order")
        gross = sum(
            D(r.findtext("f:P_11NettoZ", namespaces=NS)) + D(r.findtext("f:P_11VatZ", namespaces=NS))
            for r in root.xpath("//f:ZamowienieWiersz", namespaces=NS)
        )
        self.assertEqual(gross, D("23850.00"))
        self.assertGolden(advance, "advance_with_order")

        advance.l10n_pl_ksef_number = make_ksef_number(self.company.l10n_pl_ksef_nip, ISSUED, "00000000B1B1")
        final = self.make(
            [
                self.line(self.rack, name="Regał magazynowy", quantity=10, price=1500),
                self.line(self.fitting, name=self.fitting.name, quantity=40, price=125, tax="8"),
                self.line(self.rack, name="Zaliczka 30% – regały magazynowe", price=-4500),
                self.line(self.fitting, name="Zaliczka 30% – montaż", price=-1500, tax="8"),
            ],
            l10n_pl_ksef_kind="ROZ",
            l10n_pl_ksef_advance_ids=[Command.set(advance.ids)],
        )
        root = self.tree(final)
        self.assertEqual(self.value(root, "//f:RodzajFaktury"), "ROZ")
        self.assertEqual(self.value(root, "//f:FakturaZaliczkowa/f:NrKSeFFaZaliczkowej"), advance.l10n_pl_ksef_number)
        self.assertEqual(self.values(root, "//f:FaWiersz/f:P_11"), ["15000.00", "5000.00"], "all that was supplied")
        self.assertEqual(self.value(root, "//f:P_13_1"), "10500.00")
        self.assertEqual(self.value(root, "//f:P_14_1"), "2415.00")
        self.assertEqual(self.value(root, "//f:P_13_2"), "3500.00")
        self.assertEqual(self.value(root, "//f:P_14_2"), "280.00")
        self.assertEqual(self.value(root, "//f:P_15"), "16695.00", "23850.00 less the 7155.00 paid in advance")
        self.assertGolden(final, "final_after_advance")

    def test_advance_without_an_order_cannot_be_confirmed(self):
        """Art. 106f ust. 1 pkt 4: no advance invoice without its order; the message names the fields to fill."""
        move = self.advance(post=False, l10n_pl_ksef_order_value=0.0, l10n_pl_ksef_order_line_ids=[])
        message = self.post_error(move)
        self.assertIn("KSeF tab ▸ Order value", message)
        self.assertIn("KSeF tab ▸ Ordered goods and services", message)
        move.l10n_pl_ksef_order_value = 23850.0
        message = self.post_error(move)
        self.assertIn("Ordered goods and services", message)
        self.assertNotIn("▸ Order value", message)
        move.l10n_pl_ksef_order_line_ids = self.order()
        move.action_post()
        self.assertEqual(move.state, "posted")

    def test_the_order_is_entered_in_the_ksef_tab(self):
        """Art. 106f ust. 1 pkt 4: without a sale order the user types the order in the KSeF tab of the advance
        invoice; a product fills in the line (name, unit, net price, VAT) and the amounts are computed."""
        form = Form(self.env["account.move"].with_context(default_move_type="out_invoice"))
        form.partner_id = self.buyer_pl
        form.invoice_date = ISSUED
        with form.invoice_line_ids.new() as line:
            line.name = "Zaliczka na regały"
            line.price_unit = 1000
            line.tax_ids.clear()
            line.tax_ids.add(self.taxes["23"])
        form.l10n_pl_ksef_kind = "ZAL"
        form.l10n_pl_ksef_order_value = 3690.0
        with form.l10n_pl_ksef_order_line_ids.new() as ordered:
            ordered.product_id = self.rack
            ordered.quantity = 2
        move = form.save()
        ordered = move.l10n_pl_ksef_order_line_ids
        self.assertEqual(ordered.name, "Regał magazynowy")
        self.assertEqual(ordered.product_uom_id, self.env.ref("uom.product_uom_unit"))
        self.assertEqual(ordered.tax_id, self.taxes["23"])
        self.assertEqual((ordered.price_subtotal, ordered.price_tax, ordered.price_total), (3000.0, 690.0, 3690.0))
        move.action_post()
        root = self.tree(move)
        self.assertEqual(self.value(root, "//f:Zamowienie/f:WartoscZamowienia"), "3690.00")
        self.assertEqual(self.value(root, "//f:ZamowienieWiersz/f:IndeksZ"), "REG-1")
        self.assertEqual(self.value(root, "//f:ZamowienieWiersz/f:P_9AZ"), "1500")

    def test_ordered_lines_must_add_up_to_the_order_value(self):
        """Art. 106f ust. 1 pkt 4: the ordered goods and services are the order: their gross is its value (to the
        grosz), and the order is worth at least the advance paid on it."""
        move = self.advance(post=False, l10n_pl_ksef_order_value=24000.0)
        message = self.post_error(move)
        self.assertIn("add up to 23850.00 gross, but the order value is 24000.00", message)
        self.assertIn("KSeF tab ▸ Ordered goods and services", message)
        move.l10n_pl_ksef_order_value = 23850.01  # a grosz of rounding is tolerated
        self.assertFalse(self.document(move).problems, self.document(move).text())
        move.write({"l10n_pl_ksef_order_value": 5000.0, "l10n_pl_ksef_order_line_ids": [Command.clear()]})
        move.l10n_pl_ksef_order_line_ids = [self.ordered(self.rack, 2, 2032.52, "23")]
        message = self.post_error(move)
        self.assertIn("The order value 5000.00 is less than this advance payment 7155.00", message)
        move.l10n_pl_ksef_order_line_ids[0].tax_id = False
        message = self.post_error(move)
        self.assertIn("'Regał magazynowy' has no VAT tax with a KSeF rate code", message)

    def test_final_invoice_waits_for_the_ksef_number_of_its_advance(self):
        """Art. 106f ust. 3: the final invoice names the advance invoices; one issued in KSeF by its KSeF number
        (NrKSeFFaZaliczkowej), never as if it had been issued outside KSeF (NrKSeFZN)."""
        advance = self.advance()
        final = self.make(
            [
                self.line(self.rack, name="Regał magazynowy", quantity=10, price=1500),
                self.line(self.rack, name="Zaliczka", price=-4500),
            ],
            post=False,
            l10n_pl_ksef_kind="ROZ",
            l10n_pl_ksef_advance_ids=[Command.set(advance.ids)],
        )
        self.assertIn("%s was issued in KSeF but has no KSeF number yet" % advance.name, self.post_error(final))
        self.company.l10n_pl_ksef_start_date = "2027-01-01"  # the advance was issued before KSeF
        root = self.tree(final)
        self.assertEqual(self.value(root, "//f:FakturaZaliczkowa/f:NrKSeFZN"), "1")
        self.assertEqual(self.value(root, "//f:FakturaZaliczkowa/f:NrFaZaliczkowej"), advance.name)

    # ------------------------------------------------------------------ with sale

    def test_down_payment_of_a_sale_order_describes_the_sale_order(self):
        """Art. 106f ust. 1 pkt 4: a down payment invoiced from a sale order names that order: its lines (not the
        down payment lines) and its total; the final invoice made from the order names the advance (ust. 3)."""
        if "sale.order" not in self.env:
            self.skipTest("needs the sale module (run the tests with 'sale' installed)")
        self.env.user.group_ids = [Command.link(self.env.ref("sales_team.group_sale_salesman").id)]
        order = self.env["sale.order"].create(
            {
                "partner_id": self.buyer_pl.id,
                "company_id": self.company.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "product_uom_qty": quantity,
                            "price_unit": price,
                            "tax_ids": [Command.set(self.taxes[tax].ids)],
                        }
                    )
                    for product, quantity, price, tax in ((self.rack, 10, 1500, "23"), (self.fitting, 40, 125, "8"))
                ],
            }
        )
        order.action_confirm()
        wizard = (
            self.env["sale.advance.payment.inv"]
            .with_context(active_model="sale.order", active_ids=order.ids, active_id=order.id)
            .create({"advance_payment_method": "percentage", "amount": 30})
        )
        wizard.create_invoices()
        advance = order.invoice_ids
        advance.invoice_date = ISSUED
        self.assertEqual(advance.l10n_pl_ksef_kind, "ZAL")
        self.assertTrue(advance.l10n_pl_ksef_order_from_sale)
        advance.action_post()  # nothing entered in the KSeF tab: the sale order is the order
        root = self.tree(advance)
        self.assertEqual(self.value(root, "//f:P_15"), "7155.00")
        self.assertEqual(self.value(root, "//f:Zamowienie/f:WartoscZamowienia"), "23850.00")
        self.assertEqual(len(root.xpath("//f:ZamowienieWiersz", namespaces=NS)), 2, "no down payment line")
        self.assertEqual(self.values(root, "//f:ZamowienieWiersz/f:P_8BZ"), ["10", "40"])
        self.assertEqual(self.values(root, "//f:ZamowienieWiersz/f:P_8AZ"), ["szt.", "godz."])
        self.assertEqual(self.values(root, "//f:ZamowienieWiersz/f:P_11NettoZ"), ["15000.00", "5000.00"])
        self.assertEqual(self.values(root, "//f:ZamowienieWiersz/f:P_11VatZ"), ["3450.00", "400.00"])
        self.assertEqual(self.values(root, "//f:ZamowienieWiersz/f:P_12Z"), ["23", "8"])

        advance.l10n_pl_ksef_number = make_ksef_number(self.company.l10n_pl_ksef_nip, ISSUED, "00000000C2C2")
        final = order._create_invoices(final=True)
        final.invoice_date = ISSUED
        self.assertEqual(final.l10n_pl_ksef_kind, "ROZ")
        self.assertEqual(final.l10n_pl_ksef_advance_ids, advance)
        final.action_post()
        root = self.tree(final)
        self.assertEqual(self.value(root, "//f:FakturaZaliczkowa/f:NrKSeFFaZaliczkowej"), advance.l10n_pl_ksef_number)
        self.assertEqual(self.value(root, "//f:P_15"), "16695.00")
