"""A bill from KSeF is built in memory and saved at once: it must be the bill Odoo itself would make.

The import computes the journal items (tax lines, payable line) with Odoo's tax engine and saves
the bill with ``skip_invoice_sync``. These tests compare it, item by item, with a bill of the same
lines made the usual way (Odoo's sync), before and after a user edits it; and check what the
lines are matched with (products, accounts) and the sale date.
"""

import datetime
from decimal import Decimal as D

from odoo import Command
from odoo.tests import tagged

from .common import OTHER_NIP, L10nPlKsefPlnTestCommon
from .test_receive_amounts import ISSUED, SUPPLIER, invoice_xml, item


def journal_items(move):
    """What accounting sees of a move: one sorted tuple per journal item."""
    return sorted(
        (
            line.display_type,
            line.account_id.id,
            line.tax_repartition_line_id.id,
            tuple(sorted(line.tax_ids.ids)),
            tuple(sorted(line.tax_tag_ids.ids)),
            line.currency_id.id,
            round(line.amount_currency, 2),
            round(line.balance, 2),
            line.date_maturity if line.display_type == "payment_term" else None,
        )
        for line in move.line_ids
        if line.display_type != "line_note"
    )


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefReceiveBuild(L10nPlKsefPlnTestCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.journal = cls.company_data["default_journal_purchase"]
        cls.company.write(
            {
                "l10n_pl_ksef_receive": True,
                "l10n_pl_ksef_receive_journal_id": cls.journal.id,
                "tax_calculation_rounding_method": "round_per_line",
            }
        )
        cls.eur = cls.setup_other_currency("EUR", rates=[("2000-01-01", 0.25)])
        cls.taxes = {code: cls.purchase_tax(cls.company, code) for code in ("23", "8")}
        cls.supplier = cls.env["res.partner"].create({"name": SUPPLIER, "is_company": True, "vat": "PL" + OTHER_NIP})

    def upload(self, xml):
        attachment = self.env["ir.attachment"].create(
            {"name": "faktura.xml", "raw": xml, "mimetype": "application/xml"}
        )
        bill = self.journal.with_context(default_move_type="in_invoice")._create_document_from_attachment(
            attachment.ids
        )
        self.assertTrue(bill.invoice_line_ids, "the upload made the bill")
        return bill

    def twin(self, bill):
        """The same bill made the usual way: header and product lines given, Odoo's sync adds the rest."""
        return self.env["account.move"].create(
            {
                "move_type": bill.move_type,
                "journal_id": bill.journal_id.id,
                "partner_id": bill.partner_id.id,
                "invoice_date": bill.invoice_date,
                "invoice_date_due": bill.invoice_date_due,
                "currency_id": bill.currency_id.id,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": line.name,
                            "quantity": line.quantity,
                            "price_unit": line.price_unit,
                            "tax_ids": [Command.set(line.tax_ids.ids)],
                            "account_id": line.account_id.id,
                            "product_id": line.product_id.id,
                        }
                    )
                    for line in bill.invoice_line_ids.filtered(lambda line: line.display_type == "product")
                ],
            }
        )

    def assertSameBill(self, bill, twin):
        self.assertEqual(journal_items(bill), journal_items(twin))
        for field in ("amount_untaxed", "amount_tax", "amount_total", "amount_residual"):
            self.assertAlmostEqual(bill[field], twin[field], places=2, msg=field)

    def test_bill_is_the_one_odoos_sync_makes_and_syncs_as_usual_when_edited(self):
        xml = invoice_xml(
            [
                item("Papier A4", "3", "19.99", "23"),
                item("Toner", "1", "333.33", "23"),
                item("Segregatory", "7", "4.49", "8"),
                item("Koperty", "12", "0.37", "8"),
            ]
        )
        bill = self.upload(xml)
        twin = self.twin(bill)
        self.assertSameBill(bill, twin)
        self.assertEqual(len(bill.line_ids.filtered(lambda line: line.display_type == "tax")), 2)
        # a user edits the draft: Odoo's sync takes over as on any bill
        for move in (bill, twin):
            move.invoice_line_ids.filtered(lambda line: line.name == "Toner").quantity = 2
        self.assertSameBill(bill, twin)
        self.assertAlmostEqual(bill.amount_total, 3 * 19.99 * 1.23 + 666.66 * 1.23 + (31.43 + 4.44) * 1.08, places=1)
        bill.action_post()
        self.assertEqual(bill.state, "posted")

    def test_bill_in_euros_at_the_invoice_rate_is_the_one_odoo_makes(self):
        xml = invoice_xml(
            [
                item("Usługa", "1", "1000.00", "23", exchange_rate=D("4.3000")),
                item("Książki", "2", "12.34", "8", exchange_rate=D("4.3000")),
            ],
            currency="EUR",
        )
        bill = self.upload(xml)
        self.assertAlmostEqual(bill.invoice_currency_rate, 1 / 4.3, places=6)
        twin = self.twin(bill)
        twin.invoice_currency_rate = bill.invoice_currency_rate
        self.assertSameBill(bill, twin)
        self.assertAlmostEqual(bill.amount_total_signed, -round(1230.0 * 4.3 + 26.65 * 4.3, 2), places=1)

    def test_lines_find_their_product_by_gtin_supplier_code_or_earlier_bills(self):
        expense = self.company_data["default_account_expense"]
        other_expense = expense.copy({"code": "409999", "name": "Materiały biurowe"})
        by_gtin = self.env["product.product"].create({"name": "Toner HP", "barcode": "5901234123457"})
        by_code = self.env["product.product"].create(
            {
                "name": "Segregator",
                "seller_ids": [Command.create({"partner_id": self.supplier.id, "product_code": "SEG-75"})],
            }
        )
        by_history = self.env["product.product"].create({"name": "Papier ksero"})
        # an earlier bill of this supplier: its text "Papier A4 80g" was booked as by_history, on other_expense
        earlier = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": self.supplier.id,
                "invoice_date": ISSUED - datetime.timedelta(days=30),
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Papier A4 80g",
                            "product_id": by_history.id,
                            "quantity": 1,
                            "price_unit": 10,
                            "account_id": other_expense.id,
                            "tax_ids": [Command.set(self.taxes["23"].ids)],
                        }
                    ),
                    Command.create(
                        {
                            "name": "Usługa kurierska",
                            "quantity": 1,
                            "price_unit": 10,
                            "account_id": other_expense.id,
                            "tax_ids": [Command.set(self.taxes["23"].ids)],
                        }
                    ),
                ],
            }
        )
        earlier.action_post()
        xml = invoice_xml(
            [
                item("Toner czarny", "1", "200.00", "23", gtin="5901234123457"),
                item("Segregator A4 75 mm", "4", "9.50", "23", index="SEG-75"),
                item("Papier A4 80g", "5", "21.00", "23"),
                item("Usługa kurierska", "1", "15.00", "23"),
            ]
        )
        bill = self.upload(xml)
        lines = bill.invoice_line_ids.sorted("sequence")
        self.assertEqual(lines.mapped("product_id"), by_gtin | by_code | by_history)
        self.assertEqual(lines[0].product_id, by_gtin)
        self.assertEqual(lines[1].product_id, by_code)
        self.assertEqual(lines[2].product_id, by_history)
        self.assertFalse(lines[3].product_id, "a service never booked with a product stays text")
        self.assertEqual(lines.mapped("name")[:3], ["Toner czarny", "Segregator A4 75 mm", "Papier A4 80g"])
        # without a product, the line gets the account Odoo proposes for this supplier (its usual one)
        self.assertEqual(lines[3].account_id, other_expense)
        self.assertEqual(lines[0].account_id, by_gtin._get_product_accounts()["expense"] or other_expense)

    def test_sale_date_is_the_taxable_supply_date(self):
        sold = ISSUED - datetime.timedelta(days=6)
        bill = self.upload(invoice_xml([item("Drukarka", "1", "899.00", "23")], sale_date=sold))
        self.assertEqual(bill.invoice_date, ISSUED)
        self.assertEqual(bill.taxable_supply_date, sold)
